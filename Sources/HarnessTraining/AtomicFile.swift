import Foundation

/// Writes whole files so that a reader sees the old content or the new, never a part:
/// a temporary file in the same folder, written and flushed to disk (`fsync`), renamed
/// over the target, then the folder flushed so the rename survives a power loss. A
/// failed write (a full disk: "No space left on device") removes the temporary file,
/// leaves the old file as it was, and names the reason.
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let stream = try Stream(path)
        try stream.append(data)
        try stream.commit()
    }

    /// A file written in parts (output larger than memory should hold) that appears
    /// whole or not at all: `commit()` flushes and renames it over the target; a stream
    /// dropped without `commit()` (an error on the way) removes its temporary file.
    public final class Stream {
        public let path: String
        private let folder: String
        private let temporary: String
        private var fd: Int32

        public init(_ path: String) throws {
            self.path = path
            folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
            temporary = folder + "/.\((path as NSString).lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp"
            fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw Self.failure(path, "cannot create \(temporary)") }
        }

        deinit {
            if fd >= 0 {
                close(fd)
                unlink(temporary)
            }
        }

        public func append(_ data: Data) throws {
            precondition(fd >= 0, "append after commit")
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
            guard written else { throw abandon("") }
        }

        public func append(_ text: String) throws { try append(Data(text.utf8)) }

        /// Flushes the file to disk, renames it over `path`, and flushes the folder.
        public func commit() throws {
            guard fsync(fd) == 0 else { throw abandon("") }
            let closed = close(fd)
            fd = -1
            guard closed == 0 else { throw Self.failure(path, "", removing: temporary) }
            guard rename(temporary, path) == 0 else { throw Self.failure(path, "", removing: temporary) }
            let directory = open(folder, O_RDONLY | O_CLOEXEC)
            if directory >= 0 {
                fsync(directory)
                close(directory)
            }
        }

        /// Closes and removes the temporary file; the error names errno's reason.
        private func abandon(_ what: String) -> RunError {
            let error = Self.failure(path, what, removing: temporary)
            close(fd)
            fd = -1
            return error
        }

        private static func failure(_ path: String, _ what: String, removing temporary: String? = nil) -> RunError {
            let reason = String(cString: strerror(errno))
            if let temporary { unlink(temporary) }
            return RunError.cannotWrite(path: path, reason: what.isEmpty ? reason : "\(what): \(reason)")
        }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }
}
