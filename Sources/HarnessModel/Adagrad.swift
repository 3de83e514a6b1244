import HarnessKernels

/// Adagrad (Duchi et al. 2011), the optimizer of bilm-tf (lr 0.2, initial accumulator 1):
/// a ← a + g², w ← w − lr·g / (√a + ε).
public final class Adagrad: Optimizer {
    /// `adagrad`'s keys.
    public struct Hyperparameters: OptimizerComponent, Equatable {
        public var learningRate: Double
        /// The squared-gradient sums' starting value.
        public var initialAccumulator: Double
        /// ε in the denominator (TensorFlow's AdagradOptimizer has none; 1e-10 keeps a zero sum finite).
        public var epsilon: Double

        public init(learningRate: Double, initialAccumulator: Double = 1, epsilon: Double = 1e-10) {
            self.learningRate = learningRate
            self.initialAccumulator = initialAccumulator
            self.epsilon = epsilon
        }

        public var type: String { "adagrad" }
        public func makeOptimizer() -> any Optimizer { Adagrad(self) }
    }

    public let hyperparameters: Hyperparameters
    public var learningRate: Double
    private let state = OptimizerState()
    public var steps = 0

    public init(_ hyperparameters: Hyperparameters) {
        self.hyperparameters = hyperparameters
        learningRate = hyperparameters.learningRate
    }

    public convenience init(learningRate: Double, initialAccumulator: Double = 1) {
        self.init(Hyperparameters(learningRate: learningRate, initialAccumulator: initialAccumulator))
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func step<T: Scalar>(_ store: ParameterStore<T>) {
        let a = stateBuffers(count: store.count)[0], w = store.values, g = store.gradients, epsilon = hyperparameters.epsilon
        steps += 1
        // A zero gradient leaves a and w as they are: the written ranges suffice.
        store.forEachGradientRange { range in
            for i in range {
                let gi = Double(g[i])
                a[i] += gi * gi
                w[i] -= T(learningRate * gi / (FastMath.squareRoot(a[i]) + epsilon))
            }
        }
    }

    public func stateBuffers(count: Int) -> [UnsafeMutableBufferPointer<Double>] {
        state.prepare(count: count, buffers: 1, initialValue: hyperparameters.initialAccumulator)
        return state.buffers
    }
}
