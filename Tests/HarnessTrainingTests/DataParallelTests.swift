// Needs a harness built with the MPI trait (the test command's `--traits MPI`) and
// Open MPI's mpirun (openmpi-bin, installed by tools/install-system-packages).
#if MPI
import Foundation
import HarnessSpec
@testable import HarnessTraining
import Testing

/// Data parallelism through `mpirun` and the `harness` binary (issue #22): one process
/// under mpirun is the plain run; two match it to summation order; a rank killed mid-run
/// ends the job and the run resumes exactly; errors end every process.
@Suite(.serialized)
struct DataParallelTests {
    /// Starts `mpirun -np processes harness arguments…`; returns it running, its
    /// standard error going to `errorFile`.
    static func mpirun(_ processes: Int, _ arguments: [String], errorFile: String) throws -> Process {
        let process = Process()
        // Through Python, which unblocks SIGINT and SIGTERM: the test runner's threads block
        // them, its children inherit the mask, and mpirun (unlike the harness) keeps it.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_UNBLOCK, "
                             + "{signal.SIGINT, signal.SIGTERM}); os.execvp('mpirun', sys.argv[1:])",
                             "mpirun", "--allow-run-as-root", "--oversubscribe", "-np", String(processes), CommandLineTests.harness] + arguments
        process.currentDirectoryURL = packageRoot
        ResumeTests.write("", to: errorFile)
        process.standardError = FileHandle(forWritingAtPath: errorFile)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// `mpirun -np processes harness arguments…` to the end: its status and standard error.
    static func runMPI(_ processes: Int, _ arguments: [String]) throws -> (status: Int32, error: String) {
        let errorFile = temporaryFolder() + "/stderr"
        let process = try mpirun(processes, arguments, errorFile: errorFile)
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? "")
    }

    /// The process ids of mpirun's ranks, by rank (from each child's OMPI_COMM_WORLD_RANK).
    static func ranks(of launcher: Process) -> [Int: Int32] {
        var found: [Int: Int32] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let parent = stat.split(separator: ")").last?.split(separator: " ").dropFirst().first.flatMap({ Int32($0) }),
                  parent == launcher.processIdentifier,
                  let environment = FileManager.default.contents(atPath: "/proc/\(name)/environ") else { continue }
            for entry in environment.split(separator: 0) where entry.starts(with: Array("OMPI_COMM_WORLD_RANK=".utf8)) {
                found[Int(String(decoding: entry.dropFirst(21), as: UTF8.self))!] = pid
            }
        }
        return found
    }

    /// `experiments/smoke.yaml` (the data by absolute path), with `edits` applied; else
    /// `ResumeTests.spec(kind)` with a token budget of `maxTokens` (the smoke spec keeps its
    /// four epochs).
    static func spec(_ kind: String, maxTokens: Int, edits: [(String, String)] = []) throws -> String {
        guard kind == "smoke" else { return ResumeTests.spec(kind, extra: "  max_tokens: \(maxTokens)") }
        var text = try String(contentsOf: packageRoot.appendingPathComponent("experiments/smoke.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "corpus: Tests/", with: "corpus: \(packageRoot.path)/Tests/")
        for (old, new) in edits {
            #expect(text.contains(old))
            text = text.replacingOccurrences(of: old, with: new)
        }
        return text
    }

    @Test(arguments: ["smoke", "stream"])
    func oneProcessUnderMpirunIsThePlainRun(kind: String) throws {
        let folder = temporaryFolder(), spec = folder + "/spec.yaml"
        ResumeTests.write(try Self.spec(kind, maxTokens: 20000), to: spec)
        let plain = try runHarness(["run", spec, "--runs", folder + "/plain", "--quiet"])
        #expect(plain.status == 0, "\(plain.error)")
        let one = try Self.runMPI(1, ["run", spec, "--runs", folder + "/one", "--quiet"])
        #expect(one.status == 0, "\(one.error)")
        let a = try ResumeTests.result(in: folder + "/plain"), b = try ResumeTests.result(in: folder + "/one")
        #expect(a.perplexity == b.perplexity)
        #expect(a.trainTokens == b.trainTokens && b.processes == nil)
    }

    /// The smoke spec, and both kinds of run the resume tests use: dropout masks
    /// (variational, standard) drawn for the whole batch, sampled softmax, Adam and SGD,
    /// carried state, a time-summed loss.
    @Test(arguments: ["smoke", "sentences", "stream"])
    func twoProcessesMatchOneToSummationOrder(kind: String) throws {
        let folder = temporaryFolder(), spec = folder + "/spec.yaml"
        ResumeTests.write(try Self.spec(kind, maxTokens: 40000), to: spec)
        let plain = try runHarness(["run", spec, "--runs", folder + "/plain", "--quiet"])
        #expect(plain.status == 0, "\(plain.error)")
        let two = try Self.runMPI(2, ["run", spec, "--runs", folder + "/two", "--quiet"])
        #expect(two.status == 0, "\(two.error)")
        let a = try ResumeTests.result(in: folder + "/plain"), b = try ResumeTests.result(in: folder + "/two")
        #expect(b.processes == 2 && a.trainTokens == b.trainTokens && a.epochsRun == b.epochsRun)
        for split in ["valid", "test"] {
            let x = try #require(a.perplexity[split]?.mean), y = try #require(b.perplexity[split]?.mean)
            #expect(abs(x - y) / x <= 1e-4, "\(split): \(x) with one process, \(y) with two")
            #expect(a.perplexity[split]?.tokens == b.perplexity[split]?.tokens)
        }
    }

    /// The smoke spec at a batch of 23 sentences ends each epoch with a batch of one: the
    /// second process computes a masked placeholder for it and keeps drawing what the first
    /// draws, in training and in evaluation.
    @Test func aLastBatchShorterThanTheProcessesMatchesOneProcess() throws {
        let folder = temporaryFolder(), spec = folder + "/spec.yaml"
        ResumeTests.write(try Self.spec("smoke", maxTokens: 0, edits: [("batch_size: 16", "batch_size: 23")]), to: spec)
        let plain = try runHarness(["run", spec, "--runs", folder + "/plain", "--quiet"])
        #expect(plain.status == 0, "\(plain.error)")
        let two = try Self.runMPI(2, ["run", spec, "--runs", folder + "/two", "--quiet"])
        #expect(two.status == 0, "\(two.error)")
        let a = try ResumeTests.result(in: folder + "/plain"), b = try ResumeTests.result(in: folder + "/two")
        let x = try #require(a.perplexity["valid"]?.mean), y = try #require(b.perplexity["valid"]?.mean)
        #expect(abs(x - y) / x <= 1e-4 && a.perplexity["valid"]?.tokens == b.perplexity["valid"]?.tokens, "\(x) vs \(y)")
    }

    /// SIGKILL of rank 1, then of rank 0, mid-epoch: mpirun ends the job, saying which rank
    /// died; each rerun resumes from rank 0's checkpoint (every rank's carried state in
    /// it), and the run ends bit-identical to an uninterrupted two-process run.
    @Test func killedRankEndsTheJobAndTheRunResumesExactly() throws {
        let folder = temporaryFolder(), spec = folder + "/spec.yaml"
        ResumeTests.write(ResumeTests.spec("stream"), to: spec)
        let whole = try Self.runMPI(2, ["run", spec, "--runs", folder + "/a", "--quiet"])
        #expect(whole.status == 0, "\(whole.error)")
        for (step, rank) in [(250, 1), (1_130, 0)] {
            let errorFile = folder + "/killed-\(rank).stderr"
            let launcher = try Self.mpirun(2, ["run", spec, "--runs", folder + "/b"], errorFile: errorFile)
            var killed = false
            while launcher.isRunning && !killed {
                if let path = ResumeTests.trainingCheckpoint(in: folder + "/b"), let saved = try? Checkpoint.read(path).training,
                   saved.step >= step, let pid = Self.ranks(of: launcher)[rank] {
                    kill(pid, SIGKILL)
                    killed = true
                }
                usleep(2_000)
            }
            launcher.waitUntilExit()
            #expect(killed, "the run finished before step \(step)")
            #expect(launcher.terminationStatus != 0)
            let error = (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? ""
            #expect(error.contains("process rank \(rank) with PID") && error.contains("exited on signal 9 (Killed)"), "\(error)")
        }
        let last = try Self.runMPI(2, ["run", spec, "--runs", folder + "/b"])
        #expect(last.status == 0 && last.error.contains("resuming from "), "\(last.error)")
        let a = try ResumeTests.result(in: folder + "/a"), b = try ResumeTests.result(in: folder + "/b")
        #expect(a.perplexity == b.perplexity)
        #expect(a.trainTokens == b.trainTokens && a.epochsRun == b.epochsRun && a.bestEpoch == b.bestEpoch)
    }

    /// Ctrl-C to mpirun reaches every process: they agree on the step to stop after, rank 0
    /// writes the checkpoint and alone says so, with the command that resumes.
    @Test func ctrlCToMpirunCheckpointsAndResumes() throws {
        let folder = temporaryFolder(), spec = folder + "/spec.yaml"
        ResumeTests.write(ResumeTests.spec("stream"), to: spec)
        let errorFile = folder + "/interrupted.stderr"
        let launcher = try Self.mpirun(2, ["run", spec, "--runs", folder + "/runs"], errorFile: errorFile)
        while launcher.isRunning {
            if let path = ResumeTests.trainingCheckpoint(in: folder + "/runs"), let saved = try? Checkpoint.read(path).training,
               saved.step >= 300 {
                kill(launcher.processIdentifier, SIGINT)
                break
            }
            usleep(2_000)
        }
        launcher.waitUntilExit()
        let error = (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? ""
        #expect(error.components(separatedBy: "interrupted: finishing the current step").count == 2, "\(error)")
        #expect(error.contains("resume with: the same launcher command (mpirun -np 2, srun …): harness run \(spec) --runs \(folder)/runs\n"),
                "\(error)")
        let resumed = try Self.runMPI(2, ["run", spec, "--runs", folder + "/runs"])
        #expect(resumed.status == 0 && resumed.error.contains("resuming from "), "\(resumed.error)")
    }

    /// A checkpoint holds the carried state in the one-process layout: a run killed under
    /// two processes continues under one, matching the two-process run to summation order.
    @Test func aCheckpointOfTwoProcessesResumesUnderOne() throws {
        let folder = temporaryFolder(), spec = folder + "/spec.yaml"
        ResumeTests.write(ResumeTests.spec("stream", extra: "  max_tokens: 30000"), to: spec)
        let whole = try Self.runMPI(2, ["run", spec, "--runs", folder + "/a", "--quiet"])
        #expect(whole.status == 0, "\(whole.error)")
        let launcher = try Self.mpirun(2, ["run", spec, "--runs", folder + "/b"], errorFile: folder + "/killed.stderr")
        while launcher.isRunning {
            if let path = ResumeTests.trainingCheckpoint(in: folder + "/b"), let saved = try? Checkpoint.read(path).training,
               saved.step >= 370, saved.nextBatch > 0 {
                let ranks = Self.ranks(of: launcher)
                kill(launcher.processIdentifier, SIGKILL)
                ranks.values.forEach { kill($0, SIGKILL) }
                break
            }
            usleep(2_000)
        }
        launcher.waitUntilExit()
        let checkpoint = try Checkpoint.read(try #require(ResumeTests.trainingCheckpoint(in: folder + "/b")))
        #expect(checkpoint.training?.carriedState.joined().allSatisfy { $0.batch == 4 } == true, "the whole batch's rows")
        let resumed = try runHarness(["run", spec, "--runs", folder + "/b"])
        #expect(resumed.status == 0 && resumed.error.contains("resuming from "), "\(resumed.error)")
        let a = try ResumeTests.result(in: folder + "/a"), b = try ResumeTests.result(in: folder + "/b")
        let x = try #require(a.perplexity["valid"]?.mean), y = try #require(b.perplexity["valid"]?.mean)
        #expect(abs(x - y) / x <= 1e-4, "\(x) vs \(y)")
    }

    /// A spec error stops every process, printed once, by rank 0; another command than
    /// `run` refuses several processes; a batch the processes cannot share is refused by name.
    @Test func errorsEndEveryProcessWithTheirMessage() throws {
        let folder = temporaryFolder(), spec = folder + "/spec.yaml"
        ResumeTests.write(ResumeTests.spec("stream").replacingOccurrences(of: "type: sgd", with: "type: sgdd"), to: spec)
        let bad = try Self.runMPI(2, ["run", spec, "--runs", folder + "/runs"])
        #expect(bad.status == 64, "\(bad.error)")
        #expect(bad.error.contains("\(spec):14:21: error: unknown type 'sgdd' for 'training.optimizer'"), "\(bad.error)")
        // Once: rank 1 reached the same error in the same file and leaves the message to rank 0.
        #expect(bad.error.components(separatedBy: "error: unknown type 'sgdd'").count == 2, "\(bad.error)")
        #expect(!bad.error.contains("rank 1 of 2:"), "\(bad.error)")
        ResumeTests.write(ResumeTests.spec("stream"), to: spec)
        let other = try Self.runMPI(2, ["validate", spec])
        #expect(other.status == 64)
        #expect(other.error.contains("error: 'harness validate' runs as one process, and a launcher (mpirun, srun) started 2; "
                                     + "only 'harness run' trains one model with several processes"), "\(other.error)")
        let many = try Self.runMPI(5, ["run", spec, "--runs", folder + "/runs"])
        #expect(many.status == 64)
        #expect(many.error.contains("\(spec):") && many.error.contains("error: 'data.batching.batch_size' is 4, fewer sequences than "
                                    + "the 5 processes that share every batch"), "\(many.error)")
        #expect(many.error.contains("raise it to at least 5, or run fewer processes"), "\(many.error)")
        // eval_batch_size is named too; each printed once: the other four processes leave these spec errors to rank 0.
        for key in ["'data.batching.batch_size' is 4", "'data.eval_batch_size' is 4"] {
            #expect(many.error.components(separatedBy: key).count == 2, "\(key): \(many.error)")
        }
        #expect(!many.error.contains(" of 5: "), "\(many.error)")
        // A spec error: refused before the run folder (and its lock) exists.
        #expect(!FileManager.default.fileExists(atPath: folder + "/runs"))
    }
}
#endif
