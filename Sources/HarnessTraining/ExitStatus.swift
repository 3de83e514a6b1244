import HarnessData
import HarnessSpec

/// How the command line reports an error: its exit code and its text.
/// 64 (EX_USAGE) for a bad spec, 65 (EX_DATAERR) for bad data, 1 for a run that failed,
/// 75 (EX_TEMPFAIL) for a run folder that another process is writing, 128 + the signal
/// for a run interrupted by a signal (130 for Ctrl-C), 70 (EX_SOFTWARE) for a component
/// package's registration that the registries refuse.
public enum ExitStatus {
    public static let badSpec: Int32 = 64
    public static let badData: Int32 = 65
    public static let failedRun: Int32 = 1
    public static let busy: Int32 = 75
    /// A component package's registration was refused (EX_SOFTWARE: the program, not its input).
    public static let badComponent: Int32 = 70

    /// nil for errors that are not the user's (programming errors propagate).
    public static func of(_ error: Error) -> (code: Int32, message: String)? {
        switch error {
        case let e as SpecErrors: return (badSpec, e.description)
        case let e as DataError: return (badData, e.description)
        case let e as RunError:
            if case .interrupted(let signal, _, _, _, _) = e { return (128 + signal, e.description) }
            if case .locked = e { return (busy, e.description) }
            return (failedRun, e.description)
        default: return nil
        }
    }
}
