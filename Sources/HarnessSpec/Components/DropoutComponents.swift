import HarnessModel

extension Component where Product == Dropout {
    private static func dropout(_ kind: Dropout.Kind, _ summary: String) -> Component {
        Component(kind.rawValue, summary: summary) { r in
            Dropout(kind, rate: r.double("rate", default: nil, range: 0...1, exclusiveUpper: true, doc: "probability of dropping"))
        }
    }

    static let standard = dropout(.standard, "independent units of every LSTM layer's input and the stack's output")
    static let variational = dropout(.variational, "as standard, one mask per sequence shared over time (Gal & Ghahramani 2016)")
    static let word = dropout(.word, "whole token positions of the token representations")
    static let embedding = dropout(.embedding, "whole word types of the token representations (Merity et al. 2017)")
    static let weightDrop = dropout(.weightDrop, "DropConnect on the recurrent weights W_h (Wan et al. 2013)")
}
