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
        let r = configuration.recurrent
        var macs = Double(configuration.encoder.multiplyAdds())
        var input = configuration.encoder.outputSize
        for _ in 0..<r.layers {
            macs += Double(r.multiplyAdds(inputSize: input))
            input = r.outputSize
        }
        macs += Double(configuration.output.multiplyAdds(inputSize: r.outputSize, vocabularySize: configuration.vocabularySize))
        return 3 * 2 * macs
    }
}
