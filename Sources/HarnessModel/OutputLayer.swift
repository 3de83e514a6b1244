import HarnessKernels

/// The word prediction layer of a model (`model.output: {type: …}`): scores the stacks'
/// outputs h against the vocabulary. Full softmax, sampled softmax, adaptive softmax, or
/// a researcher's own.
///
/// Rows of h are the targets of one step, direction after direction: h (N, D), targets
/// (N) ids in 0..<V, weights (N) 1 for a real target and 0 for padding (nil: all real).
///
/// A conforming type is a class generic over the scalar; mark `loss`
/// `@_specialize(where T == Float)`: the model calls it through this protocol.
public protocol OutputLayer<T>: AnyObject {
    associatedtype T: Scalar
    /// In a fixed order: the order of the store and of checkpoints. A weight tied to the
    /// word embedding is listed here too (the store binds it once).
    var parameters: [Parameter<T>] { get }
    /// Parameters whose gradient a training `loss` writes only in rows it touches
    /// (`Parameter.touchRow`), so that the store may skip the others (default: none).
    var rowSparseParameters: [Parameter<T>] { get }
    /// Σ weight_n · loss_n in nats and each row's loss in `rowLosses`. The loss is the
    /// exact NLL of the target under the normalised distribution over the whole
    /// vocabulary, except when training (a `gradientScale` and `context.training`) with
    /// a layer whose training loss is an estimate (sampled softmax).
    ///
    /// With a `gradientScale` s, also returns ∂(s · Σ weight_n loss_n)/∂h (N, D) in
    /// `context.arena` and accumulates the parameters' gradients. The rows are `segments`
    /// equal parts, one per direction (a sampled loss draws its candidates per part, from
    /// `sampling`).
    @discardableResult
    func loss(_ h: Matrix<T>, segments: Int, targets: UnsafePointer<Int32>, weights: UnsafePointer<T>?,
              gradientScale: T?, rowLosses: UnsafeMutablePointer<T>?, context: StepContext,
              sampling: inout SeededGenerator) -> (nll: Double, dh: Matrix<T>?)
}

/// A kind of output layer as a spec chooses it: its hyperparameters (read from the spec
/// by its registry entry), and how it builds and costs the layer.
public protocol OutputComponent: SpecComponent {
    /// Whether the layer's weight is the word embedding table (Press & Wolf 2016).
    var tieWeights: Bool { get }
    /// Whether the training loss is the exact NLL, so that its exp is a perplexity
    /// (false for a sampled estimate).
    var exactTrainingLoss: Bool { get }
    /// Whether the layer scores tokens at all: false for an output of none (a model for
    /// embeddings only), which can be neither trained nor evaluated.
    var scoresTokens: Bool { get }
    /// Why the layer needs ids ordered by descending frequency (for a vocabulary file
    /// read as it is), or nil when it does not.
    var frequencyOrderReason: String? { get }
    /// What is wrong with the component for a vocabulary of `vocabularySize` entries
    /// (known only once the data is read) and inputs of `inputSize`.
    func problems(vocabularySize: Int, inputSize: Int) -> [ComponentProblem]
    /// The layer for inputs of `inputSize`; `tiedTo` is the embedding table (V, D) when
    /// `tieWeights`. Its parameters are named `output.…`.
    func makeLayer<T: Scalar>(vocabularySize: Int, inputSize: Int, tiedTo: Parameter<T>?, initScale: Double) -> any OutputLayer<T>
    /// Multiply-adds per target token of the layer's forward matrix products in training.
    func multiplyAdds(inputSize: Int, vocabularySize: Int) -> Int
    /// Value equality across conforming types (specs and configurations compare them).
    func isEqual(to other: any OutputComponent) -> Bool
}

extension OutputComponent where Self: Equatable {
    public func isEqual(to other: any OutputComponent) -> Bool { (other as? Self) == self }
}

extension OutputComponent {
    public var scoresTokens: Bool { true }
    public var frequencyOrderReason: String? { nil }
    public func problems(vocabularySize: Int, inputSize: Int) -> [ComponentProblem] { [] }
}

/// A component's hyperparameter that does not fit the data: reported as a spec error at
/// the component's `key`.
public struct ComponentProblem: Sendable, Equatable {
    /// The key inside the component's mapping, e.g. "samples".
    public var key: String
    public var message: String
    public var note: String?

    public init(key: String, message: String, note: String? = nil) {
        self.key = key
        self.message = message
        self.note = note
    }
}

extension OutputLayer {
    public var rowSparseParameters: [Parameter<T>] { [] }
}
