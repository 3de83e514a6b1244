import Foundation
import HarnessData
import HarnessModel

/// A bilm-tf `options.json`: the hyperparameters that fix an ELMo biLM's shape, as
/// bilm-tf's `BidirectionalLanguageModelGraph` (bilm/model.py) and AllenNLP's `Elmo`
/// read them. The training-only keys bilm-tf's `train_elmo.py` writes (dropout,
/// batch_size, n_epochs, …) are accepted and ignored; any other key, a missing one that
/// bilm-tf requires, or a value the harness cannot build is a `DataError` naming the key.
public struct BilmOptions: Equatable, Sendable {
    /// `char_cnn`: bilm-tf's `_build_word_char_embeddings`.
    public struct CharCNN: Equatable, Sendable {
        /// `activation`: after max-pooling over positions.
        public var activation: CharCNNConfiguration.Activation
        /// `embedding.dim`, C.
        public var characterEmbeddingSize: Int
        /// `filters`: [width, count] pairs, in the order of `CNN/W_cnn_<i>`.
        public var filters: [CharCNNConfiguration.Filter]
        /// `n_highway` (0 when absent, as bilm-tf).
        public var highwayLayers: Int
        /// `max_characters_per_token`, K (the word markers included).
        public var maxCharacters: Int
        /// F = Σ counts: the highway layers' width.
        public var filterTotal: Int { filters.reduce(0) { $0 + $1.count } }
    }

    /// `lstm`: bilm-tf's `_build_lstms` (TensorFlow `LSTMCell`s, one stack per direction).
    public struct LSTM: Equatable, Sendable {
        /// `dim`, H: the cell size.
        public var cellSize: Int
        /// `projection_dim`, P: the token representation's size, and the LSTM output's when P < H.
        public var projectionSize: Int
        /// `n_layers` (1 when absent, as bilm-tf).
        public var layers: Int
        public var cellClip: Double?
        public var projectionClip: Double?
        /// `use_skip_connections`: a residual connection around every layer but the first.
        public var useSkipConnections: Bool
        /// bilm-tf projects the LSTM output only when `projection_dim < dim`
        /// (`LSTMCell(num_proj=…)`); otherwise the output is the H-wide hidden state.
        public var projects: Bool { projectionSize < cellSize }
        /// The width of every layer's output.
        public var outputSize: Int { projects ? projectionSize : cellSize }
    }

    public var charCNN: CharCNN?
    public var lstm: LSTM

    /// The top-level keys of bilm-tf's training options, which do not change the model's
    /// forward pass.
    static let trainingKeys: Set<String> = ["bidirectional", "dropout", "all_clip_norm_val", "n_epochs", "n_train_tokens",
                                            "batch_size", "n_tokens_vocab", "unroll_steps", "n_negative_samples_batch",
                                            "sample_softmax", "learning_rate", "share_embedding_softmax"]

    /// Reads and checks `path`.
    public init(file path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(FileManager.default.fileExists(atPath: path) ? "cannot read the options file" : "no such file", file: path)
        }
        let object: JSONValue
        do {
            object = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw DataError("not valid JSON: an ELMo options file is bilm-tf's options.json", file: path)
        }
        try self.init(object, file: path)
    }

    /// Checks the decoded JSON `object`; `file` names it in errors.
    init(_ object: JSONValue, file: String) throws {
        let reader = JSONReader(file: file)
        let root = try reader.mapping(object, at: "")
        for key in root.keys.sorted() where !["lstm", "char_cnn"].contains(key) && !Self.trainingKeys.contains(key) {
            throw DataError("unknown option '\(key)': bilm-tf's options have 'lstm', 'char_cnn' and training settings", file: file)
        }
        if let bidirectional = root["bidirectional"], try !reader.bool(bidirectional, at: "bidirectional") {
            throw DataError("option 'bidirectional' is false: bilm-tf's BidirectionalLanguageModel, which this file is for, "
                            + "reads biLMs only", file: file)
        }
        guard let lstmValue = root["lstm"] else {
            throw DataError("no 'lstm' option: every bilm-tf model has one (dim, projection_dim, n_layers, …)", file: file)
        }
        lstm = try Self.lstm(reader.mapping(lstmValue, at: "lstm"), reader)
        charCNN = try root["char_cnn"].map { try Self.charCNN(reader.mapping($0, at: "char_cnn"), reader) }
    }

    private static func lstm(_ m: [String: JSONValue], _ r: JSONReader) throws -> LSTM {
        try r.onlyKeys(m, ["dim", "projection_dim", "n_layers", "cell_clip", "proj_clip", "use_skip_connections"], at: "lstm")
        let lstm = LSTM(cellSize: try r.int(r.required(m, "dim", at: "lstm"), at: "lstm.dim", range: 1...65_536),
                        projectionSize: try r.int(r.required(m, "projection_dim", at: "lstm"), at: "lstm.projection_dim", range: 1...65_536),
                        layers: try m["n_layers"].map { try r.int($0, at: "lstm.n_layers", range: 1...16) } ?? 1,
                        cellClip: try r.optionalPositive(m["cell_clip"], at: "lstm.cell_clip"),
                        projectionClip: try r.optionalPositive(m["proj_clip"], at: "lstm.proj_clip"),
                        useSkipConnections: try r.bool(r.required(m, "use_skip_connections", at: "lstm"), at: "lstm.use_skip_connections"))
        return lstm
    }

    private static func charCNN(_ m: [String: JSONValue], _ r: JSONReader) throws -> CharCNN {
        try r.onlyKeys(m, ["activation", "embedding", "filters", "n_highway", "n_characters", "max_characters_per_token"], at: "char_cnn")
        let characters = try r.int(r.required(m, "n_characters", at: "char_cnn"), at: "char_cnn.n_characters", range: 1...Int.max)
        guard characters == 262 else {
            throw DataError("option 'char_cnn.n_characters' is \(characters); bilm-tf predicts with 262 (\(characters == 261 ? "261 is its training value: " : "")"
                            + "set 262 after training, as bilm-tf's README says: the weights are the same)", file: r.file)
        }
        let activationName = try r.string(r.required(m, "activation", at: "char_cnn"), at: "char_cnn.activation")
        guard let activation = CharCNNConfiguration.Activation(rawValue: activationName) else {
            throw DataError("option 'char_cnn.activation' is '\(activationName)'; bilm-tf knows tanh and relu", file: r.file)
        }
        let embedding = try r.mapping(r.required(m, "embedding", at: "char_cnn"), at: "char_cnn.embedding")
        try r.onlyKeys(embedding, ["dim"], at: "char_cnn.embedding")
        let maxCharacters = try r.int(r.required(m, "max_characters_per_token", at: "char_cnn"),
                                      at: "char_cnn.max_characters_per_token", range: 3...1000)
        var filters: [CharCNNConfiguration.Filter] = []
        guard case .list(let list) = try r.required(m, "filters", at: "char_cnn"), !list.isEmpty else {
            throw DataError("option 'char_cnn.filters' is not a list of [width, count] pairs", file: r.file)
        }
        for (i, item) in list.enumerated() {
            guard case .list(let pair) = item, pair.count == 2 else {
                throw DataError("option 'char_cnn.filters[\(i)]' is not a [width, count] pair", file: r.file)
            }
            let filter = CharCNNConfiguration.Filter(try r.int(pair[0], at: "char_cnn.filters[\(i)][0]", range: 1...maxCharacters),
                                                     try r.int(pair[1], at: "char_cnn.filters[\(i)][1]", range: 1...65_536))
            if filters.contains(where: { $0.width == filter.width }) {
                throw DataError("option 'char_cnn.filters' lists width \(filter.width) twice; the harness keeps one convolution per width",
                                file: r.file)
            }
            filters.append(filter)
        }
        return CharCNN(activation: activation,
                       characterEmbeddingSize: try r.int(r.required(embedding, "dim", at: "char_cnn.embedding"),
                                                         at: "char_cnn.embedding.dim", range: 1...1024),
                       filters: filters,
                       highwayLayers: try m["n_highway"].map { $0 == .null ? 0 : try r.int($0, at: "char_cnn.n_highway", range: 0...16) } ?? 0,
                       maxCharacters: maxCharacters)
    }
}
