import Foundation

/// Writes whole files so that a reader sees the old content or the new, never a part:
/// a temporary file in the same folder, written and flushed to disk (`fsync`), renamed
/// over the target, then the folder flushed so the rename survives a power loss. A
/// failed write (a full disk: "No space left on device") removes the temporary file,
/// leaves the old file as it was, and names the reason.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        let temporary = folder + "/.\((path as NSString).lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp"
        func failure(_ what: String) -> RunError {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            return RunError.cannotWrite(path: path, reason: what.isEmpty ? reason : "\(what): \(reason)")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("cannot create \(temporary)") }
        let written = data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
        guard written, fsync(fd) == 0 else {
            let error = failure("")
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw failure("") }
        guard rename(temporary, path) == 0 else { throw failure("") }
        let directory = open(folder, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }
}
