import HarnessKernels

/// Stochastic gradient descent, optionally with momentum (PyTorch's convention:
/// v ← μ·v + g, w ← w − lr·v).
public final class SGD: Optimizer {
    public var learningRate: Double
    public let momentum: Double
    private let state = OptimizerState()
    public var steps = 0

    public init(learningRate: Double, momentum: Double = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
    }

    public func step<T: Scalar>(_ store: ParameterStore<T>) {
        let w = store.values, g = store.gradients
        steps += 1
        if momentum == 0 {
            axpy(store.count, T(-learningRate), g.baseAddress!, w.baseAddress!)
            return
        }
        let v = stateBuffers(count: store.count)[0]
        for i in 0..<store.count {
            v[i] = momentum * v[i] + Double(g[i])
            w[i] -= T(learningRate * v[i])
        }
    }

    public func stateBuffers(count: Int) -> [UnsafeMutableBufferPointer<Double>] {
        guard momentum != 0 else { return [] }
        state.prepare(count: count, buffers: 1)
        return state.buffers
    }
}
