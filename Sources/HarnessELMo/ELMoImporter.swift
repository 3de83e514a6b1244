import Foundation
import HarnessData
import HarnessModel
import HarnessSpec
import HarnessTraining

/// The files `harness import-elmo` reads and the folder it writes.
public struct ELMoImportRequest: Sendable {
    /// bilm-tf's options.json.
    public var options: String
    /// The HDF5 weights (`dump_weights`' layout; the published ELMo files).
    public var weights: String
    /// bilm-tf's vocabulary file: required for a word-input model and to keep a softmax.
    public var vocabulary: String?
    /// A word-input model's token embeddings: an HDF5 file with one dataset, `embedding`
    /// (V, P). Without it, a model without `char_cnn` reads `embedding` from `weights`.
    public var embeddingWeights: String?
    /// The run directory to create (absent or empty).
    public var output: String

    public init(options: String, weights: String, vocabulary: String? = nil, embeddingWeights: String? = nil, output: String) {
        self.options = options
        self.weights = weights
        self.vocabulary = vocabulary
        self.embeddingWeights = embeddingWeights
        self.output = output
    }
}

/// What an import wrote.
public struct ELMoImportSummary: Sendable {
    public var directory: String
    /// The harness token encoder: `char-cnn` or `word`.
    public var encoder: String
    public var parameters: Int
    public var vocabularySize: Int
    /// Whether the run has bilm-tf's softmax, so that `harness eval` can score text.
    public var hasSoftmax: Bool
    /// What the user should know (ignored datasets, appended vocabulary entries).
    public var notes: [String]
}

/// Converts a bilm-tf / AllenNLP ELMo model (options.json + HDF5 weights) into a harness
/// run directory (`spec.resolved.yaml`, `vocabulary.txt`, `best.ckpt`, `import.json`)
/// that `harness embed`, `similar` and, with a softmax, `eval` read like a trained run.
///
/// The mapping, checked against bilm-tf's bilm/model.py and AllenNLP's elmo.py /
/// elmo_lstm.py:
/// - `char_embed` (261, C) is the harness's `encoder.char_embedding` row for row. bilm-tf
///   shifts character ids by +1 at prediction time and puts a zero padding row 0 in
///   front of the stored rows (n_characters 262); the two cancel, so the harness's
///   unshifted ids (`CharacterIDs`, the ids bilm-tf trains with) read the same rows.
/// - Convolutions: `W_cnn_i` (1, w, C, n) → (n, w·C); bilm-tf adds the bias, max-pools,
///   then applies the activation, which equals the harness's max-pool, bias, activation
///   because the bias is the same at every position.
/// - Highways: bilm-tf's `W_carry` computes the gate g that multiplies the relu transform
///   (y = g ⊙ relu(x·W_transform + b) + (1 − g) ⊙ x), which is the harness `Highway`'s
///   gate: W_transformᵀ fills rows 0..<F, W_carryᵀ rows F..<2F. (AllenNLP negates W_carry
///   because its gate multiplies x instead.)
/// - `CNN_proj` → `encoder.projection` (transposed); bilm-tf has none when F = P, and the
///   harness projection is then the identity.
/// - LSTMs (TensorFlow `LSTMCell`, gate order i, j, f, o, `forget_bias` 1 added at run
///   time): `W_0`'s input rows → `input_weight`, its h rows → `recurrent_weight`, gate
///   blocks reordered to the harness's i, f, g(=j), o; `B` likewise, with 1 added to the
///   forget block; `W_P_0` → `projection_weight` (transposed). `RNN_0` is the forward
///   stack, `RNN_1` the backward. `use_skip_connections` → `residual`.
/// - Word input: `embedding` (V, P) → `encoder.embedding`, row k for vocabulary line k;
///   read from `--embedding-weights` or, without it, from the weights themselves (where
///   bilm-tf's `dump_weights` writes a word model's table).
/// - `softmax/W`, `softmax/b` (V, O), (V) → `output.weight`, `output.bias`; without them the
///   run's output is `none` (embeddings only).
///
/// Every failure is a `DataError` naming the file and the dataset or option.
public enum ELMoImporter {
    /// The harness's gate blocks i, f, g, o as TensorFlow's block indices (i, j, f, o).
    static let tensorFlowGateBlock = [0, 2, 1, 3]

    public static func run(_ request: ELMoImportRequest) throws -> ELMoImportSummary {
        let options = try BilmOptions(file: request.options)
        let weights = try HDF5File(reading: request.weights)
        let names = try weights.datasetNames()
        // A word-input model's table: its own file, or the weights' `embedding` dataset,
        // where bilm-tf's dump_weights puts it (and `harness export-elmo`).
        let tableInWeights = request.embeddingWeights == nil && options.charCNN == nil && names.contains(BilmWeightLayout.wordEmbedding)
        let embeddings = try request.embeddingWeights.map { try HDF5File(reading: $0) } ?? (tableInWeights ? weights : nil)
        let wordInput = embeddings != nil
        if !wordInput && options.charCNN == nil {
            throw DataError("no 'char_cnn' option: a char-CNN model needs one; a word-input model needs its 'embedding' dataset, "
                            + "in the weights (as bilm-tf's dump_weights writes it) or in the file given by --embedding-weights",
                            file: request.options)
        }
        let bilmVocabulary = try request.vocabulary.map { try BilmVocabulary(file: $0) }
        var notes: [String] = []

        // Which datasets the weights must hold, and which they may hold unused.
        let softmaxNames = [BilmWeightLayout.softmaxWeight, BilmWeightLayout.softmaxBias]
        let holdsSoftmax = names.contains { softmaxNames.contains($0) }
        var expected = (wordInput ? [] : BilmWeightLayout.characterEncoder(options)) + BilmWeightLayout.recurrent(options)
        var unused: Set<String> = []
        if wordInput {
            unused.formUnion(names.filter(BilmWeightLayout.isCharacterEncoder))
            if !unused.isEmpty { notes.append("the char-CNN datasets (\(unused.count)) are not used by a word-input model, as in bilm-tf") }
            if tableInWeights {
                unused.insert(BilmWeightLayout.wordEmbedding)   // checked with the vocabulary below
            } else if names.contains(BilmWeightLayout.wordEmbedding) {
                unused.insert(BilmWeightLayout.wordEmbedding)
                notes.append("the weights' own 'embedding' dataset is not used: --embedding-weights gives the table")
            }
        }
        if holdsSoftmax {
            if let bilmVocabulary {
                expected += [.init(name: BilmWeightLayout.softmaxWeight, shape: [bilmVocabulary.rows, options.lstm.outputSize]),
                             .init(name: BilmWeightLayout.softmaxBias, shape: [bilmVocabulary.rows])]
            } else {
                unused.formUnion(softmaxNames)
                notes.append("the weights hold a softmax, but without --vocabulary its rows have no tokens: imported without it "
                             + "(embed and similar work, eval does not)")
            }
        }
        let softmax = holdsSoftmax && bilmVocabulary != nil
        let vocabulary = try runVocabulary(bilmVocabulary, wordInput: wordInput, softmax: softmax, request: request, notes: &notes)
        try check(weights, names: names, expected: expected, unused: unused, options: request.options, vocabulary: request.vocabulary)

        // The embedding file of a word-input model.
        var wordTable: [Float]?
        if let embeddings {
            let table = BilmWeightLayout.Dataset(name: BilmWeightLayout.wordEmbedding, shape: [vocabulary.rows, options.lstm.projectionSize])
            if tableInWeights {
                try check(weights, names: names, expected: [table], unused: Set(names), options: request.options, vocabulary: request.vocabulary)
            } else {
                try check(embeddings, names: try embeddings.datasetNames(), expected: [table], unused: [], options: request.options,
                          vocabulary: request.vocabulary)
            }
            wordTable = try embeddings.floats(BilmWeightLayout.wordEmbedding).values
        }

        let directory = RunDirectory(existing: request.output)
        let created = try OutputFolder.prepare(request.output, verb: "import")
        do {
            try AtomicFile.write(vocabulary.tokens.joined(separator: "\n") + "\n", to: directory.vocabulary)
            let spec = try SpecLoader.parse(specText(options, wordInput: wordInput, softmax: softmax, name: runName(request.output)),
                                            file: directory.spec)
            try AtomicFile.write("# Imported by harness import-elmo from \(absolute(request.weights)); see import.json.\n"
                                 + "# No training data: the model was trained by bilm-tf (data.train is /dev/null).\n"
                                 + spec.resolved.yaml(), to: directory.spec)
            let experiment = try Experiment(spec, vocabularyFile: directory.vocabulary, loadTraining: false)
            var values = try parameterValues(options, weights: weights, wordTable: wordTable, vocabulary: vocabulary, softmax: softmax)
            try fill(experiment.model.store, from: &values)
            try Checkpoint.save(experiment.model.store, specHash: spec.hash, epoch: 0, to: directory.bestCheckpoint)
            try writeProvenance(request, to: request.output + "/import.json")
            return ELMoImportSummary(directory: request.output, encoder: wordInput ? "word" : "char-cnn",
                                     parameters: experiment.model.store.count, vocabularySize: vocabulary.tokens.count,
                                     hasSoftmax: softmax, notes: notes)
        } catch {
            if created { try? FileManager.default.removeItem(atPath: request.output) }
            throw error
        }
    }

    // MARK: Checks

    /// Every expected dataset present with its shape, nothing else but `unused`.
    private static func check(_ file: HDF5File, names: [String], expected: [BilmWeightLayout.Dataset], unused: Set<String>,
                              options: String, vocabulary: String? = nil) throws {
        let present = Set(names)
        if let missing = expected.first(where: { !present.contains($0.name) }) {
            throw DataError("no dataset '\(missing.name)', which the options (\(options)) call for"
                            + (expected.count > 1 ? " (\(expected.filter { !present.contains($0.name) }.count) of \(expected.count) missing)" : ""),
                            file: file.path)
        }
        let known = Set(expected.map(\.name)).union(unused)
        let extra = names.filter { !known.contains($0) }
        if !extra.isEmpty {
            throw DataError("dataset\(extra.count == 1 ? "" : "s") \(extra.prefix(5).map { "'\($0)'" }.joined(separator: ", "))"
                            + (extra.count > 5 ? " and \(extra.count - 5) more" : "")
                            + " \(extra.count == 1 ? "is" : "are") not part of a bilm-tf model with these options (\(options))",
                            file: file.path)
        }
        for dataset in expected {
            let shape = try file.shape(of: dataset.name)
            guard shape == dataset.shape else {
                let rowsDisagree = shape.count == dataset.shape.count && shape.dropFirst() == dataset.shape.dropFirst()
                let cause = rowsDisagree && vocabulary != nil && [BilmWeightLayout.wordEmbedding, BilmWeightLayout.softmaxWeight].contains(dataset.name)
                    ? "the vocabulary (\(vocabulary!)) has \(dataset.shape[0]) entries" : "the options (\(options)) give \(describe(dataset.shape))"
                throw DataError("dataset '\(dataset.name)' has shape \(describe(shape)); \(cause)", file: file.path)
            }
        }
    }

    /// The run's vocabulary: bilm-tf's file renamed, or the three specials alone for a
    /// char-CNN model without one.
    private static func runVocabulary(_ vocabulary: BilmVocabulary?, wordInput: Bool, softmax: Bool, request: ELMoImportRequest,
                                      notes: inout [String]) throws -> BilmVocabulary {
        guard let vocabulary else {
            if wordInput {
                throw DataError("a word-input model needs --vocabulary: the rows of 'embedding' are its tokens",
                                file: request.embeddingWeights ?? request.weights)
            }
            return .specialsOnly
        }
        let needed = wordInput || softmax
        let missingBoundaries = vocabulary.appended.filter { $0 != Vocabulary.unk }
        if needed && !missingBoundaries.isEmpty {
            throw DataError("the vocabulary has no \(missingBoundaries.map(BilmVocabulary.bilmName).joined(separator: " or ")): "
                            + "bilm-tf's \(wordInput ? "word embedding" : "softmax") has a row for each sentence boundary", file: request.vocabulary!)
        }
        if softmax && vocabulary.appended.contains(Vocabulary.unk) {
            throw DataError("the vocabulary has no <UNK>: the softmax needs a row for the words outside the vocabulary", file: request.vocabulary!)
        }
        if wordInput && vocabulary.appended.contains(Vocabulary.unk) {
            notes.append("the vocabulary has no <UNK>: words outside it are embedded as a zero vector (bilm-tf's padding row)")
        }
        return vocabulary
    }

    // MARK: The spec

    /// The harness spec of the model the options describe.
    static func specText(_ options: BilmOptions, wordInput: Bool, softmax: Bool, name: String) -> String {
        let lstm = options.lstm
        let encoder: String
        if wordInput {
            encoder = "{type: word, dim: \(lstm.projectionSize)}"
        } else {
            let cnn = options.charCNN!
            encoder = "{type: char-cnn, char_embedding_dim: \(cnn.characterEmbeddingSize), "
                + "filters: [\(cnn.filters.map { "[\($0.width), \($0.count)]" }.joined(separator: ", "))], "
                + "activation: \(cnn.activation.rawValue), highway_layers: \(cnn.highwayLayers), output_dim: \(lstm.projectionSize), "
                + "max_characters: \(cnn.maxCharacters)}"
        }
        var recurrent = lstm.projects
            ? "{type: lstm-projected, layers: \(lstm.layers), hidden: \(lstm.cellSize), projection: \(lstm.projectionSize)"
            : "{type: lstm, layers: \(lstm.layers), hidden: \(lstm.cellSize)"
        if let clip = lstm.cellClip { recurrent += ", cell_clip: \(clip)" }
        // TensorFlow's LSTMCell ignores proj_clip without a projection.
        if lstm.projects, let clip = lstm.projectionClip { recurrent += ", proj_clip: \(clip)" }
        recurrent += ", residual: \(lstm.useSkipConnections)}"
        return """
            name: \(name)
            data:
              train: /dev/null
              batching: {type: sentences}
            model:
              direction: bidirectional
              token_encoder: \(encoder)
              recurrent: \(recurrent)
              output: {type: \(softmax ? "softmax" : "none")}

            """
    }

    /// The output folder's name as a run name (`RunName`'s rule), else "elmo".
    static func runName(_ output: String) -> String {
        let base = URL(fileURLWithPath: output).standardizedFileURL.lastPathComponent
        let cleaned = String(base.unicodeScalars.map {
            $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.+".unicodeScalars.contains($0) ? Character($0) : "-"
        }.drop { !($0.isLetter || $0.isNumber) }.prefix(RunName.maximumBytes))
        return RunName.problem(cleaned) == nil ? cleaned : "elmo"
    }

    // MARK: The weights

    /// Every harness parameter's values (row-major, the parameter's shape), by name.
    static func parameterValues(_ options: BilmOptions, weights: HDF5File, wordTable: [Float]?, vocabulary: BilmVocabulary,
                                softmax: Bool) throws -> [String: [Float]] {
        var values: [String: [Float]] = [:]
        func read(_ name: String) throws -> [Float] { try weights.floats(name).values }
        let p = options.lstm.projectionSize
        if let wordTable {
            // Rows of the appended specials (only <unk> for a word-input model) are zero.
            values["encoder.embedding"] = wordTable + [Float](repeating: 0, count: vocabulary.appended.count * p)
        } else {
            let cnn = options.charCNN!, c = cnn.characterEmbeddingSize, f = cnn.filterTotal
            values["encoder.char_embedding"] = try read(BilmWeightLayout.characterEmbedding)
            for (i, filter) in cnn.filters.enumerated() {
                let w = try read(BilmWeightLayout.convolutionWeight(i))   // (1, width, C, n) → (n, width·C)
                values["encoder.conv\(filter.width).weight"] = transpose(w, rows: filter.width * c, columns: filter.count)
                values["encoder.conv\(filter.width).bias"] = try read(BilmWeightLayout.convolutionBias(i))
            }
            for k in 0..<cnn.highwayLayers {
                values["encoder.highway\(k).weight"] = transpose(try read(BilmWeightLayout.highway(k, "W_transform")), rows: f, columns: f)
                    + transpose(try read(BilmWeightLayout.highway(k, "W_carry")), rows: f, columns: f)
                values["encoder.highway\(k).bias"] = try read(BilmWeightLayout.highway(k, "b_transform"))
                    + read(BilmWeightLayout.highway(k, "b_carry"))
            }
            if f != p {
                values["encoder.projection.weight"] = transpose(try read(BilmWeightLayout.projectionWeight), rows: f, columns: p)
                values["encoder.projection.bias"] = try read(BilmWeightLayout.projectionBias)
            } else {
                values["encoder.projection.weight"] = (0..<(p * p)).map { $0 / p == $0 % p ? 1 : 0 }
                values["encoder.projection.bias"] = [Float](repeating: 0, count: p)
            }
        }
        let lstm = options.lstm, h = lstm.cellSize, o = lstm.outputSize
        for (d, stack) in ["forward", "backward"].enumerated() {
            for layer in 0..<lstm.layers {
                let input = layer == 0 ? p : o
                let kernel = try read(BilmWeightLayout.cell(direction: d, layer: layer, "W_0"))   // (input + o, 4H)
                let bias = try read(BilmWeightLayout.cell(direction: d, layer: layer, "B"))        // (4H)
                var inputWeight = [Float](repeating: 0, count: 4 * h * input)
                var recurrentWeight = [Float](repeating: 0, count: 4 * h * o)
                var harnessBias = [Float](repeating: 0, count: 4 * h)
                for (block, tfBlock) in tensorFlowGateBlock.enumerated() {
                    for u in 0..<h {
                        let row = block * h + u, column = tfBlock * h + u
                        for x in 0..<input { inputWeight[row * input + x] = kernel[x * 4 * h + column] }
                        for x in 0..<o { recurrentWeight[row * o + x] = kernel[(input + x) * 4 * h + column] }
                        // TensorFlow's LSTMCell adds forget_bias = 1 to the forget gate at run time.
                        harnessBias[row] = bias[column] + (block == 1 ? 1 : 0)
                    }
                }
                let name = "\(stack).layer\(layer)"
                values[name + ".input_weight"] = inputWeight
                values[name + ".recurrent_weight"] = recurrentWeight
                values[name + ".bias"] = harnessBias
                if lstm.projects {
                    values[name + ".projection_weight"] = transpose(try read(BilmWeightLayout.cell(direction: d, layer: layer, "W_P_0")),
                                                                    rows: h, columns: p)
                }
            }
        }
        if softmax {
            values["output.weight"] = try read(BilmWeightLayout.softmaxWeight)
            values["output.bias"] = try read(BilmWeightLayout.softmaxBias)
        }
        return values
    }

    /// Copies `values` into the store's parameters; every parameter must get its values
    /// and every value a parameter (a mapping that misses one is a defect, reported).
    private static func fill(_ store: ParameterStore<Float>, from values: inout [String: [Float]]) throws {
        for parameter in store.parameters {
            guard let v = values.removeValue(forKey: parameter.name), v.count == parameter.rows * parameter.columns else {
                throw RunError.cannotWrite(path: "best.ckpt", reason: "internal error: no values of the right size for parameter \(parameter.name)")
            }
            parameter.value.base.update(from: v, count: v.count)
        }
        if let left = values.keys.sorted().first {
            throw RunError.cannotWrite(path: "best.ckpt", reason: "internal error: the model has no parameter \(left)")
        }
    }

    /// (rows, columns) row-major → (columns, rows).
    static func transpose(_ a: [Float], rows: Int, columns: Int) -> [Float] {
        precondition(a.count == rows * columns, "\(a.count) values are not (\(rows), \(columns))")
        var t = [Float](repeating: 0, count: a.count)
        for r in 0..<rows { for c in 0..<columns { t[c * rows + r] = a[r * columns + c] } }
        return t
    }

    private static func describe(_ shape: [Int]) -> String { "(" + shape.map(String.init).joined(separator: ", ") + ")" }

    private static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    /// `import.json`: where the model came from, each file with its SHA-256.
    private static func writeProvenance(_ request: ELMoImportRequest, to path: String) throws {
        var files: [String: [String: String]] = [:]
        for (role, file) in [("options", request.options), ("weights", request.weights), ("vocabulary", request.vocabulary),
                             ("embedding_weights", request.embeddingWeights)] {
            guard let file else { continue }
            files[role] = ["path": absolute(file), "sha256": try SHA256.file(file)]
        }
        let record: [String: Any] = ["format": "bilm-tf options.json + HDF5 weights", "files": files]
        let data = try JSONSerialization.data(withJSONObject: record, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try AtomicFile.write(data, to: path)
    }
}
