import Foundation
@testable import HarnessSpec
import HarnessTraining
import HarnessTestSupport
import Testing

/// Bad specs, each with the exact first line the user sees (`file:line:col: error: …`).
/// Every one exits with code 64 (checked end to end for a few in HarnessTrainingTests).
struct SpecErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var yaml: String
        var expected: [String]
        var testDescription: String { name }
    }

    static let base = """
        data:
          corpus: corpus
          batching: {type: sentences, batch_size: 4, max_length: 8}
        model:
          token_encoder: {type: word, dim: 8}
          recurrent: {type: lstm-projected, layers: 2, hidden: 16, projection: 8}
        training:
          epochs: 1

        """

    static let cases: [Case] = [
        Case(name: "unclosed flow mapping", yaml: "data: {corpus: x\nmodel: 1\n",
             expected: ["s.yaml:2:6: error: invalid YAML: while parsing a flow mapping did not find expected ',' or '}'"]),
        Case(name: "bad indentation", yaml: "data:\n  corpus: x\n batching: 1\n",
             expected: ["s.yaml:3:2: error: invalid YAML: while parsing a block mapping did not find expected key"]),
        Case(name: "a list at the top", yaml: "- data\n- model\n",
             expected: ["s.yaml:1:1: error: expected a mapping with data, model and training sections, found a list"]),
        Case(name: "an empty file", yaml: "",
             expected: ["s.yaml:1:1: error: expected a mapping with data, model and training sections, found an empty file"]),
        Case(name: "duplicate key", yaml: base + "seed: 1\nseed: 2\n",
             expected: ["s.yaml:9:1: error: duplicate key 'seed' in a mapping"]),
        Case(name: "unknown top-level key", yaml: base + "trainng: {}\n",
             expected: ["s.yaml:9:1: error: unknown key 'trainng' in 'spec'; did you mean 'training'?"]),
        Case(name: "unknown nested key", yaml: base.replacingOccurrences(of: "hidden: 16", with: "hiden: 16"),
             expected: ["s.yaml:6:14: error: missing required key 'hidden' in 'model.recurrent'",
                        "s.yaml:6:48: error: unknown key 'hiden' in 'model.recurrent'; did you mean 'hidden'?"]),
        Case(name: "unknown recurrent type", yaml: base.replacingOccurrences(of: "type: lstm-projected", with: "type: lstmp"),
             expected: ["s.yaml:6:21: error: unknown type 'lstmp' for 'model.recurrent'; did you mean 'lstm-projected'?"]),
        Case(name: "unknown encoder type", yaml: base.replacingOccurrences(of: "type: word", with: "type: chars"),
             expected: ["s.yaml:5:25: error: unknown type 'chars' for 'model.token_encoder'; did you mean 'char-cnn'?"]),
        Case(name: "unknown optimizer", yaml: base + "  optimizer: {type: adamw}\n",
             expected: ["s.yaml:9:21: error: unknown type 'adamw' for 'training.optimizer'; did you mean 'adam'?"]),
        Case(name: "missing type", yaml: base.replacingOccurrences(of: "{type: word, dim: 8}", with: "{dim: 8}"),
             expected: ["s.yaml:5:18: error: missing required key 'type' in 'model.token_encoder'"]),
        Case(name: "unknown key under training", yaml: base.replacingOccurrences(of: "training:\n  epochs: 1", with: "training: {epochs: 1, max_token: 100}"),
             expected: ["s.yaml:7:23: error: unknown key 'max_token' in 'training'; did you mean 'max_tokens'?"]),
        Case(name: "unknown key under data", yaml: base.replacingOccurrences(of: "  corpus: corpus", with: "  corpus: corpus\n  shuffle: true"),
             expected: ["s.yaml:3:3: error: unknown key 'shuffle' in 'data'"]),
        Case(name: "misspelt type", yaml: base.replacingOccurrences(of: "{type: word, dim: 8}", with: "{typ: word, dim: 8}"),
             expected: ["s.yaml:5:18: error: missing required key 'type' in 'model.token_encoder'",
                        "s.yaml:5:19: error: unknown key 'typ' in 'model.token_encoder'; did you mean 'type'?"]),
        Case(name: "keys of another type", yaml: base + "  schedule: {factor: 0.5}\n",
             expected: ["s.yaml:9:14: error: unknown key 'factor' in 'training.schedule'"]),
        Case(name: "integer expected", yaml: base.replacingOccurrences(of: "epochs: 1", with: "epochs: ten"),
             expected: ["s.yaml:8:11: error: expected an integer for 'training.epochs', found 'ten'"]),
        Case(name: "list where a number belongs", yaml: base.replacingOccurrences(of: "hidden: 16", with: "hidden: [16]"),
             expected: ["s.yaml:6:56: error: expected an integer for 'model.recurrent.hidden', found a list"]),
        Case(name: "number expected", yaml: base + "  optimizer: {type: sgd, lr: fast}\n",
             expected: ["s.yaml:9:30: error: expected a number for 'training.optimizer.lr', found 'fast'"]),
        Case(name: "bool expected", yaml: base.replacingOccurrences(of: "projection: 8}", with: "projection: 8, residual: maybe}"),
             expected: ["s.yaml:6:85: error: expected true or false for 'model.recurrent.residual', found 'maybe'"]),
        Case(name: "bool given as null", yaml: base.replacingOccurrences(of: "projection: 8}", with: "projection: 8, residual: ~}"),
             expected: ["s.yaml:6:85: error: expected true or false for 'model.recurrent.residual', found null "
                        + "(leave the key out for the default, true)"]),
        Case(name: "epochs out of range", yaml: base.replacingOccurrences(of: "epochs: 1", with: "epochs: 0"),
             expected: ["s.yaml:8:11: error: 'training.epochs' must be in [1, 100000], found 0"]),
        Case(name: "dropout rate of 1", yaml: base.replacingOccurrences(of: "training:\n", with: "  dropout: [{type: word, rate: 1}]\ntraining:\n"),
             expected: ["s.yaml:7:32: error: 'model.dropout[0].rate' must be in [0, 1), found 1"]),
        Case(name: "negative learning rate", yaml: base + "  optimizer: {type: adagrad, lr: -0.2}\n",
             expected: ["s.yaml:9:34: error: 'training.optimizer.lr' must be positive, found -0.2"]),
        Case(name: "missing required key", yaml: base.replacingOccurrences(of: ", hidden: 16", with: ""),
             expected: ["s.yaml:6:14: error: missing required key 'hidden' in 'model.recurrent'"]),
        Case(name: "missing encoder", yaml: base.replacingOccurrences(of: "  token_encoder: {type: word, dim: 8}\n", with: ""),
             expected: ["s.yaml:5:3: error: missing required key 'token_encoder' in 'model'"]),
        Case(name: "tying with a char-CNN", yaml: base.replacingOccurrences(of: "{type: word, dim: 8}", with: "{type: char-cnn}")
                 .replacingOccurrences(of: "training:\n", with: "  output: {type: softmax, tie_weights: true}\ntraining:\n"),
             expected: ["s.yaml:7:40: error: tie_weights needs a token encoder with an embedding table, such as word ('char-cnn' has none to share)"]),
        Case(name: "tying mismatched sizes", yaml: base.replacingOccurrences(of: "training:\n", with: "  output: {type: softmax, tie_weights: true}\ntraining:\n")
                 .replacingOccurrences(of: "dim: 8", with: "dim: 12"),
             expected: ["s.yaml:7:40: error: tie_weights needs the token encoder's size (12) equal to the recurrent output size (8)"]),
        Case(name: "standard and variational", yaml: base.replacingOccurrences(of: "training:\n", with:
                 "  dropout: [{type: standard, rate: 0.1}, {type: variational, rate: 0.1}]\ntraining:\n"),
             expected: ["s.yaml:7:42: error: standard and variational dropout act at the same places; choose one"]),
        Case(name: "dropout listed twice", yaml: base.replacingOccurrences(of: "training:\n", with:
                 "  dropout: [{type: word, rate: 0.1}, {type: word, rate: 0.2}]\ntraining:\n"),
             expected: ["s.yaml:7:38: error: dropout 'word' is listed twice"]),
        Case(name: "dropout item not a mapping", yaml: base.replacingOccurrences(of: "training:\n", with: "  dropout: [word]\ntraining:\n"),
             expected: ["s.yaml:7:13: error: expected a mapping for 'model.dropout[0]', found 'word'"]),
        Case(name: "unknown direction", yaml: base.replacingOccurrences(of: "model:\n", with: "model:\n  direction: bi\n"),
             expected: ["s.yaml:5:14: error: unknown direction 'bi' for 'model'; did you mean 'bidirectional'?"]),
        Case(name: "corpus and train both", yaml: base.replacingOccurrences(of: "  corpus: corpus\n", with: "  corpus: corpus\n  train: t.txt\n"),
             expected: ["s.yaml:2:3: error: give either 'corpus' or 'train'/'valid'/'test' paths, not both"]),
        Case(name: "early stopping without validation", yaml: base.replacingOccurrences(of: "  corpus: corpus\n", with: "  train: t.txt\n")
                 + "  early_stopping: {patience: 2}\n",
             expected: ["s.yaml:9:30: error: early stopping needs a validation split (data.valid or data.corpus)"]),
        Case(name: "unknown evaluation split", yaml: base + "evaluation: {splits: [valid, dev]}\n",
             expected: ["s.yaml:9:30: error: unknown split 'dev' in 'evaluation.splits'"]),
        Case(name: "filter wider than max_characters", yaml: base.replacingOccurrences(
                 of: "{type: word, dim: 8}", with: "{type: char-cnn, filters: [[7, 4]], max_characters: 5}"),
             expected: ["s.yaml:5:44: error: filter width 7 exceeds max_characters 5"]),
        Case(name: "malformed filter", yaml: base.replacingOccurrences(of: "{type: word, dim: 8}", with: "{type: char-cnn, filters: [[3]]}"),
             expected: ["s.yaml:5:45: error: expected a filter [width, count] of positive integers in 'filters', found a list"]),
        Case(name: "output_dim without a projection", yaml: base.replacingOccurrences(
                 of: "{type: word, dim: 8}", with: "{type: char-cnn, projection: false, output_dim: 64}"),
             expected: ["s.yaml:5:66: error: 'output_dim' needs a projection: without one (projection: false) the token "
                        + "representation has the filters' 512 columns"]),
        Case(name: "plateau compared with an unknown epoch", yaml: base + "  schedule: {type: plateau, compare_with: worst}\n",
             expected: ["s.yaml:9:43: error: unknown compare_with 'worst' for 'training.schedule'"]),
        Case(name: "adaptive cutoffs out of order", yaml: base.replacingOccurrences(
                 of: "training:\n", with: "  output: {type: adaptive-softmax, cutoffs: [10, 5]}\ntraining:\n"),
             expected: ["s.yaml:7:50: error: 'cutoffs' must increase strictly: 5 follows 10"]),
        Case(name: "adaptive cutoff not an integer", yaml: base.replacingOccurrences(
                 of: "training:\n", with: "  output: {type: adaptive-softmax, cutoffs: [2.5]}\ntraining:\n"),
             expected: ["s.yaml:7:46: error: expected a positive integer in 'cutoffs', found '2.5'"]),
        Case(name: "every bad cutoff at once", yaml: base.replacingOccurrences(
                 of: "training:\n", with: "  output: {type: adaptive-softmax, cutoffs: [0, 4, 4]}\ntraining:\n"),
             expected: ["s.yaml:7:46: error: expected a positive integer in 'cutoffs', found '0'",
                        "s.yaml:7:52: error: 'cutoffs' must increase strictly: 4 follows 4"]),
        Case(name: "adaptive cutoffs not a list", yaml: base.replacingOccurrences(
                 of: "training:\n", with: "  output: {type: adaptive-softmax, cutoffs: 2.5}\ntraining:\n"),
             expected: ["s.yaml:7:45: error: expected a list for 'model.output.cutoffs', found '2.5'"]),
        Case(name: "adaptive softmax with tied weights", yaml: base.replacingOccurrences(
                 of: "training:\n", with: "  output: {type: adaptive-softmax, tie_weights: true}\ntraining:\n"),
             expected: ["s.yaml:7:49: error: adaptive-softmax cannot tie weights: its head scores clusters as well as words, "
                        + "and its tails are projected"]),
        Case(name: "clip without max", yaml: base + "  clip: {type: global-norm}\n",
             expected: ["s.yaml:9:9: error: missing required key 'max' in 'training.clip'"]),
        Case(name: "section of the wrong kind", yaml: base + "evaluation: [valid]\n",
             expected: ["s.yaml:9:13: error: expected a mapping for 'evaluation', found a list"]),
        Case(name: "nested beyond 1000 levels", yaml: "data: " + String(repeating: "[", count: 5000),
             expected: ["s.yaml:1:8: error: invalid YAML: nested more than 1000 levels deep"]),
        Case(name: "bad checkpoint policy", yaml: base + "  checkpoint: {every_step: 5}\n",
             expected: ["s.yaml:9:16: error: unknown key 'every_step' in 'training.checkpoint'; did you mean 'every_steps'?"]),
        Case(name: "bad non-finite action", yaml: base + "  on_nonfinite: ignore\n",
             expected: ["s.yaml:9:17: error: unknown on_nonfinite 'ignore' for 'training'"]),
        Case(name: "a name that is a path", yaml: "name: ../../escaped\n" + base,
             expected: ["s.yaml:1:1: error: name '../../escaped' contains '/': a name is one folder name, not a path"]),
        Case(name: "a hidden name", yaml: "name: .x\n" + base,
             expected: ["s.yaml:1:1: error: name '.x' must start with a letter or a digit"]),
    ]

    @Test(arguments: cases)
    func reportsTheExactError(_ c: Case) {
        do {
            _ = try SpecLoader.parse(c.yaml, file: "s.yaml")
            Issue.record("\(c.name): the spec was accepted")
        } catch let errors as SpecErrors {
            #expect(errors.errors.map(\.description) == c.expected)
            #expect(ExitStatus.of(errors)?.code == 64)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func everyErrorOfASpecIsReportedAtOnce() throws {
        let yaml = Self.base.replacingOccurrences(of: "epochs: 1", with: "epochs: -1")
            .replacingOccurrences(of: "hidden: 16", with: "hidden: x") + "  optimizer: {type: sgdd}\n"
        let errors = try #require(throws: SpecErrors.self) { try SpecLoader.parse(yaml, file: "s.yaml") }
        #expect(errors.errors.count == 3)
        #expect(errors.errors.map(\.location.line) == [6, 8, 9])
    }

    @Test func longLinesAreShownAroundTheColumnAndCRLinesCount() throws {
        let rest = Self.base.split(separator: "\n").dropFirst(3).joined(separator: "\r")
        let yaml = "data: {corpus: \"" + String(repeating: "a", count: 300) + "\", batching: {type: strem, batch_size: 4}, "
            + String(repeating: "b", count: 100) + ": 1}\r" + rest
        let errors = try #require(throws: SpecErrors.self) { try SpecLoader.parse(yaml, file: "s.yaml") }
        let lines = errors.errors[0].rendered(source: yaml).split(separator: "\n")
        #expect(lines[0].hasPrefix("s.yaml:1:337: error: unknown type 'strem' for 'data.batching'"), "\(lines[0])")
        #expect(lines[1].count <= 2 + 102 && lines[1].hasPrefix("  …") && lines[1].hasSuffix("…"), "\(lines[1])")
        #expect(lines[1].contains("batching: {type: strem, batch_size: 4}"))
        // The caret sits under the offending value.
        let caret = lines[2].count - 1
        #expect(Array(lines[1])[caret] == "s", "\(lines[1])\n\(lines[2])")
        // A CR alone ends a line for YAML and for the rendering alike.
        let cr = try #require(throws: SpecErrors.self) { try SpecLoader.parse("name: x\rdata: 3\r", file: "s.yaml") }
        let data = try #require(cr.errors.first { $0.message.contains("'data'") })
        #expect(data.description.hasPrefix("s.yaml:2:7: error: expected a mapping for 'data'"), "\(data)")
        #expect(data.rendered(source: "name: x\rdata: 3\r").contains("\n  data: 3\n        ^"))
    }

    @Test func oversizedAndDirectorySpecFilesAreRefusedUnread() throws {
        let folder = TestFolder.make("spec")
        try FileManager.default.createDirectory(atPath: folder + "/dir.yaml", withIntermediateDirectories: true)
        let big = folder + "/big.yaml"
        _ = FileManager.default.createFile(atPath: big, contents: Data(repeating: 0x23, count: SpecLoader.maximumFileSize + 1))
        #expect(throws: SpecErrors.self) { try SpecLoader.load(file: big) }
        do { _ = try SpecLoader.load(file: big) } catch {
            #expect("\(error)".hasPrefix("\(big):1:1: error: the file has 1048577 bytes; a spec is a few hundred (is this the right file?)"))
        }
        do { _ = try SpecLoader.load(file: folder + "/dir.yaml") } catch {
            #expect("\(error)".hasPrefix("\(folder)/dir.yaml:1:1: error: expected a spec file, found a directory"))
        }
    }

    @Test func renderingShowsTheLineAndACaret() throws {
        let yaml = Self.base.replacingOccurrences(of: "type: lstm-projected", with: "type: lstmp")
        let errors = try #require(throws: SpecErrors.self) { try SpecLoader.parse(yaml, file: "s.yaml") }
        #expect(errors.description == """
            s.yaml:6:21: error: unknown type 'lstmp' for 'model.recurrent'; did you mean 'lstm-projected'?
                recurrent: {type: lstmp, layers: 2, hidden: 16, projection: 8}
                                  ^
              note: expected one of: lstm, lstm-projected, gru
            1 error in s.yaml
            """)
    }
}

