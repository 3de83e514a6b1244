import Foundation
import HarnessKernels
import HarnessData
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

    /// What is legal but probably not meant (a schedule that never changes the rate in
    /// this many epochs): `harness run` and `validate` print each as a note.
    public var notes: [String] {
        [training.schedule.idleReason(epochs: training.epochs)].compactMap { $0 }
            .map { "\(file): 'training.schedule': \($0)" }
    }

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
    /// The train split as the spec names it: a file, a glob pattern, or a list of them
    /// (joined by ", "), absolute. `trainShards` are the files it names.
    public var train: String
    /// The training files in listed order: a pattern's matches in byte order of their
    /// paths, a list's entries in list order (training reads them in a seeded order per
    /// epoch; `Batching`).
    public var trainShards: [String]
    /// The validation files (a file, a pattern or a list, as `train`), read one after the
    /// other as one split; empty: none.
    public var validShards: [String]
    /// The test files, as `validShards`.
    public var testShards: [String]
    /// The validation split for messages and records: its one file, or its files joined by
    /// ", "; setting a path makes it the one file.
    public var valid: String? {
        get { validShards.isEmpty ? nil : validShards.joined(separator: ", ") }
        set { validShards = newValue.map { [$0] } ?? [] }
    }
    /// The test split, as `valid`.
    public var test: String? {
        get { testShards.isEmpty ? nil : testShards.joined(separator: ", ") }
        set { testShards = newValue.map { [$0] } ?? [] }
    }
    public var minCount: Int
    public var maxVocabularySize: Int?
    public var vocabularyFile: String?
    /// Read at most this many training tokens (with `<eos>`), from the start of the file.
    public var maxTrainTokens: Int?
    /// Read at most this many validation / test tokens.
    public var maxEvalTokens: Int?
    public var batching: any BatchingComponent
    /// Batch size for evaluation (defaults to the training batch size).
    public var evalBatchSize: Int

    public static func == (a: DataSpec, b: DataSpec) -> Bool {
        a.train == b.train && a.trainShards == b.trainShards && a.validShards == b.validShards && a.testShards == b.testShards
            && a.minCount == b.minCount
            && a.maxVocabularySize == b.maxVocabularySize && a.vocabularyFile == b.vocabularyFile
            && a.maxTrainTokens == b.maxTrainTokens && a.maxEvalTokens == b.maxEvalTokens
            && a.batching.isEqual(to: b.batching) && a.evalBatchSize == b.evalBatchSize
    }

    /// Whether `path` is a glob(3) pattern: it has `*`, `?` or `[`.
    public static func isPattern(_ path: String) -> Bool { path.contains(where: { "*?[".contains($0) }) }

    /// The paths matching the glob(3) `pattern`, in byte order (directories and broken
    /// links included: the spec reader refuses them by name).
    public static func shards(_ pattern: String) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard glob(pattern, 0, nil, &matches) == 0 else { return [] }
        return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// `path` with symbolic links resolved (itself when it cannot be resolved), to tell
    /// whether two names are one file.
    public static func resolvingLinks(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `path` made absolute against the working directory, `.` and `..` removed.
    public static func absolute(_ path: String) -> String {
        let folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
        return URL(fileURLWithPath: path, relativeTo: folder).standardizedFileURL.path
    }
}

/// The model's shape; the vocabulary size comes from the data.
public struct ModelSpec: Sendable, Equatable {
    public var direction: Direction
    public var encoder: any TokenEncoderComponent
    public var recurrent: any RecurrentComponent
    public var output: any OutputComponent
    public var dropout: [any DropoutComponent]
    public var initScale: Double

    public func configuration(vocabularySize: Int) -> BiLMConfiguration {
        BiLMConfiguration(vocabularySize: vocabularySize, direction: direction, encoder: encoder,
                                 recurrent: recurrent, output: output, dropout: dropout,
                                 initScale: initScale)
    }

    public static func == (a: ModelSpec, b: ModelSpec) -> Bool {
        a.direction == b.direction && a.encoder.isEqual(to: b.encoder) && a.recurrent.isEqual(to: b.recurrent)
            && a.output.isEqual(to: b.output) && a.dropout.isEqual(to: b.dropout) && a.initScale == b.initScale
    }
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
    public var optimizer: any OptimizerComponent
    public var clipping: (any GradientClipping)?
    public var schedule: any ScheduleComponent
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

    public static func == (a: TrainingSpec, b: TrainingSpec) -> Bool {
        a.epochs == b.epochs && a.maxTokens == b.maxTokens && a.optimizer.isEqual(to: b.optimizer) 
            && sameClipping(a.clipping, b.clipping)
            && a.schedule.isEqual(to: b.schedule) && a.earlyStoppingPatience == b.earlyStoppingPatience && a.loss == b.loss
            && a.logEvery == b.logEvery && a.threads == b.threads && a.checkpoint == b.checkpoint && a.onNonFinite == b.onNonFinite
    }

    private static func sameClipping(_ a: (any GradientClipping)?, _ b: (any GradientClipping)?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case let (a?, b?): a.isEqual(to: b)
        default: false
        }
    }
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
