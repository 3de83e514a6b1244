import HarnessKernels

/// The carried state of one recurrent layer between truncated-BPTT windows (stream
/// mode): its last output h and, for layers that have one (LSTM), its cell state c.
public final class RecurrentState<T: Scalar> {
    /// (B, P): the layer's last output.
    public let h: Matrix<T>
    /// (B, C): the last (clipped) cell state; C = 0 for a layer without one (GRU).
    public let c: Matrix<T>

    public init(batchSize: Int, outputSize: Int, cellSize: Int) {
        h = Matrix(base: .allocate(capacity: max(batchSize * outputSize, 1)), rows: batchSize, columns: outputSize)
        c = Matrix(base: .allocate(capacity: max(batchSize * cellSize, 1)), rows: batchSize, columns: cellSize)
        reset()
    }

    deinit {
        h.base.deallocate()
        c.base.deallocate()
    }

    public func reset() {
        h.base.update(repeating: 0, count: h.count)
        c.base.update(repeating: 0, count: c.count)
    }

    /// A copy with its own storage.
    public func copy() -> RecurrentState<T> {
        let copy = RecurrentState(batchSize: h.rows, outputSize: h.columns, cellSize: c.columns)
        copy.h.base.update(from: h.base, count: h.count)
        copy.c.base.update(from: c.base, count: c.count)
        return copy
    }
}

/// One layer of one direction's recurrent stack (`RecurrentStack`): LSTM, LSTMP, GRU, or
/// a researcher's own. Time-major sequences: x (T·B, D) → h (T·B, P).
///
/// A conforming type is a class generic over the scalar; mark its `forward` and
/// `backward` `@_specialize(where T == Float)`: the stack calls them through this
/// protocol, where the compiler cannot see the concrete type and would otherwise run the
/// generic, unspecialised body (hundreds of times slower).
public protocol RecurrentLayer<T>: AnyObject {
    associatedtype T: Scalar
    /// P, the width of h.
    var outputSize: Int { get }
    /// Columns of the cell state carried between windows (0 when there is none).
    var cellSize: Int { get }
    /// In a fixed order: the order of the store and of checkpoints.
    var parameters: [Parameter<T>] { get }
    /// x (T·B, D) → h (T·B, P), a view into `context.arena` that stays valid until the
    /// arena is reset. Starts from `state` (zeros when nil) and, when given, leaves the
    /// final state in it. Keeps what `backward` needs.
    func forward(_ x: Matrix<T>, steps: Int, batchSize: Int, state: RecurrentState<T>?, context: StepContext) -> Matrix<T>
    /// dh (T·B, P) → dx (T·B, D) for the last `forward`, accumulating the parameters'
    /// gradients. The gradient with respect to the initial state is dropped (truncated BPTT).
    func backward(_ dy: Matrix<T>, context: StepContext) -> Matrix<T>
    /// Called once before many forward passes with fixed weights and no backward pass
    /// (`harness embed`, `harness similar`) whose products run `variant`'s kernels: the
    /// layer may lay its weights out for those kernels once and give back the plain
    /// values (`Parameter.release`), so that memory holds them once. Afterwards only
    /// forward passes without a backward one (`StepContext.liveRows`) are allowed. The
    /// default does nothing.
    func prepareForInference(variant: KernelVariant)
}

extension RecurrentLayer {
    public func prepareForInference(variant: KernelVariant) {}
}

/// A kind of recurrent stack as a spec chooses it (`model.recurrent: {type: …}`): its
/// hyperparameters (read from the spec by its registry entry), and how it builds, and
/// costs, the layers of one direction. The same value serves both directions.
public protocol RecurrentComponent: SpecComponent {
    var layers: Int { get }
    /// Whether layer k ≥ 1 adds its input to its output (when their sizes agree).
    var residual: Bool { get }
    /// P, the width of every layer's output.
    var outputSize: Int { get }
    /// Whether the layers implement `weight-drop` (DropConnect on the hidden-to-hidden weights).
    var supportsWeightDrop: Bool { get }
    /// Layer `index` of a stack; its parameters are named `<name>.…`.
    func makeLayer<T: Scalar>(_ name: String, index: Int, inputSize: Int, weightDrop: Double, initScale: Double) -> any RecurrentLayer<T>
    /// Multiply-adds per token of one layer's forward matrix products, with `inputSize` inputs.
    func multiplyAdds(inputSize: Int) -> Int
    /// Value equality across conforming types (specs and configurations compare them).
    func isEqual(to other: any RecurrentComponent) -> Bool
}

extension RecurrentComponent where Self: Equatable {
    public func isEqual(to other: any RecurrentComponent) -> Bool { (other as? Self) == self }
}
