#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Ctrl-C (SIGINT) and SIGTERM (what `kill`, `scancel` and batch time limits send) for
/// long runs: the first signal asks the run to stop after the current step (or between
/// evaluation batches), which checkpoints and exits with 128 + the signal's number (130
/// for Ctrl-C, 143 for SIGTERM).
///
/// Further signals do not cancel that checkpoint: Slurm's `scancel` signals every process
/// of a job, so a sweep's point gets SIGTERM twice (from Slurm, and passed on by the
/// sweep), and a terminal's Ctrl-C may repeat. Only a Ctrl-C that a user sends at least
/// `forceGrace` seconds after the first signal exits at once — losing the steps since the
/// last checkpoint and corrupting nothing, since every file is written atomically.
public enum Interruption {
    /// The first signal's number, 0 while none came.
    fileprivate static let signalNumber = Atomic<Int32>(0)
    /// When the first signal came (CLOCK_MONOTONIC, nanoseconds).
    fileprivate static let firstSignalTime = Atomic<Int64>(0)
    /// Seconds after the first signal before a second Ctrl-C exits at once. The handler's
    /// message says "3 s" as a literal (a handler can write only a static string): change both.
    public static let forceGrace = 3
    /// Whether the handler says what it does (the processes of a data-parallel run but
    /// rank 0 stay silent: each gets the signal).
    fileprivate static let announces = Atomic<Bool>(true)

    /// Installs the handlers (once per process; later calls do nothing more). Also
    /// ignores SIGXFSZ, so that a file-size limit fails the write (EFBIG, reported like a
    /// full disk) instead of killing the run, and SIGPIPE, so that a sweep's point whose
    /// sweep was killed trains on (its progress pipe has no reader) and keeps its lock.
    /// - Parameter announcing: whether the handler prints what it does.
    public static func install(announcing: Bool = true) {
        _ = signalNumber.load(ordering: .relaxed)   // initialised here, not inside the handler
        _ = firstSignalTime.load(ordering: .relaxed)
        announces.store(announcing, ordering: .releasing)
        signal(SIGINT, handleSignal)
        signal(SIGTERM, handleSignal)
        signal(SIGXFSZ, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
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

private func monotonicNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

private func say(_ message: StaticString) {
    _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
}

/// Async-signal-safe: atomics, `clock_gettime`, `write` and `_exit` only.
private func handleSignal(_ number: Int32) {
    let now = monotonicNanoseconds()
    let (exchanged, _) = Interruption.signalNumber.compareExchange(expected: 0, desired: number, ordering: .acquiringAndReleasing)
    if exchanged {
        Interruption.firstSignalTime.store(now, ordering: .releasing)
        guard Interruption.announces.load(ordering: .acquiring) else { return }
        say("\ninterrupted: finishing the current step and writing a checkpoint (Ctrl-C again after 3 s exits at once)\n")
        return
    }
    let first = Interruption.firstSignalTime.load(ordering: .acquiring)
    if number == SIGINT && now - first >= Int64(Interruption.forceGrace) * 1_000_000_000 {
        if Interruption.announces.load(ordering: .acquiring) { say("\nsecond Ctrl-C: exiting at once; the last checkpoint on disk is kept\n") }
        _exit(128 + number)
    }
}
