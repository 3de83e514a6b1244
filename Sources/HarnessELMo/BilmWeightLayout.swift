/// The datasets of a bilm-tf weight file and their shapes, fixed by the options: the
/// names bilm-tf's `dump_weights` (bilm/training.py) writes and its
/// `_pretrained_initializer` (bilm/model.py) and AllenNLP's `Elmo` read. Shapes are
/// TensorFlow's: a kernel is (inputs, outputs) and multiplies from the right (x·W).
///
/// | dataset | shape |
/// |---|---|
/// | `char_embed` | (261, C): character ids 0–260, without bilm-tf's prediction-time padding row |
/// | `CNN/W_cnn_<i>`, `CNN/b_cnn_<i>` | (1, w_i, C, n_i), (n_i) |
/// | `CNN_high_<k>/W_carry`, `b_carry`, `W_transform`, `b_transform` | (F, F), (F) each |
/// | `CNN_proj/W_proj`, `CNN_proj/b_proj` | (F, P), (P); only when F ≠ P |
/// | `RNN_<d>/RNN/MultiRNNCell/Cell<l>/LSTMCell/W_0` | (D_l + O, 4H): [x; h_{t−1}] → gates i, j, f, o |
/// | `…/LSTMCell/B` | (4H) |
/// | `…/LSTMCell/W_P_0` | (H, P); only when P < H |
/// | `embedding` (a word-input model's own file) | (V, P) |
/// | `softmax/W`, `softmax/b` (training checkpoints only) | (V, O), (V) |
///
/// d = 0 is the forward direction, 1 the backward; D_0 = P (the token representation),
/// D_l = O after; O = P when P < H, else H.
public enum BilmWeightLayout {
    public struct Dataset: Equatable, Sendable {
        public var name: String
        public var shape: [Int]
    }

    public static let characterEmbedding = "char_embed"
    public static let wordEmbedding = "embedding"
    public static let softmaxWeight = "softmax/W", softmaxBias = "softmax/b"
    public static let projectionWeight = "CNN_proj/W_proj", projectionBias = "CNN_proj/b_proj"
    /// The rows of `char_embed`: bilm-tf's 261 characters (bytes 0–255, then
    /// begin-of-sentence, end-of-sentence, begin-of-word, end-of-word, padding).
    public static let characterRows = 261

    public static func convolutionWeight(_ i: Int) -> String { "CNN/W_cnn_\(i)" }
    public static func convolutionBias(_ i: Int) -> String { "CNN/b_cnn_\(i)" }
    public static func highway(_ k: Int, _ part: String) -> String { "CNN_high_\(k)/\(part)" }
    /// `W_0`, `B` or `W_P_0` of layer `layer` of direction `direction` (0 forward, 1 backward).
    public static func cell(direction: Int, layer: Int, _ part: String) -> String {
        "RNN_\(direction)/RNN/MultiRNNCell/Cell\(layer)/LSTMCell/\(part)"
    }

    /// Whether `name` belongs to the character encoder (a word-input model ignores these, as bilm-tf does).
    public static func isCharacterEncoder(_ name: String) -> Bool {
        name == characterEmbedding || name.hasPrefix("CNN/") || name.hasPrefix("CNN_high_") || name.hasPrefix("CNN_proj/")
    }

    /// The character encoder's datasets (`options.charCNN` must be set).
    public static func characterEncoder(_ options: BilmOptions) -> [Dataset] {
        let cnn = options.charCNN!, c = cnn.characterEmbeddingSize, f = cnn.filterTotal, p = options.lstm.projectionSize
        var datasets = [Dataset(name: characterEmbedding, shape: [characterRows, c])]
        for (i, filter) in cnn.filters.enumerated() {
            datasets.append(Dataset(name: convolutionWeight(i), shape: [1, filter.width, c, filter.count]))
            datasets.append(Dataset(name: convolutionBias(i), shape: [filter.count]))
        }
        for k in 0..<cnn.highwayLayers {
            for part in ["W_carry", "W_transform"] { datasets.append(Dataset(name: highway(k, part), shape: [f, f])) }
            for part in ["b_carry", "b_transform"] { datasets.append(Dataset(name: highway(k, part), shape: [f])) }
        }
        if f != p {
            datasets.append(Dataset(name: projectionWeight, shape: [f, p]))
            datasets.append(Dataset(name: projectionBias, shape: [p]))
        }
        return datasets
    }

    /// Both directions' LSTM datasets.
    public static func recurrent(_ options: BilmOptions) -> [Dataset] {
        let lstm = options.lstm, h = lstm.cellSize, o = lstm.outputSize
        var datasets: [Dataset] = []
        for direction in 0..<2 {
            for layer in 0..<lstm.layers {
                let input = layer == 0 ? lstm.projectionSize : o
                datasets.append(Dataset(name: cell(direction: direction, layer: layer, "W_0"), shape: [input + o, 4 * h]))
                datasets.append(Dataset(name: cell(direction: direction, layer: layer, "B"), shape: [4 * h]))
                if lstm.projects {
                    datasets.append(Dataset(name: cell(direction: direction, layer: layer, "W_P_0"), shape: [h, lstm.projectionSize]))
                }
            }
        }
        return datasets
    }
}
