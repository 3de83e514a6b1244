import Foundation
import HarnessKernels
import HarnessData
import HarnessModel
import HarnessSpec
@testable import HarnessTraining
import Testing

/// Inputs that used to give a plausible wrong number or a crash, now each a clear error
/// with its exit code (issue "Nothing silently wrong"): one test per kind, through the
/// `harness` binary, with the exact message.
struct SilentlyWrongTests {
    /// A one-epoch copy of the smoke spec on a copy of the tiny corpus in `folder`.
    static func smoke(in folder: String, edit: (String) -> String = { $0 }) throws -> String {
        let corpus = folder + "/corpus"
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        for split in ["train", "valid", "test"] {
            try FileManager.default.copyItem(atPath: packageRoot.path + "/Tests/Fixtures/tiny-corpus/\(split).txt", toPath: "\(corpus)/\(split).txt")
        }
        let text = try String(contentsOfFile: packageRoot.path + "/experiments/smoke.yaml", encoding: .utf8)
            .replacingOccurrences(of: "corpus: Tests/Fixtures/tiny-corpus", with: "corpus: \(corpus)")
            .replacingOccurrences(of: "  epochs: 4", with: "  epochs: 1")
        let spec = folder + "/spec.yaml"
        ResumeTests.write(edit(text), to: spec)
        return spec
    }

    // 1. Unknown keys directly under the sections.
    @Test(arguments: [("  epochs: 1", "  epochs: 1\n  max_token: 100", "unknown key 'max_token' in 'training'; did you mean 'max_tokens'?"),
                      ("  epochs: 1", "  epoch: 1", "unknown key 'epoch' in 'training'; did you mean 'epochs'?"),
                      ("  log_every: 10", "  log_every: 10\n  on_nonfinit: skip", "unknown key 'on_nonfinit' in 'training'; did you mean 'on_nonfinite'?"),
                      ("  log_every: 10", "  log_every: 10\n  checkpoints: {every_steps: 5}", "unknown key 'checkpoints' in 'training'; did you mean 'checkpoint'?"),
                      ("  corpus: ", "  corpuss: x\n  corpus: ", "unknown key 'corpuss' in 'data'; did you mean 'corpus'?"),
                      ("  direction: bidirectional", "  direction: bidirectional\n  junk: 1", "unknown key 'junk' in 'model'"),
                      ("training:", "evaluation: {split: [valid]}\ntraining:", "unknown key 'split' in 'evaluation'; did you mean 'splits'?")])
    func unknownSectionKeysAreErrors(find: String, replace: String, message: String) throws {
        let folder = temporaryFolder()
        let spec = try Self.smoke(in: folder) { $0.replacingOccurrences(of: find, with: replace) }
        let validated = try runHarness(["validate", spec])
        #expect(validated.status == 64)
        #expect(validated.error.contains("\(spec):") && validated.error.contains(": error: " + message), "\(validated.error)")
        #expect(try runHarness(["run", spec, "--runs", folder + "/runs", "--quiet"]).status == 64)
    }

    /// The same rule for a sweep's dotted paths: the error is at the path in the sweep file.
    @Test func aMisspeltSweepPathIsAnErrorInTheSweepFile() throws {
        let folder = temporaryFolder()
        _ = try Self.smoke(in: folder)
        let sweep = folder + "/s.yaml"
        ResumeTests.write("name: s\nbase: spec.yaml\nset: {training.max_token: 100}\ngrid:\n  model.recurent.hidden: [16, 32]\n", to: sweep)
        let listed = try runHarness(["sweep", sweep, "--list", "--runs", folder + "/runs"])
        #expect(listed.status == 64)
        #expect(listed.error.contains("\(sweep):3:7: error: unknown key 'max_token' in 'training' (sweep path 'training.max_token'); did you mean 'max_tokens'?"),
                "\(listed.error)")
        #expect(listed.error.contains("\(sweep):5:3: error: unknown key 'recurent' in 'model' (sweep path 'model.recurent.hidden'); did you mean 'recurrent'?"))
    }

    // 2. A perplexity over 0 tokens.
    @Test func anEmptySplitOrOneWithoutScoredTargetsIsRefused() throws {
        let folder = temporaryFolder()
        let spec = try Self.smoke(in: folder)
        ResumeTests.write("", to: folder + "/corpus/valid.txt")
        let empty = try runHarness(["run", spec, "--runs", folder + "/runs", "--quiet"])
        #expect(empty.status == 65)
        #expect(empty.error == "\(folder)/corpus/valid.txt: error: the valid split is empty: there is nothing to score\n")
        // Stream mode cuts the split into eval_batch_size columns of at least two tokens.
        ResumeTests.write("a b c\n", to: folder + "/corpus/valid.txt")
        let stream = try Self.smoke(in: temporaryFolder()) {
            $0.replacingOccurrences(of: "{type: sentences, batch_size: 16, max_length: 12}", with: "{type: stream, batch_size: 4, bptt: 8}")
        }
        let folder2 = URL(fileURLWithPath: stream).deletingLastPathComponent().path
        ResumeTests.write("a b c\n", to: folder2 + "/corpus/test.txt")
        let short = try runHarness(["run", stream, "--runs", folder2 + "/runs", "--quiet"])
        #expect(short.status == 65)
        #expect(short.error == "\(folder2)/corpus/test.txt: error: the test split has 4 tokens (<eos> included): stream mode scores nothing "
                + "with fewer than 2 per batch column, 8 in all (data.eval_batch_size 4); lower data.eval_batch_size\n", "\(short.error)")
    }

    // 3. Infinite validation perplexity every epoch.
    @Test func anInfiniteValidationPerplexityFailsTheRun() throws {
        let folder = temporaryFolder()
        let spec = try Self.smoke(in: folder) {
            $0.replacingOccurrences(of: "{type: adam, lr: 0.01}", with: "{type: sgd, lr: 1e5}")
        }
        let run = try runHarness(["run", spec, "--runs", folder + "/runs"])
        #expect(run.status == 1)
        #expect(run.error.contains("error: the validation perplexity is inf after epoch 1: the model gives some validation token no probability "
                                   + "(diverged training: lower the learning rate or clip)"), "\(run.error)")
        #expect(!run.output.contains("(best)") && !run.error.contains("(best)"))
        let runFolder = try FileManager.default.contentsOfDirectory(atPath: folder + "/runs")[0]
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/runs/\(runFolder)/best.ckpt"))
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/runs/\(runFolder)/result.json"))

        // The same for the validation inside an epoch (evaluation.every_tokens).
        let often = try Self.smoke(in: temporaryFolder()) {
            $0.replacingOccurrences(of: "{type: adam, lr: 0.01}", with: "{type: sgd, lr: 1e5}")
                .replacingOccurrences(of: "training:", with: "evaluation: {every_tokens: 50}\ntraining:")
        }
        let midEpoch = try runHarness(["run", often, "--runs", temporaryFolder()])
        #expect(midEpoch.status == 1)
        let pattern = try Regex(#"error: the validation perplexity is -?(inf|nan) at step \d+ of epoch 1: the model gives some validation token no probability"#)
        #expect(midEpoch.error.firstMatch(of: pattern) != nil, "\(midEpoch.error)")
    }

    // 4b. The same check for the other output layer that assumes frequency order.
    @Test func aVocabularyInByteOrderIsRefusedForAdaptiveSoftmax() throws {
        let folder = temporaryFolder()
        let lines = try TextFile.read(packageRoot.path + "/Tests/Fixtures/tiny-corpus/train.txt")
        let built = Vocabulary(training: lines, withBeginOfSentence: true)
        ResumeTests.write(built.tokens.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.joined(separator: "\n") + "\n",
                          to: folder + "/bytes.vocab")
        let spec = try Self.smoke(in: folder) {
            $0.replacingOccurrences(of: "  batching:", with: "  vocabulary: {file: \(folder)/bytes.vocab}\n  batching:")
                .replacingOccurrences(of: "{type: sampled-softmax, samples: 8}", with: "{type: adaptive-softmax, cutoffs: [20, 60], div_value: 2}")
        }
        let refused = try runHarness(["run", spec, "--runs", folder + "/runs", "--quiet"])
        #expect(refused.status == 65)
        #expect(refused.error.contains("the vocabulary is not ordered by frequency")
                && refused.error.contains("Adaptive softmax gives the head to the first ids"), "\(refused.error)")
    }

    // 4. A vocabulary file that is not ordered by frequency, with sampled softmax.
    @Test func aVocabularyInByteOrderIsRefusedForSampledSoftmax() throws {
        let folder = temporaryFolder()
        let lines = try TextFile.read(packageRoot.path + "/Tests/Fixtures/tiny-corpus/train.txt")
        let built = Vocabulary(training: lines, withBeginOfSentence: true)
        let sorted = built.tokens.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        ResumeTests.write(sorted.joined(separator: "\n") + "\n", to: folder + "/bytes.vocab")
        ResumeTests.write(built.tokens.joined(separator: "\n") + "\n", to: folder + "/frequency.vocab")
        let spec = try Self.smoke(in: folder) {
            $0.replacingOccurrences(of: "  batching:", with: "  vocabulary: {file: \(folder)/bytes.vocab}\n  batching:")
        }
        let refused = try runHarness(["run", spec, "--runs", folder + "/runs", "--quiet"])
        #expect(refused.status == 65)
        #expect(refused.error.hasPrefix("\(folder)/bytes.vocab: error: the vocabulary is not ordered by frequency: the rank correlation of its order "
                                        + "with the training counts is "), "\(refused.error)")
        #expect(refused.error.contains("(below 0.5; 1 is perfectly ordered). Sampled softmax's log-uniform sampler assumes the most frequent words first"))
        // The same words in frequency order train.
        ResumeTests.write(try String(contentsOfFile: spec, encoding: .utf8).replacingOccurrences(of: "bytes.vocab", with: "frequency.vocab"), to: spec)
        #expect(try runHarness(["run", spec, "--runs", folder + "/runs", "--quiet"]).status == 0)
        let encoded = built.encode(lines)
        #expect(built.frequencyOrderCorrelation(with: encoded) > 0.99)
        #expect(abs(try Vocabulary(file: folder + "/bytes.vocab", withBeginOfSentence: true).frequencyOrderCorrelation(
            with: try Vocabulary(file: folder + "/bytes.vocab", withBeginOfSentence: true).encode(lines))) < 0.5)
        // Least frequent first is refused too.
        ResumeTests.write(built.tokens.reversed().joined(separator: "\n") + "\n", to: folder + "/reversed.vocab")
        ResumeTests.write(try String(contentsOfFile: spec, encoding: .utf8).replacingOccurrences(of: "frequency.vocab", with: "reversed.vocab"), to: spec)
        let reversed = try runHarness(["run", spec, "--runs", folder + "/runs", "--quiet"])
        #expect(reversed.status == 65 && reversed.error.contains("the rank correlation of its order with the training counts is -"), "\(reversed.error)")
    }

    // 5. Tokens that differ by bytes stay apart.
    @Test func canonicallyEquivalentTokensAreDistinct() throws {
        let nfc = "caf\u{E9}", nfd = "cafe\u{301}"
        #expect(nfc == nfd)   // Swift's String equality: why the vocabulary keys by bytes
        let vocabulary = Vocabulary(training: [[nfc, "x"], [nfd], [nfc]], withBeginOfSentence: false)
        #expect(vocabulary.count == 5)
        #expect(vocabulary.id(nfc) != vocabulary.id(nfd))
        #expect(vocabulary.tokens[Int(vocabulary.id(nfd))].utf8.count == 6)
        #expect(vocabulary.counts[Int(vocabulary.id(nfc))] == 2 && vocabulary.counts[Int(vocabulary.id(nfd))] == 1)
        let table = vocabulary.characterTable(maxCharacters: 10)
        func row(_ token: String) -> ArraySlice<Int32> { table.ids[Int(vocabulary.id(token)) * 10 ..< Int(vocabulary.id(token)) * 10 + 10] }
        #expect(row(nfc) != row(nfd))
        #expect(!vocabulary.contains("cafe") && vocabulary.contains(nfd))
        // A vocabulary file may list both forms: two entries, not "listed twice".
        let file = temporaryFolder() + "/vocab.txt"
        ResumeTests.write("\(nfc)\n\(nfd)\n", to: file)
        let listed = try Vocabulary(file: file, withBeginOfSentence: false)
        #expect(listed.count == 4 && listed.id(nfc) == 0 && listed.id(nfd) == 1)
    }

    // 6. Inference needs only the run folder; eval says where the data went.
    @Test func embedNeedsOnlyTheRunFolderAndEvalNamesAMovedCorpus() throws {
        let folder = temporaryFolder()
        let spec = try Self.smoke(in: folder)
        #expect(try runHarness(["run", spec, "--runs", folder + "/runs", "--quiet"]).status == 0)
        let run = folder + "/runs/" + (try FileManager.default.contentsOfDirectory(atPath: folder + "/runs")[0])
        try FileManager.default.moveItem(atPath: folder + "/corpus", toPath: folder + "/moved")
        ResumeTests.write("the cat sat\n", to: folder + "/in.txt")
        let embedded = try runHarness(["embed", run, "--input", folder + "/in.txt", "--layers", "top"])
        #expect(embedded.status == 0, "\(embedded.error)")
        #expect(embedded.output.hasPrefix("{\"line\":1,"))
        ResumeTests.write("the cat sat\na cat ran\n", to: folder + "/contexts.txt")
        let similar = try runHarness(["similar", run, "--word", "cat", "--input", folder + "/contexts.txt"])
        #expect(similar.status == 0 && similar.output.contains("[2] line 2: a cat ran"), "\(similar.error)")
        // An input without tokens: the npy shape still comes from the model.
        ResumeTests.write("", to: folder + "/empty.txt")
        let npy = try runHarness(["embed", run, "--input", folder + "/empty.txt", "--format", "npy", "-o", folder + "/empty.npy"])
        #expect(npy.status == 0, "\(npy.error)")
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: folder + "/empty.npy")), as: UTF8.self).contains("'shape': (0, 3, 32)"))
        let eval = try runHarness(["eval", run])
        #expect(eval.status == 65)
        #expect(eval.error == "\(folder)/corpus/valid.txt: error: the run's evaluation data is not there any more (moved or deleted); "
                + "pass --corpus FOLDER with its valid.txt and test.txt\n", "\(eval.error)")
        let moved = try runHarness(["eval", run, "--corpus", folder + "/moved"])
        #expect(moved.status == 0 && moved.output.contains("valid "), "\(moved.error)")
        // Another corpus is scored with the run's vocabulary: the share of <unk> is said.
        #expect(moved.error.firstMatch(of: try Regex(#"note: \d+\.\d % of valid's \d+ words are <unk> under the run's vocabulary"#)) != nil,
                "\(moved.error)")
    }

    // 7. Resource limits.
    @Test func resourceLimitsAreErrors() throws {
        let folder = temporaryFolder()
        let spec = try Self.smoke(in: folder)
        // A stream longer than the limit is cut off after 1 MiB + 1 byte.
        let stream = try runHarness(["-c", "head -c 3000000 /dev/zero | tr '\\0' 'y' | \"$0\" validate /dev/stdin", CommandLineTests.harness],
                                    executable: "/bin/sh")
        #expect(stream.status == 64)
        #expect(stream.error.hasPrefix("/dev/stdin:1:1: error: the input has more than 1048576 bytes; a spec is a few hundred"), "\(stream.error)")
        let huge = try Self.smoke(in: temporaryFolder()) {
            $0.replacingOccurrences(of: "layers: 2, hidden: 32, projection: 16", with: "layers: 16, hidden: 65536, projection: 65536")
        }
        for command in ["validate", "run"] {
            let refused = try runHarness(command == "run" ? [command, huge, "--runs", folder + "/runs"] : [command, huge])
            #expect(refused.status == 64)
            #expect(refused.error.contains(":12:14: error: the model has 1.2e+12 parameters: its weights and gradients alone need 9.6 TB, "
                                           + "and this machine has "), "\(refused.error)")
        }
        for threads in ["0", "1000"] {
            let run = try runHarness(["run", spec, "--threads", threads])
            #expect(run.status == 64)
            #expect(run.error.hasPrefix("Error: --threads must be in [1, 256] like training.threads, found \(threads)"), "\(run.error)")
        }
        // A checkpoint whose header claims a shape past Int's range.
        #expect(try runHarness(["run", spec, "--runs", folder + "/runs", "--quiet"]).status == 0)
        let run = folder + "/runs/" + (try FileManager.default.contentsOfDirectory(atPath: folder + "/runs")[0])
        // A scale or weights the scalar mix cannot use.
        for (option, value) in [("--gamma", "inf"), ("--mix-weights", "0,nan,0")] {
            let mixed = try runHarness(["embed", run, "--input", spec, "--layers", "mix", "--mix-weights", "0,0,0", option, value])
            #expect(mixed.status == 64 && mixed.error.contains("the scalar-mix weights and gamma must be finite numbers"), "\(mixed.error)")
        }
        try craftCheckpoint(from: run + "/best.ckpt", rows: 1 << 40, columns: 1 << 40)
        let crafted = try runHarness(["embed", run, "--input", spec])
        #expect(crafted.status == 1)
        #expect(crafted.error.hasPrefix("\(run)/best.ckpt: error: cannot use this checkpoint: parameter encoder.char_embedding has the impossible shape "
                                        + "(1099511627776, 1099511627776)"), "\(crafted.error)")
        try craftCheckpoint(from: run + "/best.ckpt", rows: 1 << 20, columns: 1 << 20)
        let large = try runHarness(["embed", run, "--input", spec])
        #expect(large.error.contains("error: cannot use this checkpoint: the header describes parameter encoder.char_embedding (1048576x1048576), more than the file's"))
    }

    /// Rewrites the first parameter's shape in a checkpoint's header and its checksum.
    private func craftCheckpoint(from path: String, rows: Int, columns: Int) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let length = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        var header = try JSONSerialization.jsonObject(with: Data(bytes[12 ..< 12 + length])) as! [String: Any]
        var parameters = header["parameters"] as! [[String: Any]]
        parameters[0]["rows"] = rows
        parameters[0]["columns"] = columns
        header["parameters"] = parameters
        let json = [UInt8](try JSONSerialization.data(withJSONObject: header))
        bytes = Array(bytes[0..<8]) + withUnsafeBytes(of: UInt32(json.count).littleEndian, Array.init) + json
            + Array(bytes[(12 + length) ..< (bytes.count - 8)])
        bytes += withUnsafeBytes(of: fnv1a(bytes).littleEndian, Array.init)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    // 9. Reports name the files they cannot read and report the rest.
    @Test func reportsNameBrokenFilesAndShowTheRest() throws {
        let folder = temporaryFolder()
        _ = try Self.smoke(in: folder)
        ResumeTests.write("name: s\nbase: spec.yaml\ngrid:\n  seed: [1, 2]\n", to: folder + "/s.yaml")
        #expect(try runHarness(["sweep", folder + "/s.yaml", "--runs", folder + "/runs"]).status == 0)
        let runs = try FileManager.default.contentsOfDirectory(atPath: folder + "/runs").filter { !$0.hasSuffix(".json") }.sorted()
        ResumeTests.write("{\"garbage\": true}", to: "\(folder)/runs/\(runs[0])/result.json")
        try FileManager.default.removeItem(atPath: "\(folder)/runs/\(runs[1])/result.json")
        ResumeTests.write("{\"exitCode\": \"one\"}", to: "\(folder)/runs/\(runs[1])/failed.json")
        ResumeTests.write("{not json", to: folder + "/runs/other.sweep.json")
        let report = try runHarness(["report", folder + "/runs"])
        #expect(report.status == 0, "\(report.error)")
        #expect(report.error.contains("\(folder)/runs/other.sweep.json: error: not a sweep manifest written by harness sweep (not valid JSON); left out of the report"),
                "\(report.error)")
        #expect(report.error.contains("\(folder)/runs/\(runs[0])/result.json: error: not a valid result.json (missing key "), "\(report.error)")
        #expect(report.error.contains("\(folder)/runs/\(runs[1])/failed.json: error: not a valid failed.json; that point is shown as unreadable"))
        #expect(report.output.components(separatedBy: "1 unreadable").count == 3, "\(report.output)")
        ResumeTests.write("[]", to: folder + "/runs/s.sweep.json")
        let none = try runHarness(["report", folder + "/runs"])
        #expect(none.status == 1)
        #expect(none.error.hasSuffix("\(folder)/runs: error: none of the 2 sweep manifests here could be read\n"), "\(none.error)")
        // A folder that is not there, a file, a folder without manifests: each said as it is.
        try FileManager.default.createDirectory(atPath: folder + "/empty", withIntermediateDirectories: true)
        for (source, reason) in [(folder + "/missing", "no such folder (give a runs folder, or a sweep spec .yaml)"),
                                 (folder + "/s.yaml.txt", "not a folder or a sweep spec (.yaml): give a runs folder, or a sweep spec"),
                                 (folder + "/empty", "no sweep manifests (*.sweep.json) here; run `harness sweep` first")] {
            if source.hasSuffix(".txt") { ResumeTests.write("text", to: source) }
            let result = try runHarness(["report", source])
            #expect(result.status == 1 && result.error == "\(source): error: \(reason)\n", "\(result.error)")
        }
    }

    // 10. The smaller ones.
    @Test func smallerMessages() throws {
        let check = try runHarness(["check", "nope-refs"])
        #expect(check.status == 1)
        #expect(check.error == "nope-refs: error: not a references folder (expected <name>.yaml specs and expected.json)\n")
        let eval = try runHarness(["eval", "runs/nope"])
        #expect(eval.status == 1)
        #expect(eval.error == "runs/nope: error: not a run folder (expected runs/<name>-<hash> with spec.resolved.yaml, vocabulary.txt and best.ckpt)\n")
        let typo = try runHarness(["rn", "x.yaml"])
        #expect(typo.status == 64)
        #expect(typo.error.hasPrefix("error: unknown command 'rn'; did you mean 'run'?\n"))
        #expect(try runHarness(["valdate", "x.yaml"]).error.hasPrefix("error: unknown command 'valdate'; did you mean 'validate'?\n"))
        let notFolder = try runHarness(["eval", "experiments/smoke.yaml"])
        #expect(notFolder.status == 1 && notFolder.error.hasPrefix("experiments/smoke.yaml: error: not a run folder"), "\(notFolder.error)")
        let noSpecs = try runHarness(["check", "docs"])
        #expect(noSpecs.status == 1 && noSpecs.error == "docs: error: no reference specs (*.yaml) in this folder\n", "\(noSpecs.error)")
        #expect(try runHarness(["embed"]).status == 64)   // a known command still parses its own arguments
    }
}
