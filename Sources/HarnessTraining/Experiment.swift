import Foundation
import HarnessData
import HarnessKernels
import HarnessModel
import HarnessSpec

/// A spec made concrete: its data read and encoded, its model built. Shared by
/// `harness run`, `harness eval` and `harness validate`.
public final class Experiment {
    public let spec: ExperimentSpec
    public let vocabulary: Vocabulary
    public let train: [[Int32]]
    public let valid: [[Int32]]?
    public let test: [[Int32]]?
    public let model: BiLM<Float>
    public var streams: RandomStreams

    /// Which batch of a step runs backward: [false] forward, [true] backward, [false, true] both.
    public var backwardDirections: [Bool] {
        switch spec.model.direction {
        case .forward: [false]
        case .backward: [true]
        case .bidirectional: [false, true]
        }
    }

    public var usesSentences: Bool { if case .sentences = spec.data.batching { true } else { false } }

    /// Reads the data (`DataError` on bad files) and builds the model (`SpecErrors` for
    /// combinations that only the data can reveal, such as more samples than words).
    /// - Parameter vocabularyFile: overrides the spec's (a run directory's saved vocabulary).
    public init(_ spec: ExperimentSpec, vocabularyFile: String? = nil, loadTraining: Bool = true) throws {
        self.spec = spec
        let data = spec.data
        let withBOS = { if case .sentences = data.batching { true } else { false } }()
        let trainLines = loadTraining || vocabularyFile == nil ? try TextFile.read(data.train, maxTokens: data.maxTrainTokens) : []
        if loadTraining && trainLines.allSatisfy(\.isEmpty) {
            throw DataError(trainLines.isEmpty ? "the training split is empty" : "the training split has no tokens, only blank lines",
                            file: data.train)
        }
        if let file = vocabularyFile ?? data.vocabularyFile {
            vocabulary = try Vocabulary(file: file, withBeginOfSentence: withBOS)
        } else {
            vocabulary = Vocabulary(training: trainLines, minCount: data.minCount, maxSize: data.maxVocabularySize,
                                    withBeginOfSentence: withBOS)
        }
        let vocabulary = vocabulary
        train = vocabulary.encode(trainLines)
        valid = try data.valid.map { vocabulary.encode(try TextFile.read($0, maxTokens: data.maxEvalTokens)) }
        test = try data.test.map { vocabulary.encode(try TextFile.read($0, maxTokens: data.maxEvalTokens)) }
        if case .sampled(let samples) = spec.model.output, samples >= vocabulary.count {
            throw SpecErrors([SpecError("sampled-softmax samples (\(samples)) must be fewer than the vocabulary (\(vocabulary.count) entries)",
                                        at: spec.locations["model.output.samples"] ?? SourceLocation(file: spec.file, line: 1, column: 1),
                                        note: "use type: softmax, or fewer samples")], source: spec.source)
        }
        streams = RandomStreams(seed: spec.seed)
        var characters: CharacterTable?
        if case .charCNN(_, let maxCharacters) = spec.model.encoder {
            characters = vocabulary.characterTable(maxCharacters: maxCharacters)
        }
        model = BiLM<Float>(spec.model.configuration(vocabularySize: vocabulary.count), characters: characters,
                            generator: &streams.initialization)
    }

    /// The steps of one pass over `lines`; training passes shuffle (sentences mode).
    public func batches(_ lines: [[Int32]], training: Bool) -> [[SequenceBatch]] {
        switch spec.data.batching {
        case .stream(let b, let bptt):
            return Batching.stream(lines, eos: vocabulary.eosID, batchSize: training ? b : spec.data.evalBatchSize, bptt: bptt,
                                   backwardDirections: backwardDirections)
        case .sentences(let b, let maxLength, let bucket):
            var generator: SeededGenerator? = training ? streams.data : nil
            let steps = Batching.sentences(lines, bos: vocabulary.bosID!, eos: vocabulary.eosID,
                                           batchSize: training ? b : spec.data.evalBatchSize, maxLength: maxLength,
                                           bucket: bucket, backwardDirections: backwardDirections, shuffle: &generator)
            if training, let generator { streams.data = generator }
            return steps
        }
    }

    /// Perplexity of `lines` under the full softmax, no dropout, state carried in stream mode.
    public func evaluate(_ lines: [[Int32]], context: StepContext) -> [DirectionLoss] {
        let steps = batches(lines, training: false)
        model.resetState()
        var total = Array(repeating: DirectionLoss(), count: backwardDirections.count)
        for step in steps {
            context.arena.reset()
            let losses = model.evaluate(step, carryState: spec.data.batching.carriesState, context: context)
            for d in total.indices { total[d] += losses[d] }
        }
        model.resetState()
        return total
    }

    /// Per-direction losses as a `SplitPerplexity`.
    public func perplexity(_ losses: [DirectionLoss]) -> SplitPerplexity {
        let p = Perplexity(losses)
        let forwardIndex = backwardDirections.firstIndex(of: false), backwardIndex = backwardDirections.firstIndex(of: true)
        return SplitPerplexity(forward: forwardIndex.map { p.directions[$0] }, backward: backwardIndex.map { p.directions[$0] },
                               mean: p.mean, tokens: losses.first?.tokens ?? 0)
    }
}
