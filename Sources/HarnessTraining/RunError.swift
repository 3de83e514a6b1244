/// A run that started but could not finish.
public enum RunError: Error, Equatable, CustomStringConvertible {
    /// The loss or the gradient norm became NaN or infinite.
    case nonFinite(step: Int, epoch: Int, loss: Double, lastCheckpoint: String?)
    /// Validation perplexity was NaN or infinite (after an epoch, or at `step` for
    /// `evaluation.every_tokens`): no weights are kept as "best" for it.
    case nonFiniteValidation(epoch: Int, step: Int?, perplexity: Double, lastCheckpoint: String?)
    /// `on_nonfinite: skip` skipped this many steps in a row.
    case tooManySkips(step: Int, epoch: Int, skipped: Int, lastCheckpoint: String?)
    /// A checkpoint could not be read back.
    case badCheckpoint(path: String, reason: String)
    /// A run file could not be read or parsed.
    case unreadable(path: String, reason: String)
    /// A run directory or file could not be written.
    case cannotWrite(path: String, reason: String)
    /// A checkpoint exists but does not belong to this spec or data.
    case resumeRefused(path: String, reason: String)
    /// Another process holds the run folder's lock (`holder`: its "pid N on host H", if it wrote one).
    case locked(path: String, holder: String?)
    /// The processes of a data-parallel run (`Trainer.communicator`) cannot run this spec.
    case dataParallel(String)
    /// Stopped by a signal after checkpointing.
    case interrupted(signal: Int32, step: Int, epoch: Int, checkpoint: String, resumeCommand: String?)

    public var description: String {
        switch self {
        case let .nonFinite(step, epoch, loss, checkpoint):
            return "error: the loss became \(loss) at step \(step) of epoch \(epoch)"
                + (checkpoint.map { "; the last good checkpoint is \($0)" } ?? "; no checkpoint was written yet")
                + " (training.on_nonfinite: skip skips such steps instead)"
        case let .nonFiniteValidation(epoch, step, perplexity, checkpoint):
            return "error: the validation perplexity is \(perplexity) " + (step.map { "at step \($0) of epoch \(epoch)" } ?? "after epoch \(epoch)")
                + ": the model gives some validation token no probability (diverged training: lower the learning rate or clip)"
                + (checkpoint.map { "; the last good checkpoint is \($0)" } ?? "; no checkpoint was written yet")
        case let .tooManySkips(step, epoch, skipped, checkpoint):
            return "error: \(skipped) steps in a row had a NaN or infinite loss or gradient (up to step \(step) of epoch \(epoch)); "
                + "stopping" + (checkpoint.map { "; the last good checkpoint is \($0)" } ?? "")
        case let .badCheckpoint(path, reason):
            return "\(path): error: cannot use this checkpoint: \(reason)"
        case let .unreadable(path, reason):
            return "\(path): error: \(reason)"
        case let .cannotWrite(path, reason):
            return "\(path): error: cannot write: \(reason)"
        case let .resumeRefused(path, reason):
            return "\(path): error: cannot resume: \(reason)"
        case let .locked(path, holder):
            return "\(path): error: another process is running this experiment (\(holder ?? "its process id is not recorded")); "
                + "one writer per run folder: wait for it, or stop it (Ctrl-C or kill; it checkpoints) and run again to resume"
        case let .dataParallel(reason):
            return "error: data-parallel training: \(reason)"
        case let .interrupted(_, step, epoch, checkpoint, command):
            return "interrupted after step \(step) (epoch \(epoch)); checkpoint written to \(checkpoint)\n"
                + "resume with: \(command ?? "the same harness run command")"
        }
    }
}
