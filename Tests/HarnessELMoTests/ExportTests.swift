import Foundation
import HarnessData
@testable import HarnessELMo
import HarnessModel
import HarnessSpec
import HarnessTraining
import Testing

let tinyCorpus = packageRoot.path + "/Tests/Fixtures/tiny-corpus"

/// A run folder (spec.resolved.yaml, vocabulary.txt, best.ckpt) of a bidirectional model
/// over the tiny corpus, its weights made up (0.4·sin of the index): every value, forget
/// biases included, is off the round numbers an initialisation gives.
func madeUpRun(encoder: String, recurrent: String, output: String, direction: String = "bidirectional") throws -> String {
    let run = temporaryFolder() + "/run"
    try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
    let text = """
        name: export-test
        data:
          train: \(tinyCorpus)/train.txt
          batching: {type: sentences}
        model:
          direction: \(direction)
          token_encoder: \(encoder)
          recurrent: \(recurrent)
          output: \(output)

        """
    let spec = try SpecLoader.parse(text, file: run + "/spec.resolved.yaml")
    try spec.resolved.yaml().write(toFile: run + "/spec.resolved.yaml", atomically: true, encoding: .utf8)
    let vocabulary = Vocabulary(training: try TextFile.read(tinyCorpus + "/train.txt"), withBeginOfSentence: true)
    try vocabulary.tokens.map { $0 + "\n" }.joined().write(toFile: run + "/vocabulary.txt", atomically: true, encoding: .utf8)
    let experiment = try Experiment(spec, vocabularyFile: run + "/vocabulary.txt", loadTraining: false)
    let store = experiment.model.store
    for i in 0..<store.count { store.values[i] = Float(0.4 * sin(Double(i) * 0.7 + 1)) }
    try Checkpoint.save(store, specHash: spec.hash, epoch: 0, to: run + "/best.ckpt")
    return run
}

/// `harness export-elmo run -o folder`; requires success.
func export(_ run: String, _ arguments: [String] = []) throws -> String {
    let folder = temporaryFolder() + "/exported"
    let result = try harness(["export-elmo", run, "-o", folder] + arguments)
    try #require(result.status == 0, "harness export-elmo failed: \(result.error)")
    return folder
}

/// `harness import-elmo` of an exported folder; requires success.
func reimport(_ exported: String, _ arguments: [String] = []) throws -> String {
    let run = temporaryFolder() + "/reimported"
    let result = try harness(["import-elmo", "--options", exported + "/options.json", "--weights", exported + "/weights.hdf5",
                              "-o", run] + arguments)
    try #require(result.status == 0, "harness import-elmo failed: \(result.error)")
    return run
}

/// The validation and test perplexities `harness eval --corpus` prints for `run`.
func evalTable(_ run: String) throws -> String {
    let result = try harness(["eval", run, "--corpus", tinyCorpus])
    try #require(result.status == 0, "harness eval failed: \(result.error)")
    return result.output
}

/// Sentences of the tiny corpus's validation split, and a word it lacks.
func someSentences() throws -> [[String]] {
    Array(try TextFile.read(tinyCorpus + "/valid.txt").prefix(6)) + [["a", "zebra", "sat"]]
}

/// Imports `exported` with its vocabulary and expects `run`'s vectors (within 1e-6) and
/// `eval` perplexities from it.
func expectSameModel(_ run: String, reimporting exported: String) throws {
    let again = try reimport(exported, ["--vocabulary", exported + "/vocabulary.txt"])
    let sentences = try someSentences()
    let difference = maxDifference(try embedTop(again, sentences, stateful: false), try embedTop(run, sentences, stateful: false))
    #expect(difference < 1e-6, "max |round trip − original| = \(difference)")
    #expect(try evalTable(again) == evalTable(run))
}

struct ExportTests {
    /// The fixture imported and exported again has the fixture's datasets, shapes and
    /// values: exactly, but for the forget-gate bias, which goes through + 1 and − 1 in
    /// Float32 (TensorFlow's forget_bias) and may move by half an ulp of b + 1.
    @Test(.enabled(if: fixtureExists, Comment(rawValue: fixtureMissing)))
    func exportedFixtureHasTheFixturesLayoutAndValues() throws {
        let exported = try export(try importFixture())
        let original = try HDF5File(reading: fixture + "/lm_weights.hdf5"), written = try HDF5File(reading: exported + "/weights.hdf5")
        #expect(try written.datasetNames().sorted() == original.datasetNames().sorted())
        #expect(try BilmOptions(file: exported + "/options.json") == BilmOptions(file: fixture + "/options.json"))
        var movedBiases = 0, wrongBiases: [String] = []
        for name in try original.datasetNames() {
            let (shape, values) = try original.floats(name), (writtenShape, writtenValues) = try written.floats(name)
            #expect(writtenShape == shape, "\(name)")
            guard name.hasSuffix("/B") else {
                #expect(writtenValues == values, "\(name)")
                continue
            }
            let h = shape[0] / 4
            for (k, (x, y)) in zip(values, writtenValues).enumerated() {
                let tolerance = (2 * h..<3 * h).contains(k) ? (x + 1).ulp / 2 : 0   // TensorFlow's f block
                if abs(y - x) > tolerance { wrongBiases.append("\(name)[\(k)]: \(x) written as \(y)") }
                if x != y { movedBiases += 1 }
            }
        }
        #expect(wrongBiases.isEmpty, "\(wrongBiases.count) biases, e.g. \(wrongBiases.prefix(3))")
        // vocab_test.txt's rows, the <UNK> the import appended after them, under bilm-tf's names.
        let vocabulary = try String(contentsOfFile: exported + "/vocabulary.txt", encoding: .utf8)
        #expect(vocabulary == (try String(contentsOfFile: fixture + "/vocab_test.txt", encoding: .utf8)) + "<UNK>\n")
        print("fixture export: \(movedBiases) forget-gate biases moved by the ±1 of forget_bias")
    }

    /// Export → import gives the fixture's run back: the same vectors, statefully as bilm-tf.
    @Test(.enabled(if: fixtureExists, Comment(rawValue: fixtureMissing)))
    func fixtureRoundTripGivesTheSameVectors() throws {
        let run = try importFixture()
        let again = try reimport(try export(run), ["--vocabulary", fixture + "/vocab_test.txt"])
        let sentences = try fixtureSentences()[0]
        let difference = maxDifference(try embedTop(again, sentences, stateful: true), try embedTop(run, sentences, stateful: true))
        #expect(difference < 1e-6, "max |round trip − import| = \(difference)")
    }

    /// A harness word biLM (LSTMP, clips, skip connections, softmax tied to the word
    /// table): its table goes into weights.hdf5 as `embedding` (bilm-tf's dump_weights), the
    /// softmax with it, and the imported model embeds and scores text as the original did.
    @Test func wordModelRoundTripKeepsVectorsAndPerplexity() throws {
        let run = try madeUpRun(encoder: "{type: word, dim: 8}",
                                recurrent: "{type: lstm-projected, layers: 2, hidden: 12, projection: 8, cell_clip: 3, proj_clip: 3, residual: true}",
                                output: "{type: softmax, tie_weights: true}")
        let exported = try export(run)
        let file = try HDF5File(reading: exported + "/weights.hdf5")
        let vocabulary = try Vocabulary(file: run + "/vocabulary.txt", withBeginOfSentence: true)
        #expect(try file.shape(of: "embedding") == [vocabulary.count, 8])
        #expect(try file.floats("softmax/W").values == file.floats("embedding").values)
        #expect(try file.shape(of: "RNN_1/RNN/MultiRNNCell/Cell1/LSTMCell/W_0") == [16, 48])
        let options = try BilmOptions(file: exported + "/options.json")
        #expect(options.charCNN == nil && options.lstm.useSkipConnections && options.lstm.cellClip == 3 && options.lstm.projects)
        let bilmVocabulary = try String(contentsOfFile: exported + "/vocabulary.txt", encoding: .utf8).split(separator: "\n")
        #expect(bilmVocabulary.count == vocabulary.count && bilmVocabulary.contains("<S>") && bilmVocabulary.contains("</S>")
                && bilmVocabulary.contains("<UNK>") && !bilmVocabulary.contains("<unk>"))

        try expectSameModel(run, reimporting: exported)
    }

    /// A char-CNN biLM with a plain LSTM (bilm-tf's projection_dim ≥ dim) and an untied
    /// full softmax; the LSTM has nn.LSTM's two biases, exported as their sum.
    @Test func charModelWithPlainLSTMRoundTrips() throws {
        let run = try madeUpRun(encoder: "{type: char-cnn, char_embedding_dim: 4, filters: [[1, 4], [2, 6], [3, 8]], activation: relu, highway_layers: 1, output_dim: 10, max_characters: 12}",
                                recurrent: "{type: lstm, layers: 2, hidden: 10, cell_clip: 2, bias_init: uniform, recurrent_bias: true}",
                                output: "{type: softmax}")
        let exported = try export(run)
        let options = try BilmOptions(file: exported + "/options.json")
        #expect(!options.lstm.projects && options.lstm.cellClip == 2 && options.lstm.projectionClip == nil)
        #expect(options.charCNN?.filters.map(\.count) == [4, 6, 8] && options.charCNN?.maxCharacters == 12)
        let names = try HDF5File(reading: exported + "/weights.hdf5").datasetNames()
        #expect(names.contains("CNN_proj/W_proj") && names.contains("softmax/b") && !names.contains { $0.hasSuffix("W_P_0") })
        try expectSameModel(run, reimporting: exported)
    }

    /// What bilm-tf's format cannot hold exits 65 naming the spec key, and writes nothing.
    @Test(arguments: [
        ("{type: word, dim: 8}", "{type: lstm, layers: 1, hidden: 8}", "{type: softmax}", "forward", "'model.direction' is forward"),
        ("{type: word, dim: 8}", "{type: gru, layers: 1, hidden: 8}", "{type: softmax}", "bidirectional", "'model.recurrent.type' is gru"),
        ("{type: word, dim: 8}", "{type: lstm-projected, layers: 1, hidden: 12, projection: 6}", "{type: softmax}", "bidirectional",
         "'model.recurrent.projection' is 6"),
        ("{type: word, dim: 8}", "{type: lstm, layers: 1, hidden: 12}", "{type: softmax}", "bidirectional", "use lstm-projected"),
        ("{type: word, dim: 8}", "{type: lstm, layers: 1, hidden: 8}", "{type: adaptive-softmax, cutoffs: [10]}", "bidirectional",
         "'model.output.type' is adaptive-softmax"),
        ("{type: char-cnn, char_embedding_dim: 4, filters: [[1, 4], [2, 4]], highway_layers: 0, output_dim: 8, max_characters: 10}",
         "{type: lstm, layers: 1, hidden: 8}", "{type: softmax}", "bidirectional", "projection is not the identity"),
    ])
    func whatBilmTFCannotHoldIsAnError(encoder: String, recurrent: String, output: String, direction: String, message: String) throws {
        let run = try madeUpRun(encoder: encoder, recurrent: recurrent, output: output, direction: direction)
        let folder = temporaryFolder() + "/exported"
        let result = try harness(["export-elmo", run, "-o", folder])
        #expect(result.status == 65 && result.error.contains(run + "/spec.resolved.yaml: error:") && result.error.contains(message),
                "\(result.status): \(result.error)")
        #expect(!FileManager.default.fileExists(atPath: folder))
    }

    /// An adaptive softmax has no bilm-tf slot; --without-softmax exports the rest.
    @Test func adaptiveSoftmaxExportsWithoutSoftmax() throws {
        let run = try madeUpRun(encoder: "{type: word, dim: 8}", recurrent: "{type: lstm, layers: 1, hidden: 8}",
                                output: "{type: adaptive-softmax, cutoffs: [10]}")
        let exported = try export(run, ["--without-softmax"])
        let names = try HDF5File(reading: exported + "/weights.hdf5").datasetNames()
        #expect(names.contains("embedding") && !names.contains { $0.hasPrefix("softmax/") })
        let again = try reimport(exported, ["--vocabulary", exported + "/vocabulary.txt"])
        let sentences = try someSentences()
        #expect(maxDifference(try embedTop(again, sentences, stateful: true), try embedTop(run, sentences, stateful: true)) < 1e-6)
    }

    /// The output folder must be new or empty; a vocabulary with bilm-tf's own special
    /// names as words cannot be written.
    @Test func existingFilesAndAmbiguousTokensAreErrors() throws {
        let run = try madeUpRun(encoder: "{type: word, dim: 8}", recurrent: "{type: lstm, layers: 1, hidden: 8}", output: "{type: softmax}")
        let occupied = temporaryFolder()
        try "keep me\n".write(toFile: occupied + "/notes.txt", atomically: true, encoding: .utf8)
        let refused = try harness(["export-elmo", run, "-o", occupied])
        #expect(refused.status != 0 && refused.error.contains("not empty"), "\(refused.error)")
        #expect(try String(contentsOfFile: occupied + "/notes.txt", encoding: .utf8) == "keep me\n")

        let tokens = try String(contentsOfFile: run + "/vocabulary.txt", encoding: .utf8).split(separator: "\n")
        try (tokens.prefix(3) + ["<S>"] + tokens.dropFirst(3)).map { $0 + "\n" }.joined()
            .write(toFile: run + "/vocabulary.txt", atomically: true, encoding: .utf8)
        // A vocabulary one entry larger no longer fits the checkpoint: made up again with it.
        let experiment = try Experiment(try SpecLoader.load(file: run + "/spec.resolved.yaml"), vocabularyFile: run + "/vocabulary.txt",
                                        loadTraining: false)
        try Checkpoint.save(experiment.model.store, specHash: experiment.spec.hash, epoch: 0, to: run + "/best.ckpt")
        let ambiguous = try harness(["export-elmo", run, "-o", temporaryFolder() + "/exported"])
        #expect(ambiguous.status == 65 && ambiguous.error.contains(run + "/vocabulary.txt:4: error: the token '<S>'"), "\(ambiguous.error)")
    }
}
