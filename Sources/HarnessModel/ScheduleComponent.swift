/// A learning-rate schedule as a spec chooses it (`training.schedule: {type: …}`):
/// constant, decay, plateau, or a researcher's own. A value holding its hyperparameters;
/// the rate and the counter it changes are kept, and saved in `train.ckpt`, by the trainer.
public protocol ScheduleComponent: SpecComponent {
    /// Whether it reads the validation perplexity (a spec without a validation split is then an error).
    var needsValidation: Bool { get }
    /// The rate of epoch `epoch` (1-based), given the rate so far.
    func rate(atStartOf epoch: Int, previous: Double) -> Double
    /// The rate after an epoch's validation, given the rate so far; `epochsSinceDrop`
    /// counts epochs without improvement since the last drop (saved with the rate).
    func rate(after validation: ValidationOutcome, previous: Double, epochsSinceDrop: inout Int) -> Double
    /// Value equality across conforming types (specs compare them).
    func isEqual(to other: any ScheduleComponent) -> Bool
    /// Why the rate would never change in a run of `epochs` epochs (the schedule starts
    /// after the last one), or nil. Legal, and often meant in a short test run, so
    /// `harness run` and `validate` print it as a note rather than refuse the spec.
    func idleReason(epochs: Int) -> String?
}

extension ScheduleComponent {
    public var needsValidation: Bool { false }
    public func idleReason(epochs: Int) -> String? { nil }
    public func rate(atStartOf epoch: Int, previous: Double) -> Double { previous }
    public func rate(after validation: ValidationOutcome, previous: Double, epochsSinceDrop: inout Int) -> Double { previous }
}

/// What one epoch's validation tells a schedule: its perplexity (e^nats, the mean of the
/// directions') and the ones it is compared with.
public struct ValidationOutcome: Sendable, Equatable {
    /// The epoch just validated (1-based).
    public var epoch: Int
    public var perplexity: Double
    /// The previous epoch's validation perplexity; nil after the first.
    public var previousPerplexity: Double?
    /// The best validation perplexity before this epoch's; nil after the first.
    public var bestBefore: Double?

    public init(epoch: Int, perplexity: Double, previousPerplexity: Double?, bestBefore: Double?) {
        self.epoch = epoch
        self.perplexity = perplexity
        self.previousPerplexity = previousPerplexity
        self.bestBefore = bestBefore
    }

    /// Whether it beat the best so far (the first epoch always does).
    public var improved: Bool { bestBefore.map { perplexity < $0 } ?? true }
}

extension ScheduleComponent where Self: Equatable {
    public func isEqual(to other: any ScheduleComponent) -> Bool { (other as? Self) == self }
}

/// `constant`: the optimizer's rate throughout.
public struct ConstantSchedule: ScheduleComponent, Equatable {
    public init() {}
    public var type: String { "constant" }
}

/// `decay`: lr × `factor` at the start of every epoch after `afterEpoch` (Zaremba et al. 2014).
public struct DecaySchedule: ScheduleComponent, Equatable {
    public var factor: Double
    public var afterEpoch: Int

    public init(factor: Double, afterEpoch: Int) {
        self.factor = factor
        self.afterEpoch = afterEpoch
    }

    public var type: String { "decay" }

    public func idleReason(epochs: Int) -> String? {
        afterEpoch < epochs ? nil
            : "the decay schedule lowers the rate from epoch \(afterEpoch + 1) on (after_epoch \(afterEpoch)), and the run has "
                + "\(epochs) epoch\(epochs == 1 ? "" : "s"): the learning rate never changes"
    }

    public func rate(atStartOf epoch: Int, previous: Double) -> Double {
        epoch > afterEpoch ? previous * factor : previous
    }
}

/// `plateau`: lr × `factor` when the validation perplexity has not improved by more than
/// `threshold` for more than `patience` epochs, counted from after epoch `afterEpoch`.
/// "Improved" compares with the best so far (pytorch/examples' word language model: ÷4
/// with patience 0; PyTorch's `ReduceLROnPlateau` with `threshold_mode='abs'`) or with the
/// previous epoch (Kim et al. 2016, yoonkim/lstm-char-cnn `main.lua`: ×0.5 when the
/// validation perplexity improves on the previous epoch's by less than `decay_when` = 1,
/// from the third epoch on, i.e. `threshold: 1, compare_with: previous, after_epoch: 2`;
/// they differ only at an improvement of exactly the threshold).
public struct PlateauSchedule: ScheduleComponent, Equatable {
    /// What an epoch's validation perplexity is compared with.
    public enum Reference: String, Sendable, CaseIterable { case best, previous }

    public var factor: Double
    public var patience: Int
    /// Perplexity points an epoch must improve by, more than, to count as improving.
    public var threshold: Double
    public var reference: Reference
    /// Validations of epochs up to this one never lower the rate (nor count against it).
    public var afterEpoch: Int

    public init(factor: Double, patience: Int, threshold: Double = 0, reference: Reference = .best, afterEpoch: Int = 0) {
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.reference = reference
        self.afterEpoch = afterEpoch
    }

    public var type: String { "plateau" }
    public var needsValidation: Bool { true }

    /// A drop after epoch e's validation applies from epoch e + 1; only validations after
    /// epoch `afterEpoch` that have one to compare with (not the first epoch's) count, and
    /// `patience` + 1 of them must fail to improve.
    public func idleReason(epochs: Int) -> String? {
        let first = max(afterEpoch + 1, 2) + patience + 1
        return first <= epochs ? nil
            : "the plateau schedule can lower the rate from epoch \(first) on at the earliest (after_epoch \(afterEpoch), "
                + "patience \(patience)), and the run has \(epochs) epoch\(epochs == 1 ? "" : "s"): the learning rate never changes"
    }

    public func rate(after validation: ValidationOutcome, previous: Double, epochsSinceDrop: inout Int) -> Double {
        guard validation.epoch > afterEpoch else { return previous }
        let compared = reference == .best ? validation.bestBefore : validation.previousPerplexity
        if compared.map({ $0 - validation.perplexity > threshold }) ?? true {
            epochsSinceDrop = 0
            return previous
        }
        epochsSinceDrop += 1
        guard epochsSinceDrop > patience else { return previous }
        epochsSinceDrop = 0
        return previous * factor
    }
}
