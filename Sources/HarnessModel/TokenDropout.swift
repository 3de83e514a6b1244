import HarnessKernels

/// The dropouts at the token representations (N, D) (`word`, `embedding`, or a
/// researcher's own at `.tokens`): each row is scaled by one factor, the product of every
/// such dropout's factor for it. They draw their masks in the order of their type names
/// (`embedding` before `word`), whatever their order in the spec. Off outside training.
public final class TokenDropout<T: Scalar> {
    public let dropouts: [any DropoutComponent]
    private var rowScale: UnsafeMutablePointer<T>?

    public init(dropout: [any DropoutComponent]) {
        dropouts = dropout.filter { $0.site == .tokens && $0.rate > 0 }.sorted { $0.type < $1.type }
    }

    /// x (N, D) for tokens `ids` → the scaled copy, or x when inactive.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forward(_ x: Matrix<T>, ids: UnsafePointer<Int32>, vocabularySize: Int, context: StepContext) -> Matrix<T> {
        guard context.training, !dropouts.isEmpty else { rowScale = nil; return x }
        let n = x.rows
        let scales = context.arena.allocate(n, of: T.self)
        scales.update(repeating: 1, count: n)
        for dropout in dropouts {
            dropout.scaleRows(scales, ids: ids, count: n, vocabularySize: vocabularySize, context: context)
        }
        rowScale = scales
        return scaled(x, context: context)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
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
