import HarnessKernels

/// y = x·Wᵀ + b, the affine map used for the char-CNN's output projection.
///
/// - W: (out, in), b: (1, out); x: (N, in) → y: (N, out).
public final class Linear<T: Scalar> {
    public let weight: Parameter<T>
    public let bias: Parameter<T>
    private var input: Matrix<T>!

    public init(_ name: String, inputSize: Int, outputSize: Int, initScale: Double) {
        weight = Parameter("\(name).weight", rows: outputSize, columns: inputSize, initializer: .uniform(scale: initScale))
        bias = Parameter("\(name).bias", rows: 1, columns: outputSize, initializer: .uniform(scale: initScale))
    }

    public var parameters: [Parameter<T>] { [weight, bias] }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forward(_ x: Matrix<T>, context: StepContext) -> Matrix<T> {
        input = x
        let y = context.arena.matrix(x.rows, weight.rows, of: T.self)
        gemm(x, weight.value, into: y, transposeB: true, batchInvariant: context.batchInvariant)
        addRowVector(bias.value.base, to: y)
        return y
    }

    /// Accumulates dW, db; returns dx.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func backward(_ dy: Matrix<T>, context: StepContext) -> Matrix<T> {
        gemm(dy, input, into: weight.gradient, transposeA: true, accumulate: true)
        accumulateColumnSums(of: dy, into: bias.gradient.base)
        let dx = context.arena.matrix(dy.rows, weight.columns, of: T.self)
        gemm(dy, weight.value, into: dx)
        return dx
    }
}
