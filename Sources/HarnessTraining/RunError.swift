/// A run that started but could not finish.
public enum RunError: Error, Equatable, CustomStringConvertible {
    /// The loss or the gradient norm became NaN or infinite.
    case nonFinite(step: Int, epoch: Int, loss: Double, lastCheckpoint: String?)
    /// A checkpoint could not be read back.
    case badCheckpoint(path: String, reason: String)
    /// A run directory or file could not be written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .nonFinite(step, epoch, loss, checkpoint):
            return "error: the loss became \(loss) at step \(step) of epoch \(epoch)"
                + (checkpoint.map { "; the last good checkpoint is \($0)" } ?? "; no checkpoint was written yet")
        case let .badCheckpoint(path, reason):
            return "\(path): error: cannot use this checkpoint: \(reason)"
        case let .cannotWrite(path, reason):
            return "\(path): error: cannot write: \(reason)"
        }
    }
}
