import HarnessModel

extension Component where Product == any DropoutComponent {
    private static func dropout(_ type: String, _ summary: String, _ make: @escaping @Sendable (Double) -> any DropoutComponent) -> Component {
        Component(type, summary: summary) { r in
            make(r.double("rate", default: nil, range: 0...1, exclusiveUpper: true, doc: "probability of dropping"))
        }
    }

    static let standard = dropout("standard", "independent units of every LSTM layer's input and the stack's output") { StandardDropout(rate: $0) }
    static let variational = dropout("variational", "as standard, one mask per sequence shared over time (Gal & Ghahramani 2016)") {
        VariationalDropout(rate: $0)
    }
    static let word = dropout("word", "whole token positions of the token representations") { WordDropout(rate: $0) }
    static let embedding = dropout("embedding", "whole word types of the token representations (Merity et al. 2017)") { EmbeddingDropout(rate: $0) }
    static let weightDrop = dropout("weight-drop", "DropConnect on the recurrent weights W_h (Wan et al. 2013)") { WeightDrop(rate: $0) }
}
