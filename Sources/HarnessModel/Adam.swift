import HarnessKernels

/// Adam (Kingma & Ba 2015) with bias correction.
public final class Adam: Optimizer {
    /// `adam`'s keys.
    public struct Hyperparameters: OptimizerComponent, Equatable {
        public var learningRate: Double
        /// The first and second moments' decay rates.
        public var beta1: Double, beta2: Double
        /// ε added to √v̂ (outside the square root, as Kingma & Ba and PyTorch).
        public var epsilon: Double

        public init(learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8) {
            self.learningRate = learningRate
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
        }

        public var type: String { "adam" }
        public func makeOptimizer() -> any Optimizer { Adam(self) }
    }

    public let hyperparameters: Hyperparameters
    public var learningRate: Double
    private let state = OptimizerState()
    public var steps = 0

    public init(_ hyperparameters: Hyperparameters) {
        self.hyperparameters = hyperparameters
        learningRate = hyperparameters.learningRate
    }

    public convenience init(learningRate: Double) {
        self.init(Hyperparameters(learningRate: learningRate))
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func step<T: Scalar>(_ store: ParameterStore<T>) {
        let buffers = stateBuffers(count: store.count)
        steps += 1
        let m = buffers[0], v = buffers[1], w = store.values, g = store.gradients
        let beta1 = hyperparameters.beta1, beta2 = hyperparameters.beta2, epsilon = hyperparameters.epsilon
        let correction1 = 1 - Double.pow(beta1, steps), correction2 = 1 - Double.pow(beta2, steps)
        let stepSize = learningRate / correction1
        for i in 0..<store.count {
            let gi = Double(g[i])
            m[i] = beta1 * m[i] + (1 - beta1) * gi
            v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
            w[i] -= T(stepSize * m[i] / (FastMath.squareRoot(v[i] / correction2) + epsilon))
        }
    }

    public func stateBuffers(count: Int) -> [UnsafeMutableBufferPointer<Double>] {
        state.prepare(count: count, buffers: 2)
        return state.buffers
    }
}
