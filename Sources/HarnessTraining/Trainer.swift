import Foundation
import HarnessData
import HarnessKernels
import HarnessModel
import HarnessSpec

/// Trains an experiment: epochs of steps (clip, update), validation after each epoch
/// with learning-rate schedule and early stopping, the best weights checkpointed and
/// restored, and a final evaluation of the spec's splits. Records everything in a
/// `RunDirectory`.
public final class Trainer {
    public let experiment: Experiment
    public let directory: RunDirectory
    public let progress: TrainingProgress

    /// BLAS threads for this run, overriding the spec's `training.threads` without
    /// changing the spec (a sweep divides the cores between its jobs).
    public var threads: Int?

    public init(_ experiment: Experiment, directory: RunDirectory, progress: TrainingProgress = TrainingProgress()) {
        self.experiment = experiment
        self.directory = directory
        self.progress = progress
    }

    /// The spec's optimizer, dispatched by a switch rather than an existential so that
    /// each update loop runs specialized for Float.
    private enum ConcreteOptimizer {
        case sgd(SGD), adagrad(Adagrad), adam(Adam)

        init(_ spec: OptimizerSpec) {
            switch spec {
            case .sgd(let lr, let momentum): self = .sgd(SGD(learningRate: lr, momentum: momentum))
            case .adagrad(let lr, let accumulator): self = .adagrad(Adagrad(learningRate: lr, initialAccumulator: accumulator))
            case .adam(let lr, let b1, let b2, let eps): self = .adam(Adam(learningRate: lr, beta1: b1, beta2: b2, epsilon: eps))
            }
        }

        var learningRate: Double {
            get {
                switch self {
                case .sgd(let o): o.learningRate
                case .adagrad(let o): o.learningRate
                case .adam(let o): o.learningRate
                }
            }
            nonmutating set {
                switch self {
                case .sgd(let o): o.learningRate = newValue
                case .adagrad(let o): o.learningRate = newValue
                case .adam(let o): o.learningRate = newValue
                }
            }
        }

        func step(_ store: ParameterStore<Float>) {
            switch self {
            case .sgd(let o): o.step(store)
            case .adagrad(let o): o.step(store)
            case .adam(let o): o.step(store)
            }
        }
    }

    public func run() throws -> RunResult {
        let spec = experiment.spec, training = spec.training, model = experiment.model
        let started = Date()
        let threads = self.threads ?? training.threads ?? ProcessInfo.processInfo.activeProcessorCount
        BLAS.threads = threads
        try directory.create()
        try AtomicFile.write(spec.resolved.yaml(), to: directory.spec)
        try AtomicFile.write(experiment.vocabulary.tokens.joined(separator: "\n") + "\n", to: directory.vocabulary)
        try? FileManager.default.removeItem(atPath: directory.metrics)

        let optimizer = ConcreteOptimizer(training.optimizer)
        var schedule = LearningRateSchedule(training.schedule, initialRate: training.optimizer.learningRate)
        var stopping = EarlyStopping(patience: training.earlyStoppingPatience)
        let context = StepContext(training: true, dropoutGenerator: experiment.streams.dropout)
        let evaluation = StepContext(training: false)
        var sampling = experiment.streams.sampling
        let carry = spec.data.batching.carriesState
        let sampled = { if case .sampled = spec.model.output { true } else { false } }()
        var step = 0, tokens = 0, trainSeconds = 0.0
        var epochSeconds: [Double] = []
        var checkpointWritten = false
        var bestValid: SplitPerplexity?
        var epochsRun = 0
        var budgetReached = false

        epochs: for epoch in 1...training.epochs {
            schedule.startEpoch(epoch)
            optimizer.learningRate = schedule.rate
            let batches = experiment.batches(experiment.train, training: true)
            let epochStart = Date()
            model.resetState()
            var windowLoss = 0.0, windowTokens = 0, windowStart = Date(), epochLoss = 0.0, epochTokens = 0
            for (index, batch) in batches.enumerated() {
                let stepStart = Date()
                context.arena.reset()
                model.store.zeroGradients()
                let lossScale = training.loss == .timeSum ? Double(batch[0].steps) : 1
                let (objective, directions) = model.trainingStep(batch, carryState: carry, lossScale: lossScale,
                                                                 context: context, sampling: &sampling)
                let norm = training.clipping?.apply(to: model.store) ?? model.store.gradientNorm()
                guard objective.isFinite, norm.isFinite else {
                    throw RunError.nonFinite(step: step + 1, epoch: epoch, loss: objective.isFinite ? norm : objective,
                                             lastCheckpoint: checkpointWritten ? directory.bestCheckpoint : nil)
                }
                optimizer.step(model.store)
                step += 1
                let stepTokens = directions.reduce(0) { $0 + $1.tokens }
                tokens += stepTokens
                trainSeconds += Date().timeIntervalSince(stepStart)
                let nll = directions.reduce(0) { $0 + $1.nll }
                windowLoss += nll; windowTokens += stepTokens; epochLoss += nll; epochTokens += stepTokens
                let logNow = step % training.logEvery == 0
                progress.step(epoch: epoch, epochs: training.epochs, done: index + 1, total: batches.count,
                              loss: epochLoss / Double(max(epochTokens, 1)), sampledLoss: sampled,
                              tokensPerSecond: Double(tokens) / trainSeconds,
                              elapsed: Date().timeIntervalSince(epochStart), force: logNow)
                if logNow {
                    let mean = windowLoss / Double(max(windowTokens, 1))
                    try directory.append(MetricsRecord(kind: "step", epoch: epoch, step: step, tokens: tokens,
                                                       seconds: Date().timeIntervalSince(started), learningRate: schedule.rate,
                                                       trainLoss: mean, trainPerplexity: sampled ? nil : Foundation.exp(mean),
                                                       tokensPerSecond: Double(windowTokens) / Date().timeIntervalSince(windowStart)))
                    windowLoss = 0; windowTokens = 0; windowStart = Date()
                }
                if let budget = training.maxTokens, tokens >= budget { budgetReached = true }
                // Mid-epoch validation, unless the end-of-epoch one follows at once.
                if let every = spec.evaluation.everyTokens, let valid = experiment.valid,
                   tokens / every > (tokens - stepTokens) / every, !budgetReached, index + 1 < batches.count {
                    let state = model.saveState()
                    let perplexity = experiment.perplexity(experiment.evaluate(valid, context: evaluation)).mean
                    model.restoreState(state)
                    try directory.append(MetricsRecord(kind: "validation", epoch: epoch, step: step, tokens: tokens,
                                                       seconds: Date().timeIntervalSince(started), learningRate: schedule.rate,
                                                       validPerplexity: perplexity))
                }
                if budgetReached { break }
            }
            epochsRun = epoch
            epochSeconds.append(Date().timeIntervalSince(epochStart))
            let trainMean = epochLoss / Double(max(epochTokens, 1))
            var validResult: SplitPerplexity?
            if let valid = experiment.valid {
                validResult = experiment.perplexity(experiment.evaluate(valid, context: evaluation))
            }
            let validPerplexity = validResult?.mean
            let improved = validPerplexity.map { stopping.record($0, epoch: epoch) } ?? true
            if improved {
                bestValid = validResult
                try Checkpoint.save(model.store, specHash: spec.hash, epoch: epoch, to: directory.bestCheckpoint)
                checkpointWritten = true
            }
            schedule.endEpoch(improved: improved)
            try directory.append(MetricsRecord(kind: "epoch", epoch: epoch, step: step, tokens: tokens,
                                               seconds: Date().timeIntervalSince(started), learningRate: optimizer.learningRate,
                                               trainLoss: trainMean, trainPerplexity: sampled ? nil : Foundation.exp(trainMean),
                                               validPerplexity: validPerplexity, tokensPerSecond: Double(tokens) / trainSeconds))
            let trainText = sampled ? String(format: "train sampled loss %.3f", trainMean)
                : String(format: "train ppl %.2f", Foundation.exp(trainMean))
            progress.line(String(format: "epoch %d: %@, valid ppl %@%@, lr %g, %@", epoch, trainText,
                                 validPerplexity.map { String(format: "%.2f", $0) } ?? "-", improved ? " (best)" : "",
                                 optimizer.learningRate, TrainingProgress.duration(epochSeconds.last!)))
            if stopping.shouldStop {
                progress.line("early stopping: no improvement for \(stopping.epochsWithoutImprovement) epochs")
                break epochs
            }
            if budgetReached {
                progress.line("token budget of \(training.maxTokens!) reached")
                break epochs
            }
        }

        // Best weights, final evaluation.
        if checkpointWritten {
            try Checkpoint.load(directory.bestCheckpoint, into: model.store, expectedSpecHash: spec.hash)
        }
        var perplexities: [String: SplitPerplexity] = [:]
        for split in spec.evaluation.splits {
            // The best weights' validation perplexity was measured when they were saved.
            if split == "valid", let bestValid { perplexities[split] = bestValid; continue }
            guard let lines = split == "valid" ? experiment.valid : experiment.test else { continue }
            perplexities[split] = experiment.perplexity(experiment.evaluate(lines, context: evaluation))
        }
        let formatter = ISO8601DateFormatter()
        let result = RunResult(
            name: spec.name, specHash: spec.hash, seed: spec.seed, perplexity: perplexities, bestEpoch: stopping.bestEpoch,
            epochsRun: epochsRun, stoppedEarly: stopping.shouldStop, trainTokens: tokens,
            tokensPerSecond: Double(tokens) / max(trainSeconds, 1e-9), wallSeconds: Date().timeIntervalSince(started),
            epochSeconds: epochSeconds, parameters: model.store.count,
            parametersByComponent: Dictionary(uniqueKeysWithValues: model.parameterCounts.map { ($0.component, $0.count) }),
            flopsPerToken: model.trainingFLOPsPerToken, vocabularySize: experiment.vocabulary.count, threads: threads,
            blas: BLAS.configuration, machine: MachineInfo.description, commit: MachineInfo.commit,
            finishedAt: formatter.string(from: Date()))
        try directory.write(result)
        return result
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
