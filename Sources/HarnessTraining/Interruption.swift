#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Ctrl-C (SIGINT) and SIGTERM (what batch schedulers send before a kill) for long runs:
/// the first signal asks the run to stop after the current step, which checkpoints and
/// exits with 128 + the signal's number (130 for Ctrl-C); a second one exits at once.
/// Every file is written atomically, so exiting at once loses the steps since the last
/// checkpoint and corrupts nothing.
public enum Interruption {
    /// The first signal's number, 0 while none came.
    fileprivate static let signalNumber = Atomic<Int32>(0)

    /// Installs the handlers (once per process; later calls do nothing more). Also
    /// ignores SIGXFSZ, so that a file-size limit fails the write (EFBIG, reported like a
    /// full disk) instead of killing the run.
    public static func install() {
        _ = signalNumber.load(ordering: .relaxed)   // initialised here, not inside the handler
        signal(SIGINT, handleSignal)
        signal(SIGTERM, handleSignal)
        signal(SIGXFSZ, SIG_IGN)
        // A parent may have blocked them (e.g. some process launchers); the handlers need them.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &set, nil)
    }

    /// The signal that asked the run to stop, if any.
    public static var requested: Int32? {
        let n = signalNumber.load(ordering: .acquiring)
        return n == 0 ? nil : n
    }

    /// Forgets a request (tests, and a sweep that has handled it).
    public static func reset() { signalNumber.store(0, ordering: .releasing) }
}

/// Async-signal-safe: an atomic exchange, `write` and `_exit` only.
private func handleSignal(_ number: Int32) {
    let (exchanged, _) = Interruption.signalNumber.compareExchange(expected: 0, desired: number, ordering: .acquiringAndReleasing)
    if !exchanged { _exit(128 + number) }
    let message: StaticString = "\ninterrupted: finishing the current step and writing a checkpoint (interrupt again to exit at once)\n"
    _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
}
