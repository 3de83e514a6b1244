import HarnessKernels

/// The recurrent layers of one direction, as its `RecurrentComponent` builds them, with
/// dropout on the input of every layer (or of every layer but the first) and on the
/// stack's output (`standard` or `variational`), and residual connections from the second layer on (bilm-tf's
/// `use_skip_connections`; never on the first layer, whose input is the token
/// representation).
///
/// x (T·B, D) → (T·B, P).
public final class RecurrentStack<T: Scalar> {
    public let layers: [any RecurrentLayer<T>]
    /// Whether layer k adds its input to its output.
    public let residual: [Bool]
    private let dropouts: [ActivationDropout<T>?]   // one per layer input, then the output; empty when off
    private var states: [RecurrentState<T>] = []
    /// Each layer's output of the last forward pass, after its residual connection (the
    /// input of the next layer before dropout): ELMo's layer representations.
    public private(set) var layerOutputs: [Matrix<T>] = []

    public init(_ name: String, inputSize: Int, component: any RecurrentComponent, dropout: [any DropoutComponent], initScale: Double) {
        var layers: [any RecurrentLayer<T>] = []
        var residual: [Bool] = []
        var size = inputSize
        for k in 0..<component.layers {
            let layer: any RecurrentLayer<T> = component.makeLayer("\(name).layer\(k)", index: k, inputSize: size,
                                                                   weightDrop: dropout.first(at: .recurrentWeights)?.rate ?? 0, initScale: initScale)
            residual.append(component.residual && k > 0 && size == layer.outputSize)
            layers.append(layer)
            size = layer.outputSize
        }
        self.layers = layers
        self.residual = residual
        let between = dropout.filter { $0.site == .layerInputs }
        precondition(between.count <= 1, "\(between.map(\.type)) dropout act at the same places; choose one")
        dropouts = between.first.map { d in
            (0...component.layers).map { k in k == 0 && !d.dropsFirstLayerInput ? nil : ActivationDropout(d) }
        } ?? []
    }

    public var outputSize: Int { layers.last!.outputSize }
    public var parameters: [Parameter<T>] { layers.flatMap { $0.parameters } }   // a key path here crashes swiftc 6.3.1

    /// Forgets the carried state (start of an epoch or of an evaluation pass).
    public func resetState() { states.forEach { $0.reset() } }

    /// A copy of the carried state (h and c of every layer), e.g. around a mid-epoch evaluation.
    public func saveState() -> [RecurrentState<T>] { states.map { $0.copy() } }

    /// Puts back a state from `saveState()` (whatever batch size was used in between).
    public func restoreState(_ saved: [RecurrentState<T>]) { states = saved }

    /// x (T·B, D) → (T·B, P). With `carryState`, starts from the state the previous call left.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forward(_ x: Matrix<T>, steps: Int, batchSize: Int, carryState: Bool, context: StepContext) -> Matrix<T> {
        if carryState && (states.count != layers.count || states.first?.h.rows != batchSize) {
            states = layers.map { RecurrentState(batchSize: batchSize, outputSize: $0.outputSize, cellSize: $0.cellSize) }
        }
        var x = x
        layerOutputs.removeAll(keepingCapacity: true)
        for (k, layer) in layers.enumerated() {
            if !dropouts.isEmpty, let dropout = dropouts[k] { x = dropout.forward(x, batchSize: batchSize, context: context) }
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
        if !dropouts.isEmpty, let dropout = dropouts[layers.count] { x = dropout.forward(x, batchSize: batchSize, context: context) }
        return x
    }

    /// dy (T·B, P) → dx (T·B, D), accumulating every layer's gradients.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func backward(_ dy: Matrix<T>, context: StepContext) -> Matrix<T> {
        var d = dy
        if !dropouts.isEmpty, let dropout = dropouts[layers.count] { d = dropout.backward(d, context: context) }
        for k in stride(from: layers.count - 1, through: 0, by: -1) {
            let dx = layers[k].backward(d, context: context)
            if residual[k] { axpy(dx.count, 1, d.base, dx.base) }
            d = dx
            if !dropouts.isEmpty, let dropout = dropouts[k] { d = dropout.backward(d, context: context) }
        }
        return d
    }
}
