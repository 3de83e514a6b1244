import HarnessKernels

/// The token encoder of a model: token ids → token representations, shared by the
/// directions. Word embeddings, the char-CNN, or a researcher's own.
///
/// A conforming type is a class generic over the scalar; mark `forward` and `backward`
/// `@_specialize(where T == Float)`: the model calls them through this protocol.
public protocol TokenEncoder<T>: AnyObject {
    associatedtype T: Scalar
    /// D, the width of a token representation.
    var outputSize: Int { get }
    /// In a fixed order: the order of the store and of checkpoints.
    var parameters: [Parameter<T>] { get }
    /// The (V, D) table an output layer may share as its weight (`tie_weights`), or nil.
    var embeddingTable: Parameter<T>? { get }
    /// Parameters whose gradient `backward` writes only in rows it touches
    /// (`Parameter.touchRow`), so that the store may skip the others (default: none).
    var rowSparseParameters: [Parameter<T>] { get }
    /// ids (N) in 0..<V → representations (N, D), a view into `context.arena`; keeps
    /// what `backward` needs.
    func forward(ids: UnsafePointer<Int32>, count: Int, context: StepContext) -> Matrix<T>
    /// dy (N, D) for the last `forward`: accumulates the parameters' gradients.
    func backward(_ dy: Matrix<T>, context: StepContext)
    /// Lets ids V, V+1, … stand for `words`, which are not in the vocabulary, in the
    /// following `forward` calls (replacing the words of an earlier call; `[]` ends it),
    /// when the encoder embeds any word from its spelling — the char-CNN, as bilm-tf and
    /// AllenNLP embed every word. Returns false and changes nothing when it cannot (a word
    /// table: such words are `<unk>`). For embedding text, not training: the output layer
    /// has no rows for these ids.
    func setWordsOutsideVocabulary(_ words: [String]) -> Bool
}

extension TokenEncoder {
    public var rowSparseParameters: [Parameter<T>] { [] }

    public func setWordsOutsideVocabulary(_ words: [String]) -> Bool { false }
}

/// A kind of token encoder as a spec chooses it (`model.token_encoder: {type: …}`): its
/// hyperparameters (read from the spec by its registry entry), and how it builds and
/// costs the encoder.
public protocol TokenEncoderComponent: SpecComponent {
    /// D, the width of a token representation.
    var outputSize: Int { get }
    /// Characters per token (markers included) the encoder reads, or nil when it reads
    /// ids only; the vocabulary's `CharacterTable` is built with it.
    var maxCharacters: Int? { get }
    /// Whether the encoder has a (V, D) table that `tie_weights` can share.
    var hasEmbeddingTable: Bool { get }
    /// The encoder; `characters` is the vocabulary's table when `maxCharacters` is set.
    /// Its parameters are named `encoder.…`.
    func makeEncoder<T: Scalar>(vocabularySize: Int, characters: CharacterTable?, initScale: Double) -> any TokenEncoder<T>
    /// Multiply-adds per token of the encoder's forward matrix products.
    func multiplyAdds() -> Int
    /// Value equality across conforming types (specs and configurations compare them).
    func isEqual(to other: any TokenEncoderComponent) -> Bool
}

extension TokenEncoderComponent where Self: Equatable {
    public func isEqual(to other: any TokenEncoderComponent) -> Bool { (other as? Self) == self }
}
