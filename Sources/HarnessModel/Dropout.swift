import HarnessKernels

/// One entry of a model's dropout list. Each kind acts at its own place:
///
/// | kind | where | mask |
/// |---|---|---|
/// | `standard` | inputs of every LSTM layer and the stack output | one value per element |
/// | `variational` | the same places (Gal & Ghahramani 2016; locked dropout) | one per (sequence, channel), shared over time |
/// | `word` | token representations | one per token position: drops whole timesteps |
/// | `embedding` | token representations, by word type (Merity et al. 2017, `dropoute`) | one per vocabulary entry |
/// | `weight-drop` | recurrent weights W_h (DropConnect, Wan et al. 2013) | one per weight, per step |
///
/// Kept units are scaled by 1/(1 − rate) ("inverted" dropout), so evaluation, which
/// applies no dropout at all, needs no rescaling.
public struct Dropout: Sendable, Equatable {
    public enum Kind: String, CaseIterable, Sendable {
        case standard, variational, word, embedding
        case weightDrop = "weight-drop"
    }

    public var kind: Kind
    public var rate: Double

    public init(_ kind: Kind, rate: Double) {
        precondition(rate >= 0 && rate < 1, "dropout rate \(rate) outside [0, 1)")
        self.kind = kind
        self.rate = rate
    }
}

extension Array where Element == Dropout {
    /// The rate of `kind`, 0 when the list has none.
    public func rate(of kind: Dropout.Kind) -> Double {
        first { $0.kind == kind }?.rate ?? 0
    }
}

/// Fills `mask` with 0 (probability `rate`) or 1/(1 − rate).
public func fillDropoutMask<T: Scalar>(_ mask: UnsafeMutablePointer<T>, count: Int, rate: Double,
                                       generator: inout SeededGenerator) {
    let keep = T(1 / (1 - rate))
    for i in 0..<count { mask[i] = generator.nextUnit() < rate ? 0 : keep }
}

/// Dropout on time-major activations (N = T·B rows, row t·B + b): `standard`,
/// `variational` or `word` at one site of the network. Off outside training.
public final class ActivationDropout<T: Scalar> {
    public let kind: Dropout.Kind
    public let rate: Double
    private var mask: UnsafeMutablePointer<T>?
    private var batchSize = 1

    public init(kind: Dropout.Kind, rate: Double) {
        precondition([.standard, .variational, .word].contains(kind), "\(kind) dropout does not act on activations")
        self.kind = kind
        self.rate = rate
    }

    /// x (N, D) with B sequences → dropped copy, or x itself when inactive.
    public func forward(_ x: Matrix<T>, batchSize: Int, context: StepContext) -> Matrix<T> {
        guard context.training, rate > 0 else { mask = nil; return x }
        self.batchSize = batchSize
        let maskCount: Int
        switch kind {
        case .variational: maskCount = batchSize * x.columns
        case .word: maskCount = x.rows
        default: maskCount = x.count
        }
        let m = context.arena.allocate(maskCount, of: T.self)
        fillDropoutMask(m, count: maskCount, rate: rate, generator: &context.dropoutGenerator)
        mask = m
        return apply(m, to: x, context: context)
    }

    /// dy → dx: the same mask applied to the gradient.
    public func backward(_ dy: Matrix<T>, context: StepContext) -> Matrix<T> {
        guard let mask else { return dy }
        return apply(mask, to: dy, context: context)
    }

    private func apply(_ m: UnsafeMutablePointer<T>, to x: Matrix<T>, context: StepContext) -> Matrix<T> {
        let y = context.arena.matrix(x.rows, x.columns, of: T.self)
        let d = x.columns
        switch kind {
        case .variational:
            for r in 0..<x.rows { multiply(d, x.row(r), m + (r % batchSize) * d, into: y.row(r)) }
        case .word:
            for r in 0..<x.rows {
                y.row(r).update(from: x.row(r), count: d)
                scale(d, m[r], y.row(r))
            }
        default:
            multiply(x.count, x.base, m, into: y.base)
        }
        return y
    }
}
