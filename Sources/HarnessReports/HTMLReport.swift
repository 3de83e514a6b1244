import Foundation
import HarnessTraining

/// A self-contained HTML page (inline CSS and SVG, no scripts, no external resources):
/// each sweep's table and its plots — validation perplexity against training tokens and
/// against wall time (per point group: the mean over seeds, their min–max band, each seed
/// faint), and final validation perplexity against cost (mean with min–max bars).
public enum HTMLReport {
    /// The page, headed by `provenance`: when, by which build, from which folder, how
    /// many run records were read and which files could not be.
    public static func render(_ reports: [SweepReport], provenance: ReportProvenance) -> String {
        var html = """
            <!DOCTYPE html>
            <html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/>
            <title>LM Harness report</title>
            <style>
            body { font-family: sans-serif; margin: 2em; color: #222; }
            table { border-collapse: collapse; font-size: 13px; margin: 1em 0; }
            th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
            th { background: #f4f4f4; max-width: 9em; overflow-wrap: break-word; } td.label { text-align: left; }
            tr.baseline { background: #fffbe6; } .scroll { overflow-x: auto; max-width: 100%; }
            @media (max-width: 1000px) { body { margin: 1em; } th, td { padding: 2px 4px; font-size: 12px; } }
            tr.failed { color: #b00; } .plots { display: flex; flex-wrap: wrap; gap: 1em; } .note { color: #666; font-size: 12px; }
            </style></head><body>
            <h1>LM Harness report</h1>

            """
        let unreadable = provenance.unreadable(reports)
        html += "<p class=\"note\">Generated \(escape(provenance.generatedAt)) by harness \(escape(provenance.harnessVersion))"
            + " (commit \(escape(provenance.harnessCommit ?? "unknown"))) from <code>\(escape(provenance.runsFolder))</code>: "
            + "\(ReportProvenance.runsRead(reports)) run records read, \(unreadable.count) unreadable.</p>\n"
        if !unreadable.isEmpty {
            html += "<ul class=\"note\">" + unreadable.map { "<li><code>\(escape($0))</code></li>" }.joined() + "</ul>\n"
        }
        for report in reports {
            html += "<h2>Sweep <code>\(escape(report.name))</code></h2>\n<div class=\"scroll\"><table><tr>"
            for h in report.header { html += "<th>\(escape(h))</th>" }
            html += "</tr>\n"
            for row in report.rows {
                let cls = row.isBaseline ? " class=\"baseline\"" : row.status == "failed" ? " class=\"failed\"" : ""
                html += "<tr\(cls)>"
                for (i, cell) in report.cells(row).enumerated() {
                    // A narrow page wraps "342.92 ± 4.43" before the ±, never inside a number.
                    let text = escape(cell).replacingOccurrences(of: " ± ", with: " ±\u{00A0}")
                    html += i < report.axes.count ? "<td class=\"label\">\(text)</td>" : "<td>\(text)</td>"
                }
                html += "</tr>\n"
            }
            html += "</table></div>\n<p class=\"note\">\(escape(SweepReport.definition))</p>\n"
            for row in report.rows where !row.failures.isEmpty {
                html += "<p class=\"note\"><b>\(escape(row.group))</b> failed: <code>\(escape(row.failures[0]))</code></p>\n"
            }
            // One colour per point group, one curve per seed.
            let label = { (row: SweepReport.Row) in row.labels.map(\.label).joined(separator: ", ") }
            let omitted = report.rows.compactMap { row -> String? in
                guard row.runs.isEmpty else { return nil }
                return "\(label(row)) (\(row.failures.isEmpty ? row.status : "failed: \(row.failures.count) of \(row.seeds) seeds"))"
            }
            func series(_ x: @escaping (Curve) -> Double) -> [SVGPlot.Series] {
                report.rows.filter { !$0.runs.isEmpty }.map { row in
                    SVGPlot.Series(label: label(row), lines: row.runs.map { validationCurve(RunDirectory(existing: $0)).map { (x($0), $0.perplexity) } })
                }
            }
            let yLabel = "valid perplexity, mean of directions"
            html += "<div class=\"plots\">"
            html += SVGPlot(title: "validation perplexity vs training tokens", xLabel: "training target tokens",
                            yLabel: yLabel, series: series(\.tokens), omitted: omitted).render()
            html += SVGPlot(title: "validation perplexity vs wall time", xLabel: "wall time (s)", yLabel: yLabel,
                            series: series(\.seconds), omitted: omitted).render()
            // One point per seed: its training cost and final validation perplexity.
            let cost = report.rows.filter { !$0.runs.isEmpty }.map { row in
                SVGPlot.Series(label: label(row), lines: row.runs.compactMap { run -> [(x: Double, y: Double)]? in
                    guard let result = try? RunDirectory(existing: run).readResult(), let valid = result.perplexity["valid"]?.mean else { return nil }
                    return [(result.flopsPerToken * Double(result.trainTokens), valid)]
                })
            }
            html += SVGPlot(title: "final validation perplexity vs training cost", xLabel: "training cost (model FLOPs)",
                            yLabel: yLabel, series: cost, markersOnly: true, omitted: omitted).render()
            html += "</div>\n"
        }
        return html + "</body></html>\n"
    }

    struct Curve { var tokens: Double; var seconds: Double; var perplexity: Double }

    /// The validation measurements of a run from its `metrics.jsonl`.
    static func validationCurve(_ run: RunDirectory) -> [Curve] {
        guard let text = try? String(contentsOfFile: run.metrics, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let record = try? RunJSON.decoder().decode(MetricsRecord.self, from: Data(line.utf8)),
                  let valid = record.validPerplexity else { return nil }
            return Curve(tokens: Double(record.tokens), seconds: record.seconds, perplexity: valid)
        }
    }
}
