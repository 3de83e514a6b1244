import Foundation
import HarnessModel

/// The Markdown rendering of a sweep report (for people; programs read `TidyReport`).
extension SweepReport {
    static let definition = "perplexity = \(Perplexity.definition); ± = sample standard deviation over seeds"

    /// The table cells of a row, in `header` order.
    func cells(_ row: Row) -> [String] {
        func p(_ s: Statistic?) -> String { s?.formatted() ?? "–" }
        var delta = "–"
        if row.isBaseline {
            delta = "baseline"
        } else if let d = row.validDelta {
            delta = String(format: "%+.2f", d)
        }
        let status = row.status + (row.seeds > 1 ? " (\(row.finished)/\(row.seeds) seeds)" : "")
        let tokens = row.tokensPerSecond.map { String(format: "%.0f", $0.mean) } ?? "–"
        let wall = row.wallSeconds.map { String(format: "%.0f", $0.mean) } ?? "–"
        let parameters = row.parameters.map(String.init) ?? "–"
        let flops = row.flopsPerToken.map { String(format: "%.3g", $0) } ?? "–"
        var result: [String] = row.labels.map(\.label)
        result += [status, p(row.valid?.forward), p(row.valid?.backward), p(row.valid?.mean), delta]
        result += [p(row.test?.forward), p(row.test?.backward), p(row.test?.mean)]
        result += [tokens, wall, parameters, flops]
        return result
    }

    var header: [String] {
        axes + ["status", "valid ppl fwd", "valid ppl bwd", "valid ppl, mean of directions", "Δ valid ppl, mean of directions",
                "test ppl fwd", "test ppl bwd", "test ppl, mean of directions", "tokens/s", "wall s", "parameters", "FLOPs/token"]
    }

    public var markdown: String {
        var lines = ["### Sweep `\(name)`", ""]
        lines.append("| " + header.joined(separator: " | ") + " |")
        lines.append("|" + header.map { _ in "---" }.joined(separator: "|") + "|")
        for row in rows { lines.append("| " + cells(row).map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |") }
        lines.append("")
        lines.append("_\(Self.definition); Δ against \(baseline.map { "`\($0)`" } ?? "the first point")._")
        for row in rows where !row.failures.isEmpty {
            lines.append("")
            lines.append("**\(row.group)** failed: `\(row.failures[0].split(separator: "\n").first ?? "")`")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
