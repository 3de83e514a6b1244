import Foundation
import HarnessKernels
import HarnessSpec
import HarnessTraining
import Yams

/// One configuration of a sweep: its axis values, its seed, and its spec.
public struct SweepPoint: Codable, Equatable, Sendable {
    /// Axis path → label of the value, in axis order.
    public var axes: [Axis]
    public var seed: Int?
    /// `<sweep>-<first 8 hex digits of the resolved spec's hash>`: the run directory's name.
    public var id: String
    /// The point's spec as YAML (written next to its run for `harness run`).
    public var specText: String
    /// Why the point's spec is invalid, if it is.
    public var invalid: String?
    /// The spec's `training.threads`, which the runner honours (else it divides the cores).
    public var threads: Int? = nil
    /// The absolute paths of the data files the point reads (resolved against the working directory).
    public var dataFiles: [String] = []

    public struct Axis: Codable, Equatable, Sendable {
        public var path: String
        public var label: String
    }

    /// The labels without the seed: the key that groups a point's replicates.
    public var group: String { axes.map { "\($0.path)=\($0.label)" }.joined(separator: ", ") }
}

extension SweepSpec {
    /// Every point: grid combinations × zip positions × seeds, in that nesting order.
    /// Points whose resolved specs coincide share an id and are listed once.
    public func expand() throws -> [SweepPoint] {
        guard let data = FileManager.default.contents(atPath: base), let text = String(data: data, encoding: .utf8) else {
            throw SpecErrors([SpecError("base spec \(base) does not exist or is not readable UTF-8",
                                        at: SourceLocation(file: file, line: 1, column: 1))], source: nil)
        }
        guard var root = try Yams.compose(yaml: text) else {
            throw SpecErrors([SpecError("base spec \(base) is empty", at: SourceLocation(file: base, line: 1, column: 1))], source: nil)
        }
        _ = try SpecLoader.parse(text, file: base)   // the base itself must be valid
        root = setting(root, path: ["name"], to: Node(name))
        try checkPaths(on: root)
        for axis in set { root = setting(root, path: axis.path.split(separator: ".").map(String.init), to: axis.values[0]) }

        var combinations: [[(Axis, Node)]] = [[]]
        for axis in grid {
            combinations = combinations.flatMap { prefix in axis.values.map { prefix + [(axis, $0)] } }
        }
        if let length = zip.first?.values.count {
            combinations = combinations.flatMap { prefix in (0..<length).map { i in prefix + zip.map { ($0, $0.values[i]) } } }
        }
        let labels = uniqueLabels()
        var points: [SweepPoint] = []
        var seen = Set<String>()
        for combination in combinations {
            for seed in seeds.isEmpty ? [nil] : seeds.map(Optional.some) {
                var node = root
                for (axis, value) in combination {
                    node = setting(node, path: axis.path.split(separator: ".").map(String.init), to: value)
                }
                if let seed { node = setting(node, path: ["seed"], to: Node(String(seed))) }
                let yaml = try Yams.serialize(node: node)
                let axes = combination.map { SweepPoint.Axis(path: $0.0.path, label: labels[$0.0.path]![flow($0.1)]!) }
                var point: SweepPoint
                let invalidID = RunDirectory.id(name: "\(name)-invalid", hash: String(format: "%016llx", fnv1a(yaml)))
                do {
                    // Errors cite the point's spec as the runner writes it: <runs>/<id>/point.yaml.
                    let spec = try SpecLoader.parse(yaml, file: "\(invalidID)/point.yaml", defaultName: name)
                    point = SweepPoint(axes: axes, seed: seed, id: RunDirectory.id(name: name, hash: spec.hash), specText: yaml, invalid: nil,
                                       threads: spec.training.threads,
                                       dataFiles: spec.data.trainShards + spec.data.validShards + spec.data.testShards
                                           + [spec.data.vocabularyFile].compactMap { $0 })
                } catch let errors as SpecErrors {
                    point = SweepPoint(axes: axes, seed: seed, id: invalidID, specText: yaml,
                                       invalid: errors.errors.map(\.description).joined(separator: "\n"))
                }
                if seen.insert(point.id).inserted { points.append(point) }
            }
        }
        return points
    }

    /// Every dotted path of `set`, `grid` and `zip` names keys a spec has: a misspelt
    /// segment is an error at the path in the sweep file ("unknown key 'max_token' in
    /// 'training'; did you mean 'max_tokens'?"), not a column of invalid points.
    private func checkPaths(on root: Node) throws {
        var errors: [SpecError] = []
        for axis in set + grid + zip {
            let segments = axis.path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !segments.contains(where: \.isEmpty) else {
                errors.append(SpecError("'\(axis.path)' is not a dotted spec path (an empty segment)", at: axis.location))
                continue
            }
            let yaml = try Yams.serialize(node: setting(root, path: segments, to: axis.values[0]))
            do {
                _ = try SpecLoader.parse(yaml, file: base)
            } catch let found as SpecErrors {
                if let error = found.errors.first(where: { $0.unknownKey.map { axis.path == $0 || axis.path.hasPrefix($0 + ".") } ?? false }) {
                    errors.append(SpecError(error.message + " (sweep path '\(axis.path)')", at: axis.location,
                                            suggestion: error.suggestion, note: error.note))
                }
            }
        }
        if !errors.isEmpty { throw SpecErrors(errors, source: (try? String(contentsOfFile: file, encoding: .utf8))) }
    }

    /// Labels per axis value; where two values of an axis share a short label, the axis
    /// uses the values' full flow YAML instead.
    private func uniqueLabels() -> [String: [String: String]] {
        var result: [String: [String: String]] = [:]
        for axis in grid + zip {
            let short = axis.values.map(label)
            let distinct = Set(short).count == Set(axis.values.map(flow)).count
            result[axis.path] = Dictionary(axis.values.map { (flow($0), distinct ? label($0) : flow($0)) }) { a, _ in a }
        }
        return result
    }

    /// The points of shard `index` of `count`: every `count`-th point by position in the
    /// sorted ids, so that the shards cover each point exactly once whatever the order
    /// of expansion.
    public static func shard(_ points: [SweepPoint], index: Int, count: Int) -> [SweepPoint] {
        precondition(count >= 1 && index >= 0 && index < count, "shard \(index)/\(count)")
        let sorted = points.sorted { $0.id < $1.id }
        return sorted.enumerated().filter { $0.offset % count == index }.map(\.element)
    }
}

/// `node` with the value at `path` replaced by `value` (mappings created as needed).
func setting(_ node: Node, path: [String], to value: Node) -> Node {
    guard let key = path.first else { return value }
    var pairs: [(Node, Node)] = []
    if case .mapping(let mapping) = node { pairs = mapping.map { ($0.key, $0.value) } }
    if let i = pairs.firstIndex(where: { $0.0.string == key }) {
        pairs[i].1 = setting(pairs[i].1, path: Array(path.dropFirst()), to: value)
    } else {
        pairs.append((Node(key), setting(Node([(Node, Node)]()), path: Array(path.dropFirst()), to: value)))
    }
    return Node(pairs)
}
