import HarnessModel

extension Component where Product == any DropoutComponent {
    private static func dropout(_ type: String, _ summary: String, _ make: @escaping @Sendable (Double) -> any DropoutComponent) -> Component {
        Component(type, summary: summary) { r in
            make(r.double("rate", default: nil, range: 0...1, exclusiveUpper: true, doc: "probability of dropping"))
        }
    }

    /// `standard` and `variational`, with `first_layer_input`.
    private static func layerInputDropout(_ type: String, _ summary: String,
                                          _ make: @escaping @Sendable (Double, Bool) -> any DropoutComponent) -> Component {
        Component(type, summary: summary) { r in
            make(r.double("rate", default: nil, range: 0...1, exclusiveUpper: true, doc: "probability of dropping"),
                 r.bool("first_layer_input", default: true,
                        doc: "also the first layer's input, the token representations (Zaremba et al. 2014); false: only between layers and at the output (Kim et al. 2016)"))
        }
    }

    static let standard = layerInputDropout("standard", "independent units of every LSTM layer's input and the stack's output") {
        StandardDropout(rate: $0, dropsFirstLayerInput: $1)
    }
    static let variational = layerInputDropout("variational", "as standard, one mask per sequence shared over time (Gal & Ghahramani 2016)") {
        VariationalDropout(rate: $0, dropsFirstLayerInput: $1)
    }
    static let word = dropout("word", "whole token positions of the token representations") { WordDropout(rate: $0) }
    static let embedding = dropout("embedding", "whole word types of the token representations (Merity et al. 2017)") { EmbeddingDropout(rate: $0) }
    static let weightDrop = dropout("weight-drop", "DropConnect on the recurrent weights W_h (Wan et al. 2013)") { WeightDrop(rate: $0) }
}
