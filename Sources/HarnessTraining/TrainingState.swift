import HarnessKernels

/// Where a run is and what it has counted: with the weights, the optimizer's buffers and
/// the carried LSTM state (the checkpoint's sections), everything a resumed run needs to
/// continue exactly where the checkpoint was written.
public struct TrainingState: Codable, Equatable, Sendable {
    /// The epoch in progress, or about to start when `nextBatch` is 0.
    public var epoch = 1
    /// Batches of `epoch` already trained.
    public var nextBatch = 0
    /// No further epoch runs: the last one finished, early stopping, or the token budget.
    public var finished = false
    public var budgetReached = false

    /// Random generator states (hex, exact): `epochData` is the data stream before this
    /// epoch's batches were drawn, so that they can be drawn again.
    public var generators: [String: String] = [:]

    public var step = 0
    public var tokens = 0
    public var trainSeconds = 0.0
    /// Wall time of the earlier sessions of this run.
    public var wallSeconds = 0.0
    public var epochSeconds: [Double] = []
    /// Seconds spent in `epoch` before the checkpoint.
    public var epochElapsed = 0.0
    public var epochsRun = 0
    public var epochLoss = 0.0, epochTokens = 0
    public var windowLoss = 0.0, windowTokens = 0
    public var skippedSteps = 0, consecutiveSkips = 0

    public var schedule = LearningRateSchedule.Snapshot()
    public var stopping = EarlyStopping.Snapshot()
    public var optimizerSteps = 0
    public var bestValid: SplitPerplexity?
    public var bestCheckpointWritten = false

    /// Records in `metrics.jsonl` when the checkpoint was written (later ones are dropped on resume).
    public var metricsRecords = 0
    /// SHA-256 of every data file the run reads, by path: a resume refuses changed data.
    public var dataChecksums: [String: String] = [:]
    /// Shapes of the carried LSTM state, per direction and layer (empty: none carried).
    public var carriedState: [[StateShape]] = []

    public struct StateShape: Codable, Equatable, Sendable {
        public var batch: Int, output: Int, cell: Int
    }

    public init() {}

    func generator(_ name: String) -> SeededGenerator? {
        generators[name].flatMap { UInt64($0, radix: 16) }.map { SeededGenerator(seed: $0) }
    }

    mutating func setGenerator(_ name: String, _ generator: SeededGenerator) {
        generators[name] = String(generator.state, radix: 16)
    }
}
