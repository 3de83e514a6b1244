import Foundation
import HarnessTraining

/// What a sweep measured, one row per point (its seeds aggregated), ready for tables.
public struct SweepReport: Codable, Sendable {
    public var name: String
    public var axes: [String]
    public var baseline: String?
    public var rows: [Row]

    public struct Row: Codable, Sendable {
        /// Axis path → label, in axis order.
        public var labels: [SweepPoint.Axis]
        public var status: String       // "done", "3/5 done", "failed", "pending"
        public var seeds: Int
        public var finished: Int
        public var failures: [String]
        public var valid: Perplexities?
        public var test: Perplexities?
        public var tokensPerSecond: Statistic?
        public var wallSeconds: Statistic?
        public var parameters: Int?
        public var flopsPerToken: Double?
        /// Mean valid perplexity minus the baseline's (negative is better).
        public var validDelta: Double?
        public var isBaseline: Bool
        /// Run directories of the finished replicates (for curves).
        public var runs: [String]

        public var group: String { labels.map { "\($0.path)=\($0.label)" }.joined(separator: ", ") }
    }

    public struct Perplexities: Codable, Sendable {
        public var forward: Statistic?
        public var backward: Statistic?
        public var mean: Statistic
    }

    /// Reads every point's `result.json` or `failed.json` under `root`.
    public init(manifest: SweepManifest, root: String) {
        name = manifest.name
        axes = manifest.axes
        var order: [String] = []
        var groups: [String: [SweepManifest.Point]] = [:]
        for point in manifest.points {
            let key = point.axes.map { "\($0.path)=\($0.label)" }.joined(separator: ", ")
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(point)
        }
        rows = order.map { key in
            let points = groups[key]!
            var results: [RunResult] = [], failures: [String] = [], runs: [String] = []
            for point in points {
                let directory = RunDirectory(existing: "\(root)/\(point.id)")
                if let result = try? directory.readResult() {
                    results.append(result)
                    runs.append(directory.path)
                } else if let data = FileManager.default.contents(atPath: directory.path + "/failed.json"),
                          let failure = try? JSONDecoder().decode(PointFailure.self, from: data) {
                    failures.append(failure.error)
                } else if let invalid = point.invalid {
                    failures.append(invalid)
                }
            }
            func perplexities(_ split: String) -> Perplexities? {
                let values = results.compactMap { $0.perplexity[split] }
                guard let mean = Statistic(values.map(\.mean)) else { return nil }
                return Perplexities(forward: Statistic(values.compactMap(\.forward)), backward: Statistic(values.compactMap(\.backward)),
                                    mean: mean)
            }
            let status: String
            if results.count == points.count { status = "done" }
            else if results.isEmpty && !failures.isEmpty { status = "failed" }
            else if results.isEmpty { status = "pending" }
            else { status = "\(results.count)/\(points.count) done" + (failures.isEmpty ? "" : ", \(failures.count) failed") }
            let labels = points[0].axes
            let isBaseline = !manifest.baseline.isEmpty && manifest.baseline.allSatisfy { path, label in
                labels.contains { $0.path == path && $0.label == label }
            }
            return Row(labels: labels, status: status, seeds: points.count, finished: results.count, failures: failures,
                       valid: perplexities("valid"), test: perplexities("test"),
                       tokensPerSecond: Statistic(results.map(\.tokensPerSecond)), wallSeconds: Statistic(results.map(\.wallSeconds)),
                       parameters: results.first?.parameters, flopsPerToken: results.first?.flopsPerToken,
                       validDelta: nil, isBaseline: isBaseline, runs: runs)
        }
        // The baseline is the first row that matches (the first row when none is named).
        if let first = rows.firstIndex(where: \.isBaseline) ?? (rows.isEmpty ? nil : 0) {
            for i in rows.indices { rows[i].isBaseline = i == first }
        }
        baseline = rows.first(where: \.isBaseline)?.group
        if let reference = rows.first(where: \.isBaseline)?.valid?.mean.mean {
            for i in rows.indices { rows[i].validDelta = rows[i].valid.map { $0.mean.mean - reference } }
        }
    }
}
