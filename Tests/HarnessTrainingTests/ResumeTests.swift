import Foundation
import HarnessSpec
@testable import HarnessTraining
import Testing

/// Crash safety through the `harness` binary: runs killed (SIGKILL), interrupted (SIGINT)
/// or starved of disk, then resumed, end with results bit-identical to an uninterrupted
/// run (one BLAS thread); resumes refuse changed data and specs with the exact message.
@Suite(.serialized)
struct ResumeTests {
    /// Two small runs of ~600 steps that exercise every kind of state a checkpoint holds:
    /// dropout and sampling generators, shuffled sentences, Adam (bidirectional), and
    /// carried LSTM state, a decay schedule and a time-summed loss with SGD (stream).
    static func spec(_ kind: String, corpus: String = packageRoot.path + "/Tests/Fixtures/tiny-corpus",
                     lr: String = "0.01", extra: String = "") -> String {
        let body = kind == "sentences" ? """
            data:
              corpus: \(corpus)
              batching: {type: sentences, batch_size: 16, max_length: 12}
            model:
              direction: bidirectional
              token_encoder: {type: char-cnn, char_embedding_dim: 8, filters: [[1, 8], [2, 8], [3, 16]], highway_layers: 1,
                              output_dim: 16, max_characters: 12}
              recurrent: {type: lstm-projected, layers: 2, hidden: 32, projection: 16, cell_clip: 3, proj_clip: 3}
              output: {type: sampled-softmax, samples: 8}
              dropout: [{type: variational, rate: 0.1}]
            training:
              epochs: 30
              optimizer: {type: adam, lr: \(lr)}
            """ : """
            data:
              corpus: \(corpus)
              batching: {type: stream, batch_size: 4, bptt: 8}
            model:
              direction: forward
              token_encoder: {type: word, dim: 16}
              recurrent: {type: lstm, layers: 2, hidden: 16}
              output: {type: softmax}
              dropout: [{type: standard, rate: 0.2}]
            training:
              epochs: 30
              optimizer: {type: sgd, lr: \(lr)}
              schedule: {type: decay, factor: 0.8, after_epoch: 10}
              loss: time-sum
            """
        return "name: resume-\(kind)\nseed: 3\n" + body + """

              clip: {type: global-norm, max: 5}
              threads: 1
              checkpoint: {every_steps: 1}
            \(extra)
            """
    }

    static func write(_ text: String, to path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    }

    /// The perplexities of a finished run directory under `runs`.
    static func result(in runs: String) throws -> RunResult {
        let folder = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first)
        return try RunDirectory(existing: runs + "/" + folder).readResult()
    }

    static func trainingCheckpoint(in runs: String) -> String? {
        guard let folder = try? FileManager.default.contentsOfDirectory(atPath: runs).first else { return nil }
        return RunDirectory(existing: runs + "/" + folder).trainingCheckpoint
    }

    /// Starts `harness run`, waits until its checkpoint has reached `step`, sends `signal`.
    /// Returns the exit status (or the killing signal) and standard error.
    static func runAndSignal(_ spec: String, runs: String, afterStep step: Int, signal: Int32,
                             repeatSignal: Bool = false) throws -> (status: Int32, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLineTests.harness)
        process.arguments = ["run", spec, "--runs", runs]
        let errorFile = runs + ".stderr"
        write("", to: errorFile)
        process.standardError = FileHandle(forWritingAtPath: errorFile)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var reached = false
        while process.isRunning {
            if let path = trainingCheckpoint(in: runs), let saved = try? Checkpoint.read(path).training, saved.step >= step {
                reached = true
                kill(process.processIdentifier, signal)
                if repeatSignal { kill(process.processIdentifier, signal) }
                break
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        #expect(reached, "the run finished before step \(step)")
        let error = (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? ""
        return (process.terminationStatus, error)
    }

    /// The tiny corpus's training lines as three uneven shards (120, 100, 80 lines) in `folder`;
    /// returns the spec's `data` lines that name them (a pattern) and the valid split.
    static func shardedData(in folder: String) throws -> String {
        let tiny = packageRoot.path + "/Tests/Fixtures/tiny-corpus"
        let lines = try String(contentsOfFile: tiny + "/train.txt", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        for (part, range) in [0 ..< 120, 120 ..< 220, 220 ..< 300].enumerated() {
            try (lines[range].joined(separator: "\n") + "\n").write(toFile: "\(folder)/part-\(part).txt", atomically: true, encoding: .utf8)
        }
        return "train: \(folder)/part-*.txt\n  valid: \(tiny)/valid.txt"
    }

    /// Sharded: the shard order and the shuffle within each shard are drawn from the
    /// epoch's generator, which the checkpoint holds with the step index (issue #20).
    @Test(arguments: ["sentences", "stream", "sentences-sharded", "stream-sharded"])
    func killedThreeTimesEndsBitIdentical(kind: String) throws {
        let folder = temporaryFolder(), spec = folder + "/spec.yaml"
        var text = Self.spec(String(kind.prefix { $0 != "-" }))
        if kind.hasSuffix("-sharded") {
            text = text.replacingOccurrences(of: "corpus: \(packageRoot.path)/Tests/Fixtures/tiny-corpus", with: try Self.shardedData(in: folder))
            #expect(text.contains("part-*.txt"))
        }
        Self.write(text, to: spec)
        let whole = try runHarness(["run", spec, "--runs", folder + "/a", "--quiet"])
        #expect(whole.status == 0, "\(whole.error)")
        for step in [40, 250, 480] {
            let killed = try Self.runAndSignal(spec, runs: folder + "/b", afterStep: step, signal: SIGKILL)
            #expect(killed.status == SIGKILL)
            if step > 40 { #expect(killed.error.contains("resuming from ")) }
        }
        let last = try runHarness(["run", spec, "--runs", folder + "/b"])
        #expect(last.status == 0 && last.error.contains("resuming from "), "\(last.error)")
        let a = try Self.result(in: folder + "/a"), b = try Self.result(in: folder + "/b")
        #expect(a.perplexity == b.perplexity)
        #expect(a.trainTokens == b.trainTokens && a.epochsRun == b.epochsRun && a.bestEpoch == b.bestEpoch)
        let metrics = try String(contentsOfFile: folder + "/b/\(a.name)-\(a.specHash.prefix(8))/metrics.jsonl", encoding: .utf8)
        #expect(metrics.split(separator: "\n").filter { $0.contains("\"kind\":\"epoch\"") }.count == 30, "epoch records once each")
        #expect(!FileManager.default.fileExists(atPath: Self.trainingCheckpoint(in: folder + "/b")!), "train.ckpt is removed when done")
    }

    @Test func ctrlCCheckpointsExits130AndResumesExactly() throws {
        let folder = temporaryFolder(), spec = folder + "/spec.yaml"
        Self.write(Self.spec("sentences"), to: spec)
        _ = try runHarness(["run", spec, "--runs", folder + "/a", "--quiet"])
        let interrupted = try Self.runAndSignal(spec, runs: folder + "/b", afterStep: 100, signal: SIGINT)
        #expect(interrupted.status == 130)
        #expect(interrupted.error.contains("interrupted: finishing the current step and writing a checkpoint (Ctrl-C again after 3 s exits at once)"))
        #expect(interrupted.error.contains("; checkpoint written to \(folder)/b/"))
        #expect(interrupted.error.contains("resume with: harness run \(spec) --runs \(folder)/b\n"), "\(interrupted.error)")
        // Twice at once (a terminal's repeat, Slurm and a sweep both signalling): the
        // second does not cancel the checkpoint.
        for (step, signal) in [(200, SIGINT), (300, SIGTERM)] {
            let twice = try Self.runAndSignal(spec, runs: folder + "/b", afterStep: step, signal: signal, repeatSignal: true)
            #expect(twice.status == 128 + signal)
            #expect(twice.error.contains("; checkpoint written to \(folder)/b/"), "\(twice.error)")
        }
        let last = try runHarness(["run", spec, "--runs", folder + "/b", "--quiet"])
        #expect(last.status == 0, "\(last.error)")
        #expect(try Self.result(in: folder + "/a").perplexity == Self.result(in: folder + "/b").perplexity)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder + "/b/" + FileManager.default.contentsOfDirectory(atPath: folder + "/b")[0])
        #expect(!leftovers.contains { $0.hasSuffix(".tmp") }, "\(leftovers)")
        // A finished run is not trained again.
        let again = try runHarness(["run", spec, "--runs", folder + "/b"])
        #expect(again.status == 0 && again.output.contains("is finished (--fresh trains it again):"))
    }

    @Test func aSignalDuringTheFinalEvaluationStopsItResumably() throws {
        let folder = temporaryFolder(), corpus = folder + "/corpus", spec = folder + "/spec.yaml"
        try FileManager.default.copyItem(atPath: packageRoot.path + "/Tests/Fixtures/tiny-corpus", toPath: corpus)
        // A test split 600 times the size: its evaluation takes about a second.
        let test = try String(contentsOfFile: corpus + "/test.txt", encoding: .utf8)
        Self.write(String(repeating: test, count: 600), to: corpus + "/test.txt")
        Self.write(Self.spec("sentences", corpus: corpus).replacingOccurrences(of: "epochs: 30", with: "epochs: 2"), to: spec)
        let whole = try runHarness(["run", spec, "--runs", folder + "/a", "--quiet"])
        #expect(whole.status == 0, "\(whole.error)")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLineTests.harness)
        process.arguments = ["run", spec, "--runs", folder + "/b", "--quiet"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var signalled = false
        while process.isRunning {
            // Training is over once the checkpoint says so: the final evaluation is running.
            if let path = Self.trainingCheckpoint(in: folder + "/b"), let saved = try? Checkpoint.read(path).training, saved.finished {
                kill(process.processIdentifier, SIGTERM)
                signalled = true
                break
            }
            usleep(1_000)
        }
        process.waitUntilExit()
        #expect(signalled, "the run ended before its final evaluation was seen")
        #expect(process.terminationStatus == 143)
        let run = try #require(Self.trainingCheckpoint(in: folder + "/b"))
        #expect(FileManager.default.fileExists(atPath: run), "train.ckpt is kept")
        #expect(!FileManager.default.fileExists(atPath: run.replacingOccurrences(of: "train.ckpt", with: "result.json")))
        let resumed = try runHarness(["run", spec, "--runs", folder + "/b"])
        #expect(resumed.status == 0 && resumed.error.contains("resuming from "), "\(resumed.error)")
        #expect(try Self.result(in: folder + "/a").perplexity == Self.result(in: folder + "/b").perplexity)
    }

    @Test func changedCorpusOrSpecRefusesTheResume() throws {
        let folder = temporaryFolder(), corpus = folder + "/corpus", spec = folder + "/spec.yaml"
        try FileManager.default.copyItem(atPath: packageRoot.path + "/Tests/Fixtures/tiny-corpus", toPath: corpus)
        Self.write(Self.spec("stream", corpus: corpus), to: spec)
        #expect(try Self.runAndSignal(spec, runs: folder + "/runs", afterStep: 20, signal: SIGINT).status == 130)
        let train = corpus + "/train.txt"
        let original = try #require(FileManager.default.contents(atPath: train))
        Self.write(String(decoding: original, as: UTF8.self) + "one more line\n", to: train)
        let refused = try runHarness(["run", spec, "--runs", folder + "/runs"])
        #expect(refused.status == 1)
        #expect(refused.error.contains(": error: cannot resume: \(train) changed since the run started (SHA-256 "), "\(refused.error)")
        #expect(refused.error.contains(" now); restore it, or start over with --fresh\n"))
        _ = FileManager.default.createFile(atPath: train, contents: original)

        // An edited spec is a new run; --resume refuses it and says what changed.
        Self.write(Self.spec("stream", corpus: corpus, lr: "0.5"), to: spec)
        let edited = try runHarness(["run", spec, "--runs", folder + "/runs", "--resume"])
        #expect(edited.status == 1)
        #expect(edited.error.contains("error: cannot resume: this spec has no checkpoint to continue from; the spec changed since an unfinished run started:\n"))
        #expect(edited.error.contains(": training.optimizer.lr: 0.01 → 0.5\n"), "\(edited.error)")
    }

    /// `harness` under `ulimit -f blocks`: writes beyond the limit fail with EFBIG.
    static func runWithFileSizeLimit(blocks: Int, _ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        try runHarness(["-c", "ulimit -f \(blocks) && exec \"$0\" \"$@\"", CommandLineTests.harness] + arguments, executable: "/bin/sh")
    }

    @Test func aFullDiskKeepsTrainingAndThePreviousFiles() throws {
        let folder = temporaryFolder(), spec = folder + "/spec.yaml"
        Self.write(Self.spec("sentences"), to: spec)
        _ = try runHarness(["run", spec, "--runs", folder + "/a", "--quiet"])
        // A file-size limit (in 512-byte blocks) between best.ckpt (~100 kB) and train.ckpt
        // (~500 kB): every training checkpoint fails to be written, as on a full disk.
        let limited = try Self.runWithFileSizeLimit(blocks: 400, ["run", spec, "--runs", folder + "/b", "--quiet"])
        #expect(limited.status == 0, "\(limited.error)")
        #expect(limited.error.contains("/train.ckpt: error: cannot write: File too large; training goes on, the previous checkpoint is kept"))
        #expect(try Self.result(in: folder + "/a").perplexity == Self.result(in: folder + "/b").perplexity)
        let run = folder + "/b/" + (try FileManager.default.contentsOfDirectory(atPath: folder + "/b")[0])
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: run)).contains { $0.hasSuffix(".tmp") })
        // Too small even for the best weights: the run stops with the path and the reason.
        let starved = try Self.runWithFileSizeLimit(blocks: 20, ["run", spec, "--runs", folder + "/c", "--quiet"])
        #expect(starved.status == 1)
        #expect(starved.error.contains("/best.ckpt: error: cannot write: File too large"), "\(starved.error)")
    }

    @Test func nonFiniteLossStopsOrSkipsWithTheStepAndCheckpoint() throws {
        let folder = temporaryFolder(), spec = folder + "/spec.yaml"
        // SGD with lr 1e30 and no useful clip: the second step's loss is not finite.
        Self.write(Self.spec("stream", lr: "1e30").replacingOccurrences(of: "max: 5", with: "max: 1e30"), to: spec)
        let stopped = try runHarness(["run", spec, "--runs", folder + "/a", "--quiet"])
        #expect(stopped.status == 1)
        #expect(stopped.error.contains("error: the loss became "), "\(stopped.error)")
        // Which step first overflows depends on the CPU's rounding (step 5 on a Cooper
        // Lake, 2 on an Emerald Rapids and a Zen 1): assert the behaviour, not the step.
        let pattern = try Regex(#"the loss became -?(nan|inf) at step (\d+) of epoch 1; the last good checkpoint is (\S+/train\.ckpt) \(training\.on_nonfinite: skip skips such steps instead\)"#)
        let message = try #require(stopped.error.firstMatch(of: pattern), "\(stopped.error)")
        let step = try #require(message.output[2].substring.flatMap { Int($0) })
        let checkpoint = String(try #require(message.output[3].substring))
        #expect(step >= 1 && step <= 20)
        #expect(checkpoint.hasPrefix(folder + "/a/"))
        #expect(FileManager.default.fileExists(atPath: checkpoint))

        Self.write(Self.spec("stream", lr: "1e30", extra: "  on_nonfinite: skip").replacingOccurrences(of: "max: 5", with: "max: 1e30"), to: spec)
        let skipped = try runHarness(["run", spec, "--runs", folder + "/b", "--quiet"])
        // Skipping goes on until 100 steps in a row were skipped, or until the epoch's
        // validation, which the weights kept before the divergence may already fail
        // (a non-finite validation perplexity stops the run too): which comes first
        // depends on the step that first overflows, that is on the CPU.
        #expect(skipped.status == 1)
        let run = folder + "/b/" + (try FileManager.default.contentsOfDirectory(atPath: folder + "/b")[0])
        let metrics = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8)
        let skips = metrics.split(separator: "\n").filter { $0.contains("\"kind\":\"skipped\"") }.count
        if skipped.error.contains("error: 100 steps in a row had a NaN or infinite loss or gradient") {
            #expect(skips == 99)
        } else {
            #expect(skipped.error.contains("error: the validation perplexity is "), "\(skipped.error)")
            #expect(skipped.error.contains(" after epoch 1: the model gives some validation token no probability"))
            #expect(skips >= 1 && skips < 100)
        }
    }
}
