import Foundation
import HarnessTraining

/// `<runs>/<sweep>.sweep.json`: the sweep's points (ids, axis values, seeds) and its
/// baseline, written by every `harness sweep` so that reports know the points that have
/// not finished too.
public struct SweepManifest: Codable, Equatable, Sendable {
    public var name: String
    public var axes: [String]
    public var baseline: [String: String]
    public var points: [Point]

    public struct Point: Codable, Equatable, Sendable {
        public var id: String
        public var axes: [SweepPoint.Axis]
        public var seed: Int?
        public var invalid: String?
    }

    public static func path(root: String, name: String) -> String { "\(root)/\(name).sweep.json" }

    public func write(root: String) throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: Self.path(root: root, name: name))
    }

    public static func read(_ path: String) throws -> SweepManifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunError.unreadable(path: path, reason: "no sweep manifest")
        }
        do {
            return try JSONDecoder().decode(SweepManifest.self, from: data)
        } catch {
            throw RunError.unreadable(path: path, reason: "not a sweep manifest written by harness sweep (\(RunJSON.describe(error)))")
        }
    }
}

extension SweepManifest {
    public init(_ sweep: SweepSpec, points: [SweepPoint]) {
        self.init(name: sweep.name, axes: (sweep.grid + sweep.zip).map(\.path), baseline: sweep.baseline,
                  points: points.map { Point(id: $0.id, axes: $0.axes, seed: $0.seed, invalid: $0.invalid) })
    }
}

/// `failed.json` in a point's run directory: why it did not finish.
public struct PointFailure: Codable, Equatable, Sendable {
    public var exitCode: Int32
    public var error: String
}
