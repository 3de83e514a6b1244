import Foundation

/// `runs/<name>-<first 8 hex digits of the spec hash>/`: the resolved spec, the
/// vocabulary, `metrics.jsonl`, `result.json`, the best checkpoint, and while the run is
/// unfinished its resumable checkpoint.
public struct RunDirectory: Sendable {
    public let path: String

    public init(root: String, name: String, specHash: String) {
        path = root + "/" + Self.id(name: name, hash: specHash)
    }

    /// A run's id and folder name, `<name>-<first 8 hex digits of its spec hash>`: the one
    /// place the rule is written (runs, sweep points, earlier versions of a spec).
    public static func id(name: String, hash: String) -> String { name + "-" + hash.prefix(8) }

    public init(existing path: String) { self.path = path }

    public var spec: String { path + "/spec.resolved.yaml" }
    public var vocabulary: String { path + "/vocabulary.txt" }
    public var metrics: String { path + "/metrics.jsonl" }
    public var result: String { path + "/result.json" }
    public var bestCheckpoint: String { path + "/best.ckpt" }
    /// The absolute paths of the data files the run read (`data-paths.json`), so that
    /// `harness eval` finds them from any folder.
    public var dataPaths: String { path + "/data-paths.json" }
    /// SHA-256 of every data file the run read, by absolute path (each training shard, the
    /// valid and test files, a vocabulary file): `data-checksums.json`.
    public var dataChecksums: String { path + "/data-checksums.json" }
    /// Weights, optimizer, random and data state of an unfinished run (`Trainer` resumes from it).
    public var trainingCheckpoint: String { path + "/train.ckpt" }

    /// Creates the folder and any missing parents (`mkdir -p`).
    ///
    /// - Throws: `RunError.cannotWrite` naming the first folder that could not be made and
    ///   why, e.g. "/etc/hostname is a file, not a folder" for a `--runs` that is a file.
    public func create() throws {
        var made = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            let parent = made
            made += "/" + component
            guard mkdir(made, 0o777) != 0 && errno != EEXIST else { continue }
            let reason = errno == ENOTDIR ? "\(parent) is a file, not a folder" : "\(made): \(String(cString: strerror(errno)))"
            throw RunError.cannotWrite(path: path, reason: reason)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RunError.cannotWrite(path: path, reason: "it is a file, not a folder")
        }
    }

    /// Removes the temporary files of writes that a killed process left behind.
    public func removeStaleTemporaries() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(atPath: path + "/" + name)
        }
    }

    /// Appends one JSON line to `metrics.jsonl` (rewritten atomically).
    public func append(_ record: MetricsRecord) throws {
        let encoder = RunJSON.encoder()
        var text = (try? String(contentsOfFile: metrics, encoding: .utf8)) ?? ""
        text += String(decoding: try encoder.encode(record), as: UTF8.self) + "\n"
        try AtomicFile.write(text, to: metrics)
    }

    /// Keeps the first `count` records of `metrics.jsonl` (those a checkpoint had seen).
    public func truncateMetrics(keeping count: Int) throws {
        guard let text = try? String(contentsOfFile: metrics, encoding: .utf8) else { return }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.count > count else { return }
        try AtomicFile.write(lines.prefix(count).map { $0 + "\n" }.joined(), to: metrics)
    }

    /// Records `files` (split name → absolute path, as `DataSpec` holds them).
    public func writeDataPaths(_ files: [String: String]) throws {
        try AtomicFile.write(try RunJSON.encoder(pretty: true).encode(files), to: dataPaths)
    }

    public func writeDataChecksums(_ checksums: [String: String]) throws {
        try AtomicFile.write(try RunJSON.encoder(pretty: true).encode(checksums), to: dataChecksums)
    }

    /// The paths `writeDataPaths` recorded (empty for runs of older harnesses).
    public func readDataPaths() -> [String: String] {
        guard let data = FileManager.default.contents(atPath: dataPaths) else { return [:] }
        return (try? JSONDecoder().decode([String: String].self, from: data)) ?? [:]
    }

    public func write(_ result: RunResult) throws {
        try AtomicFile.write(try RunJSON.encoder(pretty: true).encode(result), to: self.result)
    }

    public func readResult() throws -> RunResult {
        guard let data = FileManager.default.contents(atPath: result) else {
            throw RunError.unreadable(path: result, reason: "no result.json: the run has not finished")
        }
        do {
            return try RunJSON.decoder().decode(RunResult.self, from: data)
        } catch {
            throw RunError.unreadable(path: result, reason: "not a valid result.json (\(RunJSON.describe(error)))")
        }
    }
}
