import HarnessKernels
import HarnessModel

/// How a split is cut into steps, as a spec chooses it (`data.batching: {type: …}`):
/// one stream with truncated BPTT, shuffled sentences, or a researcher's own. Each step
/// holds one `SequenceBatch` per direction (forward first).
public protocol BatchingComponent: SpecComponent {
    /// B, sequences per training step.
    var batchSize: Int { get }
    /// Whether each direction's recurrent state carries from step to step (reset at the
    /// start of every pass), as in truncated BPTT.
    var carriesState: Bool { get }
    /// Whether sequences begin with `<bos>` (the vocabulary then has one).
    var usesBeginOfSentence: Bool { get }
    /// Why a split of `tokens` ids (`<eos>` included) gives no step at `batchSize`, or nil.
    func shortfall(tokens: Int, batchSize: Int) -> String?
    /// One pass over `corpus` at `batchSize`: shuffled with `shuffle` (the generator
    /// advanced past all the pass's draws when this returns) in training, in a fixed order
    /// when it is nil (evaluation).
    /// - Throws: `DataError` when the corpus cache cannot be read.
    func pass(over corpus: TokenCorpus, vocabulary: Vocabulary, batchSize: Int, backwardDirections: [Bool],
              shuffle: inout SeededGenerator?) throws -> any BatchPass
    /// Value equality across conforming types (specs compare them).
    func isEqual(to other: any BatchingComponent) -> Bool
}

extension BatchingComponent where Self: Equatable {
    public func isEqual(to other: any BatchingComponent) -> Bool { (other as? Self) == self }
}

/// `stream`: one long token stream in B columns, windows of `bptt` steps, state carried
/// across windows (Zaremba et al. 2014; the protocol of PTB and WikiText numbers).
public struct StreamBatching: BatchingComponent, Equatable {
    public var batchSize: Int
    /// T, timesteps per window.
    public var bptt: Int

    public init(batchSize: Int, bptt: Int) {
        self.batchSize = batchSize
        self.bptt = bptt
    }

    public var type: String { "stream" }
    public var carriesState: Bool { true }
    public var usesBeginOfSentence: Bool { false }

    public func shortfall(tokens: Int, batchSize: Int) -> String? {
        guard Batching.scoredTargetsPerColumn(tokens: tokens, batchSize: batchSize) == 0 else { return nil }
        return "has \(tokens) tokens (<eos> included): stream mode scores nothing with fewer than 2 per batch column, \(2 * batchSize) in all"
    }

    /// The shards' concatenation in the pass's order: as listed, or (training, several
    /// shards) in a seeded order drawn anew each epoch.
    public func pass(over corpus: TokenCorpus, vocabulary: Vocabulary, batchSize: Int, backwardDirections: [Bool],
                     shuffle: inout SeededGenerator?) throws -> any BatchPass {
        StreamPass(corpus, order: Batching.shardOrder(corpus, &shuffle), batchSize: batchSize, bptt: bptt,
                   backwardDirections: backwardDirections)
    }
}

/// `sentences`: whole sentences `<bos> … <eos>`, cut into pieces of at most `maxLength`
/// targets, shuffled in training (length-bucketed with `bucket`), padded and masked;
/// state reset per batch (bilm-tf's training).
public struct SentenceBatching: BatchingComponent, Equatable {
    public var batchSize: Int
    public var maxLength: Int
    public var bucket: Bool

    public init(batchSize: Int, maxLength: Int, bucket: Bool) {
        self.batchSize = batchSize
        self.maxLength = maxLength
        self.bucket = bucket
    }

    public var type: String { "sentences" }
    public var carriesState: Bool { false }
    public var usesBeginOfSentence: Bool { true }

    public func shortfall(tokens: Int, batchSize: Int) -> String? { nil }

    public func pass(over corpus: TokenCorpus, vocabulary: Vocabulary, batchSize: Int, backwardDirections: [Bool],
                     shuffle: inout SeededGenerator?) throws -> any BatchPass {
        try SentencePass(corpus, bos: vocabulary.bosID!, batchSize: batchSize, maxLength: maxLength, bucket: bucket,
                         backwardDirections: backwardDirections, shuffle: &shuffle)
    }
}
