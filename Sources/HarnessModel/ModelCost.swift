/// Analytic cost of a model, for reports: parameters per component and training FLOPs
/// per target token.
extension BiLM {
    /// Parameter counts by component: "encoder", "forward", "backward", "output".
    public var parameterCounts: [(component: String, count: Int)] {
        var order: [String] = []
        var counts: [String: Int] = [:]
        for p in store.parameters {
            let component = String(p.name.prefix { $0 != "." })
            if counts[component] == nil { order.append(component) }
            counts[component, default: 0] += p.count
        }
        return order.map { ($0, counts[$0]!) }
    }

    /// Training FLOPs per target token of one direction: 3 × (2 × multiply-adds of the
    /// forward matrix products), the convention of the PyTorch peer (backward ≈ 2 × forward).
    /// The output layer counts what it scores (V classes for the full softmax, K + 1 for the sampled).
    public var trainingFLOPsPerToken: Double {
        var macs = 0.0
        let r = configuration.recurrent
        var input: Int
        switch encoder {
        case .word(let e):
            input = e.outputSize
        case .charCNN(let e):
            let c = e.configuration, k = e.characters.maxCharacters
            let f = c.filterTotal
            macs += c.filters.reduce(0.0) { $0 + Double($1.count * c.characterEmbeddingSize * $1.width * (k - $1.width + 1)) }
            macs += Double(c.highwayLayers * f * 2 * f + f * c.outputSize)
            input = c.outputSize
        }
        for _ in 0..<r.layers {
            macs += Double(r.multiplyAdds(inputSize: input))
            input = r.outputSize
        }
        macs += Double(configuration.output.multiplyAdds(inputSize: r.outputSize, vocabularySize: configuration.vocabularySize))
        return 3 * 2 * macs
    }
}
