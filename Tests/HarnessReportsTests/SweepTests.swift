import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import HarnessReports
import HarnessModel
import HarnessSpec
import HarnessTraining
import HarnessTestSupport
import Testing

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let harness = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent().appendingPathComponent("harness").path

func temporaryFolder() -> String { TestFolder.make("reports") }

/// A sweep over the smoke spec (corpus path made absolute), one short epoch per point.
func sweep(_ axes: String, name: String = "t") throws -> SweepSpec {
    let folder = temporaryFolder()
    let base = try String(contentsOf: packageRoot.appendingPathComponent("experiments/smoke.yaml"), encoding: .utf8)
        .replacingOccurrences(of: "corpus: Tests/", with: "corpus: \(packageRoot.path)/Tests/")
    _ = FileManager.default.createFile(atPath: folder + "/base.yaml", contents: Data(base.utf8))
    let text = "name: \(name)\nbase: base.yaml\nset: {training.epochs: 1, data.max_train_tokens: 600}\n" + axes
    _ = FileManager.default.createFile(atPath: folder + "/sweep.yaml", contents: Data(text.utf8))
    return try SweepSpec.load(file: folder + "/sweep.yaml")
}

struct SweepExpansionTests {
    @Test func gridTimesZipTimesSeeds() throws {
        let s = try sweep("""
            grid:
              model.recurrent.hidden: [16, 24, 32]
              model.output: [{type: softmax}, {type: sampled-softmax, samples: 4}]
            zip:
              model.token_encoder.output_dim: [8, 16]
              model.recurrent.projection: [8, 16]
            seeds: [1, 2]
            """)
        let points = try s.expand()
        #expect(points.count == 3 * 2 * 2 * 2)
        #expect(points.allSatisfy { $0.invalid == nil })
        #expect(points[0].axes.map(\.label) == ["16", "softmax", "8", "8"] && points[0].seed == 1)
        #expect(points[1].axes.map(\.label) == ["16", "softmax", "8", "8"] && points[1].seed == 2)
        #expect(points[2].axes.map(\.label) == ["16", "softmax", "16", "16"])
        #expect(points.last!.axes.map(\.label) == ["32", "sampled-softmax", "16", "16"] && points.last!.seed == 2)
        // The point's spec really has the values.
        let spec = try SpecLoader.parse(points.last!.specText, file: "p.yaml")
        let recurrent = try #require(spec.model.recurrent as? LSTMComponent)
        #expect(recurrent.hiddenSize == 32 && recurrent.projectionSize == 16 && spec.seed == 2)
        #expect(spec.model.output.isEqual(to: SampledSoftmaxComponent(samples: 4)) && spec.training.epochs == 1 && spec.name == "t")
    }

    @Test func idsAreContentAddressedAndStable() throws {
        let axes = "grid: {model.recurrent.hidden: [16, 24]}\nseeds: [1]\n"
        let a = try sweep(axes).expand(), b = try sweep(axes).expand()
        #expect(a.map(\.id) == b.map(\.id))
        #expect(Set(a.map(\.id)).count == 2)
        // The same configuration reached twice is one point.
        let duplicate = try sweep("grid: {model.recurrent.hidden: [16, 16, 32]}\n").expand()
        #expect(duplicate.count == 2)
        // A different set changes the ids.
        let other = try sweep(axes.replacingOccurrences(of: "[1]", with: "[2]")).expand()
        #expect(Set(other.map(\.id)).isDisjoint(with: a.map(\.id)))
    }

    @Test func shardsCoverEveryPointExactlyOnce() throws {
        let points = try sweep("grid: {model.recurrent.hidden: [8, 12, 16, 20, 24, 28, 32]}\nseeds: [1, 2]\n").expand()
        for count in [1, 3, 5, 14, 20] {
            let shards = (0..<count).map { SweepSpec.shard(points, index: $0, count: count).map(\.id) }
            #expect(shards.flatMap { $0 }.sorted() == points.map(\.id).sorted(), "\(count) shards")
            #expect(Set(shards.flatMap { $0 }).count == points.count)
        }
    }

    @Test func badSweepSpecsAreReported() throws {
        #expect(throws: SpecErrors.self) { try sweep("zip: {model.recurrent.hidden: [8, 16], model.recurrent.projection: [8]}\n") }
        let error = try #require(throws: SpecErrors.self) { try sweep("grid: {model.recurrent.hidden: [8]}\nbaseline: {model.hidden: 8}\n") }
        #expect(error.errors[0].message == "baseline names 'model.hidden', which is not an axis of the sweep")
        #expect(error.errors[0].suggestion == "model.recurrent.hidden")
    }
}

struct SweepRunTests {
    @Test func resumeSkipsFinishedPointsAndLocksSkipRunningOnes() throws {
        let points = try sweep("grid: {model.recurrent.hidden: [8, 12]}\n").expand()
        let root = temporaryFolder()
        // A runner whose executable does not exist: any launch would fail.
        let runner = SweepRunner(root: root, executable: "/nonexistent/harness", jobs: 1)
        try FileManager.default.createDirectory(atPath: "\(root)/\(points[0].id)", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: "\(root)/\(points[0].id)/result.json", contents: Data("{}".utf8))
        #expect(runner.run(points[0]) == .skippedDone)
        try FileManager.default.createDirectory(atPath: "\(root)/\(points[1].id)", withIntermediateDirectories: true)
        let fd = open("\(root)/\(points[1].id)/lock", O_CREAT | O_RDWR, 0o644)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        #expect(runner.run(points[1]) == .skippedRunning)
    }

    @Test func oneFailingPointDoesNotStopTheOthersAndRerunsRetryIt() throws {
        let s = try sweep("grid: {model.recurrent.type: [lstm-projected, lstmp]}\nseeds: [1, 2]\n")
        let points = try s.expand()
        let root = temporaryFolder()
        try SweepManifest(s, points: points).write(root: root)
        let runner = SweepRunner(root: root, executable: harness, jobs: 2, cpus: 2)
        runner.display = SweepDisplay(isTerminal: false, write: { _ in })
        let outcomes = runner.run(points)
        #expect(outcomes.values.filter { $0 == .finished }.count == 2)
        #expect(outcomes.values.filter { if case .failed = $0 { true } else { false } }.count == 2)
        let invalid = points.first { $0.invalid != nil }!
        let failure = try JSONDecoder().decode(PointFailure.self, from: Data(contentsOf: URL(fileURLWithPath: "\(root)/\(invalid.id)/failed.json")))
        #expect(failure.exitCode == 64)
        #expect(failure.error == "\(invalid.id)/point.yaml:26:11: error: unknown type 'lstmp' for 'model.recurrent'; did you mean 'lstm-projected'?")
        // The report lists the failed point as failed, not dropped.
        let report = SweepReport(manifest: try SweepManifest.read(SweepManifest.path(root: root, name: "t")), root: root)
        #expect(report.rows.map(\.status) == ["done", "failed"])
        // A rerun skips the finished points and retries the failed ones.
        let again = runner.run(points)
        #expect(again.values.filter { $0 == .skippedDone }.count == 2)
        #expect(again.values.filter { if case .failed = $0 { true } else { false } }.count == 2)
    }

    @Test func aDivergingPointStopsWithItsStepAndTheSweepGoesOn() throws {
        let s = try sweep("""
            zip:
              training.optimizer: [{type: adam, lr: 0.01}, {type: sgd, lr: 1e38}]
              training.clip.max: [10, 1e38]
            """)
        let points = try s.expand()
        let root = temporaryFolder()
        let runner = SweepRunner(root: root, executable: harness, jobs: 1, cpus: 2)
        runner.display = SweepDisplay(isTerminal: false, write: { _ in })
        let outcomes = runner.run(points)
        #expect(outcomes[points[0].id] == .finished)
        let failure = try JSONDecoder().decode(PointFailure.self, from: Data(contentsOf: URL(fileURLWithPath: "\(root)/\(points[1].id)/failed.json")))
        #expect(failure.exitCode == 1)
        #expect(failure.error.hasPrefix("error: the loss became "), "\(failure.error)")
        #expect(failure.error.contains(" at step 2 of epoch 1; no checkpoint was written yet"), "\(failure.error)")
    }
}

struct SlurmTests {
    @Test func jobArrayRunsOneShardPerTask() {
        let script = SlurmScript(jobName: "harness-encoders", sweepFile: "/home/u/lm/experiments/sweeps/encoders.yaml",
                                 runs: "/shared/runs", workingDirectory: "/home/u/lm", shards: 4, cpusPerTask: 2, cpusReason: "test",
                                 time: "2:00:00", requeue: true).text
        #expect(script.hasPrefix("#!/bin/bash\n"))
        for line in ["#SBATCH --array=0-3", "#SBATCH --cpus-per-task=2", "#SBATCH --chdir=/home/u/lm", "#SBATCH --time=2:00:00",
                     "#SBATCH --output=/shared/runs/slurm/%x-%A_%a.out", "#SBATCH --requeue", "#SBATCH --signal=B:USR1@120", "#SBATCH --open-mode=append",
                     "\"$HARNESS\" sweep '/home/u/lm/experiments/sweeps/encoders.yaml' --runs '/shared/runs' --shard \"${SLURM_ARRAY_TASK_ID}/4\" --jobs 1 &",
                     "    scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\""] {
            #expect(script.contains("\n" + line + "\n"), "\(line)")
        }
        #expect(!script.contains("--mem") && !script.contains("--partition"))
    }

    @Test func withoutRequeueACancelIsNeverRequeued() {
        let script = SlurmScript(jobName: "j", sweepFile: "/s.yaml", runs: "/r", workingDirectory: "/", shards: 1, cpusPerTask: 1,
                                 cpusReason: "test").text
        #expect(!script.contains("requeue") && !script.contains("USR1"))
    }
}

struct JobsTests {
    @Test func jobsTimesThreadsNeverExceedTheCores() {
        for (jobs, cores) in [(1, 2), (2, 2), (4, 2), (3, 8), (16, 4)] {
            let runner = SweepRunner(root: "/tmp", executable: "/bin/true", jobs: jobs, cpus: cores)
            #expect(runner.jobs * runner.threadsPerJob <= cores, "\(jobs) jobs on \(cores) cores")
            #expect(runner.jobs >= 1 && runner.threadsPerJob >= 1)
            #expect(runner.parallelism(for: 1) == 1, "never more at a time than there are points")
        }
    }
}
