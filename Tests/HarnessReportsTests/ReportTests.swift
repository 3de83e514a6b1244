import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import HarnessReports
@testable import HarnessTraining
import Testing

/// Report arithmetic on hand-made run records.
struct ReportTests {
    static func result(valid: (Double, Double), test: Double, tokensPerSecond: Double) -> RunResult {
        RunResult(name: "f", specHash: "h", seed: 1,
                  perplexity: ["valid": SplitPerplexity(forward: valid.0, backward: valid.1, mean: (valid.0 + valid.1) / 2, tokens: 10),
                               "test": SplitPerplexity(forward: test, backward: test, mean: test, tokens: 10)],
                  bestEpoch: 1, epochsRun: 1, stoppedEarly: false, trainTokens: 1000, tokensPerSecond: tokensPerSecond,
                  wallSeconds: 10, epochSeconds: [10], parameters: 123, parametersByComponent: [:], flopsPerToken: 1e6,
                  vocabularySize: 10, threads: 1, blas: "", machine: "", commit: nil, finishedAt: "")
    }

    static let provenance = ReportProvenance(generatedAt: Date(timeIntervalSince1970: 1_796_126_400), harnessVersion: "9.9.9",
                                             harnessCommit: "abc1234", runsFolder: "runs")

    /// Two points (word, char) × three seeds; char is the baseline; one word seed failed.
    static func fixture() throws -> (SweepReport, String) {
        let root = temporaryFolder()
        func axes(_ label: String) -> [SweepPoint.Axis] { [.init(path: "model.token_encoder", label: label)] }
        let manifest = SweepManifest(name: "fixture", axes: ["model.token_encoder"], baseline: ["model.token_encoder": "char-cnn"],
                                     points: [
                                        .init(id: "w1", axes: axes("word"), seed: 1), .init(id: "w2", axes: axes("word"), seed: 2),
                                        .init(id: "w3", axes: axes("word"), seed: 3), .init(id: "c1", axes: axes("char-cnn"), seed: 1),
                                        .init(id: "c2", axes: axes("char-cnn"), seed: 2), .init(id: "c3", axes: axes("char-cnn"), seed: 3),
                                     ])
        try manifest.write(root: root)
        let runs: [String: RunResult] = [
            "w1": result(valid: (100, 110), test: 95, tokensPerSecond: 1000),
            "w2": result(valid: (104, 114), test: 99, tokensPerSecond: 3000),
            "c1": result(valid: (90, 92), test: 80, tokensPerSecond: 500),
            "c2": result(valid: (94, 96), test: 84, tokensPerSecond: 700),
            "c3": result(valid: (98, 100), test: 88, tokensPerSecond: 600),
        ]
        for (id, r) in runs {
            let d = RunDirectory(existing: "\(root)/\(id)")
            try d.create()
            try d.write(r)
            // A validation curve for the plots.
            try d.append(MetricsRecord(kind: "epoch", epoch: 1, step: 10, tokens: 1000, seconds: 10, learningRate: 1,
                                       validPerplexity: r.perplexity["valid"]!.mean))
        }
        try RunDirectory(existing: "\(root)/w3").create()
        let failure = try JSONEncoder().encode(PointFailure(exitCode: 1, error: "error: the loss became nan at step 7 of epoch 1"))
        _ = FileManager.default.createFile(atPath: "\(root)/w3/failed.json", contents: failure)
        return (SweepReport(manifest: manifest, root: root), root)
    }

    @Test func meansStandardDeviationsAndDeltas() throws {
        let (report, _) = try Self.fixture()
        #expect(report.rows.map(\.group) == ["model.token_encoder=word", "model.token_encoder=char-cnn"])
        let word = report.rows[0], char = report.rows[1]
        #expect(char.isBaseline && !word.isBaseline)
        #expect(word.status == "2/3 done, 1 failed" && char.status == "done")
        #expect(word.failures == ["error: the loss became nan at step 7 of epoch 1"])
        // word valid means: 105 and 109 → 107 ± √8; char: 91, 95, 99 → 95 ± 4.
        #expect(word.valid!.mean.mean == 107 && abs(word.valid!.mean.std! - 8.0.squareRoot()) < 1e-12)
        #expect(char.valid!.mean.mean == 95 && abs(char.valid!.mean.std! - 4) < 1e-12)
        #expect(char.valid!.forward!.mean == 94 && char.valid!.backward!.mean == 96)
        #expect(word.validDelta == 12 && char.validDelta == 0)
        #expect(word.test!.mean.mean == 97 && word.tokensPerSecond!.mean == 2000)
        #expect(report.markdown.contains("| word | 2/3 done, 1 failed (2/3 seeds) | 102.00 ± 2.83 | 112.00 ± 2.83 | 107.00 ± 2.83 | +12.00 |"))
        #expect(report.markdown.contains("| char-cnn | done (3/3 seeds) | 94.00 ± 4.00 | 96.00 ± 4.00 | 95.00 ± 4.00 | baseline |"))
    }

    @Test func htmlIsAWellFormedSelfContainedPage() throws {
        let (report, _) = try Self.fixture()
        let html = HTMLReport.render([report], provenance: Self.provenance)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        let parser = XMLParser(data: Data(html.replacingOccurrences(of: "<!DOCTYPE html>", with: "").utf8))
        #expect(parser.parse(), "not well-formed: \(String(describing: parser.parserError))")
        // Nothing loaded from elsewhere: no scripts, no links, no external sources.
        for forbidden in ["<script", "<link", "src=", "href=", "url(", "@import"] {
            #expect(!html.contains(forbidden), "\(forbidden)")
        }
        #expect(html.components(separatedBy: "<svg").count - 1 == 3)
        #expect(html.contains("<td>failed</td>") || html.contains("1 failed"))
        // Both groups drawn with their spread: word's two finished seeds, char's three.
        #expect(html.contains("word (mean of 2 seeds, band min–max)") && html.contains("char-cnn (mean of 3 seeds, band min–max)"))
        #expect(html.contains("char-cnn (mean of 3 seeds, bars min–max)"))
        #expect(html.contains("valid perplexity, mean of directions (log scale)"))
        #expect(html.contains("<th>valid ppl, mean of directions</th>"))
        #expect(html.contains("Generated 2026-12-01T12:00:00Z by harness 9.9.9 (commit abc1234) from <code>runs</code>: 6 run records read, 0 unreadable."))
    }

    /// The mean and band over seeds: at every x where all seeds have a value, each seed
    /// interpolated between its own measurements.
    @Test func envelopeIsTheMeanAndMinMaxWhereEverySeedHasAValue() {
        let envelope = SVGPlot.envelope([[(0, 10), (2, 6), (4, 4)], [(1, 9), (3, 5)]])
        #expect(envelope.map(\.x) == [1, 2, 3])
        #expect(envelope.map(\.mean) == [8.5, 6.5, 5])   // seed 1 at x = 1: 8, at 3: 5; seed 2 at x = 2: 7
        #expect(envelope.map(\.low) == [8, 6, 5] && envelope.map(\.high) == [9, 7, 5])
    }

    /// Only drawn groups get a legend entry; the others are listed with the reason.
    @Test func groupsWithoutFiniteValuesAreLeftOutWithAReason() {
        let plot = SVGPlot(title: "t", xLabel: "x", yLabel: "y",
                           series: [.init(label: "ok", lines: [[(1, 5), (2, 4)]]), .init(label: "diverged", lines: [[(1, .infinity)]])],
                           omitted: ["broken (failed: 2 of 2 seeds)"]).render()
        #expect(plot.contains(">ok (1 seed)</text>") && !plot.contains(">diverged ("))
        #expect(plot.contains("left out: broken (failed: 2 of 2 seeds); diverged (no finite value)"))
    }

    /// One value gets ±50 % (round ticks), not a range of its last digits (3.4G–3.43G).
    @Test func oneValueGetsAReadableRange() {
        let (low, high) = SVGPlot.range(3.4e9, 3.4e9, log: false)
        #expect(low == 1.7e9 && high == 5.1e9)
        #expect(SVGPlot.ticks(low, high) == [2e9, 3e9, 4e9, 5e9])
        #expect(SVGPlot.range(2, 2, log: true) == (1.5, 2.5))
    }
}
