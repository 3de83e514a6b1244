import HarnessKernels

/// An update rule over a whole `ParameterStore` (one flat buffer), with the
/// per-parameter state it needs laid out the same way: SGD, Adagrad, Adam, or a
/// researcher's own.
///
/// Mark `step` `@_specialize(where T == Float)`: the trainer calls it through this
/// protocol, where the compiler cannot see the concrete type.
public protocol Optimizer: AnyObject {
    /// The current rate (the learning-rate schedule sets it at each epoch's start).
    var learningRate: Double { get set }
    /// Updates applied so far (Adam's bias correction depends on it).
    var steps: Int { get set }
    /// Applies one update from `store.gradients` to `store.values`.
    func step<T: Scalar>(_ store: ParameterStore<T>)
    /// The per-parameter state for a store of `count` values (allocated and initialised
    /// if need be), to save in and restore from checkpoints.
    func stateBuffers(count: Int) -> [UnsafeMutableBufferPointer<Double>]
}

/// A kind of optimizer as a spec chooses it (`training.optimizer: {type: …}`): its
/// hyperparameters, read from the spec by its registry entry, and the optimizer they make.
public protocol OptimizerComponent: SpecComponent {
    /// The initial learning rate, where the schedule starts.
    var learningRate: Double { get }
    /// A new optimizer with these hyperparameters and empty state.
    func makeOptimizer() -> any Optimizer
    /// Value equality across conforming types (specs compare them).
    func isEqual(to other: any OptimizerComponent) -> Bool
}

extension OptimizerComponent where Self: Equatable {
    public func isEqual(to other: any OptimizerComponent) -> Bool { (other as? Self) == self }
}

/// Flat state buffers (one per kind of state), allocated on first use at the store's size.
final class OptimizerState {
    private(set) var buffers: [UnsafeMutableBufferPointer<Double>] = []

    func prepare(count: Int, buffers number: Int, initialValue: Double = 0) {
        guard buffers.isEmpty || buffers[0].count != count else { return }
        buffers.forEach { $0.deallocate() }
        buffers = (0..<number).map { _ in
            let b = UnsafeMutableBufferPointer<Double>.allocate(capacity: count)
            b.initialize(repeating: initialValue)
            return b
        }
    }

    deinit { buffers.forEach { $0.deallocate() } }
}
