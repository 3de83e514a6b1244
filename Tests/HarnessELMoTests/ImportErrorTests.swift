import Foundation
import HarnessData
@testable import HarnessELMo
import HarnessTraining
import Testing

/// Bad files are `DataError`s (exit 65) naming the file and the dataset or option.
@Suite(.enabled(if: fixtureExists, Comment(rawValue: fixtureMissing)))
struct ImportErrorTests {
    let folder = temporaryFolder()

    /// The fixture's options with `change` applied, written to a new file.
    func options(_ change: (inout [String: Any]) -> Void) throws -> String {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture + "/options.json"))) as? [String: Any])
        change(&object)
        let path = folder + "/options-\(UUID().uuidString).json"
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// `harness import-elmo` with these files: its standard error when it exits 65 with
    /// nothing left behind, else a description of what it did instead.
    func importError(options: String = fixture + "/options.json", weights: String = fixture + "/lm_weights.hdf5",
                     vocabulary: String? = nil, embeddingWeights: String? = nil) throws -> String {
        let output = folder + "/run-\(UUID().uuidString)"
        let result = try harness(["import-elmo", "--options", options, "--weights", weights, "-o", output]
                                 + (vocabulary.map { ["--vocabulary", $0] } ?? []) + (embeddingWeights.map { ["--embedding-weights", $0] } ?? []))
        guard result.status == 65, !FileManager.default.fileExists(atPath: output) else {
            return "exit \(result.status), output folder \(FileManager.default.fileExists(atPath: output) ? "written" : "absent"): \(result.error)"
        }
        return result.error
    }

    @Test func notHDF5() throws {
        #expect(try importError(weights: fixture + "/options.json") == "\(fixture)/options.json: error: not an HDF5 file\n")
        #expect(try importError(weights: fixture + "/vocab_test.txt") == "\(fixture)/vocab_test.txt: error: not an HDF5 file\n")
    }

    @Test func missingExtraAndMisshapenDatasets() throws {
        let missing = try fixtureWeights(in: folder, dropping: "CNN_high_1/W_carry")
        #expect(try importError(weights: missing).hasPrefix("\(missing): error: no dataset 'CNN_high_1/W_carry', which the options"))
        let extra = try fixtureWeights(in: folder, adding: ["CNN_high_2/W_carry": [124, 124]])
        #expect(try importError(weights: extra).hasPrefix("\(extra): error: dataset 'CNN_high_2/W_carry' is not part of a bilm-tf model"))
        let narrower = try options { o in
            var lstm = o["lstm"] as! [String: Any]
            lstm["dim"] = 32
            o["lstm"] = lstm
        }
        #expect(try importError(options: narrower) == "\(fixture)/lm_weights.hdf5: error: dataset 'RNN_0/RNN/MultiRNNCell/Cell0/LSTMCell/W_0' "
                + "has shape (32, 256); the options (\(narrower)) give (32, 128)\n")
    }

    @Test func badOptions() throws {
        let training = try options { o in
            var cnn = o["char_cnn"] as! [String: Any]
            cnn["n_characters"] = 261
            o["char_cnn"] = cnn
        }
        #expect(try importError(options: training).hasPrefix("\(training): error: option 'char_cnn.n_characters' is 261; bilm-tf predicts with 262"))
        let noLSTM = try options { $0["lstm"] = nil }
        #expect(try importError(options: noLSTM).hasPrefix("\(noLSTM): error: no 'lstm' option"))
        let noCNN = try options { $0["char_cnn"] = nil }
        #expect(try importError(options: noCNN).hasPrefix("\(noCNN): error: no 'char_cnn' option"))
        let sigmoid = try options { o in
            var cnn = o["char_cnn"] as! [String: Any]
            cnn["activation"] = "sigmoid"
            o["char_cnn"] = cnn
        }
        #expect(try importError(options: sigmoid) == "\(sigmoid): error: option 'char_cnn.activation' is 'sigmoid'; bilm-tf knows tanh and relu\n")
        let unknown = try options { o in
            var lstm = o["lstm"] as! [String: Any]
            lstm["use_peepholes"] = true
            o["lstm"] = lstm
        }
        #expect(try importError(options: unknown).hasPrefix("\(unknown): error: unknown option 'lstm.use_peepholes'"))
    }

    @Test func wordInputVocabularyMustFitTheEmbedding() throws {
        let embedding = folder + "/embedding.hdf5"
        try HDF5File(creating: embedding).write("embedding", shape: [5, 16], values: [Float](repeating: 0.5, count: 80))
        let vocabulary = folder + "/vocabulary.txt"
        try "<S>\n</S>\nthe\ncat\n".write(toFile: vocabulary, atomically: true, encoding: .utf8)
        #expect(try importError(vocabulary: vocabulary, embeddingWeights: embedding)
                == "\(embedding): error: dataset 'embedding' has shape (5, 16); the vocabulary (\(vocabulary)) has 4 entries\n")
        // bilm-tf's dump_weights layout: the table inside the weights of a model without char_cnn.
        let inWeights = try fixtureWeights(in: folder, adding: ["embedding": [5, 16]])
        let wordOptions = try options { $0["char_cnn"] = nil }
        #expect(try importError(options: wordOptions, weights: inWeights, vocabulary: vocabulary)
                == "\(inWeights): error: dataset 'embedding' has shape (5, 16); the vocabulary (\(vocabulary)) has 4 entries\n")
        #expect(try importError(embeddingWeights: embedding).hasPrefix("\(embedding): error: a word-input model needs --vocabulary"))
        try "the\ncat\n<UNK>\nsat\na\n".write(toFile: vocabulary, atomically: true, encoding: .utf8)
        #expect(try importError(vocabulary: vocabulary, embeddingWeights: embedding).hasPrefix("\(vocabulary): error: the vocabulary has no <S> or </S>"))
    }

    @Test func bilmVocabularyIsRenamedRowForRow() throws {
        let path = folder + "/vocabulary.txt"
        try "</S>\n<S>\n!!!MAXTERMID\nthe\n<UNK>\n".write(toFile: path, atomically: true, encoding: .utf8)
        let vocabulary = try BilmVocabulary(file: path)
        #expect(vocabulary.tokens == ["<eos>", "<bos>", "the", "<unk>"] && vocabulary.rows == 4 && vocabulary.appended.isEmpty)
        try "the\n<eos>\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: DataError("'<eos>' is the harness's own name for bilm-tf's </S>; a bilm-tf vocabulary cannot also list it",
                                  file: path, line: 2)) { try BilmVocabulary(file: path) }
    }

    @Test func hdf5RoundTrip() throws {
        let path = folder + "/round.hdf5"
        let values: [Float] = [1, -2.5, .pi, 0, 1e-30, 7]
        try HDF5File(creating: path).write("a/b/c", shape: [2, 3], values: values)
        let file = try HDF5File(reading: path)
        #expect(try file.datasetNames() == ["a/b/c"])
        #expect(try file.floats("a/b/c") == ([2, 3], values))
        #expect(throws: DataError("no dataset 'a/x/c'", file: path)) { try file.floats("a/x/c") }
    }
}
