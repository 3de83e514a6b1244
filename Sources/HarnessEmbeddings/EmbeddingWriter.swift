import Foundation
import HarnessData

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
    ///
    /// JSON has no NaN or infinity: a non-finite value (a model whose weights diverged,
    /// an overflowing mix) is refused with its line and token, never written as a number.
    public static func jsonl(_ sentences: [SentenceEmbedding], lines: [Int], selection: LayerSelection, mix: ScalarMix?,
                             file: String = "input") throws -> String {
        var out = ""
        for (sentence, line) in zip(sentences, lines) {
            let vectors: [Any] = try sentence.layers.enumerated().map { position, layers in
                let chosen = select(layers, selection, mix: mix).map { $0.map(Double.init) }
                if let bad = chosen.joined().first(where: { !$0.isFinite }) {
                    throw DataError("the vector of token \(position + 1) ('\(sentence.tokens[position])') holds \(bad), which JSON cannot write; "
                                    + "the model's weights or the mix are not finite (--format npy writes NaN/inf)", file: file, line: line)
                }
                return selection == .all ? chosen : chosen[0]
            }
            let object: [String: Any] = ["line": line, "tokens": sentence.tokens, "unknown": sentence.unknown, "vectors": vectors]
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            out += String(decoding: data, as: UTF8.self) + "\n"
        }
        return out
    }

    /// A NumPy `.npy` array (float32, C order) of every token of every sentence:
    /// shape (tokens, `layers`, `size`) for `all`, else (tokens, `size`); and its index,
    /// one line per row: input line, position in the sentence, token. The shape comes
    /// from the model (`layers`, `size`), so an input without tokens still gives
    /// (0, L+1, D). Non-finite values are written as float32 NaN/inf, as NumPy reads them.
    public static func npy(_ sentences: [SentenceEmbedding], lines: [Int], selection: LayerSelection, mix: ScalarMix?,
                           layers layerCount: Int, size: Int) -> (Data, String) {
        let rows = sentences.reduce(0) { $0 + $1.tokens.count }
        var data = npyHeader(rows: rows, selection: selection, layers: layerCount, size: size)
        let (values, index) = npyRows(sentences, lines: lines, selection: selection, mix: mix, layers: layerCount, size: size)
        data.append(values)
        return (data, npyIndexHeader + index)
    }

    /// The index file's first line.
    public static let npyIndexHeader = "line\tposition\ttoken\n"

    /// The `.npy` header of an array of `rows` tokens (see `npy`), for writing the rows in parts.
    public static func npyHeader(rows: Int, selection: LayerSelection, layers layerCount: Int, size: Int) -> Data {
        let shape = selection == .all ? "(\(rows), \(layerCount), \(size))" : "(\(rows), \(size))"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        // Magic, version 1.0, little-endian header length; header padded to a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        return data
    }

    /// The rows of `sentences` (float32 little-endian) and their index lines, without headers.
    public static func npyRows(_ sentences: [SentenceEmbedding], lines: [Int], selection: LayerSelection, mix: ScalarMix?,
                               layers layerCount: Int, size: Int) -> (Data, String) {
        var values: [Float] = []
        var index = ""
        for (sentence, line) in zip(sentences, lines) {
            for (position, layers) in sentence.layers.enumerated() {
                let chosen = select(layers, selection, mix: mix)
                precondition(chosen.count == (selection == .all ? layerCount : 1) && chosen.allSatisfy { $0.count == size },
                             "npy rows of one shape")
                for v in chosen { values += v }
                index += "\(line)\t\(position + 1)\t\(sentence.tokens[position])\n"
            }
        }
        return (values.withUnsafeBufferPointer { Data(buffer: $0) }, index)
    }
}
