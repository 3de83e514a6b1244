import Foundation
import HarnessTraining

/// What a sweep measured, one row per point (its seeds aggregated), ready for tables.
public struct SweepReport: Codable, Sendable {
    public var name: String
    public var axes: [String]
    public var baseline: String?
    public var rows: [Row]
    /// Run files that exist but could not be read (each "path: error: reason"): their
    /// points count as neither done nor failed, and `harness report` names them.
    public var unreadable: [String] = []

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
        var problems: [String] = []
        rows = order.map { key in
            let points = groups[key]!
            var results: [RunResult] = [], failures: [String] = [], runs: [String] = [], damaged = 0
            for point in points {
                let directory = RunDirectory(existing: "\(root)/\(point.id)")
                let failed = directory.path + "/failed.json"
                if FileManager.default.fileExists(atPath: directory.result) {
                    do {
                        results.append(try directory.readResult())
                        runs.append(directory.path)
                    } catch {
                        problems.append("\(error)")
                        damaged += 1
                    }
                } else if let data = FileManager.default.contents(atPath: failed) {
                    if let failure = try? JSONDecoder().decode(PointFailure.self, from: data) {
                        failures.append(failure.error)
                    } else {
                        problems.append("\(failed): error: not a valid failed.json")
                        damaged += 1
                    }
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
            var parts: [String] = []
            if !results.isEmpty && results.count < points.count { parts.append("\(results.count)/\(points.count) done") }
            if !failures.isEmpty { parts.append(results.isEmpty && damaged == 0 ? "failed" : "\(failures.count) failed") }
            if damaged > 0 { parts.append("\(damaged) unreadable") }
            let status = results.count == points.count ? "done" : parts.isEmpty ? "pending" : parts.joined(separator: ", ")
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
        unreadable = problems
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
