import Foundation
import HarnessKernels
import HarnessModel
@testable import HarnessSpec
import Testing

/// The experiments folder, from this file's location.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

struct SpecRoundTripTests {
    static let experiments = ["smoke", "char-2layer", "word-2layer", "elmo-small", "zaremba-small", "zaremba-medium", "kim-char-small"]
    // 1b-word-elmo-small names shards that must exist: OneBillionWordSpecTests reads it on a stand-in.

    @Test(arguments: experiments)
    func resolvedSpecReadsBackToTheSameSpec(name: String) throws {
        let spec = try SpecLoader.load(file: packageRoot.appendingPathComponent("experiments/\(name).yaml").path)
        let text = spec.resolved.yaml()
        let again = try SpecLoader.parse(text, file: "resolved.yaml")
        #expect(again.resolved == spec.resolved)
        #expect(again.hash == spec.hash)
        #expect(again.model == spec.model && again.training == spec.training && again.data == spec.data)
        #expect(again.resolved.yaml() == text)
    }

    @Test func defaultsAreFilledIn() throws {
        let spec = try SpecLoader.parse(SpecErrorTests.base, file: "s.yaml", defaultName: "base")
        #expect(spec.name == "base" && spec.seed == 1)
        #expect(spec.model.direction == .bidirectional)
        #expect(spec.model.output.isEqual(to: SoftmaxComponent(tieWeights: false)))
        #expect(spec.training.optimizer.isEqual(to: Adagrad.Hyperparameters(learningRate: 0.2, initialAccumulator: 1)))
        #expect(spec.training.clipping == nil && spec.training.schedule.isEqual(to: ConstantSchedule()))
        #expect(spec.model.recurrent.isEqual(to: LSTMComponent(layers: 2, hiddenSize: 16, projectionSize: 8, residual: true)))
        // Resolved once, against the working directory; the resolved spec keeps the text as written.
        #expect(spec.data.valid == FileManager.default.currentDirectoryPath + "/corpus/valid.txt" && spec.data.evalBatchSize == 4)
        #expect(spec.resolved.value(at: "data.corpus") == .scalar("corpus"))
        #expect(spec.evaluation.splits == ["valid", "test"])
        #expect(spec.resolved.value(at: "training.optimizer.lr") == .scalar("0.2"))
        #expect(spec.resolved.value(at: "model.recurrent.cell_clip") == .scalar("null"))
    }

    /// `bias_init` (issue #21): the output bias starts at zero (bilm-tf) unless asked to
    /// start as the PyTorch peer's, in U(±init_scale).
    @Test func theOutputBiasStartsAtZeroOrUniform() throws {
        for (key, expected) in [("", BiasInit.zeros), (", bias_init: uniform", .uniform)] {
            let text = SpecErrorTests.base.replacingOccurrences(of: "training:\n", with: "  output: {type: sampled-softmax, samples: 4\(key)}\ntraining:\n")
            #expect(text != SpecErrorTests.base)
            let spec = try SpecLoader.parse(text, file: "s.yaml", defaultName: "base")
            #expect(spec.model.output.isEqual(to: SampledSoftmaxComponent(samples: 4, biasInit: expected)))
            var g = SeededGenerator(seed: 1)
            let model = BiLM<Float>(spec.model.configuration(vocabularySize: 50), generator: &g)
            let bias = model.store.parameter(named: "output.bias")!
            let values = (0 ..< bias.count).map { bias.value.base[$0] }
            let scale = Float(spec.model.initScale)
            #expect(expected == .zeros ? values.allSatisfy { $0 == 0 } : values.allSatisfy { abs($0) <= scale } && Set(values).count > 40)
        }
        let bad = #expect(throws: SpecErrors.self) {
            try SpecLoader.parse(SpecErrorTests.base.replacingOccurrences(of: "training:\n",
                                                                         with: "  output: {type: softmax, bias_init: normal}\ntraining:\n"),
                                 file: "s.yaml", defaultName: "base")
        }
        #expect(bad?.errors.first?.message == "unknown bias_init 'normal' for 'model.output'")
        #expect(bad?.errors.first?.note == "expected one of: zeros, uniform")
    }

    /// The GRU's `bias_init`: its biases start at zero (TensorFlow's GRU) unless asked to
    /// start as the PyTorch peer's, in U(±init_scale); under Adam the zero start stalls the
    /// peer too (README, "Agreement with PyTorch").
    @Test func theGRUBiasesStartAtZeroOrUniform() throws {
        for (key, expected) in [("", BiasInit.zeros), (", bias_init: uniform", .uniform)] {
            let text = SpecErrorTests.base.replacingOccurrences(of: "{type: lstm-projected, layers: 2, hidden: 16, projection: 8}",
                                                                with: "{type: gru, layers: 2, hidden: 16\(key)}")
            #expect(text != SpecErrorTests.base)
            let spec = try SpecLoader.parse(text, file: "s.yaml", defaultName: "base")
            #expect(spec.model.recurrent.isEqual(to: GRUComponent(layers: 2, hiddenSize: 16, residual: false, biasInit: expected)))
            var g = SeededGenerator(seed: 1)
            let model = BiLM<Float>(spec.model.configuration(vocabularySize: 50), generator: &g)
            let scale = Float(spec.model.initScale)
            for layer in 0 ..< 2 {
                for name in ["input_bias", "recurrent_bias"] {
                    let bias = try #require(model.store.parameter(named: "forward.layer\(layer).\(name)"))
                    let values = (0 ..< bias.count).map { bias.value.base[$0] }
                    #expect(values.count == 48)
                    #expect(expected == .zeros ? values.allSatisfy { $0 == 0 } : values.allSatisfy { abs($0) <= scale } && Set(values).count > 40,
                            "forward.layer\(layer).\(name)")
                }
            }
        }
        let bad = #expect(throws: SpecErrors.self) {
            try SpecLoader.parse(SpecErrorTests.base.replacingOccurrences(of: "{type: lstm-projected, layers: 2, hidden: 16, projection: 8}",
                                                                         with: "{type: gru, hidden: 16, bias_init: ones}"),
                                 file: "s.yaml", defaultName: "base")
        }
        #expect(bad?.errors.first?.message == "unknown bias_init 'ones' for 'model.recurrent'")
        #expect(bad?.errors.first?.note == "expected one of: zeros, uniform")
    }

    @Test func theHashChangesWithTheSpecButNotWithComments() throws {
        let a = try SpecLoader.parse(SpecErrorTests.base, file: "a.yaml")
        let b = try SpecLoader.parse("# a comment\n" + SpecErrorTests.base, file: "b.yaml")
        let c = try SpecLoader.parse(SpecErrorTests.base + "seed: 2\n", file: "c.yaml")
        #expect(a.hash == b.hash)
        #expect(a.hash != c.hash)
        // Spelling out defaults does not change a run's identity (nor would a new key with a default).
        let explicit = try SpecLoader.parse(SpecErrorTests.base.replacingOccurrences(of: "epochs: 1", with: "epochs: 1\n  loss: mean\n  clip: {type: none}")
                                            + "seed: 1\n", file: "d.yaml")
        #expect(explicit.hash == a.hash)
        #expect(explicit.resolved.canonical == a.resolved.canonical)
    }
}

struct RegistryTests {
    @Test func typeNamesAreUniqueInEveryRegistry() {
        for kind in Registries.catalog {
            #expect(Set(kind.entries.map(\.type)).count == kind.entries.count, "\(kind.kind) has a duplicate type")
        }
    }

    @Test func suggestionsFindTypos() {
        #expect(nearest("lstmp", in: Registries.recurrent.types) == "lstm-projected")
        #expect(nearest("sampled", in: Registries.output.types) == "sampled-softmax")
        #expect(nearest("xyz", in: Registries.optimizer.types) == nil)
    }

    /// Every registered type, with its defaults (and the required keys given), makes a
    /// spec that loads; every model component builds a model that computes a loss.
    @Test func everyRegisteredTypeBuilds() throws {
        let required: [String: String] = ["dim": "8", "hidden": "8", "projection": "8", "rate": "0.1", "max": "5"]
        func item(_ kind: String, _ type: String) -> String {
            let defaults = Registries.catalog.first { $0.kind == kind }!.entries.first { $0.type == type }!.defaults
            guard case .mapping(let entries) = defaults else { return "{type: \(type)}" }
            let keys = entries.filter { $0.key != "type" && $0.value == .scalar("required") }
                .map { "\($0.key): \(required[$0.key]!)" }
            return "{" + (["type: \(type)"] + keys).joined(separator: ", ") + "}"
        }
        var specs: [String] = []
        for encoder in Registries.tokenEncoder.types {
            for recurrent in Registries.recurrent.types {
                // Weight-drop only for the recurrent components that implement it.
                let component = try SpecLoader.parse("data: {corpus: c}\nmodel: {token_encoder: {type: word, dim: 8}, recurrent: "
                                                     + item("recurrent", recurrent) + "}\n", file: "s.yaml").model.recurrent
                let dropouts = Registries.dropout.types.filter { $0 != "standard" && ($0 != "weight-drop" || component.supportsWeightDrop) }
                // Output layers sized for the six-word vocabulary below.
                let small = ["sampled-softmax": "{type: sampled-softmax, samples: 3}",
                             "adaptive-softmax": "{type: adaptive-softmax, cutoffs: [2, 4], div_value: 2}"]
                for output in Registries.output.types {
                    specs.append("""
                        data: {corpus: c, batching: {type: stream}}
                        model:
                          token_encoder: \(item("token_encoder", encoder))
                          recurrent: \(item("recurrent", recurrent))
                          output: \(small[output] ?? item("output", output))
                          dropout: [\(dropouts.map { item("dropout", $0) }.joined(separator: ", "))]
                        training: {epochs: 1}
                        """)
                }
            }
        }
        for optimizer in Registries.optimizer.types {
            for schedule in Registries.schedule.types {
                for clip in Registries.clipping.types {
                    for batching in Registries.batching.types {
                        specs.append("""
                            data: {corpus: c, batching: \(item("batching", batching))}
                            model: {token_encoder: {type: word, dim: 8}, recurrent: {type: lstm, hidden: 8}, dropout: [\(item("dropout", "standard"))]}
                            training: {optimizer: \(item("optimizer", optimizer)), schedule: \(item("schedule", schedule)), clip: \(item("clip", clip))}
                            """)
                    }
                }
            }
        }
        for text in specs {
            let spec = try SpecLoader.parse(text, file: "s.yaml")
            var generator = SeededGenerator(seed: 1)
            let words = ["<eos>", "<unk>", "a", "b", "c", "d"]
            #expect(spec.model.output.problems(vocabularySize: words.count, inputSize: spec.model.recurrent.outputSize).isEmpty)
            let characters = CharacterTable(tokens: words.map { .word($0) }, maxCharacters: 50)
            let model = BiLM<Float>(spec.model.configuration(vocabularySize: words.count), characters: characters, generator: &generator)
            let batch = SequenceBatch(steps: 2, batchSize: 1, inputs: [2, 3], targets: [3, 4])
            guard spec.model.output.scoresTokens else {
                // An output of none (embeddings only) has nothing to score: its model gives representations.
                let (tokens, layers) = model.representations(Array(repeating: batch, count: spec.model.direction.count),
                                                             context: StepContext(training: false))
                #expect(tokens.rows == 2 * spec.model.direction.count && layers.count == spec.model.direction.count)
                continue
            }
            let losses = model.evaluate(Array(repeating: batch, count: spec.model.direction.count), carryState: false,
                                        context: StepContext(training: false))
            #expect(losses.allSatisfy { $0.nll.isFinite && $0.tokens == 2 })
        }
        #expect(specs.count == Registries.tokenEncoder.types.count * Registries.recurrent.types.count * Registries.output.types.count + 3 * 3 * 3 * 2)
    }
}
