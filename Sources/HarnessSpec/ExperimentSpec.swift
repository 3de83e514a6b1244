import Foundation
import HarnessKernels
import HarnessModel

/// Everything a run needs, typed and checked. Read from YAML by `SpecLoader`; its
/// `resolved` form (defaults filled in) is what each run directory records.
public struct ExperimentSpec: Sendable {
    public var name: String
    public var seed: UInt64
    public var data: DataSpec
    public var model: ModelSpec
    public var training: TrainingSpec
    public var evaluation: EvaluationSpec
    /// The spec as resolved, for the run directory and `harness validate`.
    public var resolved: ResolvedValue
    /// The spec file, its text, and where each key was written (for errors found later,
    /// e.g. against the vocabulary).
    public var file: String
    public var source: String
    public var locations: [String: SourceLocation]

    /// Content hash of the resolved spec's non-default values (FNV-1a 64 over the YAML of
    /// `resolved.canonical`), the key of its run directory: a spec that spells out a
    /// default, and a harness that gains a key with a default, keep the same id. The
    /// checkpoint policy changes no result and is left out.
    public var hash: String {
        let identity = resolved.removing(["training", "checkpoint"])
        return String(fnv1a(identity.canonical.yaml(comments: false)), radix: 16).leftPadded(to: 16)
    }
}

/// Where the text comes from and how it is cut into batches.
///
/// The file paths are absolute: a relative path in a spec is resolved once, when the spec
/// is read, against the working directory (the folder `harness` is started in; a sweep's
/// points and its Slurm tasks run in the sweep's). The spec's text, and so its id, keeps
/// the path as written.
public struct DataSpec: Sendable, Equatable {
    public var train: String
    public var valid: String?
    public var test: String?
    public var minCount: Int
    public var maxVocabularySize: Int?
    public var vocabularyFile: String?
    /// Read at most this many training tokens (with `<eos>`), from the start of the file.
    public var maxTrainTokens: Int?
    /// Read at most this many validation / test tokens.
    public var maxEvalTokens: Int?
    public var batching: BatchingSpec
    /// Batch size for evaluation (defaults to the training batch size).
    public var evalBatchSize: Int

    /// `path` made absolute against the working directory, `.` and `..` removed.
    public static func absolute(_ path: String) -> String {
        let folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        return URL(fileURLWithPath: path, relativeTo: folder).standardizedFileURL.path
    }
}

/// How a split is cut into steps.
public enum BatchingSpec: Sendable, Equatable {
    /// One long token stream in B columns, windows of `bptt` steps, LSTM state carried
    /// across windows (Zaremba et al.; the protocol of PTB/WikiText numbers).
    case stream(batchSize: Int, bptt: Int)
    /// Whole sentences `<bos> … <eos>`, cut into pieces of at most `maxLength` targets,
    /// shuffled in training (length-bucketed with `bucket`), padded and masked; state
    /// reset per batch.
    case sentences(batchSize: Int, maxLength: Int, bucket: Bool)

    public var batchSize: Int {
        switch self {
        case .stream(let b, _), .sentences(let b, _, _): return b
        }
    }

    public var carriesState: Bool { if case .stream = self { return true } else { return false } }
}

/// The model's shape; the vocabulary size comes from the data.
public struct ModelSpec: Sendable, Equatable {
    public var direction: Direction
    public var encoder: TokenEncoderSpec
    public var recurrent: any RecurrentComponent
    public var output: any OutputComponent
    public var dropout: [Dropout]
    public var initScale: Double

    public func configuration(vocabularySize: Int) -> BiLMConfiguration {
        let encoder: TokenEncoderConfiguration = switch self.encoder {
        case .word(let size): .word(size: size)
        case .charCNN(let c, _): .charCNN(c)
        }
        return BiLMConfiguration(vocabularySize: vocabularySize, direction: direction, encoder: encoder,
                                 recurrent: recurrent, output: output, dropout: dropout,
                                 initScale: initScale)
    }

    public static func == (a: ModelSpec, b: ModelSpec) -> Bool {
        a.direction == b.direction && a.encoder == b.encoder && a.recurrent.isEqual(to: b.recurrent)
            && a.output.isEqual(to: b.output) && a.dropout == b.dropout && a.initScale == b.initScale
    }
}

public enum TokenEncoderSpec: Sendable, Equatable {
    case word(size: Int)
    case charCNN(CharCNNConfiguration, maxCharacters: Int)

    public var outputSize: Int {
        switch self {
        case .word(let size): return size
        case .charCNN(let c, _): return c.outputSize
        }
    }
}

public enum OptimizerSpec: Sendable, Equatable {
    case sgd(learningRate: Double, momentum: Double)
    case adagrad(learningRate: Double, initialAccumulator: Double)
    case adam(learningRate: Double, beta1: Double, beta2: Double, epsilon: Double)

    public var learningRate: Double {
        switch self {
        case .sgd(let lr, _), .adagrad(let lr, _), .adam(let lr, _, _, _): return lr
        }
    }
}

/// How the learning rate changes between epochs.
public enum ScheduleSpec: Sendable, Equatable {
    case constant
    /// lr ×= factor at the start of every epoch after `afterEpoch` (Zaremba et al.).
    case decay(factor: Double, afterEpoch: Int)
    /// lr ×= factor when the validation perplexity has not improved for `patience`
    /// epochs (pytorch/examples: ÷4 with patience 0).
    case plateau(factor: Double, patience: Int)
}

/// The loss that is differentiated.
public enum LossReduction: String, Sendable, Equatable, CaseIterable {
    /// Mean NLL per target token.
    case mean
    /// Mean NLL × BPTT steps: summed over time, averaged over the batch (Zaremba et al., the TF PTB tutorial).
    case timeSum = "time-sum"
}

public struct TrainingSpec: Sendable, Equatable {
    public var epochs: Int
    /// Stop after this many training target tokens, whatever the epoch.
    public var maxTokens: Int?
    public var optimizer: OptimizerSpec
    public var clipping: GradientClipping?
    public var schedule: ScheduleSpec
    /// Stop when the validation perplexity has not improved for this many epochs.
    public var earlyStoppingPatience: Int?
    public var loss: LossReduction
    /// Training steps between progress lines / metrics records.
    public var logEvery: Int
    /// BLAS threads (default: all cores), in `threadRange`.
    public var threads: Int?
    /// The thread counts the spec and the command-line options accept.
    public static let threadRange = 1...256
    /// When to write the resumable training checkpoint.
    public var checkpoint: CheckpointPolicy = CheckpointPolicy()
    /// What a NaN or infinite loss or gradient does.
    public var onNonFinite: NonFiniteAction = .stop
}

/// How often a run writes its resumable checkpoint (`train.ckpt`): after every epoch,
/// and within an epoch every `everySteps` steps and/or every `everyMinutes` minutes.
/// How a run is kept safe, not what it computes: not part of the spec's identity.
public struct CheckpointPolicy: Sendable, Equatable {
    public var everySteps: Int?
    public var everyMinutes: Double?
    public init(everySteps: Int? = nil, everyMinutes: Double? = 10) {
        self.everySteps = everySteps
        self.everyMinutes = everyMinutes
    }
}

/// What a step whose loss or gradient norm is NaN or infinite does.
public enum NonFiniteAction: String, Sendable, Equatable, CaseIterable {
    /// Stop the run, naming the step and the last good checkpoint.
    case stop
    /// Skip the update (and reset the carried LSTM state); stop after 100 skipped steps in a row.
    case skip
}

public struct EvaluationSpec: Sendable, Equatable {
    /// Splits scored with the best weights at the end of the run.
    public var splits: [String]
    /// Also score the validation split every this many training tokens (learning curves).
    public var everyTokens: Int?
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
