#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// `<run>/lock`: one writer per run folder. `harness run` holds an exclusive `flock` on it
/// from before it touches the folder until it exits, so two runs of one spec (two
/// terminals, two sweeps, a sweep restarted while its killed predecessor's points still
/// run) never interleave their checkpoints and records. The kernel releases the lock when
/// the holder exits, however it exits. The file holds the holder's "pid N on host H" for
/// the message a second writer gets; it is never deleted (deleting a lock file lets two
/// processes lock two different files).
///
/// `flock` works across the machines of a cluster on NFSv4 and Lustre (Linux maps it to
/// a byte-range lock there); on a file system without locks every run gets the lock.
public final class RunLock {
    public let path: String
    private let descriptor: Int32

    /// Takes the lock of `directory` (created if needed), or throws `RunError.locked`
    /// naming the holder when another process has it.
    public init(_ directory: RunDirectory) throws {
        try directory.create()
        path = directory.path + "/lock"
        descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw RunError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
        // A sweep's momentary `isHeld` probe holds a shared lock for microseconds: retried for a second.
        var attempts = 0
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK && attempts < 20 {
            attempts += 1
            usleep(50_000)
        }
        guard attempts < 20 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            throw RunError.locked(path: directory.path, holder: holder?.isEmpty == false ? holder : nil)
        }
        let holder = "pid \(getpid()) on host \(ProcessInfo.processInfo.hostName)\n"
        ftruncate(descriptor, 0)
        _ = holder.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    /// Whether another process holds the lock of `directory` now (a sweep's check before
    /// it starts a point; the point's own `RunLock` decides).
    public static func isHeld(_ directory: RunDirectory) -> Bool {
        let descriptor = open(directory.path + "/lock", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return flock(descriptor, LOCK_SH | LOCK_NB) != 0
    }

    deinit { close(descriptor) }
}
