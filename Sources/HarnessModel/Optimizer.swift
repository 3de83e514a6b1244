import HarnessKernels

/// An update rule over a whole `ParameterStore` (one flat buffer), with the
/// per-parameter state it needs laid out the same way.
public protocol Optimizer: AnyObject {
    var learningRate: Double { get set }
    /// Updates applied so far (Adam's bias correction depends on it).
    var steps: Int { get set }
    /// Applies one update from `store.gradients` to `store.values`.
    func step<T: Scalar>(_ store: ParameterStore<T>)
    /// The per-parameter state for a store of `count` values (allocated and initialised
    /// if need be), to save in and restore from checkpoints.
    func stateBuffers(count: Int) -> [UnsafeMutableBufferPointer<Double>]
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
