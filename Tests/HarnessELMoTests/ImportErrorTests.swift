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

    func importError(options: String = fixture + "/options.json", weights: String = fixture + "/lm_weights.hdf5",
                     vocabulary: String? = nil, embeddingWeights: String? = nil) -> DataError? {
        do {
            _ = try ELMoImporter.run(ELMoImportRequest(options: options, weights: weights, vocabulary: vocabulary,
                                                       embeddingWeights: embeddingWeights, output: folder + "/run-\(UUID().uuidString)"))
            return nil
        } catch {
            return error as? DataError
        }
    }

    @Test func notHDF5() throws {
        let error = importError(weights: fixture + "/options.json")
        #expect(error == DataError("not an HDF5 file", file: fixture + "/options.json"))
        let cli = try harness(["import-elmo", "--options", fixture + "/options.json", "--weights", fixture + "/vocab_test.txt", "-o", folder + "/cli"])
        #expect(cli.status == 65 && cli.error.hasPrefix("\(fixture)/vocab_test.txt: error: not an HDF5 file"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/cli"))
    }

    @Test func missingExtraAndMisshapenDatasets() throws {
        let missing = try fixtureWeights(in: folder, dropping: "CNN_high_1/W_carry")
        #expect(importError(weights: missing)?.message.hasPrefix("no dataset 'CNN_high_1/W_carry'") == true)
        let extra = try fixtureWeights(in: folder, adding: ["CNN_high_2/W_carry": [124, 124]])
        #expect(importError(weights: extra)?.message.hasPrefix("dataset 'CNN_high_2/W_carry' is not part of a bilm-tf model") == true)
        let narrower = try options { o in
            var lstm = o["lstm"] as! [String: Any]
            lstm["dim"] = 32
            o["lstm"] = lstm
        }
        #expect(importError(options: narrower)?.message.hasPrefix("dataset 'RNN_0/RNN/MultiRNNCell/Cell0/LSTMCell/W_0' has shape (32, 256); "
                                                                  + "the options (\(narrower)) give (32, 128)") == true)
    }

    @Test func badOptions() throws {
        let training = try options { o in
            var cnn = o["char_cnn"] as! [String: Any]
            cnn["n_characters"] = 261
            o["char_cnn"] = cnn
        }
        #expect(importError(options: training)?.message.hasPrefix("option 'char_cnn.n_characters' is 261; bilm-tf predicts with 262") == true)
        let noLSTM = try options { $0["lstm"] = nil }
        #expect(importError(options: noLSTM)?.message.hasPrefix("no 'lstm' option") == true)
        let noCNN = try options { $0["char_cnn"] = nil }
        #expect(importError(options: noCNN)?.message.hasPrefix("no 'char_cnn' option") == true)
        let sigmoid = try options { o in
            var cnn = o["char_cnn"] as! [String: Any]
            cnn["activation"] = "sigmoid"
            o["char_cnn"] = cnn
        }
        #expect(importError(options: sigmoid)?.message == "option 'char_cnn.activation' is 'sigmoid'; bilm-tf knows tanh and relu")
        let unknown = try options { o in
            var lstm = o["lstm"] as! [String: Any]
            lstm["use_peepholes"] = true
            o["lstm"] = lstm
        }
        #expect(importError(options: unknown)?.message.hasPrefix("unknown option 'lstm.use_peepholes'") == true)
    }

    @Test func wordInputVocabularyMustFitTheEmbedding() throws {
        let embedding = folder + "/embedding.hdf5"
        try HDF5File(creating: embedding).write("embedding", shape: [5, 16], values: [Float](repeating: 0.5, count: 80))
        let vocabulary = folder + "/vocabulary.txt"
        try "<S>\n</S>\nthe\ncat\n".write(toFile: vocabulary, atomically: true, encoding: .utf8)
        #expect(importError(vocabulary: vocabulary, embeddingWeights: embedding)?.message
                == "dataset 'embedding' has shape (5, 16); the vocabulary (\(vocabulary)) has 4 entries")
        #expect(importError(embeddingWeights: embedding)?.message.hasPrefix("a word-input model needs --vocabulary") == true)
        try "the\ncat\n<UNK>\nsat\na\n".write(toFile: vocabulary, atomically: true, encoding: .utf8)
        #expect(importError(vocabulary: vocabulary, embeddingWeights: embedding)?.message.hasPrefix("the vocabulary has no <S> or </S>") == true)
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
