import Foundation

/// `runs/<name>-<first 8 hex digits of the spec hash>/`: the resolved spec, the
/// vocabulary, `metrics.jsonl`, `result.json` and the best checkpoint.
public struct RunDirectory: Sendable {
    public let path: String

    public init(root: String, name: String, specHash: String) {
        path = root + "/" + name + "-" + String(specHash.prefix(8))
    }

    public init(existing path: String) { self.path = path }

    public var spec: String { path + "/spec.resolved.yaml" }
    public var vocabulary: String { path + "/vocabulary.txt" }
    public var metrics: String { path + "/metrics.jsonl" }
    public var result: String { path + "/result.json" }
    public var bestCheckpoint: String { path + "/best.ckpt" }

    public func create() throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RunError.cannotWrite(path: path, reason: error.localizedDescription)
        }
    }

    /// Appends one JSON line to `metrics.jsonl` (rewritten atomically).
    public func append(_ record: MetricsRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var text = (try? String(contentsOfFile: metrics, encoding: .utf8)) ?? ""
        text += String(decoding: try encoder.encode(record), as: UTF8.self) + "\n"
        try AtomicFile.write(text, to: metrics)
    }

    public func write(_ result: RunResult) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(result), to: self.result)
    }

    public func readResult() throws -> RunResult {
        guard let data = FileManager.default.contents(atPath: result) else {
            throw RunError.badCheckpoint(path: result, reason: "no result.json")
        }
        return try JSONDecoder().decode(RunResult.self, from: data)
    }
}
