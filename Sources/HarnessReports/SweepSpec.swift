import Foundation
import HarnessSpec
import Yams

/// An ablation sweep: a base experiment spec and the axes to vary.
///
/// ```yaml
/// name: encoders
/// base: ../char-2layer.yaml          # relative to this file
/// set: {training.max_tokens: 1000000} # applied to every point
/// grid:                               # every combination
///   model.token_encoder: [{type: word, dim: 128}, {type: char-cnn, output_dim: 128}]
/// zip:                                # lists of one length, varied together
///   model.recurrent.hidden: [256, 512]
///   model.recurrent.projection: [64, 128]
/// seeds: [1, 2, 3]                    # replicates of every point
/// baseline: {model.token_encoder: char-cnn}   # the point the report compares against
/// ```
///
/// A value replaces the node at its dotted path (a whole mapping replaces a whole
/// component); the point's spec is then read and checked like any spec.
public struct SweepSpec {
    public struct Axis {
        public var path: String
        public var values: [Node]
        public var location: SourceLocation
    }

    public var name: String
    public var file: String
    public var base: String
    public var set: [Axis]
    public var grid: [Axis]
    public var zip: [Axis]
    public var seeds: [Int]
    /// Axis path → label of the baseline's value.
    public var baseline: [String: String]

    public static func load(file path: String) throws -> SweepSpec {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw SpecErrors([SpecError("sweep file does not exist or is not readable UTF-8",
                                        at: SourceLocation(file: path, line: 1, column: 1))], source: nil)
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> SweepSpec {
        let origin = SourceLocation(file: file, line: 1, column: 1)
        let source = SpecSource(file: file, text: text)
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let error as YamlError {
            throw SpecErrors([SpecLoader.yamlError(error, file: file)], source: text)
        }
        let r = MappingReader(root, path: "", source: source, location: origin)
        let defaultName = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let name = r.runName(default: defaultName, doc: "names the sweep and its runs")
        let baseText = r.string("base", default: nil, doc: "the base experiment spec, relative to this file") ?? ""
        // Relative to the sweep file's folder, whatever the working directory.
        let folder = URL(fileURLWithPath: file, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true))
            .absoluteURL.deletingLastPathComponent()
        let base = baseText.hasPrefix("/") ? baseText : folder.appendingPathComponent(baseText).standardizedFileURL.path
        func pairs(_ key: String) -> [(String, Node, SourceLocation)] {
            guard let node = r.node(key) else { return [] }
            guard case .mapping(let mapping) = node else {
                source.error("expected a mapping of dotted spec paths for '\(key)'", at: r.valueLocation(of: key))
                return []
            }
            return mapping.map { ($0.key.string ?? "", $0.value, source.location(of: $0.key, fallback: origin)) }
        }
        func axes(_ key: String) -> [Axis] {
            pairs(key).compactMap { path, node, location in
                guard case .sequence(let values) = node, !values.isEmpty else {
                    source.error("expected a non-empty list of values for '\(path)' in '\(key)'", at: location)
                    return nil
                }
                return Axis(path: path, values: Array(values), location: location)
            }
        }
        let set = pairs("set").map { Axis(path: $0.0, values: [$0.1], location: $0.2) }
        let grid = axes("grid"), zip = axes("zip")
        if let first = zip.first, let other = zip.first(where: { $0.values.count != first.values.count }) {
            source.error("zip lists must have one length: '\(first.path)' has \(first.values.count), '\(other.path)' has \(other.values.count)",
                         at: other.location)
        }
        var seeds: [Int] = []
        for (node, location) in r.list("seeds") {
            guard let seed = node.int, seed >= 0 else {
                source.error("expected a non-negative integer seed", at: location)
                continue
            }
            seeds.append(seed)
        }
        var baseline: [String: String] = [:]
        for (path, node, location) in pairs("baseline") {
            guard (grid + zip).contains(where: { $0.path == path }) else {
                source.error("baseline names '\(path)', which is not an axis of the sweep", at: location,
                             suggestion: nearest(path, in: (grid + zip).map(\.path)))
                continue
            }
            baseline[path] = node.string ?? label(node)
        }
        r.finish()
        guard source.errors.isEmpty else { throw SpecErrors(source.errors, source: text) }
        return SweepSpec(name: name, file: file, base: base, set: set, grid: grid, zip: zip, seeds: seeds, baseline: baseline)
    }
}

/// The short name of an axis value: a scalar's text, a component's `type`, a list of
/// components as "type rate + type rate" ("none" when empty), else its flow YAML.
func label(_ node: Node) -> String {
    switch node {
    case .scalar(let s): return s.string
    case .mapping(let m):
        if let type = m["type"]?.string { return type }
        return flow(node)
    case .sequence(let items):
        if items.isEmpty { return "none" }
        let parts = items.compactMap { item -> String? in
            guard case .mapping(let m) = item, let type = m["type"]?.string else { return nil }
            return ([type] + m.filter { $0.key.string != "type" }.map { flow($0.value) }).joined(separator: " ")
        }
        return parts.count == items.count ? parts.joined(separator: " + ") : flow(node)
    case .alias:
        return flow(node)
    }
}

/// One-line YAML of a node.
func flow(_ node: Node) -> String {
    switch node {
    case .scalar(let s): return s.string
    case .sequence(let items): return "[" + items.map(flow).joined(separator: ", ") + "]"
    case .mapping(let m): return "{" + m.map { "\(flow($0.key)): \(flow($0.value))" }.joined(separator: ", ") + "}"
    case .alias: return "*alias"
    }
}
