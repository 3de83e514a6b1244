import HarnessKernels

/// `word`: one learned vector of `size` per vocabulary entry.
public struct WordEncoderComponent: TokenEncoderComponent, Equatable {
    public var size: Int

    public init(size: Int) { self.size = size }

    public var type: String { "word" }
    public var outputSize: Int { size }
    public var maxCharacters: Int? { nil }
    public var hasEmbeddingTable: Bool { true }

    public func makeEncoder<T: Scalar>(vocabularySize: Int, characters: CharacterTable?, initScale: Double) -> any TokenEncoder<T> {
        WordEmbedding<T>(vocabularySize: vocabularySize, size: size, initScale: initScale)
    }

    /// A lookup: no products.
    public func multiplyAdds() -> Int { 0 }
}

/// The `word` token encoder: one learned row per vocabulary entry.
///
/// - table: (V, D) `encoder.embedding`; ids: (N) → (N, D).
public final class WordEmbedding<T: Scalar>: TokenEncoder {
    public let table: Parameter<T>
    private var ids: UnsafeMutablePointer<Int32>!
    private var count = 0

    public init(vocabularySize: Int, size: Int, initScale: Double) {
        table = Parameter("encoder.embedding", rows: vocabularySize, columns: size, initializer: .uniform(scale: initScale))
    }

    public var outputSize: Int { table.columns }
    public var parameters: [Parameter<T>] { [table] }
    public var embeddingTable: Parameter<T>? { table }
    /// A step writes the rows of the ids it read.
    public var rowSparseParameters: [Parameter<T>] { [table] }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forward(ids input: UnsafePointer<Int32>, count n: Int, context: StepContext) -> Matrix<T> {
        let d = table.columns
        ids = context.arena.allocate(n, of: Int32.self)
        ids.update(from: input, count: n)
        count = n
        let y = context.arena.matrix(n, d, of: T.self)
        for r in 0..<n {
            let id = Int(input[r])
            precondition(id >= 0 && id < table.rows, "token id \(id) outside the vocabulary of \(table.rows)")
            y.row(r).update(from: table.value.row(id), count: d)
        }
        return y
    }

    /// Scatter-adds dy into the rows of the table gradient.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func backward(_ dy: Matrix<T>, context: StepContext) {
        for r in 0..<count {
            table.touchRow(Int(ids[r]))
            axpy(table.columns, 1, dy.row(r), table.gradient.row(Int(ids[r])))
        }
    }
}
