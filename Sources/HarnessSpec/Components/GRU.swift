import HarnessKernels
import HarnessModel

/// `gru`: stacked GRU layers (Cho et al. 2014, "Learning Phrase Representations using RNN
/// Encoder–Decoder"), a recurrent component with three gates instead of the LSTM's four
/// and no cell state.
public struct GRUComponent: RecurrentComponent, Equatable {
    public var layers: Int
    public var hiddenSize: Int
    public var residual: Bool
    /// How b_x and b_h start: zeros (TensorFlow's GRU cells) or U(±init_scale), as the
    /// PyTorch peer draws every parameter (`nn.GRU` itself draws them from U(±1/√H)).
    public var biasInit: BiasInit

    public init(layers: Int, hiddenSize: Int, residual: Bool, biasInit: BiasInit = .zeros) {
        self.layers = layers
        self.hiddenSize = hiddenSize
        self.residual = residual
        self.biasInit = biasInit
    }

    public var type: String { "gru" }
    public var outputSize: Int { hiddenSize }
    public var supportsWeightDrop: Bool { false }

    public func makeLayer<T: Scalar>(_ name: String, index: Int, inputSize: Int, weightDrop: Double,
                                     initScale: Double) -> any RecurrentLayer<T> {
        GRULayer<T>(name, inputSize: inputSize, hiddenSize: hiddenSize, biasInit: biasInit, initScale: initScale)
    }

    /// 3H·(D + H): the three gates' input and hidden products.
    public func multiplyAdds(inputSize: Int) -> Int { 3 * hiddenSize * (inputSize + hiddenSize) }
}

extension Component where Product == any RecurrentComponent {
    static let gru = Component("gru", summary: "GRU layers (Cho et al. 2014), PyTorch nn.GRU's equations") { r in
        GRUComponent(layers: r.int("layers", default: 2, range: 1...16, doc: "stacked layers"),
                     hiddenSize: r.int("hidden", default: nil, range: 1...65_536, doc: "state size H"),
                     residual: r.bool("residual", default: false, doc: "add each layer's input from layer 2 on"),
                     biasInit: r.choice("bias_init", default: BiasInit.zeros,
                                        doc: "the biases' start: zeros (TensorFlow's GRU) or uniform in ±model.init_scale (the PyTorch peer's nn.GRU)"))
    }
}

/// One GRU layer with PyTorch's `nn.GRU` equations, gate order r, z, n:
///
///     [r z n]ₓ = x_t·W_xᵀ + b_x            [r z n]ₕ = h_{t−1}·W_hᵀ + b_h
///     r = σ(rₓ + rₕ)     z = σ(zₓ + zₕ)
///     n = tanh(nₓ + r ⊙ nₕ)                 the reset gate scales W_hn·h + b_hn, after the product
///     h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
///
/// (Cho et al. apply r before the product, n = tanh(W_n x + U_n (r ⊙ h)); PyTorch, cuDNN and
/// this layer after it, which lets the hidden products of all three gates be one GEMM.)
/// The input products of all timesteps are one GEMM, and so is each weight gradient; only
/// h_{t−1}·W_hᵀ runs per step, on packed panels. The gate math is fused per row in SIMD
/// registers; every buffer comes from the step's arena.
///
/// Shapes: x (T·B, D) time-major → h (T·B, H); W_x (3H, D), W_h (3H, H), b_x (1, 3H),
/// b_h (1, 3H) (PyTorch's weight_ih, weight_hh, bias_ih, bias_hh).
public final class GRULayer<T: Scalar>: RecurrentLayer {
    public let inputSize: Int, hiddenSize: Int
    public let inputWeight: Parameter<T>       // W_x (3H, D)
    public let recurrentWeight: Parameter<T>   // W_h (3H, H)
    public let inputBias: Parameter<T>         // b_x (1, 3H)
    public let recurrentBias: Parameter<T>     // b_h (1, 3H)

    // Cache of the last forward pass.
    private var steps = 0, batchSize = 0
    private var input: Matrix<T>!      // (T·B, D)
    private var gates: Matrix<T>!      // (T·B, 3H): r, z, n after σ / tanh
    private var hiddenN: Matrix<T>!    // (T·B, H): nₕ = h_{t−1}·W_hnᵀ + b_hn
    private var outputs: Matrix<T>!    // ((T+1)·B, H): block 0 = h_{−1}, block t+1 = h_t

    /// `biasInit`: b_x and b_h zero, or drawn from U(±`initScale`) after the weights.
    public init(_ name: String, inputSize: Int, hiddenSize: Int, biasInit: BiasInit = .zeros, initScale: Double) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        inputWeight = Parameter("\(name).input_weight", rows: 3 * hiddenSize, columns: inputSize, initializer: .uniform(scale: initScale))
        recurrentWeight = Parameter("\(name).recurrent_weight", rows: 3 * hiddenSize, columns: hiddenSize,
                                    initializer: .uniform(scale: initScale))
        let bias: Initializer = biasInit == .uniform ? .uniform(scale: initScale) : .zeros
        inputBias = Parameter("\(name).input_bias", rows: 1, columns: 3 * hiddenSize, initializer: bias)
        recurrentBias = Parameter("\(name).recurrent_bias", rows: 1, columns: 3 * hiddenSize, initializer: bias)
    }

    public var outputSize: Int { hiddenSize }
    public var cellSize: Int { 0 }
    public var parameters: [Parameter<T>] { [inputWeight, recurrentWeight, inputBias, recurrentBias] }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forward(_ x: Matrix<T>, steps: Int, batchSize: Int, state: RecurrentState<T>?, context: StepContext) -> Matrix<T> {
        let h = hiddenSize, b = batchSize
        precondition(x.rows == steps * b && x.columns == inputSize, "GRU input (\(x.rows), \(x.columns)) is not (\(steps)·\(b), \(inputSize))")
        let arena = context.arena
        self.steps = steps
        self.batchSize = b
        input = x
        gates = arena.matrix(steps * b, 3 * h, of: T.self)
        hiddenN = arena.matrix(steps * b, h, of: T.self)
        outputs = arena.matrix((steps + 1) * b, h, of: T.self)
        if let state { outputs.base.update(from: state.h.base, count: b * h) } else { outputs.base.update(repeating: 0, count: b * h) }
        let recurrent = packedRecurrentWeight(transposed: true, context: context)
        let hiddenGates = arena.matrix(b, 3 * h, of: T.self)

        gemm(x, inputWeight.value, into: gates, transposeB: true, batchInvariant: context.batchInvariant)
        addRowVector(inputBias.value.base, to: gates)
        for t in 0..<steps {
            for r in 0..<b { hiddenGates.row(r).update(from: recurrentBias.value.base, count: 3 * h) }
            gemm(outputs.rows(t * b ..< (t + 1) * b), recurrent, into: hiddenGates, accumulate: true)
            for r in 0..<b {
                GRUCellKernels.forward(hidden: h, gates: gates.row(t * b + r), hiddenGates: hiddenGates.row(r),
                                       hiddenN: hiddenN.row(t * b + r), previous: outputs.row(t * b + r),
                                       output: outputs.row((t + 1) * b + r), variant: context.kernelVariant)
            }
        }
        if let state, steps > 0 { state.h.base.update(from: outputs.row(steps * b), count: b * h) }
        return outputs.rows(b ..< (steps + 1) * b)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func backward(_ dy: Matrix<T>, context: StepContext) -> Matrix<T> {
        let h = hiddenSize, b = batchSize
        let arena = context.arena
        let dOutputs = arena.matrix(steps * b, h, of: T.self)
        dOutputs.base.update(from: dy.base, count: dy.count)
        let dInputGates = arena.matrix(steps * b, 3 * h, of: T.self)    // ∂L/∂[r z n]ₓ
        let dHiddenGates = arena.matrix(steps * b, 3 * h, of: T.self)   // ∂L/∂[r z n]ₕ
        let recurrent = packedRecurrentWeight(transposed: false, context: context)
        for t in stride(from: steps - 1, through: 0, by: -1) {
            for r in 0..<b {
                GRUCellKernels.backward(hidden: h, gates: gates.row(t * b + r), hiddenN: hiddenN.row(t * b + r),
                                        previous: outputs.row(t * b + r), dOutput: dOutputs.row(t * b + r),
                                        dPrevious: t > 0 ? dOutputs.row((t - 1) * b + r) : nil, dInputGates: dInputGates.row(t * b + r),
                                        dHiddenGates: dHiddenGates.row(t * b + r), variant: context.kernelVariant)
            }
            if t > 0 {
                gemm(dHiddenGates.rows(t * b ..< (t + 1) * b), recurrent, into: dOutputs.rows((t - 1) * b ..< t * b), accumulate: true)
            }
        }
        gemm(dHiddenGates, outputs.rows(0 ..< steps * b), into: recurrentWeight.gradient, transposeA: true, accumulate: true)
        accumulateColumnSums(of: dHiddenGates, into: recurrentBias.gradient.base)
        gemm(dInputGates, input, into: inputWeight.gradient, transposeA: true, accumulate: true)
        accumulateColumnSums(of: dInputGates, into: inputBias.gradient.base)
        let dx = arena.matrix(steps * b, inputSize, of: T.self)
        gemm(dInputGates, inputWeight.value, into: dx)
        return dx
    }

    /// W_h as op(b) of the per-timestep products, packed once for all T steps where OpenBLAS
    /// runs single-threaded (`PackedMatrix`), as the LSTM does.
    private func packedRecurrentWeight(transposed: Bool, context: StepContext) -> PackedMatrix<T> {
        let pack = PackedMatrix<T>.shouldPack(batchInvariant: context.batchInvariant, override: context.packsWeights)
        return PackedMatrix(recurrentWeight.value, transposed: transposed, arena: context.arena, pack: pack, variant: context.kernelVariant)
    }
}
