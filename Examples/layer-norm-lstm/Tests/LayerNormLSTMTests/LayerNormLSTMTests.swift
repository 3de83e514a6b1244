import HarnessComponents
import HarnessTestSupport
import LayerNormLSTM
import Testing

/// The component's backward pass against central differences in Double, with the
/// harness's own checker (`HarnessTestSupport.GradientCheck`), and the properties that
/// make it a layer-normalised LSTM.
struct LayerNormLSTMTests {
    @Test(arguments: [3, 17])   // 17: more units than one SIMD vector
    func gradientsMatchCentralDifferences(hidden: Int) {
        let arena = Arena()
        let layer = LayerNormLSTMLayer<Double>("ln", component: LayerNormLSTMComponent(layers: 1, hiddenSize: hidden),
                                               inputSize: 4, initScale: 0.7)
        let steps = 4, batch = 2
        let check = GradientCheck.layer(layer.parameters, input: randomMatrix(steps * batch, 4, scale: 2, seed: 3, in: arena),
                                        forward: { layer.forward($0, steps: steps, batchSize: batch, state: nil, context: $1) },
                                        backward: { layer.backward($0, context: $1) })
        #expect(check.failures.isEmpty && check.checked > 100, "\(check.summary)")
    }

    @Test func stackWithResidualAndDropoutMatchesCentralDifferences() {
        let arena = Arena()
        let stack = RecurrentStack<Double>("stack", inputSize: 5,
                                           component: LayerNormLSTMComponent(layers: 2, hiddenSize: 5, residual: true),
                                           dropout: [VariationalDropout(rate: 0.3)], initScale: 0.6)
        let check = GradientCheck.layer(stack.parameters, input: randomMatrix(6, 5, seed: 4, in: arena),
                                        forward: { stack.forward($0, steps: 3, batchSize: 2, carryState: false, context: $1) },
                                        backward: { stack.backward($0, context: $1) })
        #expect(check.failures.isEmpty && check.checked > 200, "\(check.summary)")
    }

    /// Layer normalisation makes the output invariant to the scale of W_x and W_h (up to
    /// ε): the property that distinguishes it from a plain LSTM, which this would fail.
    @Test func outputsDoNotDependOnTheScaleOfTheWeights() {
        let arena = Arena()
        let layer = LayerNormLSTMLayer<Double>("ln", component: LayerNormLSTMComponent(layers: 1, hiddenSize: 6, epsilon: 1e-12),
                                               inputSize: 3, initScale: 0.5)
        var generator = SeededGenerator(seed: 1)
        let store = ParameterStore(layer.parameters, generator: &generator)
        let x = randomMatrix(5 * 2, 3, seed: 2, in: arena) as Matrix<Double>
        let context = StepContext(training: false)
        let before = layer.forward(x, steps: 5, batchSize: 2, state: nil, context: context).array
        for weight in [layer.inputWeight, layer.recurrentWeight] { scale(weight.count, 10, weight.value.base) }
        let after = layer.forward(x, steps: 5, batchSize: 2, state: nil, context: context).array
        #expect(store.count == 4 * 6 * (3 + 6) + 3 * 4 * 6 + 2 * 6)
        #expect(zip(before, after).allSatisfy { abs($0 - $1) < 1e-9 })
        #expect(before.contains { abs($0) > 0.05 })
    }

    /// The registry entry reads its keys and refuses others, like a built-in.
    @Test func registryEntryReadsItsKeys() throws {
        if !Registries.recurrent.types.contains("lstm-layernorm") {
            try Registries.register(ComponentSet(recurrent: [LayerNormLSTMComponent.registryEntry]))
        }
        let text = """
            name: t
            data: {corpus: corpus}
            model:
              token_encoder: {type: word, dim: 8}
              recurrent: {type: lstm-layernorm, layers: 1, hidden: 12, epsilon: 0.001}
            """
        let spec = try SpecLoader.parse(text, file: "t.yaml")
        #expect(spec.model.recurrent.isEqual(to: LayerNormLSTMComponent(layers: 1, hiddenSize: 12, epsilon: 0.001)))
        do {
            _ = try SpecLoader.parse(text.replacingOccurrences(of: "epsilon", with: "epsilom"), file: "t.yaml")
            Issue.record("a misspelt key was accepted")
        } catch {
            #expect("\(error)".contains("t.yaml:5:60: error: unknown key 'epsilom' in 'model.recurrent'; did you mean 'epsilon'?"))
        }
    }
}
