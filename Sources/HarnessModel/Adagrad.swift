import HarnessKernels

/// Adagrad (Duchi et al. 2011), the optimizer of bilm-tf (lr 0.2, initial accumulator 1):
/// a ← a + g², w ← w − lr·g / (√a + ε).
public final class Adagrad: Optimizer {
    public var learningRate: Double
    public let initialAccumulator: Double
    public let epsilon: Double
    private let state = OptimizerState()
    public var steps = 0

    public init(learningRate: Double, initialAccumulator: Double = 1, epsilon: Double = 1e-10) {
        self.learningRate = learningRate
        self.initialAccumulator = initialAccumulator
        self.epsilon = epsilon
    }

    public func step<T: Scalar>(_ store: ParameterStore<T>) {
        let a = stateBuffers(count: store.count)[0], w = store.values, g = store.gradients
        steps += 1
        for i in 0..<store.count {
            let gi = Double(g[i])
            a[i] += gi * gi
            w[i] -= T(learningRate * gi / (FastMath.squareRoot(a[i]) + epsilon))
        }
    }

    public func stateBuffers(count: Int) -> [UnsafeMutableBufferPointer<Double>] {
        state.prepare(count: count, buffers: 1, initialValue: initialAccumulator)
        return state.buffers
    }
}
