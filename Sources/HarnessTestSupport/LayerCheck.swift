import HarnessKernels
import HarnessModel

extension GradientCheck {
    /// Checks a component x (N, D) → y through the loss Σ y ⊙ R (R fixed, uniform): the
    /// derivatives of every parameter in `parameters` (bound to a fresh store, initialised
    /// from seed 11) and, when `checkInput`, of the input, against central differences.
    ///
    /// `forward` and `backward` run the component in the given context, a training one
    /// whose dropout stream restarts from the same seed before every evaluation (a fixed
    /// mask) and whose arena is reset; `backward` returns dx (nil: no input gradient).
    /// `packsWeights` and `kernelVariant` set the context's (`StepContext`): the
    /// per-timestep products through BLAS or a packed kernel variant.
    public static func layer(_ parameters: [Parameter<Double>], input: Matrix<Double>, checkInput: Bool = true,
                             packsWeights: Bool? = nil, kernelVariant: KernelVariant? = nil,
                             forward: @escaping (Matrix<Double>, StepContext) -> Matrix<Double>,
                             backward: @escaping (Matrix<Double>, StepContext) -> Matrix<Double>?) -> GradientCheck {
        var initialization = SeededGenerator(seed: 11)
        let store = ParameterStore(parameters, generator: &initialization)
        let fixtures = Arena()
        let context = StepContext(training: true)
        context.packsWeights = packsWeights
        context.kernelVariant = kernelVariant
        var upstream: Matrix<Double>?
        func run() -> Matrix<Double> {
            context.arena.reset()
            context.dropoutGenerator = SeededGenerator(seed: 99)
            let y = forward(input, context)
            if upstream == nil { upstream = randomMatrix(y.rows, y.columns, seed: 5, in: fixtures) }
            return y
        }
        let loss = { projected(run(), upstream!) }
        var check = GradientCheck()
        var dInput: [Double] = []
        check.checkParameters(store, backward: {
            store.zeroGradients()
            _ = run()
            dInput = backward(copy(upstream!, in: context.arena), context)?.array ?? []
        }, loss: loss)
        if checkInput {
            check.check("input", values: input.base, analytic: dInput, loss: loss)
        }
        return check
    }
}
