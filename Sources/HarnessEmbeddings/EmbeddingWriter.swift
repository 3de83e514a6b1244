import Foundation

/// Which vectors `harness embed` writes per token.
public enum LayerSelection: String, CaseIterable, Sendable {
    /// Every layer: [layer][vector].
    case all
    /// The last LSTM layer.
    case top
    /// The plain average of the layers.
    case average
    /// The scalar mix given by --mix-weights / --mix-file.
    case mix
}

public enum EmbeddingWriter {
    /// The vectors of one token under `selection`: one or L+1 vectors.
    public static func select(_ layers: [[Float]], _ selection: LayerSelection, mix: ScalarMix?) -> [[Float]] {
        switch selection {
        case .all: return layers
        case .top: return [layers.last!]
        case .average: return [ScalarMix.uniform(layers: layers.count).mix(layers)]
        case .mix: return [mix!.mix(layers)]
        }
    }

    /// One JSON object per input line: {"line", "tokens", "unknown", "vectors"}; vectors
    /// are [token][layer][dim] for `all`, else [token][dim]. Empty lines give empty lists.
    public static func jsonl(_ sentences: [SentenceEmbedding], lines: [Int], selection: LayerSelection, mix: ScalarMix?) -> String {
        var out = ""
        for (sentence, line) in zip(sentences, lines) {
            let vectors: [Any] = sentence.layers.map { layers in
                let chosen = select(layers, selection, mix: mix).map { $0.map(Double.init) }
                return selection == .all ? chosen : chosen[0]
            }
            let object: [String: Any] = ["line": line, "tokens": sentence.tokens, "unknown": sentence.unknown, "vectors": vectors]
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            out += String(decoding: data, as: UTF8.self) + "\n"
        }
        return out
    }

    /// A NumPy `.npy` array (float32, C order) of every token of every sentence:
    /// shape (tokens, layers, dim) for `all`, else (tokens, dim); and its index, one
    /// line per row: input line, position in the sentence, token.
    public static func npy(_ sentences: [SentenceEmbedding], lines: [Int], selection: LayerSelection, mix: ScalarMix?) -> (Data, String) {
        var values: [Float] = []
        var index = "line\tposition\ttoken\n"
        var rows = 0, layerCount = 1, size = 0
        for (sentence, line) in zip(sentences, lines) {
            for (position, layers) in sentence.layers.enumerated() {
                let chosen = select(layers, selection, mix: mix)
                layerCount = chosen.count
                size = chosen[0].count
                for v in chosen { values += v }
                index += "\(line)\t\(position + 1)\t\(sentence.tokens[position])\n"
                rows += 1
            }
        }
        let shape = selection == .all ? "(\(rows), \(layerCount), \(size))" : "(\(rows), \(size))"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        // Magic, version 1.0, little-endian header length; header padded to a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        values.withUnsafeBufferPointer { data.append($0) }
        return (data, index)
    }
}
