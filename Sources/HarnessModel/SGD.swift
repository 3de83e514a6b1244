import HarnessKernels

/// Stochastic gradient descent, optionally with momentum (PyTorch's convention:
/// v ← μ·v + g, w ← w − lr·v).
public final class SGD: Optimizer {
    public var learningRate: Double
    public let momentum: Double
    private let state = OptimizerState()

    public init(learningRate: Double, momentum: Double = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
    }

    public func step<T: Scalar>(_ store: ParameterStore<T>) {
        let w = store.values, g = store.gradients
        if momentum == 0 {
            axpy(store.count, T(-learningRate), g.baseAddress!, w.baseAddress!)
            return
        }
        state.prepare(count: store.count, buffers: 1)
        let v = state.buffers[0]
        for i in 0..<store.count {
            v[i] = momentum * v[i] + Double(g[i])
            w[i] -= T(learningRate * v[i])
        }
    }
}
