/// A learning-rate schedule as a spec chooses it (`training.schedule: {type: …}`):
/// constant, decay, plateau, or a researcher's own. A value holding its hyperparameters;
/// the rate and the counter it changes are kept, and saved in `train.ckpt`, by the trainer.
public protocol ScheduleComponent: SpecComponent {
    /// Whether it reads the validation perplexity (a spec without a validation split is then an error).
    var needsValidation: Bool { get }
    /// The rate of epoch `epoch` (1-based), given the rate so far.
    func rate(atStartOf epoch: Int, previous: Double) -> Double
    /// The rate after an epoch's validation (`improved`: it beat the best so far), given
    /// the rate so far; `epochsSinceDrop` counts epochs without improvement since the last drop.
    func rate(afterValidation improved: Bool, previous: Double, epochsSinceDrop: inout Int) -> Double
    /// Value equality across conforming types (specs compare them).
    func isEqual(to other: any ScheduleComponent) -> Bool
}

extension ScheduleComponent {
    public var needsValidation: Bool { false }
    public func rate(atStartOf epoch: Int, previous: Double) -> Double { previous }
    public func rate(afterValidation improved: Bool, previous: Double, epochsSinceDrop: inout Int) -> Double { previous }
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

    public func rate(atStartOf epoch: Int, previous: Double) -> Double {
        epoch > afterEpoch ? previous * factor : previous
    }
}

/// `plateau`: lr × `factor` when the validation perplexity has not improved for more
/// than `patience` epochs (pytorch/examples' word language model: ÷4 with patience 0).
public struct PlateauSchedule: ScheduleComponent, Equatable {
    public var factor: Double
    public var patience: Int

    public init(factor: Double, patience: Int) {
        self.factor = factor
        self.patience = patience
    }

    public var type: String { "plateau" }
    public var needsValidation: Bool { true }

    public func rate(afterValidation improved: Bool, previous: Double, epochsSinceDrop: inout Int) -> Double {
        if improved {
            epochsSinceDrop = 0
            return previous
        }
        epochsSinceDrop += 1
        guard epochsSinceDrop > patience else { return previous }
        epochsSinceDrop = 0
        return previous * factor
    }
}
