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
    /// The processes training this model together (`mpirun -np N harness run`): each
    /// computes the gradients of its share of every batch (`Communicator.share`, the
    /// spec's `batch_size` being the whole batch's), the sums drive the same update
    /// everywhere, evaluation is split the same way, and rank 0 alone writes the run folder.
    /// Set it before `run()`.
    public var communicator: any Communicator = SingleProcess()

    let optimizer: any Optimizer
    var schedule: LearningRateSchedule
    var stopping: EarlyStopping
    let context: StepContext
    private let evaluation = StepContext(training: false)
    var sampling: SeededGenerator
    var state = TrainingState()
    private var sessionStart = Date()
    /// Training tokens and step seconds of this process's session (since it started or
    /// resumed): the progress line's speed and ETA, which a resume with other threads or on
    /// another machine must not inherit from the run's earlier sessions.
    private var sessionTokens = 0, sessionTrainSeconds = 0.0
    var lastCheckpoint = Date()
    var lastWarning: Date?
    /// How long the last validation took (0 until one ran in this process), for the ETA.
    private var validationSeconds = 0.0
    /// The packed written blocks of a row-sparse store, for `sumGradients`.
    private var reductionScratch: [Float] = []
    /// Whether this process writes the run folder.
    var writesFiles: Bool { communicator.rank == 0 }

    /// Steps skipped in a row (`on_nonfinite: skip`) before the run gives up.
    public static let maximumConsecutiveSkips = 100

    public init(_ experiment: Experiment, directory: RunDirectory, progress: TrainingProgress = TrainingProgress()) {
        self.experiment = experiment
        self.directory = directory
        self.progress = progress
        let training = experiment.spec.training
        optimizer = training.optimizer.makeOptimizer()
        schedule = LearningRateSchedule(training.schedule, initialRate: training.optimizer.learningRate)
        stopping = EarlyStopping(patience: training.earlyStoppingPatience)
        context = StepContext(training: true, dropoutGenerator: experiment.streams.dropout)
        sampling = experiment.streams.sampling
    }

    var spec: ExperimentSpec { experiment.spec }
    var model: BiLM<Float> { experiment.model }
    private var sampledLoss: Bool { !spec.model.output.exactTrainingLoss }

    public func run() throws -> RunResult {
        sessionStart = Date()
        sessionTokens = 0
        sessionTrainSeconds = 0
        lastCheckpoint = sessionStart
        let threads = self.threads ?? spec.training.threads ?? CPUAllocation.available
        BLAS.threads = threads
        try Self.checkShares(of: spec, processes: communicator.size)
        if writesFiles {
            try directory.create()
            directory.removeStaleTemporaries()
        }
        let checksums = try dataChecksums()
        // Rank 0's view of the folder decides for every process.
        let resumes = communicator.sum(writesFiles && resume && FileManager.default.fileExists(atPath: directory.trainingCheckpoint) ? 1 : 0) > 0
        if resumes {
            try restore(checksums: checksums)
        } else {
            try startFresh(checksums: checksums)
        }
        try checkProcessesAgree(atStart: true)
        while !state.finished {
            try runEpoch()
            try stopIfInterrupted()
        }
        let result = try finalEvaluation(threads: threads)
        if writesFiles { try? FileManager.default.removeItem(atPath: directory.trainingCheckpoint) }
        return result
    }

    // MARK: Epochs and steps

    private func startFresh(checksums: [String: String]) throws {
        state = TrainingState()
        state.dataChecksums = checksums
        guard writesFiles else { return }
        for stale in [directory.trainingCheckpoint, directory.result, directory.metrics, directory.bestCheckpoint, directory.dataChecksums] {
            try? FileManager.default.removeItem(atPath: stale)
        }
        try AtomicFile.write(spec.resolved.yaml(), to: directory.spec)
        try AtomicFile.write(experiment.vocabulary.tokens.joined(separator: "\n") + "\n", to: directory.vocabulary)
        let data = spec.data
        try directory.writeDataPaths(["train": data.train, "valid": data.valid, "test": data.test].compactMapValues { $0 })
        try directory.writeDataChecksums(checksums)
    }

    private func runEpoch() throws {
        let training = spec.training, epoch = state.epoch
        if state.nextBatch == 0 {
            schedule.startEpoch(epoch)
            // The schedule decides each epoch's rate; the optimizer holds it for the epoch's
            // updates and is the one place records read it from.
            optimizer.learningRate = schedule.rate
            state.setGenerator("epochData", experiment.streams.data)
            model.resetState()
            state.epochLoss = 0; state.epochTokens = 0; state.epochElapsed = 0
        } else if let generator = state.generator("epochData") {
            experiment.streams.data = generator   // draws the same batches again
        }
        let pass = try experiment.pass(experiment.train, training: true)
        let epochStart = Date().addingTimeInterval(-state.epochElapsed)
        var windowStart = Date()
        while !state.budgetReached && state.nextBatch < pass.count {
            let stepStart = Date()   // making the batch (ids read from the cache) counts as training time
            let batch = try pass.step(state.nextBatch)
            let (objective, norm, directions) = computeGradients(batch)
            state.nextBatch += 1
            guard objective.isFinite, norm.isFinite else {
                try skipNonFinite(loss: objective.isFinite ? norm : objective)
                continue
            }
            state.consecutiveSkips = 0
            update()
            state.step += 1
            let stepTokens = directions.reduce(0) { $0 + $1.tokens }, nll = directions.reduce(0) { $0 + $1.nll }
            let stepSeconds = Date().timeIntervalSince(stepStart)
            state.tokens += stepTokens
            state.trainSeconds += stepSeconds
            sessionTokens += stepTokens
            sessionTrainSeconds += stepSeconds
            state.windowLoss += nll; state.windowTokens += stepTokens; state.epochLoss += nll; state.epochTokens += stepTokens
            let logNow = state.step % training.logEvery == 0
            progress.step(position(batches: pass.count), loss: state.epochLoss / Double(max(state.epochTokens, 1)),
                          sampledLoss: sampledLoss, tokensPerSecond: sessionRate, force: logNow)
            if logNow {
                let mean = state.windowLoss / Double(max(state.windowTokens, 1))
                try record(MetricsRecord(kind: "step", epoch: epoch, step: state.step, tokens: state.tokens, seconds: wallSeconds,
                                         learningRate: optimizer.learningRate, trainLoss: mean, trainPerplexity: sampledLoss ? nil : Foundation.exp(mean),
                                         tokensPerSecond: Double(state.windowTokens) / Date().timeIntervalSince(windowStart)))
                state.windowLoss = 0; state.windowTokens = 0; windowStart = Date()
            }
            if let budget = training.maxTokens, state.tokens >= budget { state.budgetReached = true }
            // Mid-epoch validation, unless the end-of-epoch one follows at once.
            if let every = spec.evaluation.everyTokens, let valid = experiment.valid,
               state.tokens / every > (state.tokens - stepTokens) / every, !state.budgetReached, state.nextBatch < pass.count {
                let carried = model.saveState(), validationStart = Date()
                let perplexity = experiment.perplexity(try experiment.evaluate(valid, context: evaluation, communicator: communicator)).mean
                validationSeconds = Date().timeIntervalSince(validationStart)
                model.restoreState(carried)
                guard perplexity.isFinite else {
                    throw RunError.nonFiniteValidation(epoch: epoch, step: state.step, perplexity: perplexity, lastCheckpoint: newestCheckpointFile)
                }
                try record(MetricsRecord(kind: "validation", epoch: epoch, step: state.step, tokens: state.tokens, seconds: wallSeconds,
                                         learningRate: optimizer.learningRate, validPerplexity: perplexity))
            }
            state.epochElapsed = Date().timeIntervalSince(epochStart)
            let checkpointNow = try stopIfInterrupted(checkpointDue: writesFiles && checkpointDue)
            if checkpointNow { checkpointOrWarn() }
        }
        try endEpoch(seconds: Date().timeIntervalSince(epochStart))
    }

    /// Forward, backward and gradient clipping of one training step (`harness bench` times
    /// it alone): the objective, the gradient norm and each direction's loss.
    /// Under data parallelism, the share of `batch` this process computes, with the
    /// gradients and losses then summed over the processes.
    public func computeGradients(_ batch: [SequenceBatch]) -> (objective: Double, norm: Double, directions: DirectionLosses) {
        context.arena.reset()
        model.store.zeroGradients()
        let lossScale = spec.training.loss == .timeSum ? Double(batch[0].steps) : 1
        guard communicator.size > 1 else {
            let (objective, directions) = model.trainingStep(batch, carryState: spec.data.batching.carriesState, lossScale: lossScale,
                                                             context: context, sampling: &sampling)
            return (objective, clipOrMeasure(), directions)
        }
        let (local, rows) = communicator.part(of: batch), targetCount = batch.reduce(0) { $0 + $1.targetCount }
        context.batchShare = (rows, batch[0].batchSize)
        var (_, directions) = model.trainingStep(local, carryState: spec.data.batching.carriesState,
                                                 lossScale: lossScale, targetCount: targetCount, context: context, sampling: &sampling)
        model.store.sumGradients(over: communicator, scratch: &reductionScratch)
        let sums = communicator.sum(directions.map(\.nll))
        for d in directions.indices { directions[d] = DirectionLoss(nll: sums[d], tokens: batch[d].targetCount) }
        let objective = lossScale * sums.reduce(0, +) / Double(max(targetCount, 1))
        return (objective, clipOrMeasure(), directions)
    }

    /// Clipping (which measures the norm), else the norm alone.
    private func clipOrMeasure() -> Double {
        context.profile?.start()
        let norm = spec.training.clipping?.apply(to: model.store) ?? model.store.gradientNorm()
        context.profile?.charge(.optimizer)
        return norm
    }

    /// The optimizer's update from the gradients of `computeGradients`.
    public func update() {
        context.profile?.start()
        precondition(model.store.releasedParameters.isEmpty, "updating a model whose values \(model.store.releasedParameters) were released")
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
        let last = newestCheckpointFile
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
                                 learningRate: optimizer.learningRate))
    }

    /// Training tokens per second of this session's steps.
    private var sessionRate: Double { Double(sessionTokens) / max(sessionTrainSeconds, 1e-9) }

    /// Where the run stands against its budget: `max_tokens`, or all epochs' tokens if
    /// fewer (an epoch's tokens estimated from the batches done so far); the ETA adds the
    /// validations still due (`every_tokens` and after each epoch) at the last one's duration.
    private func position(batches: Int) -> TrainingProgress.Position {
        let training = spec.training
        let tokensBeforeEpoch = Double(state.tokens - state.epochTokens)
        let perEpoch = Double(state.epochTokens) / Double(max(state.nextBatch, 1)) * Double(batches)
        let epochsLeft = Double(training.epochs - state.epoch + 1)
        let budget = max(Double(state.tokens), min(training.maxTokens.map(Double.init) ?? .infinity, tokensBeforeEpoch + perEpoch * epochsLeft))
        var validations = 0.0
        if experiment.valid != nil {
            validations += perEpoch > 0 ? ((budget - tokensBeforeEpoch) / perEpoch).rounded(.up) : epochsLeft
            if let every = spec.evaluation.everyTokens {
                validations += max(0, (budget / Double(every)).rounded(.down) - (Double(state.tokens) / Double(every)).rounded(.down))
            }
        }
        return TrainingProgress.Position(epoch: state.epoch, epochs: training.epochs, batch: state.nextBatch, batches: batches,
                                         tokens: state.tokens, budgetTokens: Int(budget),
                                         remainingSeconds: (budget - Double(state.tokens)) / sessionRate + validations * validationSeconds)
    }

    /// The newest checkpoint on disk, for messages that stop the run.
    private var newestCheckpointFile: String? {
        [directory.trainingCheckpoint, directory.bestCheckpoint].first { FileManager.default.fileExists(atPath: $0) }
    }

    private func endEpoch(seconds: Double) throws {
        let epoch = state.epoch, training = spec.training
        try checkProcessesAgree()
        state.epochsRun = epoch
        state.epochSeconds.append(seconds)
        let trainMean = state.epochLoss / Double(max(state.epochTokens, 1))
        let validationStart = Date()
        let validResult = try experiment.valid.map {
            experiment.perplexity(try experiment.evaluate($0, context: evaluation, communicator: communicator))
        }
        if validResult != nil { validationSeconds = Date().timeIntervalSince(validationStart) }
        let validPerplexity = validResult?.mean
        if let validPerplexity, !validPerplexity.isFinite {
            throw RunError.nonFiniteValidation(epoch: epoch, step: nil, perplexity: validPerplexity, lastCheckpoint: newestCheckpointFile)
        }
        let bestBefore = stopping.best.isFinite ? stopping.best : nil
        let improved = validPerplexity.map { stopping.record($0, epoch: epoch) } ?? true
        if improved {
            state.bestValid = validResult
            if writesFiles { try Checkpoint.save(model.store, specHash: spec.hash, epoch: epoch, to: directory.bestCheckpoint) }
            state.bestCheckpointWritten = true
        }
        if let validPerplexity { schedule.endEpoch(epoch, perplexity: validPerplexity, bestBefore: bestBefore) }
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
        }
        if state.budgetReached { progress.line("token budget of \(training.maxTokens!) reached") }
        state.finished = stopping.shouldStop || state.budgetReached || epoch == training.epochs
        state.epoch += 1
        state.nextBatch = 0
        checkpointOrWarn()
    }

    private func finalEvaluation(threads: Int) throws -> RunResult {
        if state.bestCheckpointWritten {
            communicator.barrier()   // rank 0 has written best.ckpt
            try Checkpoint.load(directory.bestCheckpoint, into: model.store, expectedSpecHash: spec.hash)
        }
        var perplexities: [String: SplitPerplexity] = [:]
        for split in spec.evaluation.splits {
            // The best weights' validation perplexity was measured when they were saved.
            if split == "valid", let best = state.bestValid { perplexities[split] = best; continue }
            guard let lines = split == "valid" ? experiment.valid : experiment.test else { continue }
            // A signal stops the evaluation between batches; train.ckpt (the run finished
            // training) makes the next `harness run` evaluate again.
            guard let losses = try experiment.evaluate(lines, context: evaluation, communicator: communicator,
                                                       until: { Interruption.requested != nil }) else {
                try stopIfInterrupted()
                continue
            }
            perplexities[split] = experiment.perplexity(losses)
        }
        try stopIfInterrupted()
        let result = RunResult(
            name: spec.name, specHash: spec.hash, seed: spec.seed, perplexity: perplexities, bestEpoch: stopping.bestEpoch,
            epochsRun: state.epochsRun, stoppedEarly: stopping.shouldStop, trainTokens: state.tokens,
            tokensPerSecond: Double(state.tokens) / max(state.trainSeconds, 1e-9), wallSeconds: wallSeconds,
            epochSeconds: state.epochSeconds, parameters: model.store.count,
            parametersByComponent: Dictionary(uniqueKeysWithValues: model.parameterCounts.map { ($0.component, $0.count) }),
            flopsPerToken: model.trainingFLOPsPerToken, vocabularySize: experiment.vocabulary.count, threads: threads,
            blas: BLAS.configuration, machine: MachineInfo.description, commit: MachineInfo.buildCommit, builtFor: MachineInfo.builtFor,
            finishedAt: ISO8601DateFormatter().string(from: Date()),
            skippedSteps: state.skippedSteps > 0 ? state.skippedSteps : nil,
            processes: communicator.size > 1 ? communicator.size : nil)
        if writesFiles { try directory.write(result) }
        return result
    }

    var wallSeconds: Double { state.wallSeconds + Date().timeIntervalSince(sessionStart) }

    private func record(_ metrics: MetricsRecord) throws {
        if writesFiles { try directory.append(metrics) }
        state.metricsRecords += 1
    }
}
