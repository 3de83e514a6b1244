import Foundation
import HarnessData
import HarnessKernels
import HarnessModel
import HarnessSpec

/// Trains an experiment: epochs of steps (clip, update), validation after each epoch
/// with learning-rate schedule and early stopping, the best weights checkpointed and
/// restored, and a final evaluation of the spec's splits. Records everything in a
/// `RunDirectory`.
///
/// Resumable: `train.ckpt` (weights, optimizer buffers, random generators, schedule,
/// data position, carried LSTM state, counters) is written after every epoch, on the
/// spec's `training.checkpoint` policy and when a signal asks the run to stop. A run that
/// finds one continues from it; with one BLAS thread, its results are bit-identical to an
/// uninterrupted run's.
public final class Trainer {
    public let experiment: Experiment
    public let directory: RunDirectory
    public let progress: TrainingProgress

    /// BLAS threads for this run, overriding the spec's `training.threads` without
    /// changing the spec (a sweep divides the cores between its jobs).
    public var threads: Int?
    /// Continue from the run directory's `train.ckpt` if it has one; false starts over.
    public var resume = true
    /// The command that resumes this run, for the message after an interruption.
    public var resumeCommand: String?

    private let optimizer: ConcreteOptimizer
    private var schedule: LearningRateSchedule
    private var stopping: EarlyStopping
    private let context: StepContext
    private let evaluation = StepContext(training: false)
    private var sampling: SeededGenerator
    private var state = TrainingState()
    private var sessionStart = Date()
    private var lastCheckpoint = Date()
    private var lastWarning: Date?

    /// Steps skipped in a row (`on_nonfinite: skip`) before the run gives up.
    public static let maximumConsecutiveSkips = 100

    public init(_ experiment: Experiment, directory: RunDirectory, progress: TrainingProgress = TrainingProgress()) {
        self.experiment = experiment
        self.directory = directory
        self.progress = progress
        let training = experiment.spec.training
        optimizer = ConcreteOptimizer(training.optimizer)
        schedule = LearningRateSchedule(training.schedule, initialRate: training.optimizer.learningRate)
        stopping = EarlyStopping(patience: training.earlyStoppingPatience)
        context = StepContext(training: true, dropoutGenerator: experiment.streams.dropout)
        sampling = experiment.streams.sampling
    }

    private var spec: ExperimentSpec { experiment.spec }
    private var model: BiLM<Float> { experiment.model }
    private var sampledLoss: Bool { if case .sampled = spec.model.output { true } else { false } }

    public func run() throws -> RunResult {
        sessionStart = Date()
        lastCheckpoint = sessionStart
        let threads = self.threads ?? spec.training.threads ?? ProcessInfo.processInfo.activeProcessorCount
        BLAS.threads = threads
        try directory.create()
        directory.removeStaleTemporaries()
        let checksums = try dataChecksums()
        if resume, FileManager.default.fileExists(atPath: directory.trainingCheckpoint) {
            try restore(checksums: checksums)
        } else {
            try startFresh(checksums: checksums)
        }
        while !state.finished {
            try runEpoch()
            try stopIfInterrupted()
        }
        let result = try finalEvaluation(threads: threads)
        try? FileManager.default.removeItem(atPath: directory.trainingCheckpoint)
        return result
    }

    // MARK: Epochs and steps

    private func startFresh(checksums: [String: String]) throws {
        for stale in [directory.trainingCheckpoint, directory.result, directory.metrics, directory.bestCheckpoint] {
            try? FileManager.default.removeItem(atPath: stale)
        }
        try AtomicFile.write(spec.resolved.yaml(), to: directory.spec)
        try AtomicFile.write(experiment.vocabulary.tokens.joined(separator: "\n") + "\n", to: directory.vocabulary)
        state = TrainingState()
        state.dataChecksums = checksums
        state.learningRate = schedule.rate
    }

    private func runEpoch() throws {
        let training = spec.training, epoch = state.epoch
        if state.nextBatch == 0 {
            schedule.startEpoch(epoch)
            optimizer.learningRate = schedule.rate
            state.setGenerator("epochData", experiment.streams.data)
            model.resetState()
            state.epochLoss = 0; state.epochTokens = 0; state.epochElapsed = 0
        } else if let generator = state.generator("epochData") {
            experiment.streams.data = generator   // draws the same batches again
        }
        let batches = experiment.batches(experiment.train, training: true)
        let epochStart = Date().addingTimeInterval(-state.epochElapsed)
        var windowStart = Date()
        while !state.budgetReached && state.nextBatch < batches.count {
            let stepStart = Date()
            let (objective, norm, directions) = computeGradients(batches[state.nextBatch])
            state.nextBatch += 1
            guard objective.isFinite, norm.isFinite else {
                try skipNonFinite(loss: objective.isFinite ? norm : objective)
                continue
            }
            state.consecutiveSkips = 0
            update()
            state.step += 1
            let stepTokens = directions.reduce(0) { $0 + $1.tokens }, nll = directions.reduce(0) { $0 + $1.nll }
            state.tokens += stepTokens
            state.trainSeconds += Date().timeIntervalSince(stepStart)
            state.windowLoss += nll; state.windowTokens += stepTokens; state.epochLoss += nll; state.epochTokens += stepTokens
            let logNow = state.step % training.logEvery == 0
            progress.step(epoch: epoch, epochs: training.epochs, done: state.nextBatch, total: batches.count,
                          loss: state.epochLoss / Double(max(state.epochTokens, 1)), sampledLoss: sampledLoss,
                          tokensPerSecond: Double(state.tokens) / state.trainSeconds,
                          elapsed: Date().timeIntervalSince(epochStart), force: logNow)
            if logNow {
                let mean = state.windowLoss / Double(max(state.windowTokens, 1))
                try record(MetricsRecord(kind: "step", epoch: epoch, step: state.step, tokens: state.tokens, seconds: wallSeconds,
                                         learningRate: schedule.rate, trainLoss: mean, trainPerplexity: sampledLoss ? nil : Foundation.exp(mean),
                                         tokensPerSecond: Double(state.windowTokens) / Date().timeIntervalSince(windowStart)))
                state.windowLoss = 0; state.windowTokens = 0; windowStart = Date()
            }
            if let budget = training.maxTokens, state.tokens >= budget { state.budgetReached = true }
            // Mid-epoch validation, unless the end-of-epoch one follows at once.
            if let every = spec.evaluation.everyTokens, let valid = experiment.valid,
               state.tokens / every > (state.tokens - stepTokens) / every, !state.budgetReached, state.nextBatch < batches.count {
                let carried = model.saveState()
                let perplexity = experiment.perplexity(experiment.evaluate(valid, context: evaluation)).mean
                model.restoreState(carried)
                try record(MetricsRecord(kind: "validation", epoch: epoch, step: state.step, tokens: state.tokens, seconds: wallSeconds,
                                         learningRate: schedule.rate, validPerplexity: perplexity))
            }
            state.epochElapsed = Date().timeIntervalSince(epochStart)
            try stopIfInterrupted()
            if checkpointDue { checkpointOrWarn() }
        }
        try endEpoch(seconds: Date().timeIntervalSince(epochStart))
    }

    /// Forward, backward and gradient clipping of one training step (`harness bench` times
    /// it alone): the objective, the gradient norm and each direction's loss.
    public func computeGradients(_ batch: [SequenceBatch]) -> (objective: Double, norm: Double, directions: DirectionLosses) {
        context.arena.reset()
        model.store.zeroGradients()
        let lossScale = spec.training.loss == .timeSum ? Double(batch[0].steps) : 1
        let (objective, directions) = model.trainingStep(batch, carryState: spec.data.batching.carriesState, lossScale: lossScale,
                                                         context: context, sampling: &sampling)
        context.profile?.start()
        let norm = spec.training.clipping?.apply(to: model.store) ?? model.store.gradientNorm()
        context.profile?.charge(.optimizer)
        return (objective, norm, directions)
    }

    /// The optimizer's update from the gradients of `computeGradients`.
    public func update() {
        context.profile?.start()
        optimizer.step(model.store)
        context.profile?.charge(.optimizer)
    }

    /// Where the step's time goes, when set (`harness bench`).
    public var profile: ComponentProfile? {
        get { context.profile }
        set { context.profile = newValue }
    }

    /// A step whose loss or gradient norm is not finite: stop, or with `on_nonfinite: skip`
    /// drop its update and the carried state it produced.
    private func skipNonFinite(loss: Double) throws {
        let last = [directory.trainingCheckpoint, directory.bestCheckpoint].first { FileManager.default.fileExists(atPath: $0) }
        guard spec.training.onNonFinite == .skip else {
            throw RunError.nonFinite(step: state.step + 1, epoch: state.epoch, loss: loss, lastCheckpoint: last)
        }
        state.skippedSteps += 1
        state.consecutiveSkips += 1
        if state.consecutiveSkips >= Self.maximumConsecutiveSkips {
            throw RunError.tooManySkips(step: state.step + 1, epoch: state.epoch, skipped: state.consecutiveSkips, lastCheckpoint: last)
        }
        if spec.data.batching.carriesState { model.resetState() }
        progress.line("epoch \(state.epoch) batch \(state.nextBatch): the loss or gradient is \(loss); update skipped (on_nonfinite: skip)")
        try record(MetricsRecord(kind: "skipped", epoch: state.epoch, step: state.step, tokens: state.tokens, seconds: wallSeconds,
                                 learningRate: schedule.rate))
    }

    private func endEpoch(seconds: Double) throws {
        let epoch = state.epoch, training = spec.training
        state.epochsRun = epoch
        state.epochSeconds.append(seconds)
        let trainMean = state.epochLoss / Double(max(state.epochTokens, 1))
        let validResult = experiment.valid.map { experiment.perplexity(experiment.evaluate($0, context: evaluation)) }
        let validPerplexity = validResult?.mean
        let improved = validPerplexity.map { stopping.record($0, epoch: epoch) } ?? true
        if improved {
            state.bestValid = validResult
            try Checkpoint.save(model.store, specHash: spec.hash, epoch: epoch, to: directory.bestCheckpoint)
            state.bestCheckpointWritten = true
        }
        schedule.endEpoch(improved: improved)
        try record(MetricsRecord(kind: "epoch", epoch: epoch, step: state.step, tokens: state.tokens, seconds: wallSeconds,
                                 learningRate: optimizer.learningRate, trainLoss: trainMean,
                                 trainPerplexity: sampledLoss ? nil : Foundation.exp(trainMean),
                                 validPerplexity: validPerplexity, tokensPerSecond: Double(state.tokens) / state.trainSeconds))
        let trainText = sampledLoss ? String(format: "train sampled loss %.3f", trainMean)
            : String(format: "train ppl %.2f", Foundation.exp(trainMean))
        progress.line(String(format: "epoch %d: %@, valid ppl %@%@, lr %g, %@", epoch, trainText,
                             validPerplexity.map { String(format: "%.2f", $0) } ?? "-", improved ? " (best)" : "",
                             optimizer.learningRate, TrainingProgress.duration(seconds)))
        if stopping.shouldStop {
            progress.line("early stopping: no improvement for \(stopping.epochsWithoutImprovement) epochs")
            state.stoppedEarly = true
        }
        if state.budgetReached { progress.line("token budget of \(training.maxTokens!) reached") }
        state.finished = state.stoppedEarly || state.budgetReached || epoch == training.epochs
        state.epoch += 1
        state.nextBatch = 0
        checkpointOrWarn()
    }

    private func finalEvaluation(threads: Int) throws -> RunResult {
        if state.bestCheckpointWritten {
            try Checkpoint.load(directory.bestCheckpoint, into: model.store, expectedSpecHash: spec.hash)
        }
        var perplexities: [String: SplitPerplexity] = [:]
        for split in spec.evaluation.splits {
            // The best weights' validation perplexity was measured when they were saved.
            if split == "valid", let best = state.bestValid { perplexities[split] = best; continue }
            guard let lines = split == "valid" ? experiment.valid : experiment.test else { continue }
            perplexities[split] = experiment.perplexity(experiment.evaluate(lines, context: evaluation))
        }
        let result = RunResult(
            name: spec.name, specHash: spec.hash, seed: spec.seed, perplexity: perplexities, bestEpoch: stopping.bestEpoch,
            epochsRun: state.epochsRun, stoppedEarly: state.stoppedEarly, trainTokens: state.tokens,
            tokensPerSecond: Double(state.tokens) / max(state.trainSeconds, 1e-9), wallSeconds: wallSeconds,
            epochSeconds: state.epochSeconds, parameters: model.store.count,
            parametersByComponent: Dictionary(uniqueKeysWithValues: model.parameterCounts.map { ($0.component, $0.count) }),
            flopsPerToken: model.trainingFLOPsPerToken, vocabularySize: experiment.vocabulary.count, threads: threads,
            blas: BLAS.configuration, machine: MachineInfo.description, commit: MachineInfo.commit,
            finishedAt: ISO8601DateFormatter().string(from: Date()),
            skippedSteps: state.skippedSteps > 0 ? state.skippedSteps : nil)
        try directory.write(result)
        return result
    }

    private var wallSeconds: Double { state.wallSeconds + Date().timeIntervalSince(sessionStart) }

    private func record(_ metrics: MetricsRecord) throws {
        try directory.append(metrics)
        state.metricsRecords += 1
    }

    // MARK: Checkpoints

    /// After a SIGINT or SIGTERM: checkpoint and stop.
    private func stopIfInterrupted() throws {
        guard let signal = Interruption.requested else { return }
        try writeTrainingCheckpoint()
        throw RunError.interrupted(signal: signal, step: state.step, epoch: state.epoch, checkpoint: directory.trainingCheckpoint,
                                   resumeCommand: resumeCommand)
    }

    private var checkpointDue: Bool {
        let policy = spec.training.checkpoint
        if let steps = policy.everySteps, state.step % steps == 0, state.consecutiveSkips == 0 { return true }
        if let minutes = policy.everyMinutes, Date().timeIntervalSince(lastCheckpoint) >= minutes * 60 { return true }
        return false
    }

    /// A periodic checkpoint that cannot be written (a full disk) does not stop training:
    /// the previous checkpoint is intact, and the next one is tried on schedule. The
    /// warning is repeated at most once a minute.
    private func checkpointOrWarn() {
        do {
            try writeTrainingCheckpoint()
        } catch {
            lastCheckpoint = Date()
            guard lastWarning.map({ Date().timeIntervalSince($0) >= 60 }) ?? true else { return }
            lastWarning = Date()
            FileHandle.standardError.write(Data("warning: \(error); training goes on, the previous checkpoint is kept\n".utf8))
        }
    }

    private func writeTrainingCheckpoint() throws {
        state.schedule = schedule.snapshot
        state.stopping = stopping.snapshot
        state.learningRate = optimizer.learningRate
        state.optimizerSteps = optimizer.steps
        state.setGenerator("data", experiment.streams.data)
        state.setGenerator("dropout", context.dropoutGenerator)
        state.setGenerator("sampling", sampling)
        var saved = state
        saved.wallSeconds = wallSeconds
        let carried = model.saveState()
        saved.carriedState = carried.map { $0.map { .init(batch: $0.h.rows, output: $0.h.columns, cell: $0.c.columns) } }
        let lstmState = carried.flatMap { $0.flatMap { $0.h.array + $0.c.array } }.map(Double.init)
        let buffers = optimizer.stateBuffers(count: model.store.count)
        try lstmState.withUnsafeBufferPointer { lstm in
            var sections = buffers.enumerated().map { Checkpoint.Section("optimizer.\($0.offset)", UnsafeBufferPointer($0.element)) }
            sections.append(Checkpoint.Section("lstm_state", lstm))
            try Checkpoint.save(model.store, specHash: spec.hash, epoch: state.epoch, to: directory.trainingCheckpoint,
                                training: saved, sections: sections)
        }
        lastCheckpoint = Date()
    }

    private func restore(checksums: [String: String]) throws {
        let path = directory.trainingCheckpoint
        let contents: Checkpoint.Contents
        do { contents = try Checkpoint.read(path) } catch RunError.badCheckpoint(let path, let reason) {
            throw RunError.badCheckpoint(path: path, reason: reason + "; --fresh starts the run over")
        }
        guard let saved = contents.training else {
            throw RunError.badCheckpoint(path: path, reason: "holds weights only, no training state")
        }
        guard contents.specHash == spec.hash else {
            throw RunError.resumeRefused(path: path, reason: "it was written for spec \(contents.specHash), this spec is \(spec.hash); "
                                         + "start over with --fresh")
        }
        for (file, sum) in saved.dataChecksums.sorted(by: { $0.key < $1.key }) where checksums[file] != sum {
            let now = checksums[file].map { "\($0.prefix(12))… now" } ?? "no longer read"
            throw RunError.resumeRefused(path: path, reason: "\(file) changed since the run started (SHA-256 \(sum.prefix(12))… then, \(now)); "
                                         + "restore it, or start over with --fresh")
        }
        if let added = checksums.keys.sorted().first(where: { saved.dataChecksums[$0] == nil }) {
            throw RunError.resumeRefused(path: path, reason: "the run now reads \(added), which it did not when it started; start over with --fresh")
        }
        try contents.loadWeights(into: model.store, expectedSpecHash: spec.hash)
        for (index, buffer) in optimizer.stateBuffers(count: model.store.count).enumerated() {
            try contents.loadSection("optimizer.\(index)", into: buffer)
        }
        let stateCount = saved.carriedState.joined().reduce(0) { $0 + $1.batch * ($1.output + $1.cell) }
        var lstmState = [Double](repeating: 0, count: stateCount)
        try lstmState.withUnsafeMutableBufferPointer { try contents.loadSection("lstm_state", into: $0) }
        var offset = 0
        model.restoreState(saved.carriedState.map { shapes in
            shapes.map { shape in
                let s = LSTMState<Float>(batchSize: shape.batch, outputSize: shape.output, cellSize: shape.cell)
                for i in 0..<s.h.count { s.h.base[i] = Float(lstmState[offset + i]) }
                offset += s.h.count
                for i in 0..<s.c.count { s.c.base[i] = Float(lstmState[offset + i]) }
                offset += s.c.count
                return s
            }
        })
        guard let data = saved.generator("data"), let dropout = saved.generator("dropout"), let sampling = saved.generator("sampling") else {
            throw RunError.badCheckpoint(path: path, reason: "the training state lacks the random generators")
        }
        experiment.streams.data = data
        context.dropoutGenerator = dropout
        self.sampling = sampling
        schedule.snapshot = saved.schedule
        stopping.snapshot = saved.stopping
        optimizer.learningRate = saved.learningRate
        optimizer.steps = saved.optimizerSteps
        state = saved
        try directory.truncateMetrics(keeping: saved.metricsRecords)
        progress.line("resuming from \(path): step \(saved.step), epoch \(saved.epoch)"
                      + (saved.finished ? " (training done, final evaluation)" : ", batch \(saved.nextBatch)"))
    }

    /// SHA-256 of every data file the run reads, by path.
    private func dataChecksums() throws -> [String: String] {
        let data = spec.data
        var sums: [String: String] = [:]
        for file in [data.train, data.valid, data.test, data.vocabularyFile].compactMap({ $0 }) {
            do { sums[file] = try SHA256.file(file) } catch { throw DataError("cannot read the file to checksum it: \(error)", file: file) }
        }
        return sums
    }
}

/// The spec's optimizer, dispatched by a switch rather than an existential so that each
/// update loop runs specialized for Float.
private enum ConcreteOptimizer {
    case sgd(SGD), adagrad(Adagrad), adam(Adam)

    init(_ spec: OptimizerSpec) {
        switch spec {
        case .sgd(let lr, let momentum): self = .sgd(SGD(learningRate: lr, momentum: momentum))
        case .adagrad(let lr, let accumulator): self = .adagrad(Adagrad(learningRate: lr, initialAccumulator: accumulator))
        case .adam(let lr, let b1, let b2, let eps): self = .adam(Adam(learningRate: lr, beta1: b1, beta2: b2, epsilon: eps))
        }
    }

    /// The optimizer behind the switch, for what is not on the hot path.
    var base: Optimizer {
        switch self {
        case .sgd(let o): o
        case .adagrad(let o): o
        case .adam(let o): o
        }
    }

    var learningRate: Double {
        get { base.learningRate }
        nonmutating set { base.learningRate = newValue }
    }

    var steps: Int {
        get { base.steps }
        nonmutating set { base.steps = newValue }
    }

    func stateBuffers(count: Int) -> [UnsafeMutableBufferPointer<Double>] { base.stateBuffers(count: count) }

    func step(_ store: ParameterStore<Float>) {
        switch self {
        case .sgd(let o): o.step(store)
        case .adagrad(let o): o.step(store)
        case .adam(let o): o.step(store)
        }
    }
}

/// The results table printed at the end of a run and by `harness eval`.
public func perplexityTable(_ perplexities: [String: SplitPerplexity]) -> String {
    func cell(_ x: Double?) -> String { x.map { String(format: "%9.2f", $0) } ?? String(repeating: " ", count: 8) + "-" }
    var lines = ["split      forward   backward       mean     tokens"]
    for split in ["valid", "test"] + perplexities.keys.filter({ $0 != "valid" && $0 != "test" }).sorted() {
        guard let p = perplexities[split] else { continue }
        lines.append(split.padding(toLength: 7, withPad: " ", startingAt: 0)
                     + "  \(cell(p.forward))  \(cell(p.backward))  \(cell(p.mean))  \(String(format: "%9d", p.tokens))")
    }
    lines.append("perplexity = exp(mean NLL in nats per target token, <eos> included), full softmax; mean = mean of the directions")
    return lines.joined(separator: "\n")
}
