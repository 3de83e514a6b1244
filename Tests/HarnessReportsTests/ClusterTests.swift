import Foundation
@testable import HarnessReports
import HarnessSpec
import HarnessTraining
import Testing

/// Sweeps as a cluster runs them, through the `harness` binary: the emitted Slurm script
/// run the way Slurm runs it, `scancel`'s SIGTERM to every process of a running sweep, and
/// a killed sweep's orphaned point.
@Suite(.serialized)
struct ClusterTests {
    /// A sweep of two points of the smoke spec (one BLAS thread each) in a fresh folder:
    /// `sweep.yaml` and `base.yaml`, data by absolute path.
    static func sweepFolder(epochs: Int, extra: String = "") throws -> String {
        let folder = temporaryFolder()
        let base = try String(contentsOf: packageRoot.appendingPathComponent("experiments/smoke.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "corpus: Tests/", with: "corpus: \(packageRoot.path)/Tests/")
        _ = FileManager.default.createFile(atPath: folder + "/base.yaml", contents: Data(base.utf8))
        let sweep = """
            name: cluster
            base: base.yaml
            set: {training.epochs: \(epochs), training.early_stopping.patience: 1000\(extra)}
            grid: {model.recurrent.hidden: [32, 48]}

            """
        _ = FileManager.default.createFile(atPath: folder + "/sweep.yaml", contents: Data(sweep.utf8))
        return folder
    }

    /// Runs `executable` in `folder` with `environment`; standard output and error to `log`.
    static func run(_ executable: String, _ arguments: [String], in folder: String, environment: [String: String]? = nil,
                    log: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        if let environment { process.environment = environment }
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return process.terminationStatus
    }

    static func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    @Test func theEmittedScriptRunsInAFreshFolderAsSlurmRunsIt() throws {
        let folder = try Self.sweepFolder(epochs: 2)
        let scriptPath = folder + "/job.sh"
        let emitted = try Self.run(harness, ["sweep", "sweep.yaml", "--emit", "slurm", "--runs", "shared/runs", "--time", "0:10:00",
                                             "--mem", "1G", "--partition", "debug"], in: folder, log: scriptPath)
        #expect(emitted == 0, "\(Self.text(scriptPath))")
        let script = Self.text(scriptPath)
        func directive(_ name: String) -> String? {
            script.split(separator: "\n").first { $0.hasPrefix("#SBATCH --\(name)=") }.map { String($0.split(separator: "=", maxSplits: 1)[1]) }
        }
        #expect(directive("array") == "0-1")
        #expect(directive("cpus-per-task") == "1", "the smoke spec's training.threads")
        #expect(directive("time") == "0:10:00" && directive("mem") == "1G" && directive("partition") == "debug")
        let chdir = try #require(directive("chdir"))
        let output = try #require(directive("output"))
        #expect(chdir == folder)
        #expect(output == folder + "/shared/runs/slurm/%x-%A_%a.out")
        var isFolder: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: folder + "/shared/runs/slurm", isDirectory: &isFolder) && isFolder.boolValue,
                "Slurm opens --output before the script runs: its folder must exist at submission")
        #expect(!script.contains(".build"), "no path of the emitting machine's build tree")
        // What the emitting build needs of a node's CPU (the tests' build: no HARNESS_TARGET_CPU, or one that names its flags).
        #expect(script.contains("\n# CPU: this harness was built for any x86-64 CPU (no HARNESS_TARGET_CPU)\n")
                || script.contains(") and needs "), "\(script.prefix(800))")

        // Each array task as Slurm starts it: in --chdir, its environment, output to --output.
        for task in 0..<2 {
            let out = output.replacingOccurrences(of: "%x", with: "harness-cluster").replacingOccurrences(of: "%A", with: "4242")
                .replacingOccurrences(of: "%a", with: String(task))
            let environment = ["PATH": "/usr/bin:/bin", "HOME": NSHomeDirectory(), "HARNESS": harness,
                               "SLURM_JOB_ID": String(4243 + task), "SLURM_ARRAY_JOB_ID": "4242", "SLURM_ARRAY_TASK_ID": String(task),
                               "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_CPUS_PER_TASK": "1", "SLURM_JOB_NAME": "harness-cluster"]
            let status = try Self.run("/bin/bash", [scriptPath], in: chdir, environment: environment, log: out)
            #expect(status == 0, "\(Self.text(out))")
            let log = Self.text(out)
            #expect(log.contains("sweep cluster: 1 of 2 points, 1 at a time"), "\(log)")
            #expect(log.contains("] started\n") && log.contains(": finished in "), "\(log)")
            #expect(log.contains("epoch 1/2 batch 10/19  "), "the point's progress lines are in the task's .out: \(log)")
        }
        let report = try Self.run(harness, ["report", "shared/runs"], in: folder, log: folder + "/report.md")
        #expect(report == 0)
        #expect(Self.text(folder + "/report.md").components(separatedBy: "| done").count == 3, "\(Self.text(folder + "/report.md"))")

        // Without $HARNESS and with no harness on PATH, the task says so.
        let missing = try Self.run("/bin/bash", [scriptPath], in: chdir, environment: ["PATH": "/usr/bin:/bin", "SLURM_ARRAY_TASK_ID": "0",
                                                                                       "SLURM_ARRAY_JOB_ID": "1"], log: folder + "/missing.out")
        #expect(missing == 127)
        #expect(Self.text(folder + "/missing.out").hasPrefix("error: no harness binary 'harness' on "))
    }

    @Test func listWritesNothingAndTheBaseResolvesFromAnyFolder() throws {
        let runs = temporaryFolder() + "/runs", log = temporaryFolder() + "/list.log"
        let status = try Self.run(harness, ["sweep", "sweeps/encoders.yaml", "--list", "--runs", runs],
                                  in: packageRoot.path + "/experiments", log: log)
        #expect(status == 0, "\(Self.text(log))")
        #expect(Self.text(log).split(separator: "\n").filter { $0.hasPrefix("encoders-") }.count == 4, "\(Self.text(log))")
        #expect(!FileManager.default.fileExists(atPath: runs), "--list writes nothing")
    }

    @Test func aSweepNameThatIsAPathIsRefused() throws {
        let folder = try Self.sweepFolder(epochs: 1)
        let text = Self.text(folder + "/sweep.yaml").replacingOccurrences(of: "name: cluster", with: "name: ../../escaped")
        _ = FileManager.default.createFile(atPath: folder + "/sweep.yaml", contents: Data(text.utf8))
        let status = try Self.run(harness, ["sweep", "sweep.yaml", "--runs", "runs"], in: folder, log: folder + "/log")
        #expect(status == 64)
        #expect(Self.text(folder + "/log").hasPrefix("sweep.yaml:1:1: error: name '../../escaped' contains '/': a name is one folder name, not a path"),
                "\(Self.text(folder + "/log"))")
        #expect(!FileManager.default.fileExists(atPath: folder + "/runs"))
    }

    /// Starts `harness sweep` on the folder's sweep, two points at once.
    static func startSweep(in folder: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: harness)
        process.arguments = ["sweep", "sweep.yaml", "--runs", "runs", "--jobs", "2"]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The run folders of the sweep's points, once each has a `train.ckpt`.
    static func waitForCheckpoints(in folder: String, count: Int, while process: Process) -> [String] {
        while process.isRunning {
            let runs = ((try? FileManager.default.contentsOfDirectory(atPath: folder + "/runs")) ?? [])
                .filter { $0.hasPrefix("cluster-") && !$0.hasSuffix(".json") }.map { folder + "/runs/" + $0 }
            if runs.count == count && runs.allSatisfy({ FileManager.default.fileExists(atPath: $0 + "/train.ckpt") }) { return runs.sorted() }
            usleep(2_000)
        }
        return []
    }

    /// The process id a run folder's lock names.
    static func holder(of run: String) -> Int32? {
        Self.text(run + "/lock").split(separator: " ").dropFirst().first.flatMap { Int32($0) }
    }

    @Test func sigtermToEveryProcessOfASweepKeepsEachPointsCheckpoint() throws {
        let folder = try Self.sweepFolder(epochs: 150, extra: ", training.checkpoint.every_steps: 1")
        let sweep = try Self.startSweep(in: folder)
        let runs = Self.waitForCheckpoints(in: folder, count: 2, while: sweep)
        #expect(runs.count == 2, "the sweep ended before both points checkpointed")
        // What scancel does: SIGTERM to every process of the job. The sweep passes it on,
        // so each point gets it twice.
        kill(-sweep.processIdentifier, SIGTERM)
        for run in runs { if let pid = Self.holder(of: run) { kill(pid, SIGTERM) } }
        sweep.waitUntilExit()
        #expect(sweep.terminationStatus == 143)
        for run in runs {
            #expect(FileManager.default.fileExists(atPath: run + "/train.ckpt"), "\(run): \(Self.text(run + "/stderr.log"))")
            #expect(!FileManager.default.fileExists(atPath: run + "/result.json"))
            #expect(!FileManager.default.fileExists(atPath: run + "/failed.json"), "\(Self.text(run + "/failed.json"))")
        }
        // The rerun resumes both; each ends as an uninterrupted run of its spec does.
        let resumed = try Self.run(harness, ["sweep", "sweep.yaml", "--runs", "runs", "--jobs", "2"], in: folder, log: folder + "/resumed.log")
        #expect(resumed == 0, "\(Self.text(folder + "/resumed.log"))")
        for run in runs {
            let whole = try Self.run(harness, ["run", run + "/point.yaml", "--runs", folder + "/whole", "--quiet"], in: folder,
                                     log: folder + "/whole.log")
            #expect(whole == 0, "\(Self.text(folder + "/whole.log"))")
            let name = URL(fileURLWithPath: run).lastPathComponent
            let a = try RunDirectory(existing: run).readResult(), b = try RunDirectory(existing: folder + "/whole/" + name).readResult()
            #expect(a.perplexity == b.perplexity && a.trainTokens == b.trainTokens, "\(name)")
        }
    }

    @Test func aKilledSweepsOrphanedPointKeepsItsLock() throws {
        let folder = try Self.sweepFolder(epochs: 150)
        let sweep = try Self.startSweep(in: folder)
        let runs = Self.waitForCheckpoints(in: folder, count: 2, while: sweep)
        #expect(runs.count == 2)
        kill(sweep.processIdentifier, SIGKILL)
        sweep.waitUntilExit()
        // Its points train on; a new sweep leaves them to it.
        let again = try Self.run(harness, ["sweep", "sweep.yaml", "--runs", "runs", "--jobs", "2"], in: folder, log: folder + "/again.log")
        let log = Self.text(folder + "/again.log")
        #expect(log.components(separatedBy: ": running in another process, skipped").count == 3, "\(log)")
        #expect(again == 0)
        let deadline = Date().addingTimeInterval(300)
        for run in runs {
            while !FileManager.default.fileExists(atPath: run + "/result.json") && Date() < deadline { usleep(10_000) }
            #expect(FileManager.default.fileExists(atPath: run + "/result.json"), "the orphaned point finished: \(Self.text(run + "/stderr.log"))")
            let metrics = Self.text(run + "/metrics.jsonl")
            #expect(metrics.split(separator: "\n").filter { $0.contains("\"kind\":\"epoch\"") }.count == 150, "trained once")
        }
    }
}
