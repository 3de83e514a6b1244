import Foundation
import HarnessKernels
import HarnessTestSupport
@testable import HarnessModel
import struct HarnessSpec.AdaptiveSoftmaxComponent
import class HarnessSpec.AdaptiveSoftmaxLayer
import class HarnessSpec.GRULayer
import struct HarnessSpec.GRUComponent
import Testing

/// Every component's backward pass against central differences in Double: every
/// parameter and the input, dropout under a fixed mask (the dropout generator is reset
/// to the same state before each evaluation).
struct ComponentGradientTests {
    @Test func linear() {
        let arena = Arena()
        let layer = Linear<Double>("linear", inputSize: 4, outputSize: 3, initScale: 0.5)
        let check = GradientCheck.layer(layer.parameters, input: randomMatrix(5, 4, seed: 1, in: arena),
                               forward: { layer.forward($0, context: $1) }, backward: { layer.backward($0, context: $1) })
        #expect(check.failures.isEmpty && check.checked > 20, "\(check.summary)")
    }

    @Test func highway() {
        let arena = Arena()
        let layer = Highway<Double>("highway", size: 4, initScale: 0.8)
        let check = GradientCheck.layer(layer.parameters, input: randomMatrix(5, 4, seed: 2, in: arena),
                               forward: { layer.forward($0, context: $1) }, backward: { layer.backward($0, context: $1) })
        #expect(check.failures.isEmpty && check.checked > 40, "\(check.summary)")
    }

    @Test func wordEmbedding() {
        let layer = WordEmbedding<Double>(vocabularySize: 6, size: 3, initScale: 0.5)
        let ids: [Int32] = [1, 4, 1, 0, 5]
        let arena = Arena()
        let check = GradientCheck.layer(layer.parameters, input: arena.matrix(1, 1), checkInput: false,
                               forward: { _, c in layer.forward(ids: ids, count: ids.count, context: c) },
                               backward: { layer.backward($0, context: $1); return nil })
        #expect(check.failures.isEmpty && check.checked >= 12, "\(check.summary)")
    }

    @Test(arguments: [(CharCNNConfiguration.Activation.tanh, true, CharCNNConfiguration.PaddingEmbedding.trained),
                      (.relu, true, .trained), (.tanh, false, .trained), (.tanh, false, .zero)])
    func charCNN(activation: CharCNNConfiguration.Activation, projects: Bool, padding: CharCNNConfiguration.PaddingEmbedding) {
        let encoder = smallCharCNN(activation: activation, projects: projects, padding: padding)
        let ids: [Int32] = [2, 4, 3, 0, 1, 4]
        let check = GradientCheck.layer(encoder.parameters, input: Arena().matrix(1, 1), checkInput: false,
                               forward: { _, c in encoder.forward(ids: ids, count: ids.count, context: c) },
                               backward: { encoder.backward($0, context: $1); return nil })
        #expect(check.failures.isEmpty && check.checked > 150, "\(check.summary)")
    }

    /// `padding_embedding: zero` (Kim et al. 2016): the padding row starts at zero, gets no
    /// gradient, and the output does not depend on it; the other rows start as under `trained`.
    @Test func zeroPaddingEmbeddingIsAConstant() {
        let zero = smallCharCNN(activation: .tanh, projects: false, padding: .zero)
        let trained = smallCharCNN(activation: .tanh, projects: false, padding: .trained)
        var generator = SeededGenerator(seed: 11), same = SeededGenerator(seed: 11)
        let store = ParameterStore(zero.parameters, generator: &generator)
        _ = ParameterStore<Double>(trained.parameters, generator: &same)
        let pad = Int(CharacterIDs.padding), c = zero.characterEmbedding.columns
        #expect((0..<c).allSatisfy { zero.characterEmbedding.value[pad, $0] == 0 })
        #expect((0..<c).contains { trained.characterEmbedding.value[pad, $0] != 0 })
        for row in 0..<CharacterIDs.count where row != pad {
            #expect((0..<c).allSatisfy { zero.characterEmbedding.value[row, $0] == trained.characterEmbedding.value[row, $0] })
        }
        let ids: [Int32] = [2, 4, 3, 0, 1, 4]   // every token is shorter than 6 characters: each has padding
        let context = StepContext(training: true)
        let before = Array(zero.forward(ids: ids, count: ids.count, context: context).buffer)
        zero.characterEmbedding.value[pad, 0] = 5
        let after = zero.forward(ids: ids, count: ids.count, context: context)
        #expect(Array(after.buffer) == before)
        let dy: Matrix<Double> = randomMatrix(ids.count, after.columns, seed: 9, in: context.arena)
        store.zeroGradients()
        zero.backward(dy, context: context)
        #expect((0..<c).allSatisfy { zero.characterEmbedding.gradient[pad, $0] == 0 })
        #expect((0..<c).contains { zero.characterEmbedding.gradient[Int(CharacterIDs.beginOfWord), $0] != 0 })
    }

    private func smallCharCNN(activation: CharCNNConfiguration.Activation, projects: Bool,
                              padding: CharCNNConfiguration.PaddingEmbedding) -> CharCNNEncoder<Double> {
        var configuration = CharCNNConfiguration()
        configuration.characterEmbeddingSize = 3
        configuration.filters = [.init(1, 2), .init(2, 3), .init(3, 2)]
        configuration.activation = activation
        configuration.highwayLayers = 2
        configuration.projects = projects
        configuration.outputSize = projects ? 4 : 7   // without a projection: the 7 filters (Kim et al. 2016)
        configuration.paddingEmbedding = padding
        let table = CharacterTable(tokens: [.sentenceEnd, .sentenceStart, .word("ab"), .word("cab"), .word("bébé")],
                                   maxCharacters: 6)
        return CharCNNEncoder<Double>(configuration: configuration, characters: table, initScale: 0.6)
    }

    @Test(arguments: [
        (LSTMComponent(layers: 1, hiddenSize: 5), 0),
        (LSTMComponent(layers: 1, hiddenSize: 5, projectionSize: 2), 0),
        (LSTMComponent(layers: 1, hiddenSize: 5, projectionSize: 2, cellClip: 0.1, projectionClip: 0.05), 0),
        (LSTMComponent(layers: 1, hiddenSize: 17, cellClip: 0.3), 0),  // a SIMD tail in the cell kernels
        (LSTMComponent(layers: 1, hiddenSize: 5, projectionSize: 4), 0.4),
        (LSTMComponent(layers: 1, hiddenSize: 5, forgetBias: 0.5, biasInit: .uniform, recurrentBias: true), 0),  // nn.LSTM's two biases
    ] as [(LSTMComponent, Double)])
    func lstm(component: LSTMComponent, weightDrop: Double) {
        let arena = Arena()
        let layer = LSTMLayer<Double>("lstm", component: component, inputSize: 3, weightDrop: weightDrop, initScale: 0.7)
        let steps = 4, batch = 2
        // Per-timestep products through BLAS, then through PackedMatrix with every kernel variant this CPU runs.
        for variant in [nil] + KernelVariant.runnable {
            let check = GradientCheck.layer(layer.parameters, input: randomMatrix(steps * batch, 3, scale: 2, seed: 3, in: arena),
                                   packsWeights: variant != nil, kernelVariant: variant,
                                   forward: { layer.forward($0, steps: steps, batchSize: batch, state: nil, context: $1) },
                                   backward: { layer.backward($0, context: $1) })
            #expect(check.failures.isEmpty && check.checked > 60, "packed \(variant.map(String.init(describing:)) ?? "no"): \(check.summary)")
        }
    }

    @Test(arguments: [(5, BiasInit.zeros), (17, .zeros), (5, .uniform)])   // 17: a SIMD tail in the gate kernels
    func gru(hidden: Int, biasInit: BiasInit) {
        let arena = Arena()
        let layer = GRULayer<Double>("gru", inputSize: 3, hiddenSize: hidden, biasInit: biasInit, initScale: 0.7)
        let steps = 4, batch = 2
        // Per-timestep products through BLAS, then through PackedMatrix with every kernel variant this CPU runs.
        for variant in [nil] + KernelVariant.runnable {
            let check = GradientCheck.layer(layer.parameters, input: randomMatrix(steps * batch, 3, scale: 2, seed: 3, in: arena),
                                   packsWeights: variant != nil, kernelVariant: variant,
                                   forward: { layer.forward($0, steps: steps, batchSize: batch, state: nil, context: $1) },
                                   backward: { layer.backward($0, context: $1) })
            #expect(check.failures.isEmpty && check.checked > 60, "packed \(variant.map(String.init(describing:)) ?? "no"): \(check.summary)")
        }
    }

    @Test func gruStackWithResidualAndDropout() {
        let arena = Arena()
        let stack = RecurrentStack<Double>("stack", inputSize: 4, component: GRUComponent(layers: 3, hiddenSize: 4, residual: true),
                                           dropout: [VariationalDropout(rate: 0.3)], initScale: 0.6)
        #expect(stack.residual == [false, true, true])
        let check = GradientCheck.layer(stack.parameters, input: randomMatrix(6, 4, seed: 4, in: arena),
                               forward: { stack.forward($0, steps: 3, batchSize: 2, carryState: false, context: $1) },
                               backward: { stack.backward($0, context: $1) })
        #expect(check.failures.isEmpty && check.checked > 150, "\(check.summary)")
    }

    @Test func lstmClipsAreActiveInTheCheckedCase() {
        // The clip case above must actually clip, or its check would prove nothing.
        // The context outlives the checks: y lives in its arena.
        let context = StepContext(training: true)
        let component = LSTMComponent(layers: 1, hiddenSize: 5, projectionSize: 2, cellClip: 0.1, projectionClip: 0.05)
        let layer = LSTMLayer<Double>("lstm", component: component, inputSize: 3, initScale: 0.7)
        var g = SeededGenerator(seed: 11)
        _ = ParameterStore(layer.parameters, generator: &g)
        let state = RecurrentState<Double>(batchSize: 2, outputSize: 2, cellSize: 5)
        let y = layer.forward(randomMatrix(8, 3, scale: 2, seed: 3, in: context.arena), steps: 4, batchSize: 2, state: state,
                              context: context)
        #expect(y.array.contains { abs($0) == 0.05 }, "projection clip never engaged")
        #expect(state.c.array.contains { abs($0) == 0.1 }, "cell clip never engaged")
        withExtendedLifetime(context) {}
    }

    /// Inference over sentences sorted longest first (`StepContext.liveRows`) computes only
    /// the live rows, a chunk of steps at a time (here 3 chunks of 85 steps at batch 3):
    /// each of them with the bits of the full pass, the padding rows zero, the carried state
    /// of the row still running at the end the same. Float, as `harness embed` runs it.
    @Test(arguments: [false, true])
    func lstmLiveRowsGiveTheFullPassBitsOnRealRows(carryState: Bool) {
        let component = LSTMComponent(layers: 1, hiddenSize: 6, projectionSize: 4, cellClip: 0.5, projectionClip: 0.3)
        let layer = LSTMLayer<Float>("lstm", component: component, inputSize: 5, initScale: 0.7)
        var g = SeededGenerator(seed: 12)
        _ = ParameterStore(layer.parameters, generator: &g)
        let steps = 200, b = 3
        let lengths = [200, 130, 2]   // steps per sentence, longest first
        let live = (0..<steps).map { t in lengths.filter { $0 > t }.count }
        let full = StepContext(training: false), sparse = StepContext(training: false)
        full.batchInvariant = true
        sparse.batchInvariant = true
        sparse.liveRows = live
        let x: Matrix<Float> = randomMatrix(steps * b, 5, scale: 2, seed: 5, in: full.arena)
        let states = (0..<2).map { _ in RecurrentState<Float>(batchSize: b, outputSize: 4, cellSize: 6) }
        for state in states {
            state.h.base.update(repeating: 0.2, count: state.h.count)
            state.c.base.update(repeating: -0.4, count: state.c.count)
        }
        let expected = layer.forward(x, steps: steps, batchSize: b, state: carryState ? states[0] : nil, context: full)
        let y = layer.forward(x, steps: steps, batchSize: b, state: carryState ? states[1] : nil, context: sparse)
        var compared = 0
        for t in 0..<steps {
            for r in 0..<b {
                let row = Array(UnsafeBufferPointer(start: y.row(t * b + r), count: 4))
                if r < live[t] {
                    #expect(row == Array(UnsafeBufferPointer(start: expected.row(t * b + r), count: 4)), "step \(t) row \(r)")
                    compared += 1
                } else {
                    #expect(row == [0, 0, 0, 0], "padding at step \(t) row \(r)")
                }
            }
        }
        #expect(compared == lengths.reduce(0, +))
        #expect(y.array.contains { abs($0) == 0.3 }, "projection clip never engaged")
        if carryState {   // the row still running at the last step
            #expect(Array(states[0].h.array[0..<4]) == Array(states[1].h.array[0..<4]))
            #expect(Array(states[0].c.array[0..<6]) == Array(states[1].c.array[0..<6]))
        }
        withExtendedLifetime((full, sparse)) {}
    }

    @Test(arguments: [StandardDropout(rate: 0.3), VariationalDropout(rate: 0.3)] as [any DropoutComponent])
    func recurrentStackWithResidualAndDropout(between: any DropoutComponent) {
        let arena = Arena()
        let component = LSTMComponent(layers: 3, hiddenSize: 4, projectionSize: 3, cellClip: 1,
                                      projectionClip: 1, residual: true)
        let stack = RecurrentStack<Double>("stack", inputSize: 3, component: component,
                                           dropout: [between, WeightDrop(rate: 0.2)], initScale: 0.6)
        #expect(stack.residual == [false, true, true])
        let check = GradientCheck.layer(stack.parameters, input: randomMatrix(6, 3, seed: 4, in: arena),
                               forward: { stack.forward($0, steps: 3, batchSize: 2, carryState: false, context: $1) },
                               backward: { stack.backward($0, context: $1) })
        #expect(check.failures.isEmpty && check.checked > 150, "\(check.summary)")
    }

    @Test(arguments: [StandardDropout(rate: 0.5), VariationalDropout(rate: 0.5)] as [any DropoutComponent])
    func activationDropout(component: any DropoutComponent) {
        let arena = Arena()
        let dropout = ActivationDropout<Double>(component)
        let check = GradientCheck.layer([], input: randomMatrix(6, 4, seed: 6, in: arena),
                               forward: { dropout.forward($0, batchSize: 2, context: $1) },
                               backward: { dropout.backward($0, context: $1) })
        #expect(check.failures.isEmpty && check.checked >= 24, "\(check.summary)")
    }

    @Test func tokenDropout() {
        let arena = Arena()
        let dropout = TokenDropout<Double>(dropout: [WordDropout(rate: 0.3), EmbeddingDropout(rate: 0.4)])
        let ids: [Int32] = [0, 1, 2, 1, 3, 1]
        let check = GradientCheck.layer([], input: randomMatrix(6, 3, seed: 7, in: arena),
                               forward: { dropout.forward($0, ids: ids, vocabularySize: 4, context: $1) },
                               backward: { dropout.backward($0, context: $1) })
        #expect(check.failures.isEmpty && check.checked >= 18, "\(check.summary)")
    }

    /// The output layer's objective: mean NLL over the real targets.
    private func checkOutput(_ layer: any OutputLayer<Double>) -> GradientCheck {
        let arena = Arena()
        let h: Matrix<Double> = randomMatrix(6, 4, scale: 1.5, seed: 8, in: arena)
        let targets: [Int32] = [0, 3, 8, 3, 5, 1]
        let weights: [Double] = [1, 1, 1, 0, 1, 1]
        var g = SeededGenerator(seed: 11)
        let store = ParameterStore(layer.parameters, generator: &g)
        let context = StepContext(training: true)
        // The training loss with the same draws every time (a sampled loss is a function of them).
        func run() -> (Double, Matrix<Double>) {
            context.arena.reset()
            var sampling = SeededGenerator(seed: 21)
            let r = layer.loss(h, segments: 2, targets: targets, weights: weights, gradientScale: 0.2, rowLosses: nil,
                               context: context, sampling: &sampling)
            return (r.nll * 0.2, r.dh!)
        }
        var check = GradientCheck()
        var dh: [Double] = []
        check.checkParameters(store, backward: { store.zeroGradients(); dh = run().1.array }, loss: { run().0 })
        check.check("hidden", values: h.base, analytic: dh, loss: { run().0 })
        return check
    }

    @Test func fullSoftmax() {
        let check = checkOutput(SoftmaxLayer(vocabularySize: 9, inputSize: 4, tiedTo: nil, initScale: 0.8))
        #expect(check.failures.isEmpty && check.checked > 60, "\(check.summary)")
    }

    @Test func sampledSoftmax() {
        let layer = SampledSoftmaxLayer<Double>(vocabularySize: 9, inputSize: 4, samples: 4, tiedTo: nil, initScale: 0.8)
        let check = checkOutput(layer)
        #expect(check.failures.isEmpty && check.checked > 30, "\(check.summary)")
    }

    @Test func adaptiveSoftmax() {
        // V = 9 in a shortlist of 3 and clusters [3, 5) and [5, 9); the targets cover all
        // three, and one of them is padding.
        let layer = AdaptiveSoftmaxComponent(cutoffs: [3, 5], divValue: 2)
            .makeLayer(vocabularySize: 9, inputSize: 4, tiedTo: nil as Parameter<Double>?, initScale: 0.8) as any OutputLayer<Double>
        let check = checkOutput(layer)
        #expect(check.failures.isEmpty && check.checked > 50, "\(check.summary)")
    }

    @Test func adaptiveSoftmaxIsANormalisedDistribution() {
        // Σ_y p(y) = 1 over the whole vocabulary: the perplexity it reports is exact.
        let v = 11
        let layer = AdaptiveSoftmaxLayer<Double>(vocabularySize: v, inputSize: 5, cutoffs: [2, 6], projectionSizes: [3, 1],
                                                 initScale: 0.9)
        var g = SeededGenerator(seed: 12)
        _ = ParameterStore(layer.parameters, generator: &g)
        let context = StepContext(training: false)
        let h: Matrix<Double> = randomMatrix(1, 5, scale: 2, seed: 13, in: context.arena)
        var total = 0.0
        for y in 0..<v {
            var loss = [0.0]
            var unused = SeededGenerator(seed: 0)
            layer.loss(h, targets: [Int32(y)], weights: nil, gradientScale: nil, rowLosses: &loss, context: context, sampling: &unused)
            total += Foundation.exp(-loss[0])
        }
        #expect(abs(total - 1) < 1e-12, "Σ p = \(total)")
    }

    @Test func checkerCatchesAWrongGradient() {
        // A deliberately wrong analytic gradient (off by 0.1 %) must fail the check.
        var x = [0.3, -1.2, 2.0]
        var check = GradientCheck()
        x.withUnsafeMutableBufferPointer { p in
            let loss = { (0..<3).reduce(0.0) { $0 + p[$1] * p[$1] * p[$1] } }
            check.check("cube", values: p.baseAddress!, analytic: p.map { 3 * $0 * $0 * 1.001 }, loss: loss)
        }
        #expect(check.failures.count == 3)
    }
}
