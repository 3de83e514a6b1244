import HarnessComponents

/// `lstm-layernorm`: stacked layer-normalised LSTM layers (Ba, Kiros & Hinton 2016,
/// "Layer Normalization", §3.1 and eq. 20–22), a recurrent component written outside the
/// harness: this file is the whole of it. `Harness.main(registering:)` adds
/// `LayerNormLSTMComponent.registryEntry` to the stock registry, and specs name it as
/// `model.recurrent: {type: lstm-layernorm, …}` next to `lstm` and `gru`.
public struct LayerNormLSTMComponent: RecurrentComponent, Equatable {
    public var layers: Int
    /// H, the cell size.
    public var hiddenSize: Int
    public var residual: Bool
    /// ε under the square root of every normalisation's variance.
    public var epsilon: Double

    public init(layers: Int, hiddenSize: Int, residual: Bool = false, epsilon: Double = 1e-5) {
        self.layers = layers
        self.hiddenSize = hiddenSize
        self.residual = residual
        self.epsilon = epsilon
    }

    public var type: String { "lstm-layernorm" }
    public var outputSize: Int { hiddenSize }
    public var supportsWeightDrop: Bool { false }

    public func makeLayer<T: Scalar>(_ name: String, index: Int, inputSize: Int, weightDrop: Double,
                                     initScale: Double) -> any RecurrentLayer<T> {
        LayerNormLSTMLayer<T>(name, component: self, inputSize: inputSize, initScale: initScale)
    }

    /// 4H·(D + H): the gates' input and hidden products (the normalisations are O(H)).
    public func multiplyAdds(inputSize: Int) -> Int { 4 * hiddenSize * (inputSize + hiddenSize) }

    /// The registry entry: the `type:` name, a summary for `harness components`, and the
    /// keys it reads (unknown keys are refused by the registry with their line and column).
    public static let registryEntry = Component<any RecurrentComponent>(
        "lstm-layernorm", summary: "layer-normalised LSTM layers (Ba et al. 2016)"
    ) { r in
        LayerNormLSTMComponent(layers: r.int("layers", default: 2, range: 1...16, doc: "stacked layers"),
                               hiddenSize: r.int("hidden", default: nil, range: 1...65_536, doc: "cell size H"),
                               residual: r.bool("residual", default: false, doc: "add each layer's input from layer 2 on"),
                               epsilon: r.double("epsilon", default: 1e-5, range: 1e-12...1, doc: "added to each variance"))
    }
}

/// One layer-normalised LSTM layer, Ba et al. (2016) eq. 20–22, gate order i, f, g, o:
///
///     [i f g o] = LN(x_t·W_xᵀ; α_x) + LN(h_{t−1}·W_hᵀ; α_h) + b
///     c_t = σ(f) ⊙ c_{t−1} + σ(i) ⊙ tanh(g)
///     h_t = σ(o) ⊙ tanh(LN(c_t; α_c, β_c))
///
/// LN(z; α, β) = α ⊙ (z − mean z) / √(var z + ε) + β over the units of one row (all 4H
/// gate units together, as in the paper; the gate normalisations' β are folded into b).
/// The input products of all timesteps are one GEMM, the hidden product one per step;
/// the normalisations run row by row in scalar loops (clear rather than fast).
///
/// Shapes: x (T·B, D) time-major → h (T·B, H); W_x (4H, D), W_h (4H, H), b (1, 4H),
/// α_x, α_h (1, 4H) starting at 1, α_c (1, H) at 1, β_c (1, H) at 0.
public final class LayerNormLSTMLayer<T: Scalar>: RecurrentLayer {
    public let inputSize: Int, hiddenSize: Int
    public let inputWeight: Parameter<T>, recurrentWeight: Parameter<T>, bias: Parameter<T>
    public let inputGain: Parameter<T>, recurrentGain: Parameter<T>, cellGain: Parameter<T>, cellBias: Parameter<T>
    private let epsilon: T

    // Cache of the last forward pass, in the step's arena.
    private var steps = 0, batchSize = 0
    private var input: Matrix<T>!             // (T·B, D)
    private var inputNormed: Matrix<T>!       // (T·B, 4H) normalised x·W_xᵀ
    private var recurrentNormed: Matrix<T>!   // (T·B, 4H) normalised h·W_hᵀ
    private var gates: Matrix<T>!             // (T·B, 4H) σ(i), σ(f), tanh(g), σ(o)
    private var cells: Matrix<T>!             // ((T+1)·B, H): block 0 = c_{−1}, block t+1 = c_t
    private var cellNormed: Matrix<T>!        // (T·B, H) normalised c_t
    private var cellTanh: Matrix<T>!          // (T·B, H) tanh(LN(c_t))
    private var inverseDeviations: Matrix<T>! // (T·B, 3): 1/√(var + ε) of the input, hidden and cell rows
    private var outputs: Matrix<T>!           // ((T+1)·B, H): block 0 = h_{−1}, block t+1 = h_t

    public init(_ name: String, component: LayerNormLSTMComponent, inputSize: Int, initScale: Double) {
        let h = component.hiddenSize
        self.inputSize = inputSize
        hiddenSize = h
        epsilon = T(component.epsilon)
        inputWeight = Parameter("\(name).input_weight", rows: 4 * h, columns: inputSize, initializer: .uniform(scale: initScale))
        recurrentWeight = Parameter("\(name).recurrent_weight", rows: 4 * h, columns: h, initializer: .uniform(scale: initScale))
        bias = Parameter("\(name).bias", rows: 1, columns: 4 * h, initializer: .zeros)
        inputGain = Parameter("\(name).input_gain", rows: 1, columns: 4 * h, initializer: .piecewise([.init(4 * h, 1)]))
        recurrentGain = Parameter("\(name).recurrent_gain", rows: 1, columns: 4 * h, initializer: .piecewise([.init(4 * h, 1)]))
        cellGain = Parameter("\(name).cell_gain", rows: 1, columns: h, initializer: .piecewise([.init(h, 1)]))
        cellBias = Parameter("\(name).cell_bias", rows: 1, columns: h, initializer: .zeros)
    }

    public var outputSize: Int { hiddenSize }
    public var cellSize: Int { hiddenSize }
    public var parameters: [Parameter<T>] {
        [inputWeight, recurrentWeight, bias, inputGain, recurrentGain, cellGain, cellBias]
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forward(_ x: Matrix<T>, steps: Int, batchSize b: Int, state: RecurrentState<T>?, context: StepContext) -> Matrix<T> {
        let h = hiddenSize, arena = context.arena
        precondition(x.rows == steps * b && x.columns == inputSize, "input (\(x.rows), \(x.columns)) is not (\(steps)·\(b), \(inputSize))")
        self.steps = steps
        batchSize = b
        input = x
        inputNormed = arena.matrix(steps * b, 4 * h, of: T.self)
        recurrentNormed = arena.matrix(steps * b, 4 * h, of: T.self)
        gates = arena.matrix(steps * b, 4 * h, of: T.self)
        cells = arena.matrix((steps + 1) * b, h, of: T.self)
        cellNormed = arena.matrix(steps * b, h, of: T.self)
        cellTanh = arena.matrix(steps * b, h, of: T.self)
        inverseDeviations = arena.matrix(steps * b, 3, of: T.self)
        outputs = arena.matrix((steps + 1) * b, h, of: T.self)
        if let state {
            outputs.base.update(from: state.h.base, count: b * h)
            cells.base.update(from: state.c.base, count: b * h)
        } else {
            outputs.base.update(repeating: 0, count: b * h)
            cells.base.update(repeating: 0, count: b * h)
        }
        gemm(x, inputWeight.value, into: inputNormed, transposeB: true, batchInvariant: context.batchInvariant)
        for row in 0..<steps * b {
            inverseDeviations[row, 0] = normalize(inputNormed.row(row), count: 4 * h)
        }
        let (ax, ah, ac, bc, bg) = (inputGain.value.base, recurrentGain.value.base, cellGain.value.base, cellBias.value.base,
                                    bias.value.base)
        for t in 0..<steps {
            let step = recurrentNormed.rows(t * b ..< (t + 1) * b)
            gemm(outputs.rows(t * b ..< (t + 1) * b), recurrentWeight.value, into: step, transposeB: true,
                 batchInvariant: context.batchInvariant)
            for r in 0..<b {
                let row = t * b + r
                inverseDeviations[row, 1] = normalize(recurrentNormed.row(row), count: 4 * h)
                let g = gates.row(row), nx = inputNormed.row(row), nh = recurrentNormed.row(row)
                for j in 0..<4 * h {
                    let z = ax[j] * nx[j] + ah[j] * nh[j] + bg[j]
                    g[j] = j >= 2 * h && j < 3 * h ? T.tanh(z) : 1 / (1 + T.exp(-z))
                }
                let previous = cells.row(row), cell = cells.row(row + b), normed = cellNormed.row(row)
                for j in 0..<h { cell[j] = g[h + j] * previous[j] + g[j] * g[2 * h + j] }
                normed.update(from: cell, count: h)
                inverseDeviations[row, 2] = normalize(normed, count: h)
                let tanhCell = cellTanh.row(row), out = outputs.row(row + b)
                for j in 0..<h {
                    tanhCell[j] = T.tanh(ac[j] * normed[j] + bc[j])
                    out[j] = g[3 * h + j] * tanhCell[j]
                }
            }
        }
        if let state, steps > 0 {
            state.h.base.update(from: outputs.row(steps * b), count: b * h)
            state.c.base.update(from: cells.row(steps * b), count: b * h)
        }
        return outputs.rows(b ..< (steps + 1) * b)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func backward(_ dy: Matrix<T>, context: StepContext) -> Matrix<T> {
        let h = hiddenSize, b = batchSize, arena = context.arena
        let dOutputs = arena.matrix(steps * b, h, of: T.self)
        dOutputs.base.update(from: dy.base, count: dy.count)
        let dInput = arena.matrix(steps * b, 4 * h, of: T.self)       // ∂L/∂(x·W_xᵀ)
        let dRecurrent = arena.matrix(steps * b, 4 * h, of: T.self)   // ∂L/∂(h·W_hᵀ)
        let dCellNext = arena.matrix(b, h, zeroed: true, of: T.self)  // ∂L/∂c_t from step t+1
        let dGate = arena.allocate(4 * h, of: T.self), dNormed = arena.allocate(4 * h, of: T.self)
        let (ax, ah, ac) = (inputGain.value.base, recurrentGain.value.base, cellGain.value.base)
        let (dax, dah, dac, dbc, dbg) = (inputGain.gradient.base, recurrentGain.gradient.base, cellGain.gradient.base,
                                         cellBias.gradient.base, bias.gradient.base)
        for t in stride(from: steps - 1, through: 0, by: -1) {
            for r in 0..<b {
                let row = t * b + r
                let g = gates.row(row), dh = dOutputs.row(row), dc = dCellNext.row(r)
                let normed = cellNormed.row(row), tanhCell = cellTanh.row(row), previous = cells.row(row)
                // h = σ(o) ⊙ tanh(α_c ⊙ ĉ + β_c)
                for j in 0..<h {
                    let o = g[3 * h + j], tc = tanhCell[j]
                    dGate[3 * h + j] = dh[j] * tc * o * (1 - o)
                    let dPre = dh[j] * o * (1 - tc * tc)
                    dac[j] += dPre * normed[j]
                    dbc[j] += dPre
                    dNormed[j] = dPre * ac[j]
                }
                // c = σ(f) ⊙ c_{t−1} + σ(i) ⊙ tanh(g), plus the normalisation of c.
                normalizeBackward(dNormed, normed: normed, inverseDeviation: inverseDeviations[row, 2], count: h)
                for j in 0..<h {
                    let i = g[j], f = g[h + j], gg = g[2 * h + j]
                    let dCell = dc[j] + dNormed[j]
                    dGate[j] = dCell * gg * i * (1 - i)
                    dGate[h + j] = dCell * previous[j] * f * (1 - f)
                    dGate[2 * h + j] = dCell * i * (1 - gg * gg)
                    dc[j] = dCell * f
                }
                // [i f g o] = α_x ⊙ x̂ + α_h ⊙ ĥ + b
                let nx = inputNormed.row(row), nh = recurrentNormed.row(row)
                let dx = dInput.row(row), dr = dRecurrent.row(row)
                for j in 0..<4 * h {
                    dbg[j] += dGate[j]
                    dax[j] += dGate[j] * nx[j]
                    dah[j] += dGate[j] * nh[j]
                    dx[j] = dGate[j] * ax[j]
                    dr[j] = dGate[j] * ah[j]
                }
                normalizeBackward(dx, normed: nx, inverseDeviation: inverseDeviations[row, 0], count: 4 * h)
                normalizeBackward(dr, normed: nh, inverseDeviation: inverseDeviations[row, 1], count: 4 * h)
            }
            if t > 0 {
                gemm(dRecurrent.rows(t * b ..< (t + 1) * b), recurrentWeight.value, into: dOutputs.rows((t - 1) * b ..< t * b),
                     accumulate: true)
            }
        }
        gemm(dRecurrent, outputs.rows(0 ..< steps * b), into: recurrentWeight.gradient, transposeA: true, accumulate: true)
        gemm(dInput, input, into: inputWeight.gradient, transposeA: true, accumulate: true)
        let dx = arena.matrix(steps * b, inputSize, of: T.self)
        gemm(dInput, inputWeight.value, into: dx)
        return dx
    }

    /// z ← (z − mean z) / √(var z + ε) in place over `count` values; returns 1/√(var z + ε).
    private func normalize(_ z: UnsafeMutablePointer<T>, count: Int) -> T {
        var mean: T = 0
        for j in 0..<count { mean += z[j] }
        mean /= T(count)
        var variance: T = 0
        for j in 0..<count { variance += (z[j] - mean) * (z[j] - mean) }
        variance /= T(count)
        let inverse = 1 / (variance + epsilon).squareRoot()
        for j in 0..<count { z[j] = (z[j] - mean) * inverse }
        return inverse
    }

    /// dẑ → dz in place for ẑ = normalize(z): dz = (dẑ − mean dẑ − ẑ ⊙ mean(dẑ ⊙ ẑ)) / √(var + ε).
    private func normalizeBackward(_ d: UnsafeMutablePointer<T>, normed: UnsafeMutablePointer<T>, inverseDeviation: T, count: Int) {
        var meanD: T = 0, meanDN: T = 0
        for j in 0..<count {
            meanD += d[j]
            meanDN += d[j] * normed[j]
        }
        meanD /= T(count)
        meanDN /= T(count)
        for j in 0..<count { d[j] = (d[j] - meanD - normed[j] * meanDN) * inverseDeviation }
    }
}
