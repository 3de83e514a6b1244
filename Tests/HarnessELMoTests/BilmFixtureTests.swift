import Foundation
import HarnessData
@testable import HarnessELMo
import HarnessKernels
import HarnessModel
import HarnessSpec
import HarnessTraining
import HarnessTestSupport
import Testing

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// bilm-tf's own test fixture (see its README.md): a small trained char-CNN biLM, and
/// the top-layer vectors bilm-tf computed from it, statefully, for lists of sentences.
let fixture = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/fixtures/bilm-tf").path
let fixtureMissing = "the bilm-tf fixture is not at \(fixture) (../shared/fixtures/bilm-tf beside the repository)"
let fixtureExists = FileManager.default.fileExists(atPath: fixture + "/lm_weights.hdf5")

func temporaryFolder() -> String { TestFolder.make("elmo") }

/// Runs the built `harness` next to this test bundle; standard error through a file.
func harness(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent().appendingPathComponent("harness")
    process.arguments = arguments
    let output = Pipe(), errorPath = temporaryFolder() + "/stderr"
    _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
    process.standardOutput = output
    process.standardError = FileHandle(forWritingAtPath: errorPath)
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, text, (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
}

/// The fixture's three lists of ten sentences, tokenized as bilm-tf's test does (split on whitespace).
func fixtureSentences() throws -> [[[String]]] {
    let lists = try JSONDecoder().decode([[String]].self, from: Data(contentsOf: URL(fileURLWithPath: fixture + "/lm_embeddings_sentences.json")))
    return lists.map { $0.map { $0.split(whereSeparator: \.isWhitespace).map(String.init) } }
}

/// bilm-tf's vector of each token of sentence `i` of list `k`: [forward top; backward top].
func referenceVectors(list k: Int, sentence i: Int) throws -> [[Float]] {
    let (shape, values) = try HDF5File(reading: fixture + "/lm_embeddings_\(k).hdf5").floats("\(i)")
    let n = shape[1], d = shape[2]
    return (0..<n).map { t in Array(values[(t * d)..<((t + 1) * d)]) + Array(values[((n + t) * d)..<((n + t + 1) * d)]) }
}

/// The top-layer vectors `harness embed` writes for `sentences` (jsonl, --layers top).
func embedTop(_ run: String, _ sentences: [[String]], stateful: Bool) throws -> [[[Float]]] {
    let input = temporaryFolder() + "/sentences.txt"
    try sentences.map { $0.joined(separator: " ") + "\n" }.joined().write(toFile: input, atomically: true, encoding: .utf8)
    let result = try harness(["embed", run, "--input", input, "--layers", "top"] + (stateful ? ["--stateful"] : []))
    try #require(result.status == 0, "harness embed failed: \(result.error)")
    return try result.output.split(separator: "\n").map { line in
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let vectors = try #require(object["vectors"] as? [[Double]])
        return vectors.map { $0.map(Float.init) }
    }
}

/// max |a − b| over every token of every sentence (infinity when the shapes differ).
func maxDifference(_ a: [[[Float]]], _ b: [[[Float]]]) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        guard x.count == y.count else { return .infinity }
        for (u, v) in zip(x, y) {
            guard u.count == v.count else { return .infinity }
            for (p, q) in zip(u, v) { worst = max(worst, abs(p - q)) }
        }
    }
    return worst
}

/// A copy of the fixture's weights in `folder`, less `dropping`, plus `adding` (name →
/// shape, values sin(1), sin(2), …); returns its path.
func fixtureWeights(in folder: String, dropping: String? = nil, adding: [String: [Int]] = [:]) throws -> String {
    let source = try HDF5File(reading: fixture + "/lm_weights.hdf5")
    let path = folder + "/weights-\(UUID().uuidString).hdf5"
    let copy = try HDF5File(creating: path)
    for name in try source.datasetNames() where name != dropping {
        let (shape, values) = try source.floats(name)
        try copy.write(name, shape: shape, values: values)
    }
    for (name, shape) in adding { try copy.write(name, shape: shape, values: (1...shape.reduce(1, *)).map { Float(sin(Double($0))) }) }
    return path
}

/// Imports the fixture's char-CNN model into a new folder; returns the run directory.
func importFixture(_ arguments: [String] = []) throws -> String {
    let run = temporaryFolder() + "/bilm-fixture"
    let result = try harness(["import-elmo", "--options", fixture + "/options.json", "--weights", fixture + "/lm_weights.hdf5",
                              "--vocabulary", fixture + "/vocab_test.txt", "-o", run] + arguments)
    try #require(result.status == 0, "harness import-elmo failed: \(result.error)")
    return run
}

@Suite(.enabled(if: fixtureExists, Comment(rawValue: fixtureMissing)))
struct BilmFixtureTests {
    /// bilm-tf's `test_bilm`: list k is batch row k, its state carried from sentence to
    /// sentence in each direction; `--stateful` is that mode.
    @Test func charModelReproducesBilmTFStatefulVectors() throws {
        let run = try importFixture()
        let lists = try fixtureSentences()
        for k in 0..<2 {
            let reference = try (0..<10).map { try referenceVectors(list: k, sentence: $0) }
            let embedded = try embedTop(run, lists[k], stateful: true)
            #expect(embedded.map(\.count) == lists[k].map(\.count))
            let difference = maxDifference(embedded, reference)
            #expect(difference < 1e-5, "list \(k): max |harness − bilm-tf| = \(difference)")
        }
    }

    /// Each sentence from a zero state (the default) agrees with bilm-tf on each list's
    /// first sentence only: the state bilm-tf carries changes the others.
    @Test func defaultModeMatchesOnlyTheFirstSentenceOfAList() throws {
        let run = try importFixture()
        let list = try fixtureSentences()[0]
        let embedded = try embedTop(run, list, stateful: false)
        let reference = try (0..<10).map { try referenceVectors(list: 0, sentence: $0) }
        #expect(maxDifference([embedded[0]], [reference[0]]) < 1e-5)
        #expect(maxDifference(Array(embedded[1...]), Array(reference[1...])) > 1e-3)
        // Deterministic: the same vectors again, alone or together.
        #expect(try embedTop(run, [list[3]], stateful: false) == [embedded[3]])
    }

    /// bilm-tf's `test_bilm_token`: the char-CNN's token vectors dumped for every word
    /// (`dump_token_embeddings`) make a word-input model with the same vectors.
    @Test func wordInputModelWithDumpedTokenEmbeddingsReproducesBilmTF() throws {
        let charRun = try importFixture()
        let lists = try fixtureSentences()
        let words = Array(Set(lists.joined().joined())).sorted()
        // The char-CNN's vector of every word and of the two sentence boundaries.
        let spec = try SpecLoader.load(file: charRun + "/spec.resolved.yaml")
        let experiment = try Experiment(spec, vocabularyFile: charRun + "/vocabulary.txt", loadTraining: false)
        try Checkpoint.load(charRun + "/best.ckpt", into: experiment.model.store)
        let vocabulary = experiment.vocabulary, encoder = experiment.model.encoder
        #expect(encoder.setWordsOutsideVocabulary(words))
        let ids = [vocabulary.bosID!, vocabulary.eosID] + words.indices.map { Int32(vocabulary.count + $0) }
        let context = StepContext(training: false)   // its arena holds the table
        let table = encoder.forward(ids: ids, count: ids.count, context: context)
        let rows = withExtendedLifetime(context) { Array(UnsafeBufferPointer(start: table.base, count: table.count)) }
        let folder = temporaryFolder()
        try HDF5File(creating: folder + "/embedding.hdf5").write("embedding", shape: [table.rows, table.columns], values: rows)
        try (["<S>", "</S>"] + words).map { $0 + "\n" }.joined().write(toFile: folder + "/vocabulary.txt", atomically: true, encoding: .utf8)
        let wordRun = folder + "/word"
        let imported = try harness(["import-elmo", "--options", fixture + "/options.json", "--weights", fixture + "/lm_weights.hdf5",
                                    "--embedding-weights", folder + "/embedding.hdf5", "--vocabulary", folder + "/vocabulary.txt", "-o", wordRun])
        try #require(imported.status == 0, "harness import-elmo failed: \(imported.error)")
        #expect(imported.output.contains("imported a word biLM"))
        #expect(imported.error.contains("char-CNN datasets"))
        for k in 0..<2 {
            let reference = try (0..<10).map { try referenceVectors(list: k, sentence: $0) }
            let difference = maxDifference(try embedTop(wordRun, lists[k], stateful: true), reference)
            #expect(difference < 1e-5, "list \(k): max |harness − bilm-tf| = \(difference)")
        }
    }

    /// The imported run is a run like any other: its spec, vocabulary and checkpoint.
    @Test func importWritesARunDirectoryWithoutSoftmax() throws {
        let run = try importFixture()
        let spec = try SpecLoader.load(file: run + "/spec.resolved.yaml")
        #expect(spec.model.output.type == "none")
        #expect(spec.model.encoder.type == "char-cnn" && spec.model.recurrent.type == "lstm-projected")
        let lstm = try #require(spec.model.recurrent as? LSTMComponent)
        #expect(lstm == LSTMComponent(layers: 2, hiddenSize: 64, projectionSize: 16, cellClip: 3, projectionClip: 3, residual: false))
        let encoder = try #require(spec.model.encoder as? CharCNNConfiguration)
        #expect(encoder.filters.map(\.count) == [4, 8, 16, 32, 64] && encoder.activation == .relu && encoder.highwayLayers == 2)
        // bilm-tf's vocabulary, <S> and </S> renamed in place, <unk> appended.
        let vocabulary = try Vocabulary(file: run + "/vocabulary.txt", withBeginOfSentence: true)
        #expect(vocabulary.count == 449 && vocabulary.tokens[207] == "<bos>" && vocabulary.tokens[257] == "<eos>" && vocabulary.tokens[448] == "<unk>")
        // A model without an output layer is not trained, and not scored.
        #expect(throws: SpecErrors.self) { try Experiment(spec) }
        let eval = try harness(["eval", run, "--corpus", packageRoot.path + "/Tests/Fixtures/tiny-corpus"])
        #expect(eval.status == 1 && eval.error.contains("no output layer"))
    }

    /// A softmax in the weights (bilm-tf's training graph: softmax/W, softmax/b) is kept
    /// when the vocabulary names its rows, and `harness eval` then scores text with it.
    @Test func softmaxIsKeptWhenAVocabularyNamesItsRows() throws {
        let folder = temporaryFolder()
        // vocab_test.txt has <S> and </S> but no <UNK>: 448 rows, 449 with it.
        let weights = try fixtureWeights(in: folder, adding: ["softmax/W": [449, 16], "softmax/b": [449]])
        let vocabulary = folder + "/vocabulary.txt"
        try (String(contentsOfFile: fixture + "/vocab_test.txt", encoding: .utf8) + "<UNK>\n").write(toFile: vocabulary, atomically: true, encoding: .utf8)
        let run = folder + "/softmax"
        let imported = try harness(["import-elmo", "--options", fixture + "/options.json", "--weights", weights,
                                    "--vocabulary", vocabulary, "-o", run])
        try #require(imported.status == 0, "harness import-elmo failed: \(imported.error)")
        #expect(imported.output.contains("with its softmax"))
        let spec = try SpecLoader.load(file: run + "/spec.resolved.yaml")
        #expect(spec.model.output.type == "softmax")
        let experiment = try Experiment(spec, vocabularyFile: run + "/vocabulary.txt", loadTraining: false)
        try Checkpoint.load(run + "/best.ckpt", into: experiment.model.store)
        let output = try #require(experiment.model.store.parameters.first { $0.name == "output.weight" })
        #expect(output.rows == 449 && output.value.row(448)[15] == Float(sin(Double(449 * 16))))
        let eval = try harness(["eval", run, "--corpus", packageRoot.path + "/Tests/Fixtures/tiny-corpus"])
        #expect(eval.status == 0 && eval.output.contains("valid"), "\(eval.error)")
        // Without a vocabulary the softmax's rows have no tokens: left out, with a note.
        let bare = try harness(["import-elmo", "--options", fixture + "/options.json", "--weights", weights, "-o", folder + "/bare"])
        #expect(bare.status == 0 && bare.error.contains("the weights hold a softmax") && bare.output.contains("no softmax"))
        // bilm-tf's vocabulary without <UNK> leaves the softmax's last row without a token.
        let short = try harness(["import-elmo", "--options", fixture + "/options.json", "--weights", weights,
                                 "--vocabulary", fixture + "/vocab_test.txt", "-o", folder + "/short"])
        #expect(short.status == 65 && short.error.contains("the vocabulary has no <UNK>"))
    }

    /// The forget gate gets TensorFlow's run-time forget_bias; gate blocks move from
    /// i, j, f, o to the harness's i, f, g, o; highways keep bilm-tf's W_carry as the gate.
    @Test func weightsAreMappedToTheHarnessLayout() throws {
        let options = try BilmOptions(file: fixture + "/options.json")
        let weights = try HDF5File(reading: fixture + "/lm_weights.hdf5")
        let values = try ELMoImporter.parameterValues(options, weights: weights, wordTable: nil, vocabulary: .specialsOnly, softmax: false)
        let b = try weights.floats("RNN_1/RNN/MultiRNNCell/Cell1/LSTMCell/B").values, h = 64
        let bias = try #require(values["backward.layer1.bias"])
        #expect(Array(bias[0..<h]) == Array(b[0..<h]))
        #expect(Array(bias[h..<(2 * h)]) == b[(2 * h)..<(3 * h)].map { $0 + 1 })
        #expect(Array(bias[(2 * h)..<(3 * h)]) == Array(b[h..<(2 * h)]))
        let w0 = try weights.floats("RNN_0/RNN/MultiRNNCell/Cell0/LSTMCell/W_0").values   // (16 + 16, 256)
        let input = try #require(values["forward.layer0.input_weight"]), recurrent = try #require(values["forward.layer0.recurrent_weight"])
        // Harness row (forget, unit 5) = TensorFlow column (f block, unit 5); input x = 3, h = 7.
        #expect(input[(h + 5) * 16 + 3] == w0[3 * 256 + 2 * h + 5])
        #expect(recurrent[(h + 5) * 16 + 7] == w0[(16 + 7) * 256 + 2 * h + 5])
        let carry = try weights.floats("CNN_high_0/W_carry").values, f = 124
        let highway = try #require(values["encoder.highway0.weight"])   // (2F, F): gate rows after the transform rows
        #expect(highway[(f + 9) * f + 2] == carry[2 * f + 9])
        let conv = try weights.floats("CNN/W_cnn_2").values   // (1, 3, 4, 16)
        #expect(try #require(values["encoder.conv3.weight"])[11 * 12 + 1 * 4 + 2] == conv[(1 * 4 + 2) * 16 + 11])
    }
}
