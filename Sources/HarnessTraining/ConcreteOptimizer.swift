import HarnessModel
import HarnessSpec

/// The spec's optimizer, dispatched by a switch rather than an existential so that each
/// update loop runs specialized for Float.
enum ConcreteOptimizer {
    case sgd(SGD), adagrad(Adagrad), adam(Adam)

    init(_ spec: OptimizerSpec) {
        switch spec {
        case .sgd(let lr, let momentum): self = .sgd(SGD(learningRate: lr, momentum: momentum))
        case .adagrad(let lr, let accumulator): self = .adagrad(Adagrad(learningRate: lr, initialAccumulator: accumulator))
        case .adam(let lr, let b1, let b2, let eps): self = .adam(Adam(learningRate: lr, beta1: b1, beta2: b2, epsilon: eps))
        }
    }

    /// The optimizer behind the switch, for what is not on the hot path.
    var base: Optimizer {
        switch self {
        case .sgd(let o): o
        case .adagrad(let o): o
        case .adam(let o): o
        }
    }

    var learningRate: Double {
        get { base.learningRate }
        nonmutating set { base.learningRate = newValue }
    }

    var steps: Int {
        get { base.steps }
        nonmutating set { base.steps = newValue }
    }

    func stateBuffers(count: Int) -> [UnsafeMutableBufferPointer<Double>] { base.stateBuffers(count: count) }

    func step(_ store: ParameterStore<Float>) {
        switch self {
        case .sgd(let o): o.step(store)
        case .adagrad(let o): o.step(store)
        case .adam(let o): o.step(store)
        }
    }
}
