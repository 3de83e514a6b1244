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
    /// The training split (empty when not loaded), read from the corpus cache.
    public let train: TokenCorpus
    /// The cache folder `train` is read from, and whether this run built it; nil when not loaded.
    public let trainCache: (folder: String, built: Bool)?
    /// SHA-256 of the training shards the corpus cache read whole, by path.
    public let trainChecksums: [String: String]
    public let valid: TokenCorpus?
    public let test: TokenCorpus?
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

    /// Reads the data (`DataError` on bad files) and builds the model (`SpecErrors` for
    /// combinations that only the data can reveal, such as more samples than words).
    /// - Parameter vocabularyFile: overrides the spec's (a run directory's saved vocabulary).
    public init(_ spec: ExperimentSpec, vocabularyFile: String? = nil, loadTraining: Bool = true) throws {
        self.spec = spec
        if loadTraining && !spec.model.output.scoresTokens {
            throw SpecErrors([SpecError("model.output '\(spec.model.output.type)' has no output layer: such a model gives embeddings "
                                        + "(harness embed, similar) but cannot be trained",
                                        at: spec.locations["model.output"] ?? SourceLocation(file: spec.file, line: 1, column: 1),
                                        note: "choose softmax, sampled-softmax or adaptive-softmax")], source: spec.source)
        }
        let data = spec.data
        let withBOS = data.batching.usesBeginOfSentence
        let given = try (vocabularyFile ?? data.vocabularyFile).map { try Vocabulary(file: $0, withBeginOfSentence: withBOS) }
        if loadTraining || given == nil {
            let entry = try CorpusCache.load(shards: data.trainShards, maxTokens: data.maxTrainTokens, vocabulary: given.map { .given($0) }
                                             ?? .build(minCount: data.minCount, maxSize: data.maxVocabularySize, withBeginOfSentence: withBOS))
            vocabulary = entry.vocabulary
            train = entry.corpus
            trainCache = (entry.folder, entry.built)
            trainChecksums = entry.checksums
            if loadTraining && train.tokenCount == train.lineCount {
                throw DataError(train.lineCount == 0 ? "the training split is empty" : "the training split has no tokens, only blank lines",
                                file: data.train)
            }
            if loadTraining, let problem = data.batching.shortfall(tokens: train.tokenCount, batchSize: data.batching.batchSize) {
                throw DataError("the training split \(problem) (data.batching.batch_size \(data.batching.batchSize)); lower the batch size or add data",
                                file: data.train)
            }
            if loadTraining, let file = vocabularyFile ?? data.vocabularyFile, let reason = spec.model.output.frequencyOrderReason {
                let correlation = entry.vocabulary.frequencyOrderCorrelation(counts: entry.trainingCounts)
                if correlation < Self.minimumFrequencyOrder {
                    throw DataError(String(format: "the vocabulary is not ordered by frequency: the rank correlation of its order with the training counts is %.2f "
                                           + "(below %.1f; 1 is perfectly ordered). %@: sort the file by descending count, "
                                           + "or leave out data.vocabulary.file to build it from train", correlation, Self.minimumFrequencyOrder, reason),
                                    file: file)
                }
            }
        } else {
            vocabulary = given!
            train = TokenCorpus(lines: [], eos: given!.eosID)
            trainCache = nil
            trainChecksums = [:]
        }
        let vocabulary = vocabulary
        valid = try Self.evaluationSplit(data.validShards, name: "valid", spec: spec, vocabulary: vocabulary)
        test = try Self.evaluationSplit(data.testShards, name: "test", spec: spec, vocabulary: vocabulary)
        let problems = spec.model.output.problems(vocabularySize: vocabulary.count, inputSize: spec.model.recurrent.outputSize)
        if !problems.isEmpty {
            throw SpecErrors(problems.map {
                // A key left at its default has no place of its own: the output section's, else the file's start.
                SpecError($0.message, at: spec.locations["model.output.\($0.key)"] ?? spec.locations["model.output"]
                              ?? SourceLocation(file: spec.file, line: 1, column: 1), note: $0.note)
            }, source: spec.source)
        }
        let configuration = spec.model.configuration(vocabularySize: vocabulary.count)
        var characters: CharacterTable?
        if let maxCharacters = spec.model.encoder.maxCharacters {
            characters = vocabulary.characterTable(maxCharacters: maxCharacters)
        }
        try Self.checkMemory(BiLM<Float>.parameterCount(configuration, characters: characters), spec: spec)
        streams = RandomStreams(seed: spec.seed)
        model = BiLM<Float>(configuration, characters: characters,
                            generator: &streams.initialization)
    }

    /// Refuses a model whose weights and gradients alone (4 bytes each per parameter,
    /// less than training needs) exceed the machine's memory, before anything is
    /// allocated: an allocation that large would abort the process.
    private static func checkMemory(_ parameters: Int, spec: ExperimentSpec) throws {
        let bytes = Double(parameters) * 8, memory = Double(ProcessInfo.processInfo.physicalMemory)
        guard bytes > memory else { return }
        func size(_ x: Double) -> String {
            x >= 1e12 ? String(format: "%.1f TB", x / 1e12) : String(format: "%.1f GB", x / 1e9)
        }
        throw SpecErrors([SpecError(String(format: "the model has %.3g parameters: its weights and gradients alone need %@, "
                                           + "and this machine has %@ of memory", Double(parameters), size(bytes), size(memory)),
                                    at: spec.locations["model.recurrent"] ?? SourceLocation(file: spec.file, line: 1, column: 1),
                                    note: "make the recurrent layers or the vocabulary smaller")], source: spec.source)
    }

    /// The least rank correlation between a vocabulary file's order and the training
    /// counts that an output layer assuming frequency order (sampled, adaptive softmax)
    /// accepts. A file sorted by another corpus's counts
    /// (bilm-tf's from the 1B Word Benchmark) stays far above it; byte order gives ≈ 0.
    static let minimumFrequencyOrder = 0.5

    /// An evaluation split's files (nil for none), read into memory one after the other
    /// (`max_eval_tokens` counts across them) and refused when they give no scored target:
    /// a perplexity over 0 tokens (exp(0/0) shown as 1.00) would pick the best epoch.
    private static func evaluationSplit(_ files: [String], name split: String, spec: ExperimentSpec,
                                        vocabulary: Vocabulary) throws -> TokenCorpus? {
        guard !files.isEmpty else { return nil }
        var shards: [[[Int32]]] = [], tokens = 0
        for file in files {
            if let limit = spec.data.maxEvalTokens, tokens >= limit { break }
            let lines = try TextFile.read(file, maxTokens: spec.data.maxEvalTokens.map { $0 - tokens })
            if files.count > 1 && lines.allSatisfy(\.isEmpty) {
                throw DataError("this \(split) file has no tokens (a truncated download?)", file: file)
            }
            tokens += lines.reduce(0) { $0 + $1.count + 1 }
            shards.append(vocabulary.encode(lines))
        }
        let named = files.joined(separator: ", ")   // the split as `DataSpec.valid` names it
        if shards.allSatisfy(\.isEmpty) { throw DataError("the \(split) split is empty: there is nothing to score", file: named) }
        if let problem = spec.data.batching.shortfall(tokens: tokens, batchSize: spec.data.evalBatchSize) {
            throw DataError("the \(split) split \(problem) (data.eval_batch_size \(spec.data.evalBatchSize)); lower data.eval_batch_size",
                            file: named)
        }
        return TokenCorpus(shards: shards, eos: vocabulary.eosID)
    }

    /// One pass over `corpus`; training passes shuffle (sentences mode, shard order).
    /// - Throws: `DataError` when the corpus cache cannot be read.
    public func pass(_ corpus: TokenCorpus, training: Bool) throws -> any BatchPass {
        let batching = spec.data.batching
        var generator: SeededGenerator? = training ? streams.data : nil
        let pass = try batching.pass(over: corpus, vocabulary: vocabulary, batchSize: training ? batching.batchSize : spec.data.evalBatchSize,
                                     backwardDirections: backwardDirections, shuffle: &generator)
        if training, let generator { streams.data = generator }
        return pass
    }

    /// Perplexity of `corpus` under the full softmax, no dropout, state carried in stream mode.
    /// - Parameter communicator: the processes sharing every batch (`Trainer.communicator`);
    ///   each computes its sequences, and the losses are summed.
    public func evaluate(_ corpus: TokenCorpus, context: StepContext, communicator: any Communicator = SingleProcess()) throws -> [DirectionLoss] {
        try evaluate(corpus, context: context, communicator: communicator, until: nil)!
    }

    /// `evaluate`, checking `stop` before each batch: nil once it returns true (the run's
    /// final evaluation stops so for a signal; under data parallelism, once it does on any process).
    public func evaluate(_ corpus: TokenCorpus, context: StepContext, communicator: any Communicator = SingleProcess(),
                         until stop: (() -> Bool)?) throws -> [DirectionLoss]? {
        let pass = try self.pass(corpus, training: false)
        model.resetState()
        defer { model.resetState() }
        var total = Array(repeating: DirectionLoss(), count: backwardDirections.count)
        for index in 0 ..< pass.count {
            if let stop, communicator.any(stop()) { return nil }
            var step = try pass.step(index)
            if communicator.size > 1 { step = communicator.part(of: step).batches }
            context.arena.reset()
            let losses = model.evaluate(step, carryState: spec.data.batching.carriesState, context: context)
            for d in total.indices { total[d] += losses[d] }
        }
        guard communicator.size > 1 else { return total }
        let sums = communicator.sum(total.flatMap { [$0.nll, Double($0.tokens)] })
        return total.indices.map { DirectionLoss(nll: sums[2 * $0], tokens: Int(sums[2 * $0 + 1])) }
    }

    /// Per-direction losses as a `SplitPerplexity`.
    public func perplexity(_ losses: [DirectionLoss]) -> SplitPerplexity {
        let p = Perplexity(losses)
        let forwardIndex = backwardDirections.firstIndex(of: false), backwardIndex = backwardDirections.firstIndex(of: true)
        return SplitPerplexity(forward: forwardIndex.map { p.directions[$0] }, backward: backwardIndex.map { p.directions[$0] },
                               mean: p.mean, tokens: losses.first?.tokens ?? 0)
    }
}
