import Foundation

/// ELMo's task-specific combination of the biLM layers (Peters et al. 2018, eq. 1):
/// ELMo = γ · Σ_k softmax(w)_k · h_k, optionally with every layer normalised first.
///
/// Deviation from AllenNLP: its layer norm pools mean and variance over all tokens of a
/// batch, which makes a sentence's vector depend on its batch; here each token's
/// vector is normalised on its own, so vectors stay independent of batching.
public struct ScalarMix: Codable, Equatable, Sendable {
    /// Unnormalised layer weights w (one per layer, layer 0 first).
    public var weights: [Double]
    public var gamma: Double
    public var layerNorm: Bool

    public init(weights: [Double], gamma: Double = 1, layerNorm: Bool = false) {
        self.weights = weights
        self.gamma = gamma
        self.layerNorm = layerNorm
    }

    /// Equal weights over `layers` layers: the plain average times γ.
    public static func uniform(layers: Int, gamma: Double = 1) -> ScalarMix {
        ScalarMix(weights: Array(repeating: 0, count: layers), gamma: gamma)
    }

    /// softmax(w).
    public var normalizedWeights: [Double] {
        let m = weights.max() ?? 0
        let e = weights.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    /// The mix of one token's layers (each of the same size).
    public func mix(_ layers: [[Float]]) -> [Float] {
        precondition(layers.count == weights.count, "scalar mix has \(weights.count) weights for \(layers.count) layers")
        let size = layers.first?.count ?? 0
        var out = [Double](repeating: 0, count: size)
        for (layer, weight) in zip(layers, normalizedWeights) {
            precondition(layer.count == size, "scalar mix needs layers of one size")
            var values = layer.map(Double.init)
            if layerNorm {
                let mean = values.reduce(0, +) / Double(max(size, 1))
                let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(size, 1))
                values = values.map { ($0 - mean) / (variance + 1e-12).squareRoot() }
            }
            for i in 0..<size { out[i] += weight * values[i] }
        }
        return out.map { Float(gamma * $0) }
    }
}
