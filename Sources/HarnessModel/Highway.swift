import HarnessKernels

/// A highway layer (Srivastava et al. 2015) as in Kim et al. 2016 and bilm-tf:
///   n = relu(x·W_nᵀ + b_n),  g = σ(x·W_gᵀ + b_g),  y = g ⊙ n + (1 − g) ⊙ x.
/// The transform-gate bias starts at −2 so the layer first carries its input through.
///
/// - W: (2F, F), rows 0..<F the transform, F..<2F the gate; b: (1, 2F).
/// - x: (N, F) → y: (N, F).
public final class Highway<T: Scalar> {
    public let weight: Parameter<T>
    public let bias: Parameter<T>
    public let size: Int
    private var input: Matrix<T>!
    private var transformAndGate: Matrix<T>!   // (N, 2F): n and g after their nonlinearities

    public init(_ name: String, size: Int, initScale: Double) {
        self.size = size
        weight = Parameter("\(name).weight", rows: 2 * size, columns: size, initializer: .uniform(scale: initScale))
        bias = Parameter("\(name).bias", rows: 1, columns: 2 * size,
                         initializer: .piecewise([.init(size, 0), .init(size, -2)]))
    }

    public var parameters: [Parameter<T>] { [weight, bias] }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forward(_ x: Matrix<T>, context: StepContext) -> Matrix<T> {
        let f = size
        input = x
        let z = context.arena.matrix(x.rows, 2 * f, of: T.self)
        gemm(x, weight.value, into: z, transposeB: true, batchInvariant: context.batchInvariant)
        addRowVector(bias.value.base, to: z)
        let y = context.arena.matrix(x.rows, f, of: T.self)
        for r in 0..<x.rows {
            let zr = z.row(r), xr = x.row(r), yr = y.row(r)
            sigmoidInPlace(f, zr + f)
            for j in 0..<f {
                let n = max(zr[j], 0)
                zr[j] = n
                let g = zr[f + j]
                yr[j] = g * n + (1 - g) * xr[j]
            }
        }
        transformAndGate = z
        return y
    }

    /// Accumulates dW, db; returns dx.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func backward(_ dy: Matrix<T>, context: StepContext) -> Matrix<T> {
        let f = size
        let dz = context.arena.matrix(dy.rows, 2 * f, of: T.self)
        let dx = context.arena.matrix(dy.rows, f, of: T.self)
        for r in 0..<dy.rows {
            let z = transformAndGate.row(r), x = input.row(r), d = dy.row(r)
            let dzr = dz.row(r), dxr = dx.row(r)
            for j in 0..<f {
                let n = z[j], g = z[f + j]
                dxr[j] = d[j] * (1 - g)
                dzr[j] = n > 0 ? d[j] * g : 0
                dzr[f + j] = d[j] * (n - x[j]) * g * (1 - g)
            }
        }
        gemm(dz, input, into: weight.gradient, transposeA: true, accumulate: true)
        accumulateColumnSums(of: dz, into: bias.gradient.base)
        gemm(dz, weight.value, into: dx, accumulate: true)
        return dx
    }
}
