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
    /// Why a run has no measurements: "no result.json: not finished", or why its
    /// result.json could not be read.
    public var missing: (a: String?, b: String?)

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
        let (resultA, missingA) = Self.result(of: a), (resultB, missingB) = Self.result(of: b)
        results = (resultA, resultB)
        missing = (missingA, missingB)
    }

    /// (dotted path, one-line YAML of the value) for every leaf of the run's resolved spec, in file order.
    static func flattenedSpec(of run: String) throws -> [(String, String)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: run, isDirectory: &isDirectory) else {
            throw RunError.unreadable(path: run, reason: "no such run directory")
        }
        guard isDirectory.boolValue else { throw RunError.unreadable(path: run, reason: "not a directory: diff takes two run directories") }
        let path = "\(run)/spec.resolved.yaml"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunError.unreadable(path: run, reason: "no spec.resolved.yaml: not a harness run directory")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw RunError.unreadable(path: path, reason: "not UTF-8 text") }
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

    /// The run's result, or why there is none (the spec keys still compare).
    static func result(of run: String) -> (RunResult?, String?) {
        let directory = RunDirectory(existing: run)
        guard FileManager.default.fileExists(atPath: directory.result) else { return (nil, "no result.json: not finished") }
        do { return (try directory.readResult(), nil) } catch { return (nil, "unreadable: \(error)") }
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
        lines.append("A = `\(runs.a)`" + (missing.a.map { " (\($0))" } ?? "") + ", B = `\(runs.b)`" + (missing.b.map { " (\($0))" } ?? ""))
        return lines.joined(separator: "\n") + "\n"
    }
}
