import Foundation
import HarnessTraining
import Yams

/// What differs between two run directories: the keys of their resolved specs
/// (`spec.resolved.yaml`, by dotted path) whose values differ or exist in one only, and
/// what each measured (`result.json`), side by side (`harness diff RUN_A RUN_B`).
///
/// The specs are compared as YAML trees, not re-validated, so a run whose spec the
/// current harness would refuse (an older key, a corpus moved away) still compares.
/// Lists compare whole, as their one-line YAML.
public struct RunDiff {
    public struct Key: Equatable, Sendable {
        public var path: String
        /// nil: absent from that run's spec.
        public var a: String?
        public var b: String?
    }

    public var runs: (a: String, b: String)
    public var keys: [Key]
    public var results: (a: RunResult?, b: RunResult?)

    /// Reads both runs; an error names the run folder and the file that is missing or unreadable.
    public init(_ a: String, _ b: String) throws {
        runs = (a, b)
        let specs = try [a, b].map { try Self.flattenedSpec(of: $0) }
        var paths: [String] = []
        var seen = Set<String>()
        for (path, _) in specs[0] + specs[1] where seen.insert(path).inserted { paths.append(path) }
        let values = specs.map { Dictionary($0, uniquingKeysWith: { first, _ in first }) }
        keys = paths.compactMap { path in
            let (x, y) = (values[0][path], values[1][path])
            return x == y ? nil : Key(path: path, a: x, b: y)
        }
        results = (try Self.result(of: a), try Self.result(of: b))
    }

    /// (dotted path, one-line YAML of the value) for every leaf of the run's resolved spec, in file order.
    static func flattenedSpec(of run: String) throws -> [(String, String)] {
        let path = "\(run)/spec.resolved.yaml"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw RunError.unreadable(path: path, reason: FileManager.default.fileExists(atPath: run)
                                      ? "no spec.resolved.yaml: not a harness run directory" : "no such run directory")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw RunError.unreadable(path: path, reason: "not YAML (\(error))")
        }
        guard let root = node, case .mapping = root else {
            throw RunError.unreadable(path: path, reason: "expected a mapping of spec keys at the top level")
        }
        var leaves: [(String, String)] = []
        func walk(_ node: Node, _ prefix: String) {
            if case .mapping(let mapping) = node, !mapping.isEmpty {
                for (key, value) in mapping { walk(value, prefix.isEmpty ? key.string ?? "?" : "\(prefix).\(key.string ?? "?")") }
            } else {
                leaves.append((prefix, flow(node)))
            }
        }
        walk(root, "")
        return leaves
    }

    static func flow(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): return scalar.string
        case .sequence(let items): return "[" + items.map(flow).joined(separator: ", ") + "]"
        case .mapping(let mapping): return "{" + mapping.map { "\($0.key.string ?? "?"): \(flow($0.value))" }.joined(separator: ", ") + "}"
        case .alias: return "*alias"
        }
    }

    static func result(of run: String) throws -> RunResult? {
        let directory = RunDirectory(existing: run)
        guard FileManager.default.fileExists(atPath: directory.result) else { return nil }
        return try directory.readResult()
    }

    /// The two tables as Markdown: differing spec keys, then the measurements.
    public var markdown: String {
        func cell(_ s: String?) -> String { (s ?? "(absent)").replacingOccurrences(of: "|", with: "\\|") }
        var lines = ["| spec key | A | B |", "|---|---|---|"]
        if keys.isEmpty { lines.append("| (none: the resolved specs are equal) | | |") }
        for key in keys { lines.append("| `\(key.path)` | \(cell(key.a)) | \(cell(key.b)) |") }
        lines += ["", "| measured | A | B | B − A |", "|---|---:|---:|---:|"]
        func number(_ x: Double?, _ format: String) -> String { x.map { String(format: format, $0) } ?? "–" }
        func row(_ name: String, _ format: String, _ value: (RunResult) -> Double?) {
            let (x, y) = (results.a.flatMap(value), results.b.flatMap(value))
            let delta = x.flatMap { x in y.map { String(format: "%+" + format.dropFirst(), $0 - x) } } ?? "–"
            lines.append("| \(name) | \(number(x, format)) | \(number(y, format)) | \(delta) |")
        }
        for split in ["valid", "test"] {
            row("\(split) ppl forward", "%.2f") { $0.perplexity[split]?.forward }
            row("\(split) ppl backward", "%.2f") { $0.perplexity[split]?.backward }
            row("\(split) ppl, mean of directions", "%.2f") { $0.perplexity[split]?.mean }
        }
        row("tokens/s", "%.0f") { $0.tokensPerSecond }
        row("wall s", "%.1f") { $0.wallSeconds }
        row("epochs run", "%.0f") { Double($0.epochsRun) }
        row("parameters", "%.0f") { Double($0.parameters) }
        row("FLOPs/token", "%.4g") { $0.flopsPerToken }
        lines.append("")
        lines.append("A = `\(runs.a)`" + (results.a == nil ? " (no result.json: not finished)" : "")
                     + ", B = `\(runs.b)`" + (results.b == nil ? " (no result.json: not finished)" : ""))
        return lines.joined(separator: "\n") + "\n"
    }
}
