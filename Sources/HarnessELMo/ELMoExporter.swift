import Foundation
import HarnessData
import HarnessModel
import HarnessSpec
import HarnessTraining

/// What an export wrote.
public struct ELMoExportSummary: Sendable {
    public var directory: String
    /// The harness token encoder: `char-cnn` or `word`.
    public var encoder: String
    /// Values written to `weights.hdf5`.
    public var values: Int
    public var vocabularySize: Int
    /// Whether `weights.hdf5` holds the softmax (`softmax/W`, `softmax/b`).
    public var hasSoftmax: Bool
    /// What the user should know (the softmax left out, dropout not recorded).
    public var notes: [String]
}

/// Writes a harness biLM as a bilm-tf / AllenNLP ELMo model: `options.json`,
/// `weights.hdf5` and `vocabulary.txt` in the layout of bilm-tf's `dump_weights`
/// (bilm/training.py), which bilm-tf's `BidirectionalLanguageModel` and AllenNLP's `Elmo`
/// read. The inverse of `ELMoImporter` (whose documentation gives the mapping):
///
/// - every kernel is written transposed to TensorFlow's (inputs, outputs); the LSTM gate
///   blocks go back from the harness's i, f, g, o to TensorFlow's i, j, f, o, and 1 is
///   subtracted from the forget gate's bias because TensorFlow's `LSTMCell` adds its
///   `forget_bias` of 1 at run time;
/// - `char_embed` has bilm-tf's 261 training rows (bilm-tf adds the padding row when it
///   predicts with `n_characters` 262, which `options.json` says);
/// - a word-input model's table is the `embedding` dataset of `weights.hdf5`, as
///   `dump_weights` writes it (bilm-tf: `embedding_weight_file` = the same file);
/// - the softmax (`softmax/W` (V, O), `softmax/b` (V)), which `dump_weights` leaves out,
///   is written unless asked not to, so that `harness eval` still works after an import.
///
/// Rounding: a forget-gate bias b is stored as b − 1 and read back as (b − 1) + 1, which
/// equals b in Float32 only for b in [0.5, 2] (Sterbenz); elsewhere the round trip moves it
/// by at most half an ulp of b − 1 (≤ 6e-8 for |b − 1| < 1). Every other value is copied
/// exactly.
///
/// Whatever bilm-tf's format has no slot for is a `DataError` naming the run's spec and
/// the key: a forward-only model, a recurrent component other than `lstm` and
/// `lstm-projected`, a projection whose size is not the token representation's, a
/// char-CNN projection that is not the identity when the filters already give
/// `projection_dim`, an output layer other than a (sampled) softmax unless the softmax is
/// left out.
public enum ELMoExporter {
    /// Exports `experiment` (a run loaded with its best weights) from the run folder `run`
    /// to `output` (absent or empty).
    /// - Parameter softmax: write `softmax/W` and `softmax/b` when the model has them.
    public static func run(_ experiment: Experiment, run: String, output: String, softmax includeSoftmax: Bool = true) throws
        -> ELMoExportSummary {
        let model = experiment.model
        let configuration = model.configuration
        let spec = RunDirectory(existing: run).spec
        var notes: [String] = []

        guard configuration.direction == .bidirectional else {
            throw DataError("key 'model.direction' is \(configuration.direction.rawValue); bilm-tf's format holds a biLM "
                            + "(RNN_0 forward and RNN_1 backward): export a bidirectional run", file: spec)
        }
        guard let lstm = configuration.recurrent as? LSTMComponent else {
            throw DataError("key 'model.recurrent.type' is \(configuration.recurrent.type); bilm-tf's format holds TensorFlow "
                            + "LSTMCells only (lstm, lstm-projected)", file: spec)
        }
        let p = configuration.encoder.outputSize, h = lstm.hiddenSize
        if let projection = lstm.projectionSize {
            guard projection == p, p < h else {
                throw DataError("key 'model.recurrent.projection' is \(projection), the token representation has \(p) and the cell "
                                + "\(h): bilm-tf's projection_dim is both the token size and the projection, which must be smaller "
                                + "than dim", file: spec)
            }
        } else if p < h {
            throw DataError("the token representation (\(p)) is smaller than the LSTM cell (key 'model.recurrent.hidden', \(h)): "
                            + "bilm-tf would read projection_dim \(p) < dim \(h) as a projected LSTM; use lstm-projected", file: spec)
        }

        var datasets: [(name: String, shape: [Int], values: [Float])] = []
        func values(_ name: String) -> [Float] {
            guard let parameter = model.store.parameter(named: name) else { preconditionFailure("the model has no parameter \(name)") }
            return Array(UnsafeBufferPointer(start: parameter.value.base, count: parameter.count))
        }

        // The token encoder.
        let encoderType: String
        var options: [String: Any] = ["bidirectional": true]
        if let cnn = configuration.encoder as? CharCNNConfiguration {
            encoderType = "char-cnn"
            let c = cnn.characterEmbeddingSize, f = cnn.filterTotal
            options["char_cnn"] = ["activation": cnn.activation.rawValue, "embedding": ["dim": c],
                                   "filters": cnn.filters.map { [$0.width, $0.count] }, "n_highway": cnn.highwayLayers,
                                   "n_characters": 262, "max_characters_per_token": cnn.maxCharacterCount] as [String: Any]
            datasets.append((BilmWeightLayout.characterEmbedding, [BilmWeightLayout.characterRows, c], values("encoder.char_embedding")))
            for (i, filter) in cnn.filters.enumerated() {
                datasets.append((BilmWeightLayout.convolutionWeight(i), [1, filter.width, c, filter.count],
                                 ELMoImporter.transpose(values("encoder.conv\(filter.width).weight"), rows: filter.count, columns: filter.width * c)))
                datasets.append((BilmWeightLayout.convolutionBias(i), [filter.count], values("encoder.conv\(filter.width).bias")))
            }
            for k in 0..<cnn.highwayLayers {
                // Rows 0..<F: the transform's, F..<2F: the gate's (bilm-tf's W_carry).
                let weight = values("encoder.highway\(k).weight"), bias = values("encoder.highway\(k).bias")
                datasets.append((BilmWeightLayout.highway(k, "W_carry"), [f, f], ELMoImporter.transpose(Array(weight[(f * f)...]), rows: f, columns: f)))
                datasets.append((BilmWeightLayout.highway(k, "W_transform"), [f, f], ELMoImporter.transpose(Array(weight[..<(f * f)]), rows: f, columns: f)))
                datasets.append((BilmWeightLayout.highway(k, "b_carry"), [f], Array(bias[f...])))
                datasets.append((BilmWeightLayout.highway(k, "b_transform"), [f], Array(bias[..<f])))
            }
            if cnn.projects {   // without one (projection: false, so p = f) bilm-tf has no CNN_proj either
                let projection = values("encoder.projection.weight"), projectionBias = values("encoder.projection.bias")
                if f != p {
                    datasets.append((BilmWeightLayout.projectionWeight, [f, p], ELMoImporter.transpose(projection, rows: p, columns: f)))
                    datasets.append((BilmWeightLayout.projectionBias, [p], projectionBias))
                } else if projection != (0..<(p * p)).map({ $0 / p == $0 % p ? 1 : 0 }) || projectionBias.contains(where: { $0 != 0 }) {
                    throw DataError("the char-CNN's filters total \(f), its output_dim: bilm-tf then has no projection (CNN_proj), but "
                                    + "this run's projection is not the identity; train with projection: false or output_dim ≠ \(f)", file: spec)
                }
            }
        } else if configuration.encoder is WordEncoderComponent {
            encoderType = "word"
            datasets.append((BilmWeightLayout.wordEmbedding, [experiment.vocabulary.count, p], values("encoder.embedding")))
        } else {
            throw DataError("key 'model.token_encoder.type' is \(configuration.encoder.type); bilm-tf's format holds a char-CNN "
                            + "or a word table", file: spec)
        }

        // The LSTMs, both directions.
        let o = lstm.outputSize
        var lstmOptions: [String: Any] = ["dim": h, "projection_dim": p, "n_layers": lstm.layers,
                                          "use_skip_connections": lstm.residual,
                                          "cell_clip": lstm.cellClip ?? NSNull(), "proj_clip": lstm.projectionClip ?? NSNull()]
        if lstm.projectionSize == nil { lstmOptions["proj_clip"] = NSNull() }
        options["lstm"] = lstmOptions
        for (d, stack) in ["forward", "backward"].enumerated() {
            for layer in 0..<lstm.layers {
                let name = "\(stack).layer\(layer)", input = layer == 0 ? p : o
                let inputWeight = values(name + ".input_weight"), recurrentWeight = values(name + ".recurrent_weight")
                // One gate bias, as TensorFlow's LSTMCell has: b_x + b_h with a recurrent bias.
                var bias = values(name + ".bias")
                if lstm.recurrentBias {
                    for (i, b) in values(name + ".recurrent_bias").enumerated() { bias[i] += b }
                }
                var kernel = [Float](repeating: 0, count: (input + o) * 4 * h)
                var tfBias = [Float](repeating: 0, count: 4 * h)
                for (block, tfBlock) in ELMoImporter.tensorFlowGateBlock.enumerated() {
                    for u in 0..<h {
                        let row = block * h + u, column = tfBlock * h + u
                        for x in 0..<input { kernel[x * 4 * h + column] = inputWeight[row * input + x] }
                        for x in 0..<o { kernel[(input + x) * 4 * h + column] = recurrentWeight[row * o + x] }
                        tfBias[column] = bias[row] - (block == 1 ? 1 : 0)
                    }
                }
                datasets.append((BilmWeightLayout.cell(direction: d, layer: layer, "W_0"), [input + o, 4 * h], kernel))
                datasets.append((BilmWeightLayout.cell(direction: d, layer: layer, "B"), [4 * h], tfBias))
                if lstm.projectionSize != nil {
                    datasets.append((BilmWeightLayout.cell(direction: d, layer: layer, "W_P_0"), [h, p],
                                     ELMoImporter.transpose(values(name + ".projection_weight"), rows: p, columns: h)))
                }
            }
        }

        // The softmax, shared by the directions as in bilm-tf.
        let tokens = try bilmTokens(experiment.vocabulary, file: RunDirectory(existing: run).vocabulary)
        var hasSoftmax = false
        let outputLayer = configuration.output
        if outputLayer is SoftmaxComponent || outputLayer is SampledSoftmaxComponent {
            if includeSoftmax {
                guard experiment.vocabulary.bosID != nil else {
                    throw DataError("the vocabulary has no <bos>: bilm-tf's softmax has a row for <S>; export with --without-softmax",
                                    file: RunDirectory(existing: run).vocabulary)
                }
                let weight = model.store.parameter(named: "output.weight") != nil ? values("output.weight") : values("encoder.embedding")
                datasets.append((BilmWeightLayout.softmaxWeight, [experiment.vocabulary.count, o], weight))
                datasets.append((BilmWeightLayout.softmaxBias, [experiment.vocabulary.count], values("output.bias")))
                hasSoftmax = true
            } else {
                notes.append("the softmax was left out (--without-softmax): the exported model embeds but cannot score text")
            }
        } else if !(outputLayer is NoOutputComponent) {
            guard !includeSoftmax else {
                throw DataError("key 'model.output.type' is \(outputLayer.type); bilm-tf's format has a full softmax only "
                                + "(softmax/W, softmax/b): export with --without-softmax to keep the embeddings", file: spec)
            }
            notes.append("the \(outputLayer.type) output was left out: the exported model embeds but cannot score text")
        }
        options["n_tokens_vocab"] = experiment.vocabulary.count

        let created = try OutputFolder.prepare(output, verb: "export")
        do {
            let optionsFile = output + "/options.json"
            let json = try JSONSerialization.data(withJSONObject: options, options: [.sortedKeys, .withoutEscapingSlashes])
            try AtomicFile.write(json + Data("\n".utf8), to: optionsFile)
            try AtomicFile.write(tokens.joined(separator: "\n") + "\n", to: output + "/vocabulary.txt")
            try checkLayout(datasets.map { .init(name: $0.name, shape: $0.shape) }, options: BilmOptions(file: optionsFile),
                            wordInput: encoderType == "word", softmaxRows: hasSoftmax ? experiment.vocabulary.count : nil)
            let weightsFile = output + "/weights.hdf5"
            let partial = output + "/.weights.hdf5.partial"
            do {
                let file = try HDF5File(creating: partial)
                for dataset in datasets { try file.write(dataset.name, shape: dataset.shape, values: dataset.values) }
            }
            guard rename(partial, weightsFile) == 0 else {
                throw RunError.cannotWrite(path: weightsFile, reason: String(cString: strerror(errno)))
            }
            return ELMoExportSummary(directory: output, encoder: encoderType, values: datasets.reduce(0) { $0 + $1.values.count },
                                     vocabularySize: tokens.count, hasSoftmax: hasSoftmax, notes: notes)
        } catch {
            if created { try? FileManager.default.removeItem(atPath: output) } else {
                for file in ["options.json", "vocabulary.txt", "weights.hdf5", ".weights.hdf5.partial"] {
                    try? FileManager.default.removeItem(atPath: output + "/" + file)
                }
            }
            throw error
        }
    }

    /// The harness vocabulary under bilm-tf's names (`<bos>` → `<S>`, `<eos>` → `</S>`,
    /// `<unk>` → `<UNK>`), row for row; a token bilm-tf would read differently is an error
    /// naming its line of `file`.
    static func bilmTokens(_ vocabulary: Vocabulary, file: String) throws -> [String] {
        let bilmNames = Dictionary(uniqueKeysWithValues: BilmVocabulary.renamed.map { ($0.value, $0.key) })
        return try vocabulary.tokens.enumerated().map { index, token in
            if BilmVocabulary.renamed[token] != nil || token == "!!!MAXTERMID" {
                throw DataError("the token '\(token)' means something else to bilm-tf "
                                + (token == "!!!MAXTERMID" ? "(it skips the line)" : "(its name for \(BilmVocabulary.renamed[token]!))")
                                + ", so the vocabulary cannot be written in its format", file: file, line: index + 1)
            }
            return bilmNames[token] ?? token
        }
    }

    /// The datasets written are exactly those `BilmWeightLayout` gives for the written
    /// options: what the importer, bilm-tf and AllenNLP will look for.
    private static func checkLayout(_ written: [BilmWeightLayout.Dataset], options: BilmOptions, wordInput: Bool, softmaxRows: Int?) throws {
        var expected = (wordInput ? [] : BilmWeightLayout.characterEncoder(options)) + BilmWeightLayout.recurrent(options)
        if wordInput, let table = written.first(where: { $0.name == BilmWeightLayout.wordEmbedding }) { expected.append(table) }
        if let rows = softmaxRows {
            expected += [.init(name: BilmWeightLayout.softmaxWeight, shape: [rows, options.lstm.outputSize]),
                         .init(name: BilmWeightLayout.softmaxBias, shape: [rows])]
        }
        precondition(Set(written.map(\.name)) == Set(expected.map(\.name)) && written.count == expected.count,
                     "export wrote \(written.map(\.name)), the layout has \(expected.map(\.name))")
        for dataset in expected {
            precondition(written.first { $0.name == dataset.name }?.shape == dataset.shape, "export wrote the wrong shape for \(dataset.name)")
        }
    }
}
