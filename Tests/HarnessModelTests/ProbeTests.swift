import Foundation
import HarnessKernels
import HarnessTestSupport
@testable import HarnessModel
import class HarnessSpec.AdaptiveSoftmaxLayer
import struct HarnessSpec.AdaptiveSoftmaxComponent
import class HarnessSpec.GRULayer
import Testing

/// The components against an independent reference: PyTorch autograd in float64
/// (`tools/make_probe_fixture.py` wrote `Fixtures/probe.json`). Forward values and every
/// gradient are compared, in Double (tight) and Float (single-precision tolerance).
struct ProbeTests {
    struct Fixture: Decodable {
        struct LSTMP: Decodable {
            var steps: Int, batch: Int, input_size: Int, hidden: Int, projection: Int
            var cell_clip: Double, projection_clip: Double
            var input: [Double], input_weight: [Double], recurrent_weight: [Double], bias: [Double]
            var projection_weight: [Double], upstream: [Double], output: [Double]
            var grad_input: [Double], grad_input_weight: [Double], grad_recurrent_weight: [Double]
            var grad_bias: [Double], grad_projection_weight: [Double]
        }
        struct CharCNN: Decodable {
            var words: [String], max_characters: Int, char_embedding_size: Int, filters: [[Int]]
            var highway_layers: Int, output_size: Int, character_table: [Int32], token_ids: [Int32]
            var char_embedding: [Double], conv_weights: [[Double]], conv_biases: [[Double]]
            var highway_weights: [[Double]], highway_biases: [[Double]]
            var projection_weight: [Double], projection_bias: [Double], upstream: [Double], output: [Double]
            var grad_char_embedding: [Double], grad_conv_weights: [[Double]], grad_conv_biases: [[Double]]
            var grad_highway_weights: [[Double]], grad_highway_biases: [[Double]]
            var grad_projection_weight: [Double], grad_projection_bias: [Double]
        }
        struct Softmax: Decodable {
            var rows: Int, input_size: Int, vocabulary: Int
            var hidden: [Double], weight: [Double], bias: [Double], targets: [Int32], mean_nll: Double
            var grad_hidden: [Double], grad_weight: [Double], grad_bias: [Double]
        }
        struct GRU: Decodable {
            var steps: Int, batch: Int, input_size: Int, hidden: Int
            var input: [Double], initial_state: [Double], input_weight: [Double], recurrent_weight: [Double]
            var input_bias: [Double], recurrent_bias: [Double], upstream: [Double], output: [Double], final_state: [Double]
            var grad_input: [Double], grad_input_weight: [Double], grad_recurrent_weight: [Double]
            var grad_input_bias: [Double], grad_recurrent_bias: [Double]
        }
        struct LSTM: Decodable {
            var steps: Int, batch: Int, input_size: Int, hidden: Int
            var input: [Double], initial_output: [Double], initial_cell: [Double], input_weight: [Double], recurrent_weight: [Double]
            var input_bias: [Double], recurrent_bias: [Double], upstream: [Double], output: [Double]
            var final_output: [Double], final_cell: [Double]
            var grad_input: [Double], grad_input_weight: [Double], grad_recurrent_weight: [Double]
            var grad_input_bias: [Double], grad_recurrent_bias: [Double]
        }
        struct AdaptiveSoftmax: Decodable {
            var rows: Int, input_size: Int, vocabulary: Int, cutoffs: [Int], div_value: Double
            var hidden: [Double], targets: [Int32], head_weight: [Double], tail_projections: [[Double]], tail_weights: [[Double]]
            var target_log_probs: [Double], mean_nll: Double, log_prob_sums: [Double]
            var grad_hidden: [Double], grad_head_weight: [Double], grad_tail_projections: [[Double]], grad_tail_weights: [[Double]]
        }
        var lstmp: LSTMP
        var charcnn: CharCNN
        var softmax: Softmax
        var gru: GRU
        var adaptive_softmax: AdaptiveSoftmax
        var lstm: LSTM
    }

    static let fixture: Fixture = {
        let url = Bundle.module.url(forResource: "probe", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    /// Max |a − e| / (max|e| over the tensor) ≤ tolerance: relative to the tensor's scale.
    private func expectClose<T: Scalar>(_ actual: Matrix<T>, _ expected: [Double], _ name: String, tolerance: Double,
                                        sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.count == expected.count, "\(name): \(actual.count) values, expected \(expected.count)",
                sourceLocation: sourceLocation)
        let worst = Probe.relativeError(actual, expected)
        #expect(worst <= tolerance, "\(name): worst error \(worst) relative to the expected scale", sourceLocation: sourceLocation)
    }

    private func lstmp<T: Scalar>(_: T.Type, tolerance: Double) {
        let f = Self.fixture.lstmp
        let layer = LSTMLayer<T>("probe", component: LSTMComponent(
            layers: 1, hiddenSize: f.hidden, projectionSize: f.projection,
            cellClip: f.cell_clip, projectionClip: f.projection_clip), inputSize: f.input_size, initScale: 0.1)
        var g = SeededGenerator(seed: 0)
        let store = ParameterStore(layer.parameters, generator: &g)
        Probe.load(layer.inputWeight, f.input_weight)
        Probe.load(layer.recurrentWeight, f.recurrent_weight)
        Probe.load(layer.bias, f.bias)
        Probe.load(layer.projectionWeight!, f.projection_weight)
        let arena = Arena()
        let context = StepContext(training: true)
        let y = layer.forward(Probe.matrix(f.input, rows: f.steps * f.batch, in: arena), steps: f.steps, batchSize: f.batch,
                              state: nil, context: context)
        expectClose(y, f.output, "lstmp output", tolerance: tolerance)
        store.zeroGradients()
        let dx = layer.backward(Probe.matrix(f.upstream, rows: f.steps * f.batch, in: arena), context: context)
        expectClose(dx, f.grad_input, "lstmp d input", tolerance: tolerance)
        expectClose(layer.inputWeight.gradient, f.grad_input_weight, "lstmp d W_x", tolerance: tolerance)
        expectClose(layer.recurrentWeight.gradient, f.grad_recurrent_weight, "lstmp d W_h", tolerance: tolerance)
        expectClose(layer.bias.gradient, f.grad_bias, "lstmp d b", tolerance: tolerance)
        expectClose(layer.projectionWeight!.gradient, f.grad_projection_weight, "lstmp d W_p", tolerance: tolerance)
    }

    @Test func lstmpMatchesPyTorchInDouble() { lstmp(Double.self, tolerance: 1e-12) }
    @Test func lstmpMatchesPyTorchInFloat() { lstmp(Float.self, tolerance: 2e-6) }

    private func gru<T: Scalar>(_: T.Type, tolerance: Double) {
        let f = Self.fixture.gru
        let layer = GRULayer<T>("probe", inputSize: f.input_size, hiddenSize: f.hidden, initScale: 0.1)
        var g = SeededGenerator(seed: 0)
        let store = ParameterStore(layer.parameters, generator: &g)
        Probe.load(layer.inputWeight, f.input_weight)
        Probe.load(layer.recurrentWeight, f.recurrent_weight)
        Probe.load(layer.inputBias, f.input_bias)
        Probe.load(layer.recurrentBias, f.recurrent_bias)
        let arena = Arena()
        let context = StepContext(training: true)
        let state = RecurrentState<T>(batchSize: f.batch, outputSize: f.hidden, cellSize: 0)
        for i in f.initial_state.indices { state.h.base[i] = T(f.initial_state[i]) }
        let y = layer.forward(Probe.matrix(f.input, rows: f.steps * f.batch, in: arena), steps: f.steps, batchSize: f.batch,
                              state: state, context: context)
        expectClose(y, f.output, "gru output", tolerance: tolerance)
        expectClose(state.h, f.final_state, "gru final state", tolerance: tolerance)
        store.zeroGradients()
        let dx = layer.backward(Probe.matrix(f.upstream, rows: f.steps * f.batch, in: arena), context: context)
        expectClose(dx, f.grad_input, "gru d input", tolerance: tolerance)
        expectClose(layer.inputWeight.gradient, f.grad_input_weight, "gru d W_x", tolerance: tolerance)
        expectClose(layer.recurrentWeight.gradient, f.grad_recurrent_weight, "gru d W_h", tolerance: tolerance)
        expectClose(layer.inputBias.gradient, f.grad_input_bias, "gru d b_x", tolerance: tolerance)
        expectClose(layer.recurrentBias.gradient, f.grad_recurrent_bias, "gru d b_h", tolerance: tolerance)
    }

    /// nn.LSTM with its two biases: `recurrent_bias`, from a non-zero state.
    private func lstm<T: Scalar>(_: T.Type, tolerance: Double) {
        let f = Self.fixture.lstm
        let layer = LSTMLayer<T>("probe", component: LSTMComponent(layers: 1, hiddenSize: f.hidden, forgetBias: 0, recurrentBias: true),
                                 inputSize: f.input_size, initScale: 0.1)
        var g = SeededGenerator(seed: 0)
        let store = ParameterStore(layer.parameters, generator: &g)
        Probe.load(layer.inputWeight, f.input_weight)
        Probe.load(layer.recurrentWeight, f.recurrent_weight)
        Probe.load(layer.bias, f.input_bias)
        Probe.load(layer.recurrentBias!, f.recurrent_bias)
        let arena = Arena()
        let context = StepContext(training: true)
        let state = RecurrentState<T>(batchSize: f.batch, outputSize: f.hidden, cellSize: f.hidden)
        for i in f.initial_output.indices { state.h.base[i] = T(f.initial_output[i]); state.c.base[i] = T(f.initial_cell[i]) }
        let y = layer.forward(Probe.matrix(f.input, rows: f.steps * f.batch, in: arena), steps: f.steps, batchSize: f.batch,
                              state: state, context: context)
        expectClose(y, f.output, "lstm output", tolerance: tolerance)
        expectClose(state.h, f.final_output, "lstm final output", tolerance: tolerance)
        expectClose(state.c, f.final_cell, "lstm final cell", tolerance: tolerance)
        store.zeroGradients()
        let dx = layer.backward(Probe.matrix(f.upstream, rows: f.steps * f.batch, in: arena), context: context)
        expectClose(dx, f.grad_input, "lstm d input", tolerance: tolerance)
        expectClose(layer.inputWeight.gradient, f.grad_input_weight, "lstm d W_x", tolerance: tolerance)
        expectClose(layer.recurrentWeight.gradient, f.grad_recurrent_weight, "lstm d W_h", tolerance: tolerance)
        expectClose(layer.bias.gradient, f.grad_input_bias, "lstm d b_x", tolerance: tolerance)
        expectClose(layer.recurrentBias!.gradient, f.grad_recurrent_bias, "lstm d b_h", tolerance: tolerance)
    }

    @Test func lstmWithTwoBiasesMatchesPyTorchInDouble() { lstm(Double.self, tolerance: 1e-12) }
    @Test func lstmWithTwoBiasesMatchesPyTorchInFloat() { lstm(Float.self, tolerance: 2e-6) }

    @Test func gruMatchesPyTorchInDouble() { gru(Double.self, tolerance: 1e-12) }
    @Test func gruMatchesPyTorchInFloat() { gru(Float.self, tolerance: 2e-6) }

    private func charCNN<T: Scalar>(_: T.Type, tolerance: Double) {
        let f = Self.fixture.charcnn
        var configuration = CharCNNConfiguration()
        configuration.characterEmbeddingSize = f.char_embedding_size
        configuration.filters = f.filters.map { .init($0[0], $0[1]) }
        configuration.activation = .tanh
        configuration.highwayLayers = f.highway_layers
        configuration.outputSize = f.output_size
        let table = CharacterTable(tokens: f.words.map { $0 == "<bos>" ? .sentenceStart : $0 == "<eos>" ? .sentenceEnd : .word($0) },
                                   maxCharacters: f.max_characters)
        #expect(table.ids == f.character_table, "character ids differ from bilm-tf's numbering")
        let encoder = CharCNNEncoder<T>(configuration: configuration, characters: table, initScale: 0.1)
        var g = SeededGenerator(seed: 0)
        let store = ParameterStore(encoder.parameters, generator: &g)
        Probe.load(encoder.characterEmbedding, f.char_embedding)
        for i in f.conv_weights.indices {
            Probe.load(encoder.convolutionWeights[i], f.conv_weights[i])
            Probe.load(encoder.convolutionBiases[i], f.conv_biases[i])
        }
        for i in f.highway_weights.indices {
            Probe.load(encoder.highways[i].weight, f.highway_weights[i])
            Probe.load(encoder.highways[i].bias, f.highway_biases[i])
        }
        Probe.load(encoder.projection!.weight, f.projection_weight)
        Probe.load(encoder.projection!.bias, f.projection_bias)
        let arena = Arena()
        let context = StepContext(training: true)
        let y = encoder.forward(ids: f.token_ids, count: f.token_ids.count, context: context)
        expectClose(y, f.output, "char-cnn output", tolerance: tolerance)
        store.zeroGradients()
        encoder.backward(Probe.matrix(f.upstream, rows: f.token_ids.count, in: arena), context: context)
        expectClose(encoder.characterEmbedding.gradient, f.grad_char_embedding, "d char embedding", tolerance: tolerance)
        for i in f.conv_weights.indices {
            expectClose(encoder.convolutionWeights[i].gradient, f.grad_conv_weights[i], "d conv\(i) weight", tolerance: tolerance)
            expectClose(encoder.convolutionBiases[i].gradient, f.grad_conv_biases[i], "d conv\(i) bias", tolerance: tolerance)
        }
        for i in f.highway_weights.indices {
            expectClose(encoder.highways[i].weight.gradient, f.grad_highway_weights[i], "d highway\(i) weight", tolerance: tolerance)
            expectClose(encoder.highways[i].bias.gradient, f.grad_highway_biases[i], "d highway\(i) bias", tolerance: tolerance)
        }
        expectClose(encoder.projection!.weight.gradient, f.grad_projection_weight, "d projection weight", tolerance: tolerance)
        expectClose(encoder.projection!.bias.gradient, f.grad_projection_bias, "d projection bias", tolerance: tolerance)
    }

    @Test func charCNNMatchesPyTorchInDouble() { charCNN(Double.self, tolerance: 1e-12) }
    @Test func charCNNMatchesPyTorchInFloat() { charCNN(Float.self, tolerance: 2e-6) }

    private func softmax<T: Scalar>(_: T.Type, tolerance: Double) {
        let f = Self.fixture.softmax
        let layer = SoftmaxLayer<T>(vocabularySize: f.vocabulary, inputSize: f.input_size, tiedTo: nil, initScale: 0.1)
        var g = SeededGenerator(seed: 0)
        let store = ParameterStore(layer.parameters, generator: &g)
        Probe.load(layer.weight, f.weight)
        Probe.load(layer.bias, f.bias)
        store.zeroGradients()
        // The context outlives the checks: ∂h lives in its arena.
        let context = StepContext(training: true)
        var unused = SeededGenerator(seed: 0)
        let result = layer.loss(Probe.matrix(f.hidden, rows: f.rows, in: context.arena), targets: f.targets, weights: nil,
                                gradientScale: T(1) / T(f.rows), rowLosses: nil, context: context, sampling: &unused)
        #expect(abs(result.nll / Double(f.rows) - f.mean_nll) <= tolerance * f.mean_nll)
        expectClose(result.dh!, f.grad_hidden, "softmax d hidden", tolerance: tolerance)
        expectClose(layer.weight.gradient, f.grad_weight, "softmax d W", tolerance: tolerance)
        expectClose(layer.bias.gradient, f.grad_bias, "softmax d b", tolerance: tolerance)
        withExtendedLifetime(context) {}
    }

    @Test func fullSoftmaxMatchesPyTorchInDouble() { softmax(Double.self, tolerance: 1e-12) }
    @Test func fullSoftmaxMatchesPyTorchInFloat() { softmax(Float.self, tolerance: 2e-6) }

    private func adaptiveSoftmax<T: Scalar>(_: T.Type, tolerance: Double) {
        let f = Self.fixture.adaptive_softmax
        #expect(f.log_prob_sums.allSatisfy { abs($0 - 1) < 1e-12 }, "PyTorch's distribution must be normalised")
        let component = AdaptiveSoftmaxComponent(cutoffs: f.cutoffs, divValue: f.div_value)
        let made: any OutputLayer<T> = component.makeLayer(vocabularySize: f.vocabulary, inputSize: f.input_size,
                                                           tiedTo: nil as Parameter<T>?, initScale: 0.1)
        let layer = made as! AdaptiveSoftmaxLayer<T>
        var g = SeededGenerator(seed: 0)
        let store = ParameterStore(layer.parameters, generator: &g)
        Probe.load(layer.head, f.head_weight)
        for i in layer.tails.indices {
            Probe.load(layer.projections[i], f.tail_projections[i])
            Probe.load(layer.tails[i], f.tail_weights[i])
        }
        store.zeroGradients()
        // The context outlives the checks: ∂h lives in its arena.
        let context = StepContext(training: true)
        let h: Matrix<T> = Probe.matrix(f.hidden, rows: f.rows, in: context.arena)
        var losses = [T](repeating: 0, count: f.rows)
        var unused = SeededGenerator(seed: 0)
        let evaluated = layer.loss(h, targets: f.targets, weights: nil, gradientScale: nil, rowLosses: &losses, context: context,
                                   sampling: &unused).nll
        #expect(abs(evaluated / Double(f.rows) - f.mean_nll) <= tolerance * f.mean_nll)
        for r in 0..<f.rows {
            #expect(abs(Double(losses[r]) + f.target_log_probs[r]) <= tolerance * 10, "row \(r): \(losses[r]) vs \(-f.target_log_probs[r])")
        }
        let trained = layer.loss(h, targets: f.targets, weights: nil, gradientScale: T(1) / T(f.rows),
                                 rowLosses: nil, context: context, sampling: &unused)
        #expect(abs(trained.nll - evaluated) <= tolerance * abs(evaluated), "training and evaluation compute the same exact NLL")
        expectClose(trained.dh!, f.grad_hidden, "adaptive d hidden", tolerance: tolerance)
        expectClose(layer.head.gradient, f.grad_head_weight, "adaptive d head", tolerance: tolerance)
        for i in layer.tails.indices {
            expectClose(layer.projections[i].gradient, f.grad_tail_projections[i], "adaptive d tail \(i) projection", tolerance: tolerance)
            expectClose(layer.tails[i].gradient, f.grad_tail_weights[i], "adaptive d tail \(i) output", tolerance: tolerance)
        }
        withExtendedLifetime(context) {}
    }

    @Test func adaptiveSoftmaxMatchesPyTorchInDouble() { adaptiveSoftmax(Double.self, tolerance: 1e-12) }
    @Test func adaptiveSoftmaxMatchesPyTorchInFloat() { adaptiveSoftmax(Float.self, tolerance: 2e-6) }
}
