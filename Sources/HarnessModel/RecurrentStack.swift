import HarnessKernels

/// The recurrent stack's hyperparameters (shared by both directions).
public struct RecurrentConfiguration: Sendable, Equatable {
    public var layers: Int
    public var hiddenSize: Int
    public var projectionSize: Int?
    public var cellClip: Double?
    public var projectionClip: Double?
    public var residual: Bool
    /// Initial forget-gate bias of every layer.
    public var forgetBias: Double

    public init(layers: Int, hiddenSize: Int, projectionSize: Int? = nil, cellClip: Double? = nil,
                projectionClip: Double? = nil, residual: Bool = false, forgetBias: Double = 1) {
        self.layers = layers
        self.hiddenSize = hiddenSize
        self.projectionSize = projectionSize
        self.cellClip = cellClip
        self.projectionClip = projectionClip
        self.residual = residual
        self.forgetBias = forgetBias
    }

    public var outputSize: Int { projectionSize ?? hiddenSize }
}

/// The LSTM layers of one direction, with dropout on the input of every layer and on the
/// stack's output (`standard` or `variational`), and residual connections from the
/// second layer on (bilm-tf's `use_skip_connections`; never on the first layer, whose
/// input is the token representation).
///
/// x (T·B, D) → (T·B, P).
public final class RecurrentStack<T: Scalar> {
    public typealias Configuration = RecurrentConfiguration

    public let layers: [LSTMLayer<T>]
    /// Whether layer k adds its input to its output.
    public let residual: [Bool]
    private let dropouts: [ActivationDropout<T>]   // one per layer input, then the output; empty when off
    private var states: [LSTMState<T>] = []
    /// Each layer's output of the last forward pass, after its residual connection (the
    /// input of the next layer before dropout): ELMo's layer representations.
    public private(set) var layerOutputs: [Matrix<T>] = []

    public init(_ name: String, inputSize: Int, configuration: Configuration, dropout: [Dropout], initScale: Double) {
        var layers: [LSTMLayer<T>] = []
        var residual: [Bool] = []
        var size = inputSize
        for k in 0..<configuration.layers {
            let layer = LSTMLayer<T>("\(name).layer\(k)", configuration: .init(
                inputSize: size, hiddenSize: configuration.hiddenSize, projectionSize: configuration.projectionSize,
                cellClip: configuration.cellClip, projectionClip: configuration.projectionClip,
                weightDrop: dropout.rate(of: .weightDrop), forgetBias: configuration.forgetBias), initScale: initScale)
            residual.append(configuration.residual && k > 0 && size == layer.outputSize)
            layers.append(layer)
            size = layer.outputSize
        }
        self.layers = layers
        self.residual = residual
        let between = dropout.filter { $0.kind == .standard || $0.kind == .variational }
        precondition(between.count <= 1, "standard and variational dropout act at the same places; choose one")
        dropouts = between.first.map { d in (0...configuration.layers).map { _ in ActivationDropout(kind: d.kind, rate: d.rate) } } ?? []
    }

    public var outputSize: Int { layers.last!.outputSize }
    public var parameters: [Parameter<T>] { layers.flatMap(\.parameters) }

    /// Forgets the carried state (start of an epoch or of an evaluation pass).
    public func resetState() { states.forEach { $0.reset() } }

    /// A copy of the carried state (h and c of every layer), e.g. around a mid-epoch evaluation.
    public func saveState() -> [LSTMState<T>] {
        states.map { old in
            let copy = LSTMState<T>(batchSize: old.h.rows, outputSize: old.h.columns, cellSize: old.c.columns)
            copy.h.base.update(from: old.h.base, count: old.h.count)
            copy.c.base.update(from: old.c.base, count: old.c.count)
            return copy
        }
    }

    /// Puts back a state from `saveState()` (whatever batch size was used in between).
    public func restoreState(_ saved: [LSTMState<T>]) { states = saved }

    /// x (T·B, D) → (T·B, P). With `carryState`, starts from the state the previous call left.
    public func forward(_ x: Matrix<T>, steps: Int, batchSize: Int, carryState: Bool, context: StepContext) -> Matrix<T> {
        if carryState && (states.count != layers.count || states.first?.h.rows != batchSize) {
            states = layers.map { LSTMState(batchSize: batchSize, outputSize: $0.outputSize, cellSize: $0.configuration.hiddenSize) }
        }
        var x = x
        layerOutputs.removeAll(keepingCapacity: true)
        for (k, layer) in layers.enumerated() {
            if !dropouts.isEmpty { x = dropouts[k].forward(x, batchSize: batchSize, context: context) }
            var y = layer.forward(x, steps: steps, batchSize: batchSize, state: carryState ? states[k] : nil, context: context)
            if residual[k] {
                // Into a new matrix: the layer's own output is its h_{t−1} for backward.
                let sum = context.arena.matrix(y.rows, y.columns, of: T.self)
                sum.base.update(from: y.base, count: y.count)
                axpy(y.count, 1, x.base, sum.base)
                y = sum
            }
            layerOutputs.append(y)
            x = y
        }
        if !dropouts.isEmpty { x = dropouts[layers.count].forward(x, batchSize: batchSize, context: context) }
        return x
    }

    /// dy (T·B, P) → dx (T·B, D), accumulating every layer's gradients.
    public func backward(_ dy: Matrix<T>, context: StepContext) -> Matrix<T> {
        var d = dy
        if !dropouts.isEmpty { d = dropouts[layers.count].backward(d, context: context) }
        for k in stride(from: layers.count - 1, through: 0, by: -1) {
            let dx = layers[k].backward(d, context: context)
            if residual[k] { axpy(dx.count, 1, d.base, dx.base) }
            d = dx
            if !dropouts.isEmpty { d = dropouts[k].backward(d, context: context) }
        }
        return d
    }
}
