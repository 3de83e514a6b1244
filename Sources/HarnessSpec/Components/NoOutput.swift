import HarnessKernels
import HarnessModel

/// `none`: no output layer. A model that only gives contextual embeddings — a published
/// ELMo model imported without its softmax (`harness import-elmo`; bilm-tf's
/// `dump_weights` leaves the softmax out). It has no parameters and cannot be trained or
/// scored: `harness run` refuses it (`Experiment`), and so does `harness eval`.
public struct NoOutputComponent: OutputComponent, Equatable {
    public init() {}

    public var type: String { "none" }
    public var tieWeights: Bool { false }
    public var exactTrainingLoss: Bool { false }
    public var scoresTokens: Bool { false }

    public func makeLayer<T: Scalar>(vocabularySize: Int, inputSize: Int, tiedTo: Parameter<T>?, initScale: Double) -> any OutputLayer<T> {
        NoOutputLayer<T>()
    }

    public func multiplyAdds(inputSize: Int, vocabularySize: Int) -> Int { 0 }
}

/// The layer of `none`: nothing to score with. Callers check `scoresTokens` first.
final class NoOutputLayer<T: Scalar>: OutputLayer {
    var parameters: [Parameter<T>] { [] }

    func loss(_ h: Matrix<T>, segments: Int, targets: UnsafePointer<Int32>, weights: UnsafePointer<T>?, gradientScale: T?,
              rowLosses: UnsafeMutablePointer<T>?, context: StepContext, sampling: inout SeededGenerator) -> (nll: Double, dh: Matrix<T>?) {
        preconditionFailure("model.output 'none' has no output layer to score tokens with")
    }
}

extension Component where Product == any OutputComponent {
    /// `none`: embeddings only.
    static let none = Component("none", summary: "no output layer: embeddings only (an ELMo model imported without its softmax); "
                                    + "cannot be trained or scored") { _ in
        NoOutputComponent()
    }
}
