import HarnessKernels

/// `word` and `embedding` dropout on the token representations (N, D): each row is
/// scaled by one factor, the product of a per-position mask (`word`: drops whole
/// timesteps) and a per-word-type mask (`embedding`: every occurrence of a dropped type
/// in the batch is zeroed, as AWD-LSTM's `dropoute`). Off outside training.
public final class TokenDropout<T: Scalar> {
    public let wordRate: Double
    public let embeddingRate: Double
    private var rowScale: UnsafeMutablePointer<T>?

    public init(dropout: [Dropout]) {
        wordRate = dropout.rate(of: .word)
        embeddingRate = dropout.rate(of: .embedding)
    }

    /// x (N, D) for tokens `ids` → the scaled copy, or x when inactive.
    public func forward(_ x: Matrix<T>, ids: UnsafePointer<Int32>, vocabularySize: Int, context: StepContext) -> Matrix<T> {
        guard context.training, wordRate > 0 || embeddingRate > 0 else { rowScale = nil; return x }
        let n = x.rows
        let scales = context.arena.allocate(n, of: T.self)
        scales.update(repeating: 1, count: n)
        if embeddingRate > 0 {
            let typeMask = context.arena.allocate(vocabularySize, of: T.self)
            fillDropoutMask(typeMask, count: vocabularySize, rate: embeddingRate, generator: &context.dropoutGenerator)
            for r in 0..<n { scales[r] *= typeMask[Int(ids[r])] }
        }
        if wordRate > 0 {
            let positionMask = context.arena.allocate(n, of: T.self)
            fillDropoutMask(positionMask, count: n, rate: wordRate, generator: &context.dropoutGenerator)
            multiply(n, scales, positionMask, into: scales)
        }
        rowScale = scales
        return scaled(x, context: context)
    }

    public func backward(_ dy: Matrix<T>, context: StepContext) -> Matrix<T> {
        rowScale == nil ? dy : scaled(dy, context: context)
    }

    private func scaled(_ x: Matrix<T>, context: StepContext) -> Matrix<T> {
        let y = context.arena.matrix(x.rows, x.columns, of: T.self)
        y.base.update(from: x.base, count: x.count)
        for r in 0..<x.rows { scale(x.columns, rowScale![r], y.row(r)) }
        return y
    }
}
