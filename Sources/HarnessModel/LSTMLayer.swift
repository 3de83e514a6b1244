import HarnessKernels

/// `lstm` and `lstm-projected`: stacked LSTM layers, plain or with a projection and
/// cell/projection clipping (LSTMP, the recurrent component of ELMo's biLM). Builds
/// `LSTMLayer`s; the spec keys are read in `HarnessSpec/Components/LSTMComponents.swift`.
public struct LSTMComponent: RecurrentComponent, Equatable {
    public var layers: Int
    /// H, the cell size.
    public var hiddenSize: Int
    /// P; nil: no projection, the output is the H-dimensional hidden state.
    public var projectionSize: Int?
    /// Clamps the cell state to ±cellClip (bilm-tf's `cell_clip`).
    public var cellClip: Double?
    /// Clamps the projection to ±projectionClip (bilm-tf's `proj_clip`); needs a projection.
    public var projectionClip: Double?
    public var residual: Bool
    /// Initial bias of every layer's forget gate: 1 is TensorFlow's `forget_bias`
    /// (bilm-tf, Jozefowicz et al. 2015); PyTorch's `nn.LSTM` starts near 0.
    public var forgetBias: Double
    /// How the biases start besides `forgetBias`: zeros (bilm-tf) or U(±init_scale).
    public var biasInit: BiasInit
    /// A second bias b_h on the recurrent product, trained alongside b: PyTorch's
    /// `nn.LSTM` (`bias_ih` and `bias_hh`) and Torch's LSTMs (the `i2h` and `h2h` Linear
    /// layers of Zaremba's and Kim's code) have both. Their sum is the gate bias, and it
    /// moves twice as fast as one bias would under SGD (each gets the same gradient).
    public var recurrentBias: Bool

    public init(layers: Int, hiddenSize: Int, projectionSize: Int? = nil, cellClip: Double? = nil,
                projectionClip: Double? = nil, residual: Bool = false, forgetBias: Double = 1,
                biasInit: BiasInit = .zeros, recurrentBias: Bool = false) {
        self.layers = layers
        self.hiddenSize = hiddenSize
        self.projectionSize = projectionSize
        self.cellClip = cellClip
        self.projectionClip = projectionClip
        self.residual = residual
        self.forgetBias = forgetBias
        self.biasInit = biasInit
        self.recurrentBias = recurrentBias
    }

    public var type: String { projectionSize == nil ? "lstm" : "lstm-projected" }
    public var outputSize: Int { projectionSize ?? hiddenSize }
    public var supportsWeightDrop: Bool { true }

    public func makeLayer<T: Scalar>(_ name: String, index: Int, inputSize: Int, weightDrop: Double,
                                     initScale: Double) -> any RecurrentLayer<T> {
        LSTMLayer<T>(name, component: self, inputSize: inputSize, weightDrop: weightDrop, initScale: initScale)
    }

    /// 4H·(D + P) for the gates, H·P for the projection.
    public func multiplyAdds(inputSize: Int) -> Int {
        4 * hiddenSize * (inputSize + outputSize) + (projectionSize.map { hiddenSize * $0 } ?? 0)
    }
}

/// One LSTM layer (Hochreiter & Schmidhuber 1997), optionally with a projection of the
/// output and clipping of the cell state and of the projection (LSTMP: Sak et al. 2014;
/// the `LSTMCell(num_proj, cell_clip, proj_clip)` of bilm-tf):
///
///     [i f g o] = x_t·W_xᵀ + h_{t−1}·W_hᵀ + b          gate order i, f, g, o
///     c_t = clamp(σ(f) ⊙ c_{t−1} + σ(i) ⊙ tanh(g), ±cell_clip)
///     h_t = clamp((σ(o) ⊙ tanh(c_t))·W_pᵀ, ±proj_clip)   (no projection: h_t = σ(o) ⊙ tanh(c_t))
///
/// Clipping acts on the state values, and its gradient is zero where it clamped.
/// The input projection of all timesteps is one GEMM, and so is each weight gradient;
/// only h_{t−1}·W_hᵀ (and the projection) run per step.
///
/// Shapes: x (T·B, D) time-major → h (T·B, P); W_x (4H, D), W_h (4H, P), b (1, 4H),
/// W_p (P, H); P = H without projection. With `recurrentBias`, b = b_x + b_h, two
/// parameters (PyTorch's `bias_ih` and `bias_hh`).
public final class LSTMLayer<T: Scalar>: RecurrentLayer {
    /// The layer's hyperparameters (its `layers` and `residual` concern the stack).
    public let component: LSTMComponent
    /// D, the width of x.
    public let inputSize: Int
    /// DropConnect rate on W_h during training (`weight-drop`).
    public let weightDrop: Double
    public let inputWeight: Parameter<T>        // W_x (4H, D)
    public let recurrentWeight: Parameter<T>    // W_h (4H, P)
    public let bias: Parameter<T>               // b (1, 4H); b_x with a recurrent bias
    public let recurrentBias: Parameter<T>?     // b_h (1, 4H)
    public let projectionWeight: Parameter<T>?  // W_p (P, H)

    private let cellClip: T?
    private let projectionClip: T?

    // Cache of the last forward pass.
    private var steps = 0, batchSize = 0
    private var input: Matrix<T>!            // (T·B, D)
    private var gates: Matrix<T>!            // (T·B, 4H) after σ / tanh
    private var cellRaw: Matrix<T>!          // (T·B, H) before the cell clip
    private var cellTanh: Matrix<T>!         // (T·B, H) tanh(c_t)
    private var hidden: Matrix<T>!           // (T·B, H) σ(o) ⊙ tanh(c): pre-projection (projection only)
    private var projectionRaw: Matrix<T>!    // (T·B, P) before the projection clip
    private var outputs: Matrix<T>!          // ((T+1)·B, P): block 0 = h_{−1}, block t+1 = h_t
    private var initialCell: Matrix<T>!      // (B, H)
    private var effectiveRecurrent: Matrix<T>!  // W_h, or W_h ⊙ mask under weight-drop
    private var recurrentMask: UnsafeMutablePointer<T>?
    /// op(b) of the input, recurrent and projection products, packed once by
    /// `prepareForInference` (the plain values are then released).
    private var inferenceWeights: (input: PackedWeights<T>, recurrent: PackedWeights<T>, projection: PackedWeights<T>?)?

    public init(_ name: String, component: LSTMComponent, inputSize: Int, weightDrop: Double = 0, initScale: Double) {
        let h = component.hiddenSize, p = component.outputSize
        self.component = component
        self.inputSize = inputSize
        self.weightDrop = weightDrop
        inputWeight = Parameter("\(name).input_weight", rows: 4 * h, columns: inputSize,
                                initializer: .uniform(scale: initScale))
        recurrentWeight = Parameter("\(name).recurrent_weight", rows: 4 * h, columns: p,
                                    initializer: .uniform(scale: initScale))
        // Zeros or U(±init_scale), plus the forget gate's offset on b (b_x).
        let forget: [Initializer.Run] = [.init(h, 0), .init(h, component.forgetBias), .init(2 * h, 0)]
        let uniform = component.biasInit == .uniform
        bias = Parameter("\(name).bias", rows: 1, columns: 4 * h,
                         initializer: uniform ? .uniformPlus(scale: initScale, forget) : .piecewise(forget))
        recurrentBias = component.recurrentBias ? Parameter("\(name).recurrent_bias", rows: 1, columns: 4 * h,
                                                            initializer: uniform ? .uniform(scale: initScale) : .zeros) : nil
        projectionWeight = component.projectionSize.map {
            Parameter("\(name).projection_weight", rows: $0, columns: h, initializer: .uniform(scale: initScale))
        }
        cellClip = component.cellClip.map { T($0) }
        projectionClip = component.projectionClip.map { T($0) }
        precondition(component.projectionClip == nil || component.projectionSize != nil,
                     "a projection clip needs a projection")
    }

    public var outputSize: Int { component.outputSize }
    public var cellSize: Int { component.hiddenSize }
    public var parameters: [Parameter<T>] {
        [inputWeight, recurrentWeight, bias] + (recurrentBias.map { [$0] } ?? []) + (projectionWeight.map { [$0] } ?? [])
    }

    /// x (T·B, D) → h (T·B, P). Starts from `state` (zeros when nil) and, when given,
    /// leaves the final h and c in it.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forward(_ x: Matrix<T>, steps: Int, batchSize: Int, state: RecurrentState<T>?,
                        context: StepContext) -> Matrix<T> {
        let h = component.hiddenSize, p = outputSize, b = batchSize
        precondition(x.rows == steps * batchSize && x.columns == inputSize,
                     "LSTM input (\(x.rows), \(x.columns)) is not (\(steps)·\(batchSize), \(inputSize))")
        if let live = context.liveRows, !context.training {
            return forwardOnly(x, steps: steps, batchSize: batchSize, liveRows: live, state: state, context: context)
        }
        precondition(inferenceWeights == nil, "\(inputWeight.name): a layer prepared for inference runs only forward passes with live rows")
        let arena = context.arena
        self.steps = steps
        self.batchSize = batchSize
        input = x
        gates = arena.matrix(steps * b, 4 * h, of: T.self)
        cellRaw = arena.matrix(steps * b, h, of: T.self)
        cellTanh = arena.matrix(steps * b, h, of: T.self)
        outputs = arena.matrix((steps + 1) * b, p, of: T.self)
        initialCell = arena.matrix(b, h, of: T.self)
        Self.start(from: state, output: outputs, cell: initialCell)
        if projectionWeight != nil {
            hidden = arena.matrix(steps * b, h, of: T.self)
            if projectionClip != nil { projectionRaw = arena.matrix(steps * b, p, of: T.self) }
        }
        prepareRecurrentWeight(context: context)
        let (recurrent, projection) = perStepWeights(transposed: true, context: context)

        // Input contribution of every timestep at once.
        gemm(x, inputWeight.value, into: gates, transposeB: true, batchInvariant: context.batchInvariant)
        addRowVector(gateBias(arena), to: gates)
        for t in 0..<steps {
            let g = gates.rows(t * b ..< (t + 1) * b)
            gemm(outputs.rows(t * b ..< (t + 1) * b), recurrent, into: g, accumulate: true)
            let cellOut = projectionWeight == nil ? outputs.rows((t + 1) * b ..< (t + 2) * b) : hidden.rows(t * b ..< (t + 1) * b)
            for r in 0..<b {
                let previous = t == 0 ? initialCell.row(r) : cellRaw.row((t - 1) * b + r)
                LSTMCellKernels.forward(hidden: h, gates: g.row(r), previousCell: previous, clipPrevious: t > 0, cellClip: cellClip,
                                        cell: cellRaw.row(t * b + r), cellTanh: cellTanh.row(t * b + r), hiddenOut: cellOut.row(r),
                                        variant: context.kernelVariant)
            }
            if let projection {
                let out = outputs.rows((t + 1) * b ..< (t + 2) * b)
                gemm(cellOut, projection, into: out)
                if let projectionClip {
                    projectionRaw.rows(t * b ..< (t + 1) * b).base.update(from: out.base, count: out.count)
                    clamp(out.count, out.base, limit: projectionClip)
                }
            }
        }
        if let state, steps > 0 {
            state.h.base.update(from: outputs.row(steps * b), count: b * p)
            state.c.base.update(from: cellRaw.row((steps - 1) * b), count: b * h)
            if let cellClip { clamp(b * h, state.c.base, limit: cellClip) }
        }
        return outputs.rows(b ..< (steps + 1) * b)
    }

    /// The forward pass when no backward pass follows (`StepContext.liveRows`): at step t
    /// only rows 0 ..< liveRows[t] are computed, the output's padding rows are zero, and
    /// instead of every step's gates and cells it keeps one block of `chunkRows` rows of
    /// input contributions and two rows of cells, so that memory does not grow with the
    /// batch's length (an Original-size ELMo layer holds 64 KB of gates per row). Every
    /// computed row has the bits of `forward` under `batchInvariant`: the same kernels on
    /// the same rows, in the same order.
    private func forwardOnly(_ x: Matrix<T>, steps: Int, batchSize b: Int, liveRows: [Int], state: RecurrentState<T>?,
                             context: StepContext) -> Matrix<T> {
        let h = component.hiddenSize, p = outputSize
        precondition(liveRows.count == steps && zip(liveRows, liveRows.dropFirst()).allSatisfy { $0 >= $1 } && (liveRows.first ?? 0) <= b,
                     "live rows \(liveRows) are not non-increasing counts up to the batch of \(b) for \(steps) steps")
        let arena = context.arena
        self.steps = 0   // nothing cached for backward
        let outputs = arena.matrix((steps + 1) * b, p, of: T.self)
        var previousCell = arena.matrix(b, h, of: T.self), cell = arena.matrix(b, h, of: T.self)
        let cellTanh = arena.matrix(b, h, of: T.self)
        let hidden = projectionWeight == nil ? nil : arena.matrix(b, h, of: T.self)
        Self.start(from: state, output: outputs, cell: previousCell)
        let inputPacked: PackedMatrix<T>, recurrent: PackedMatrix<T>, projection: PackedMatrix<T>?
        if let inferenceWeights {
            precondition(inferenceWeights.input.matrix.variant == context.kernelVariant ?? .selected,
                         "\(inputWeight.name) was packed for \(inferenceWeights.input.matrix.variant), not \(context.kernelVariant ?? .selected)")
            (inputPacked, recurrent, projection) = (inferenceWeights.input.matrix, inferenceWeights.recurrent.matrix,
                                                    inferenceWeights.projection?.matrix)
        } else {
            effectiveRecurrent = recurrentWeight.value
            let pack = PackedMatrix<T>.shouldPack(batchInvariant: context.batchInvariant, override: context.packsWeights)
            inputPacked = PackedMatrix(inputWeight.value, transposed: true, arena: arena, pack: pack, variant: context.kernelVariant)
            (recurrent, projection) = perStepWeights(transposed: true, context: context)
        }
        let chunkSteps = max(1, Self.chunkRows / max(b, 1))
        let gates = arena.matrix(chunkSteps * b, 4 * h, of: T.self)
        var first = 0
        while first < steps {
            // The input contributions of steps first ..< last, up to the last step's live rows.
            let last = min(first + chunkSteps, steps)
            let rows = (last - 1 - first) * b + liveRows[last - 1]
            let chunk = gates.rows(0 ..< rows)
            gemm(x.rows(first * b ..< first * b + rows), inputPacked, into: chunk)
            addRowVector(gateBias(arena), to: chunk)
            for t in first ..< last {
                let live = liveRows[t]
                let g = gates.rows((t - first) * b ..< (t - first) * b + live)
                gemm(outputs.rows(t * b ..< t * b + live), recurrent, into: g, accumulate: true)
                let out = outputs.rows((t + 1) * b ..< (t + 1) * b + live)
                let cellOut = hidden.map { $0.rows(0 ..< live) } ?? out
                for r in 0..<live {
                    LSTMCellKernels.forward(hidden: h, gates: g.row(r), previousCell: previousCell.row(r), clipPrevious: t > 0,
                                            cellClip: cellClip, cell: cell.row(r), cellTanh: cellTanh.row(r), hiddenOut: cellOut.row(r),
                                            variant: context.kernelVariant)
                }
                if let projection {
                    gemm(cellOut, projection, into: out)
                    if let projectionClip { clamp(out.count, out.base, limit: projectionClip) }
                }
                outputs.row((t + 1) * b + live).update(repeating: 0, count: (b - live) * p)
                swap(&previousCell, &cell)
            }
            first = last
        }
        if let state, steps > 0 {
            state.h.base.update(from: outputs.row(steps * b), count: b * p)
            state.c.base.update(from: previousCell.base, count: b * h)
            if let cellClip { clamp(b * h, state.c.base, limit: cellClip) }
        }
        return outputs.rows(b ..< (steps + 1) * b)
    }

    /// Packs W_xᵀ, W_hᵀ and W_pᵀ for `variant` once, as `forwardOnly` multiplies by them,
    /// and releases their plain values: the layer then holds its weights once (the bias
    /// stays as it is). Bits as before: the same panels, which `forwardOnly` otherwise
    /// packs for every batch.
    public func prepareForInference(variant: KernelVariant) {
        guard inferenceWeights == nil else { return }
        func packed(_ p: Parameter<T>) -> PackedWeights<T> {
            defer { p.release() }
            return PackedWeights(p.value, transposed: true, variant: variant)
        }
        inferenceWeights = (packed(inputWeight), packed(recurrentWeight), projectionWeight.map(packed))
        effectiveRecurrent = nil
    }

    /// b, or b_x + b_h in `arena` with a recurrent bias.
    private func gateBias(_ arena: Arena) -> UnsafeMutablePointer<T> {
        guard let recurrentBias else { return bias.value.base }
        let sum = arena.allocate(bias.count, of: T.self)
        for i in 0..<bias.count { sum[i] = bias.value.base[i] + recurrentBias.value.base[i] }
        return sum
    }

    /// h_{−1} into the first B rows of `output` and c_{−1} into `cell`: `state`'s, or zeros.
    private static func start(from state: RecurrentState<T>?, output: Matrix<T>, cell: Matrix<T>) {
        let hCount = cell.rows * output.columns
        if let state {
            output.base.update(from: state.h.base, count: hCount)
            cell.base.update(from: state.c.base, count: cell.count)
        } else {
            output.base.update(repeating: 0, count: hCount)
            cell.base.update(repeating: 0, count: cell.count)
        }
    }

    /// Rows of input contributions `forwardOnly` computes in one product: enough for the
    /// packed kernel to use each weight panel on many rows, few enough that those rows of
    /// x (256 × D floats: 512 KB at Original size) stay in the L2 cache while the panels
    /// stream past. The block of gates is 256 × 4H (16 MB at Original size).
    private static var chunkRows: Int { 256 }

    /// dh (T·B, P) → dx (T·B, D), accumulating every weight gradient. The gradient
    /// with respect to the initial state is dropped (truncated BPTT).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func backward(_ dy: Matrix<T>, context: StepContext) -> Matrix<T> {
        precondition(inferenceWeights == nil, "\(inputWeight.name): no backward pass after prepareForInference")
        let h = component.hiddenSize, p = outputSize, b = batchSize
        let arena = context.arena
        let dOutputs = arena.matrix(steps * b, p, of: T.self)
        dOutputs.base.update(from: dy.base, count: dy.count)
        let dGates = arena.matrix(steps * b, 4 * h, of: T.self)
        let dCellNext = arena.matrix(b, h, zeroed: true, of: T.self)
        let dHidden = projectionWeight == nil ? nil : arena.matrix(b, h, of: T.self)
        let (recurrent, projection) = perStepWeights(transposed: false, context: context)
        for t in stride(from: steps - 1, through: 0, by: -1) {
            let dh = dOutputs.rows(t * b ..< (t + 1) * b)
            var dCellOut = dh
            if let projection, let dHidden {
                if let projectionClip {
                    maskClamped(dh.count, gradient: dh.base, unclamped: projectionRaw.row(t * b), limit: projectionClip)
                }
                gemm(dh, projection, into: dHidden)
                dCellOut = dHidden
            }
            for r in 0..<b {
                let previous = t == 0 ? initialCell.row(r) : cellRaw.row((t - 1) * b + r)
                LSTMCellKernels.backward(hidden: h, gates: gates.row(t * b + r), cell: cellRaw.row(t * b + r),
                                         cellTanh: cellTanh.row(t * b + r), previousCell: previous, clipPrevious: t > 0,
                                         cellClip: cellClip, dHidden: dCellOut.row(r), dCell: dCellNext.row(r),
                                         dGates: dGates.row(t * b + r), variant: context.kernelVariant)
            }
            if t > 0 {
                gemm(dGates.rows(t * b ..< (t + 1) * b), recurrent, into: dOutputs.rows((t - 1) * b ..< t * b), accumulate: true)
            }
        }
        if let projectionWeight {
            gemm(dOutputs, hidden, into: projectionWeight.gradient, transposeA: true, accumulate: true)
        }
        let previousOutputs = outputs.rows(0 ..< steps * b)
        if let recurrentMask {
            let dW = arena.matrix(4 * h, p, of: T.self)
            gemm(dGates, previousOutputs, into: dW, transposeA: true)
            multiply(dW.count, dW.base, recurrentMask, into: dW.base)
            axpy(dW.count, 1, dW.base, recurrentWeight.gradient.base)
        } else {
            gemm(dGates, previousOutputs, into: recurrentWeight.gradient, transposeA: true, accumulate: true)
        }
        gemm(dGates, input, into: inputWeight.gradient, transposeA: true, accumulate: true)
        accumulateColumnSums(of: dGates, into: bias.gradient.base)
        if let recurrentBias { accumulateColumnSums(of: dGates, into: recurrentBias.gradient.base) }
        let dx = arena.matrix(steps * b, inputSize, of: T.self)
        gemm(dGates, inputWeight.value, into: dx)
        return dx
    }

    /// The recurrent and projection weights as op(b) of the per-timestep products
    /// (transposed in the forward pass), packed once for all T steps where OpenBLAS runs
    /// single-threaded (see `PackedMatrix`) unless the context says otherwise.
    private func perStepWeights(transposed: Bool, context: StepContext) -> (recurrent: PackedMatrix<T>, projection: PackedMatrix<T>?) {
        let pack = PackedMatrix<T>.shouldPack(batchInvariant: context.batchInvariant, override: context.packsWeights)
        return (PackedMatrix(effectiveRecurrent, transposed: transposed, arena: context.arena, pack: pack, variant: context.kernelVariant),
                projectionWeight.map {
                    PackedMatrix($0.value, transposed: transposed, arena: context.arena, pack: pack, variant: context.kernelVariant)
                })
    }

    private func prepareRecurrentWeight(context: StepContext) {
        let rate = weightDrop
        guard context.training, rate > 0 else {
            effectiveRecurrent = recurrentWeight.value
            recurrentMask = nil
            return
        }
        let w = recurrentWeight.value!
        let mask = context.arena.allocate(w.count, of: T.self)
        fillDropoutMask(mask, count: w.count, rate: rate, generator: &context.dropoutGenerator)
        let dropped = context.arena.matrix(w.rows, w.columns, of: T.self)
        multiply(w.count, w.base, mask, into: dropped.base)
        effectiveRecurrent = dropped
        recurrentMask = mask
    }
}
