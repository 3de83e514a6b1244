import HarnessKernels
import HarnessTestSupport
@testable import HarnessModel
import Testing

/// The assembled model: gradients end to end, every parameter reached, determinism,
/// Float against Double, and learning.
struct BiLMTests {
    static let words = ["<eos>", "<bos>", "the", "cat", "sat", "on", "mat", "a", "dog", "ran"]
    static var table: CharacterTable {
        CharacterTable(tokens: words.map { $0 == "<eos>" ? .sentenceEnd : $0 == "<bos>" ? .sentenceStart : .word($0) },
                       maxCharacters: 7)
    }
    static let sentences: [[Int32]] = [[1, 2, 3, 4, 5, 2, 6, 0], [1, 7, 8, 9, 0], [1, 2, 8, 4, 0]]

    static func charConfiguration(dropout: [any DropoutComponent], output: any OutputComponent = SoftmaxComponent()) -> BiLMConfiguration {
        var cnn = CharCNNConfiguration()
        cnn.characterEmbeddingSize = 3
        cnn.filters = [.init(1, 2), .init(2, 3)]
        cnn.highwayLayers = 1
        cnn.outputSize = 3
        return BiLMConfiguration(
            vocabularySize: words.count, direction: .bidirectional, encoder: cnn,
            recurrent: LSTMComponent(layers: 2, hiddenSize: 4, projectionSize: 3, cellClip: 3, projectionClip: 3, residual: true),
            output: output, dropout: dropout, initScale: 0.5)
    }

    static var batches: [SequenceBatch] {
        [SequenceBatch.sentences(sentences, backward: false), SequenceBatch.sentences(sentences, backward: true)]
    }

    @Test(arguments: [SoftmaxComponent(), SampledSoftmaxComponent(samples: 4)] as [any OutputComponent])
    func bidirectionalCharModelGradients(output: any OutputComponent) {
        let dropout: [any DropoutComponent] = [VariationalDropout(rate: 0.2), WordDropout(rate: 0.2), EmbeddingDropout(rate: 0.2),
                       WeightDrop(rate: 0.2)]
        var g = SeededGenerator(seed: 1)
        let model = BiLM<Double>(Self.charConfiguration(dropout: dropout, output: output), characters: Self.table, generator: &g)
        let context = StepContext(training: true)
        let batches = Self.batches
        func objective() -> Double {
            context.arena.reset()
            context.dropoutGenerator = SeededGenerator(seed: 5)
            var sampling = SeededGenerator(seed: 6)
            return model.trainingStep(batches, carryState: false, context: context, sampling: &sampling).objective
        }
        var check = GradientCheck()
        check.checkParameters(model.store, backward: { model.store.zeroGradients(); _ = objective() }, loss: {
            // Forward only: the same step without keeping its gradients.
            let saved = Array(model.store.gradients)
            let value = objective()
            _ = model.store.gradients.update(fromContentsOf: saved)
            return value
        })
        #expect(check.failures.isEmpty && check.checked > 500, "\(check.summary)")
    }

    @Test(arguments: [SoftmaxComponent(tieWeights: true), SampledSoftmaxComponent(samples: 4, tieWeights: true)] as [any OutputComponent])
    func tiedWordModelGradientsInStreamMode(output: any OutputComponent) {
        let configuration = BiLMConfiguration(
            vocabularySize: 10, direction: .forward, encoder: WordEncoderComponent(size: 3),
            recurrent: LSTMComponent(layers: 2, hiddenSize: 5, projectionSize: 3),
            output: output, dropout: [StandardDropout(rate: 0.3)], initScale: 0.5)
        var g = SeededGenerator(seed: 2)
        let model = BiLM<Double>(configuration, generator: &g)
        #expect(model.output.parameters.contains { $0 === model.store.parameter(named: "encoder.embedding") })
        let batch = SequenceBatch(steps: 3, batchSize: 2, inputs: [1, 2, 3, 4, 5, 6], targets: [3, 4, 5, 6, 7, 8])
        let context = StepContext(training: true)
        func objective() -> Double {
            context.arena.reset()
            context.dropoutGenerator = SeededGenerator(seed: 5)
            var sampling = SeededGenerator(seed: 6)
            return model.trainingStep([batch], carryState: false, lossScale: 3, context: context, sampling: &sampling).objective
        }
        var check = GradientCheck()
        check.checkParameters(model.store, backward: { model.store.zeroGradients(); _ = objective() }, loss: objective)
        #expect(check.failures.isEmpty && check.checked > 100, "\(check.summary)")
    }

    @Test func everyParameterGetsAGradient() {
        var g = SeededGenerator(seed: 3)
        let model = BiLM<Float>(Self.charConfiguration(dropout: []), characters: Self.table, generator: &g)
        let context = StepContext(training: true)
        var sampling = SeededGenerator(seed: 1)
        model.trainingStep(Self.batches, carryState: false, context: context, sampling: &sampling)
        for p in model.store.parameters {
            #expect(sumOfSquares(p.count, p.gradient.base) > 0, "\(p.name) received no gradient")
        }
        #expect(model.store.parameters.count == 1 + 2 + 2 + 2 + 2 + 2 * 2 * 4 + 2)
    }

    @Test func floatForwardAgreesWithDouble() {
        var g1 = SeededGenerator(seed: 4), g2 = SeededGenerator(seed: 4)
        let configuration = Self.charConfiguration(dropout: [])
        let double = BiLM<Double>(configuration, characters: Self.table, generator: &g1)
        let float = BiLM<Float>(configuration, characters: Self.table, generator: &g2)
        float.store.copyValues(from: double.store)
        let d = double.evaluate(Self.batches, carryState: false, context: StepContext(training: false))
        let f = float.evaluate(Self.batches, carryState: false, context: StepContext(training: false))
        for (a, b) in zip(d, f) {
            #expect(a.tokens == b.tokens)
            #expect(abs(a.nll - b.nll) <= 1e-5 * abs(a.nll), "Double \(a.nll) vs Float \(b.nll)")
        }
    }

    /// Losses of `steps` Adam steps of a small Float model, single-threaded BLAS.
    private func trajectory(steps: Int, seed: UInt64, output: any OutputComponent = SampledSoftmaxComponent(samples: 5)) -> [Double] {
        let previousThreads = BLAS.threads
        BLAS.threads = 1
        defer { BLAS.threads = previousThreads }
        var streams = RandomStreams(seed: seed)
        let model = BiLM<Float>(Self.charConfiguration(dropout: [VariationalDropout(rate: 0.1)], output: output),
                                characters: Self.table, generator: &streams.initialization)
        let optimizer = Adam(learningRate: 0.03)
        let context = StepContext(training: true, dropoutGenerator: streams.dropout)
        var losses: [Double] = []
        for _ in 0..<steps {
            context.arena.reset()
            model.store.zeroGradients()
            losses.append(model.trainingStep(Self.batches, carryState: false, context: context, sampling: &streams.sampling).objective)
            GlobalNormClipping(maximum: 10).apply(to: model.store)
            optimizer.step(model.store)
        }
        return losses
    }

    @Test func sameSeedGivesABitIdenticalTrajectory() {
        let a = trajectory(steps: 20, seed: 7), b = trajectory(steps: 20, seed: 7)
        #expect(a == b)
        #expect(a != trajectory(steps: 20, seed: 8), "a different seed must change the run")
    }

    @Test func tinyModelLossFalls() {
        let losses = trajectory(steps: 150, seed: 9, output: SoftmaxComponent())
        let first = losses.prefix(5).reduce(0, +) / 5, last = losses.suffix(5).reduce(0, +) / 5
        // Full-softmax NLL starts near log(V) = 2.30 and must fall by over a third on three
        // memorisable sentences.
        #expect(abs(first - 2.3) < 0.5, "initial loss \(first)")
        #expect(last < 0.65 * first, "loss went from \(first) to \(last)")
    }

    @Test func dropoutDoesNotChangeTheInitialWeights() {
        var a = RandomStreams(seed: 1).initialization, b = RandomStreams(seed: 1).initialization
        let plain = BiLM<Float>(Self.charConfiguration(dropout: []), characters: Self.table, generator: &a)
        let dropped = BiLM<Float>(Self.charConfiguration(dropout: [VariationalDropout(rate: 0.5)]), characters: Self.table, generator: &b)
        #expect(Array(plain.store.values) == Array(dropped.store.values))
    }

    @Test func evaluationUsesTheFullSoftmaxAndNoDropout() {
        var g = SeededGenerator(seed: 4)
        let model = BiLM<Double>(Self.charConfiguration(dropout: [StandardDropout(rate: 0.5)], output: SampledSoftmaxComponent(samples: 3)),
                                 characters: Self.table, generator: &g)
        let context = StepContext(training: false)
        let first = model.evaluate(Self.batches, carryState: false, context: context)
        context.arena.reset()
        context.dropoutGenerator = SeededGenerator(seed: 77)
        let second = model.evaluate(Self.batches, carryState: false, context: context)
        #expect(first == second)
        // Full softmax: the exact NLL of an untrained model is close to log V per token.
        let perToken = first[0].nll / Double(first[0].tokens)
        #expect(abs(perToken - 2.3026) < 0.3)
        #expect(first[0].tokens == 7 + 4 + 4)
    }
}

struct CarriedStateTests {
    /// Stream mode: two windows with the state carried give the same outputs as one
    /// window of their combined length.
    @Test func twoWindowsWithCarriedStateEqualOneLongWindow() {
        let configuration = LSTMComponent(layers: 2, hiddenSize: 4, projectionSize: 3, cellClip: 0.5, projectionClip: 0.4,
                                                   residual: true)
        var g = SeededGenerator(seed: 1)
        let stack = RecurrentStack<Double>("s", inputSize: 3, component: configuration, dropout: [], initScale: 0.8)
        _ = ParameterStore(stack.parameters, generator: &g)
        let arena = Arena()
        let b = 2
        let x: Matrix<Double> = randomMatrix(6 * b, 3, scale: 2, seed: 2, in: arena)
        let context = StepContext(training: false)
        let whole = stack.forward(x, steps: 6, batchSize: b, carryState: false, context: context).array
        stack.resetState()
        let first = stack.forward(x.rows(0 ..< 4 * b), steps: 4, batchSize: b, carryState: true, context: context).array
        let second = stack.forward(x.rows(4 * b ..< 6 * b), steps: 2, batchSize: b, carryState: true, context: context).array
        #expect(first + second == whole)
        // Without carrying, the second window starts from zeros and differs.
        let fresh = stack.forward(x.rows(4 * b ..< 6 * b), steps: 2, batchSize: b, carryState: false, context: context).array
        #expect(fresh != second)
    }
}

/// Where layer-input dropout acts: with `first_layer_input: false` (Kim et al. 2016) the
/// first layer sees its input undropped, so its output in training equals its output
/// without any dropout; by default (Zaremba et al. 2014) it does not.
struct DropoutSiteTests {
    @Test(arguments: [true, false])
    func firstLayerInput(dropped: Bool) {
        let component = LSTMComponent(layers: 2, hiddenSize: 4)
        let stack = RecurrentStack<Double>("s", inputSize: 3, component: component,
                                           dropout: [StandardDropout(rate: 0.5, dropsFirstLayerInput: dropped)], initScale: 0.5)
        var generator = SeededGenerator(seed: 3)
        _ = ParameterStore(stack.parameters, generator: &generator)
        let arena = Arena()
        let x: Matrix<Double> = randomMatrix(6, 3, scale: 1, seed: 4, in: arena)
        func firstLayerOutput(training: Bool) -> [Double] {
            let context = StepContext(training: training)
            context.dropoutGenerator = SeededGenerator(seed: 5)
            let y = stack.forward(x, steps: 3, batchSize: 2, carryState: false, context: context)
            #expect(y.rows == 6)
            return Array(UnsafeBufferPointer(start: stack.layerOutputs[0].base, count: stack.layerOutputs[0].count))
        }
        let evaluated = firstLayerOutput(training: false), trained = firstLayerOutput(training: true)
        #expect((trained == evaluated) == !dropped)
    }
}
