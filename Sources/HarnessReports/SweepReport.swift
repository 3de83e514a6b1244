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
    /// Every point of the manifest (one per seed), in manifest order: the long table.
    public var points: [PointRecord] = []

    /// One point (one seed of one group) as it stands.
    public struct PointRecord: Codable, Sendable {
        public enum Status: String, Codable, Sendable {
            /// Finished: `result.json` read.
            case done
            /// `failed.json`, or a spec that does not validate (`error` says which).
            case failed
            /// Neither yet: not started or still running.
            case pending
            /// A `result.json` or `failed.json` that could not be read (`error` says why).
            case unreadable
        }

        public var id: String
        public var group: String
        public var labels: [SweepPoint.Axis]
        public var seed: Int?
        public var status: Status
        public var error: String?
        /// The run directory whose record was read: `result.json` (done) or `failed.json`.
        public var run: String?
        public var result: RunResult?
    }

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
        var records: [String: PointRecord] = [:]
        rows = order.map { key in
            let points = groups[key]!
            var results: [RunResult] = [], failures: [String] = [], runs: [String] = [], damaged = 0
            for point in points {
                let directory = RunDirectory(existing: "\(root)/\(point.id)")
                let failed = directory.path + "/failed.json"
                var record = PointRecord(id: point.id, group: key, labels: point.axes, seed: point.seed, status: .pending)
                if FileManager.default.fileExists(atPath: directory.result) {
                    do {
                        let result = try directory.readResult()
                        results.append(result)
                        runs.append(directory.path)
                        (record.status, record.run, record.result) = (.done, directory.path, result)
                    } catch {
                        problems.append("\(error)")
                        damaged += 1
                        (record.status, record.error) = (.unreadable, "\(error)")
                    }
                } else if FileManager.default.fileExists(atPath: failed) {
                    if let data = FileManager.default.contents(atPath: failed),
                       let failure = try? JSONDecoder().decode(PointFailure.self, from: data) {
                        failures.append(failure.error)
                        (record.status, record.error, record.run) = (.failed, failure.error, directory.path)
                    } else {
                        problems.append("\(failed): error: not a valid failed.json")
                        damaged += 1
                        (record.status, record.error) = (.unreadable, "\(failed): error: not a valid failed.json")
                    }
                } else if let invalid = point.invalid {
                    failures.append(invalid)
                    (record.status, record.error) = (.failed, invalid)
                }
                records[point.id] = record
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
        points = manifest.points.compactMap { records[$0.id] }
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
