import Foundation
import HarnessModel
import HarnessTraining

/// The reports for programs (pandas, R, jq): typed, one schema however many sweeps.
///
/// - `csv`: long format, one row per point and seed, one header for all sweeps (the union
///   of their axes as columns, empty where a sweep has no such axis), numeric cells plain
///   numbers, empty where missing; non-finite values as `inf`, `-inf`, `nan` (which
///   Python's `float` and pandas read as numbers).
/// - `aggregateCSV`: one row per point group, mean, std (sample, n − 1) and n of each
///   measurement in their own columns.
/// - `json`: one object, `docs/report.schema.json`: provenance, the perplexity
///   definition and per sweep its groups (aggregates) and points (per seed); `null` where
///   a value is missing or not finite.
///
/// "mean of directions" is the mean of a bidirectional model's forward and backward
/// perplexities (a one-way model's one perplexity); "mean"/"std"/"n" are over seeds.
public enum TidyReport {
    /// The measurements of one point, in column order (suffixes for the CSV headers).
    static let measures: [(column: String, value: (RunResult) -> Double?)] = [
        ("valid_ppl_forward", { $0.perplexity["valid"]?.forward }),
        ("valid_ppl_backward", { $0.perplexity["valid"]?.backward }),
        ("valid_ppl_mean_of_directions", { $0.perplexity["valid"]?.mean }),
        ("test_ppl_forward", { $0.perplexity["test"]?.forward }),
        ("test_ppl_backward", { $0.perplexity["test"]?.backward }),
        ("test_ppl_mean_of_directions", { $0.perplexity["test"]?.mean }),
        ("tokens_per_second", { $0.tokensPerSecond }),
        ("wall_seconds", { $0.wallSeconds }),
    ]

    /// The axes of every report, in order of first appearance.
    static func axes(_ reports: [SweepReport]) -> [String] {
        var seen = Set<String>(), axes: [String] = []
        for axis in reports.flatMap(\.axes) where seen.insert(axis).inserted { axes.append(axis) }
        return axes
    }

    public static func csv(_ reports: [SweepReport]) -> String {
        let axes = axes(reports)
        var lines = [(["sweep", "group"] + axes + ["seed", "point_id", "status", "error"] + measures.map(\.column)
                      + ["parameters", "flops_per_token", "run"]).map(quote).joined(separator: ",")]
        for report in reports {
            for point in report.points {
                let labels = labelsByAxis(point.labels)
                var cells = [report.name, point.group] + axes.map { labels[$0] ?? "" }
                cells += [point.seed.map(String.init) ?? "", point.id, point.status.rawValue, point.error ?? ""]
                cells += measures.map { number(point.result.flatMap($0.value)) }
                cells += [point.result.map { String($0.parameters) } ?? "", number(point.result?.flopsPerToken), point.run ?? ""]
                lines.append(cells.map(quote).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func aggregateCSV(_ reports: [SweepReport]) -> String {
        let axes = axes(reports)
        let statistics = measures.flatMap { ["\($0.column)_mean", "\($0.column)_std", "\($0.column)_n"] }
        var lines = [(["sweep", "group"] + axes + ["is_baseline", "seeds", "done", "failed"] + statistics
                      + ["delta_valid_ppl_mean_of_directions", "parameters", "flops_per_token"]).map(quote).joined(separator: ",")]
        for report in reports {
            for row in report.rows {
                let labels = labelsByAxis(row.labels)
                let results = report.points.filter { $0.group == row.group }.compactMap(\.result)
                var cells = [report.name, row.group] + axes.map { labels[$0] ?? "" }
                cells += [row.isBaseline ? "true" : "false", String(row.seeds), String(row.finished), String(row.failures.count)]
                for measure in measures {
                    let statistic = Statistic(results.compactMap(measure.value))
                    cells += [number(statistic?.mean), number(statistic?.std), String(statistic?.count ?? 0)]
                }
                cells += [number(row.validDelta), row.parameters.map(String.init) ?? "", number(row.flopsPerToken)]
                lines.append(cells.map(quote).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func json(_ reports: [SweepReport], provenance: ReportProvenance) -> String {
        let document: [String: Any] = [
            "format": "lm-harness-report",
            "formatVersion": 1,
            "provenance": [
                "generatedAt": provenance.generatedAt,
                "harnessVersion": provenance.harnessVersion,
                "harnessCommit": provenance.harnessCommit ?? NSNull(),
                "runsFolder": provenance.runsFolder,
                "runsRead": ReportProvenance.runsRead(reports),
                "unreadable": provenance.unreadable(reports),
            ] as [String: Any],
            "perplexityDefinition": Perplexity.definition,
            "sweeps": reports.map(sweep),
        ]
        let data = try! JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    private static func sweep(_ report: SweepReport) -> [String: Any] {
        let groups: [[String: Any]] = report.rows.map { row in
            let results = report.points.filter { $0.group == row.group }.compactMap(\.result)
            var measured: [String: Any] = [:]
            for measure in measures {
                let statistic = Statistic(results.compactMap(measure.value))
                measured[camel(measure.column)] = [
                    "mean": value(statistic?.mean), "std": value(statistic?.std), "n": statistic?.count ?? 0,
                ] as [String: Any]
            }
            return [
                "group": row.group, "labels": labelsByAxis(row.labels), "isBaseline": row.isBaseline, "status": row.status,
                "seeds": row.seeds, "done": row.finished, "failed": row.failures.count, "errors": row.failures,
                "measures": measured, "deltaValidPplMeanOfDirections": value(row.validDelta),
                "parameters": row.parameters ?? NSNull(), "flopsPerToken": value(row.flopsPerToken),
            ]
        }
        let points: [[String: Any]] = report.points.map { point in
            var measured: [String: Any] = [:]
            for measure in measures { measured[camel(measure.column)] = value(point.result.flatMap(measure.value)) }
            return [
                "id": point.id, "group": point.group, "labels": labelsByAxis(point.labels), "seed": point.seed ?? NSNull(),
                "status": point.status.rawValue, "error": point.error ?? NSNull(), "run": point.run ?? NSNull(),
                "measures": measured, "parameters": point.result?.parameters ?? NSNull(),
                "flopsPerToken": value(point.result?.flopsPerToken),
            ]
        }
        return ["name": report.name, "axes": report.axes, "baseline": report.baseline ?? NSNull(), "groups": groups, "points": points]
    }

    /// Axis path → label (the first, should a path repeat).
    static func labelsByAxis(_ axes: [SweepPoint.Axis]) -> [String: String] {
        Dictionary(axes.map { ($0.path, $0.label) }, uniquingKeysWith: { first, _ in first })
    }

    /// "valid_ppl_forward" → "validPplForward".
    static func camel(_ snake: String) -> String {
        let parts = snake.split(separator: "_")
        return parts.enumerated().map { $0 == 0 ? String($1) : $1.prefix(1).uppercased() + $1.dropFirst() }.joined()
    }

    /// A JSON number, or null when missing or not finite (JSON has no infinity).
    private static func value(_ x: Double?) -> Any { x.flatMap { $0.isFinite ? $0 : nil } ?? NSNull() }

    /// A CSV number: shortest round-trip digits; `inf`, `-inf`, `nan`; empty when missing.
    static func number(_ x: Double?) -> String {
        guard let x else { return "" }
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return "\(x)"
    }

    static func quote(_ s: String) -> String {
        s.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
