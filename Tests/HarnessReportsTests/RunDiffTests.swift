import Foundation
@testable import HarnessReports
@testable import HarnessTraining
import Testing

struct RunDiffTests {
    static func run(_ spec: String, result: RunResult?) throws -> String {
        let folder = temporaryFolder() + "/run"
        let directory = RunDirectory(existing: folder)
        try directory.create()
        try spec.write(toFile: folder + "/spec.resolved.yaml", atomically: true, encoding: .utf8)
        if let result { try directory.write(result) }
        return folder
    }

    @Test func differingKeysAndMeasurementsSideBySide() throws {
        let a = try Self.run("""
            name: a
            model:
              recurrent: {type: lstm, hidden: 16, layers: 2}
              dropout: [{type: standard, rate: 0.1}]
            training:
              optimizer: {type: adam, lr: 0.01, beta1: 0.9}
            """, result: ReportTests.result(valid: (100, 110), test: 95, tokensPerSecond: 1000))
        let b = try Self.run("""
            name: a
            model:
              recurrent: {type: lstm, hidden: 32, layers: 2}
              dropout: [{type: standard, rate: 0.2}]
            training:
              optimizer: {type: sgd, lr: 1}
            """, result: nil)
        let diff = try RunDiff(a, b)
        #expect(diff.keys == [
            .init(path: "model.recurrent.hidden", a: "16", b: "32"),
            .init(path: "model.dropout", a: "[{type: standard, rate: 0.1}]", b: "[{type: standard, rate: 0.2}]"),
            .init(path: "training.optimizer.type", a: "adam", b: "sgd"),
            .init(path: "training.optimizer.lr", a: "0.01", b: "1"),
            .init(path: "training.optimizer.beta1", a: "0.9", b: nil),
        ])
        let text = diff.markdown
        #expect(text.contains("| `training.optimizer.beta1` | 0.9 | (absent) |"))
        #expect(text.contains("| valid ppl, mean of directions | 105.00 | – | – |"))
        #expect(text.contains("(no result.json: not finished)"))
        #expect(try RunDiff(a, a).markdown.contains("| valid ppl forward | 100.00 | 100.00 | +0.00 |"))
        #expect(try RunDiff(a, a).keys.isEmpty)
    }

    @Test func aFolderThatIsNotARunIsNamed() throws {
        let a = try Self.run("name: a\n", result: nil)
        let empty = temporaryFolder()
        #expect(throws: RunError.unreadable(path: empty, reason: "no spec.resolved.yaml: not a harness run directory")) {
            try RunDiff(a, empty)
        }
        #expect(throws: RunError.unreadable(path: empty + "/nope", reason: "no such run directory")) { try RunDiff(a, empty + "/nope") }
        #expect(throws: RunError.unreadable(path: a + "/spec.resolved.yaml", reason: "not a directory: diff takes two run directories")) {
            try RunDiff(a, a + "/spec.resolved.yaml")
        }
        let broken = try Self.run("name: [unclosed\n", result: nil)
        #expect(throws: RunError.self) { try RunDiff(a, broken) }
        let binary = try Self.run("", result: nil)
        try Data([0xff, 0xfe, 0x00, 0x80]).write(to: URL(fileURLWithPath: binary + "/spec.resolved.yaml"))
        #expect(throws: RunError.unreadable(path: binary + "/spec.resolved.yaml", reason: "not UTF-8 text")) { try RunDiff(a, binary) }
    }

    /// A damaged result.json does not hide the spec keys: the run's measurements are "–" and the note says why.
    @Test func anUnreadableResultStillComparesTheSpecs() throws {
        let a = try Self.run("name: a\n", result: ReportTests.result(valid: (100, 110), test: 95, tokensPerSecond: 1000))
        let b = try Self.run("name: b\n", result: nil)
        try "{ not json".write(toFile: b + "/result.json", atomically: true, encoding: .utf8)
        let text = try RunDiff(a, b).markdown
        #expect(text.contains("| `name` | a | b |"))
        #expect(text.contains("| valid ppl forward | 100.00 | – | – |"))
        #expect(text.contains("B = `\(b)` (unreadable: \(b)/result.json: error:"))
    }
}
