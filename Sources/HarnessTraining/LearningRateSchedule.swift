import HarnessModel

/// The learning rate over epochs as the spec's `ScheduleComponent` sets it, and the
/// validation bookkeeping it shares with early stopping.
public struct LearningRateSchedule: Sendable {
    public let component: any ScheduleComponent
    public private(set) var rate: Double
    private var epochsSinceDrop = 0
    private var lastPerplexity: Double?

    public init(_ component: any ScheduleComponent, initialRate: Double) {
        self.component = component
        rate = initialRate
    }

    /// The state that changes, for checkpoints.
    public struct Snapshot: Codable, Equatable, Sendable {
        public var rate: Double?
        public var epochsSinceDrop = 0
        /// The last validation perplexity (nil before the first, and in checkpoints older than it).
        public var lastPerplexity: Double?
    }

    public var snapshot: Snapshot {
        get { Snapshot(rate: rate, epochsSinceDrop: epochsSinceDrop, lastPerplexity: lastPerplexity) }
        set { rate = newValue.rate ?? rate; epochsSinceDrop = newValue.epochsSinceDrop; lastPerplexity = newValue.lastPerplexity }
    }

    /// Called before epoch `epoch` (1-based) starts.
    public mutating func startEpoch(_ epoch: Int) {
        rate = component.rate(atStartOf: epoch, previous: rate)
    }

    /// Called after epoch `epoch`'s validation gave `perplexity`; `bestBefore` is the best
    /// before it (nil after the first).
    public mutating func endEpoch(_ epoch: Int, perplexity: Double, bestBefore: Double?) {
        let outcome = ValidationOutcome(epoch: epoch, perplexity: perplexity, previousPerplexity: lastPerplexity, bestBefore: bestBefore)
        rate = component.rate(after: outcome, previous: rate, epochsSinceDrop: &epochsSinceDrop)
        lastPerplexity = perplexity
    }
}

/// Stops training when validation perplexity has not improved for more than `patience`
/// epochs: `patience` non-improving epochs are tolerated and the next one stops the run
/// (patience 1: the second epoch in a row without improvement). The count of the `plateau`
/// schedule and of PyTorch's `ReduceLROnPlateau`; Keras and AllenNLP stop one epoch
/// earlier (at the `patience`-th), so their patience N is N − 1 here.
public struct EarlyStopping: Sendable {
    public let patience: Int?
    public private(set) var best = Double.infinity
    public private(set) var bestEpoch: Int?
    public private(set) var epochsWithoutImprovement = 0

    public init(patience: Int?) { self.patience = patience }

    /// The state that changes, for checkpoints (`best` is nil while infinite: JSON has no infinity).
    public struct Snapshot: Codable, Equatable, Sendable {
        public var best: Double?
        public var bestEpoch: Int?
        public var epochsWithoutImprovement = 0
    }

    public var snapshot: Snapshot {
        get { Snapshot(best: best.isFinite ? best : nil, bestEpoch: bestEpoch, epochsWithoutImprovement: epochsWithoutImprovement) }
        set { best = newValue.best ?? .infinity; bestEpoch = newValue.bestEpoch; epochsWithoutImprovement = newValue.epochsWithoutImprovement }
    }

    /// Records epoch `epoch`'s validation perplexity; returns whether it is the best so far.
    public mutating func record(_ perplexity: Double, epoch: Int) -> Bool {
        if perplexity < best {
            best = perplexity
            bestEpoch = epoch
            epochsWithoutImprovement = 0
            return true
        }
        epochsWithoutImprovement += 1
        return false
    }

    public var shouldStop: Bool {
        guard let patience else { return false }
        return epochsWithoutImprovement > patience
    }
}
