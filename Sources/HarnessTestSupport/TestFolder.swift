import Foundation

/// Temporary folders for tests, all under one parent per test process,
/// `$TMPDIR/harness-tests-<pid>`, which is removed when the process exits: a test run
/// leaves nothing in the temporary directory. Parents of test processes that no longer
/// run (killed, crashed) are removed when the next test process makes its own.
public enum TestFolder {
    /// The parent folder of this process, made on first use.
    public static let root: String = {
        let temporary = FileManager.default.temporaryDirectory.path
        removeParentsOfEndedProcesses(in: temporary)
        let path = temporary + "/\(prefix)\(getpid())"
        try? FileManager.default.removeItem(atPath: path)   // left by an ended process with the same id
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            fatalError("cannot make the tests' temporary folder \(path): \(error)")
        }
        atexit { try? FileManager.default.removeItem(atPath: TestFolder.root) }
        return path
    }()

    /// A fresh, empty folder `<root>/<label>-<UUID>`.
    public static func make(_ label: String = "test") -> String {
        let path = root + "/\(label)-\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            fatalError("cannot make the temporary folder \(path): \(error)")
        }
        return path
    }

    private static let prefix = "harness-tests-"

    /// Removes `harness-tests-<pid>` folders whose process has ended (`kill(pid, 0)` fails
    /// with ESRCH); folders of running processes, and names that are not a pid, are kept.
    private static func removeParentsOfEndedProcesses(in temporary: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] where name.hasPrefix(prefix) {
            guard let pid = pid_t(name.dropFirst(prefix.count)), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: temporary + "/" + name)
            }
        }
    }
}
