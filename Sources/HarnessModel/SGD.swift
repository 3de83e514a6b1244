import HarnessKernels

/// Stochastic gradient descent, optionally with momentum (PyTorch's convention:
/// v ← μ·v + g, w ← w − lr·v).
public final class SGD: Optimizer {
    /// `sgd`'s keys.
    public struct Hyperparameters: OptimizerComponent, Equatable {
        public var learningRate: Double
        /// μ; 0 is plain SGD.
        public var momentum: Double

        public init(learningRate: Double, momentum: Double = 0) {
            self.learningRate = learningRate
            self.momentum = momentum
        }

        public var type: String { "sgd" }
        public func makeOptimizer() -> any Optimizer { SGD(self) }
    }

    public let hyperparameters: Hyperparameters
    public var learningRate: Double
    private let state = OptimizerState()
    public var steps = 0

    public init(_ hyperparameters: Hyperparameters) {
        self.hyperparameters = hyperparameters
        learningRate = hyperparameters.learningRate
    }

    public convenience init(learningRate: Double, momentum: Double = 0) {
        self.init(Hyperparameters(learningRate: learningRate, momentum: momentum))
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func step<T: Scalar>(_ store: ParameterStore<T>) {
        let w = store.values, g = store.gradients, momentum = hyperparameters.momentum
        steps += 1
        if momentum == 0 {   // a zero gradient changes nothing: the written ranges suffice
            store.forEachGradientRange { axpy($0.count, T(-learningRate), g.baseAddress! + $0.lowerBound, w.baseAddress! + $0.lowerBound) }
            return
        }
        let v = stateBuffers(count: store.count)[0]
        for i in 0..<store.count {
            v[i] = momentum * v[i] + Double(g[i])
            w[i] -= T(learningRate * v[i])
        }
    }

    public func stateBuffers(count: Int) -> [UnsafeMutableBufferPointer<Double>] {
        guard hyperparameters.momentum != 0 else { return [] }
        state.prepare(count: count, buffers: 1)
        return state.buffers
    }
}
