import Foundation
import HarnessData
import HarnessSpec
import HarnessTraining

/// Pinned reference perplexities: a folder of small seeded specs (`<name>.yaml`) and
/// `expected.json`, which gives each one's validation perplexity, relative tolerance,
/// the SHA-256 of the data files it reads, and whether it belongs to the fast subset
/// that `swift test` runs.
public struct ReferenceSet: Codable, Equatable, Sendable {
    public struct Reference: Codable, Equatable, Sendable {
        /// Mean validation perplexity (full softmax) with the spec's seed, one BLAS thread.
        public var valid: Double
        /// Allowed relative difference: other BLAS builds round differently.
        public var tolerance: Double
        /// File → SHA-256 of the corpus files the spec reads.
        public var data: [String: String]
        public var fast: Bool
    }

    public var references: [String: Reference]

    public static func load(_ folder: String) throws -> ReferenceSet {
        let path = folder + "/expected.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError("no expected.json", file: folder) }
        do { return try JSONDecoder().decode(ReferenceSet.self, from: data) } catch {
            throw DataError("unreadable: \(error)", file: path)
        }
    }

    public func write(_ folder: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: folder + "/expected.json")
    }
}

/// Trains each reference spec and compares its validation perplexity with the pinned one.
public enum ReferenceCheck {
    public struct Outcome: Sendable {
        public var name: String
        public var expected: Double?
        public var measured: Double?
        public var tolerance: Double
        public var problem: String?
        public var checksums: [String: String]

        public var passed: Bool { problem == nil }
        public var relativeDifference: Double? {
            guard let expected, let measured else { return nil }
            return (measured - expected) / expected
        }
    }

    /// Runs the references of `folder` (all, or those in `only`); the runs go to a
    /// temporary folder.
    public static func run(folder: String, only: Set<String>? = nil, progress: TrainingProgress) throws -> [Outcome] {
        let expected = (try? ReferenceSet.load(folder))?.references ?? [:]
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw RunError.unreadable(path: folder, reason: "not a references folder (expected <name>.yaml specs and expected.json)")
        }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
        if files.isEmpty {
            throw RunError.unreadable(path: folder, reason: "no reference specs (*.yaml) in this folder")
        }
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("harness-check-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: runs) }
        var outcomes: [Outcome] = []
        for file in files {
            let name = String(file.dropLast(5))
            if let only, !only.contains(name) { continue }
            let reference = expected[name]
            var outcome = Outcome(name: name, expected: reference?.valid, measured: nil, tolerance: reference?.tolerance ?? 0.01,
                                  problem: nil, checksums: [:])
            do {
                let spec = try SpecLoader.load(file: folder + "/" + file)
                for path in spec.data.trainShards + spec.data.validShards {
                    outcome.checksums[URL(fileURLWithPath: path).lastPathComponent] = try SHA256.file(path)
                }
                if let reference, reference.data != outcome.checksums {
                    outcome.problem = "the data differs from the reference's (checksums \(outcome.checksums) vs \(reference.data))"
                } else {
                    let directory = RunDirectory(root: runs, name: spec.name, specHash: spec.hash)
                    let result = try Trainer(try Experiment(spec), directory: directory, progress: progress).run()
                    outcome.measured = result.perplexity["valid"]?.mean
                    if let difference = outcome.relativeDifference, abs(difference) > outcome.tolerance {
                        outcome.problem = String(format: "drifted by %+.2f %% (tolerance ±%.2f %%)", 100 * difference, 100 * outcome.tolerance)
                    } else if reference == nil {
                        outcome.problem = "no expected value recorded (run with --update)"
                    }
                }
            } catch {
                outcome.problem = ExitStatus.of(error)?.message ?? "\(error)"
            }
            outcomes.append(outcome)
        }
        return outcomes
    }

    /// The expected-vs-measured table.
    public static func table(_ outcomes: [Outcome]) -> String {
        func number(_ x: Double?) -> String { x.map { String(format: "%10.3f", $0) } ?? String(repeating: " ", count: 9) + "–" }
        var lines = ["reference                  expected   measured        Δ   tolerance  status"]
        for o in outcomes {
            let delta = o.relativeDifference.map { String(format: "%+7.2f%%", 100 * $0) } ?? "       –"
            lines.append(o.name.padding(toLength: 24, withPad: " ", startingAt: 0) + " \(number(o.expected)) \(number(o.measured)) \(delta)"
                         + String(format: "   ±%5.2f%%  ", 100 * o.tolerance) + (o.passed ? "ok" : "FAIL: \(o.problem!)"))
        }
        let failed = outcomes.filter { !$0.passed }.count
        lines.append("\(outcomes.count - failed) passed, \(failed) failed")
        return lines.joined(separator: "\n")
    }

    /// Records the measured values as the new references (keeping tolerances and the
    /// fast flags); returns the lines that changed.
    public static func update(folder: String, with outcomes: [Outcome]) throws -> [String] {
        var set = (try? ReferenceSet.load(folder)) ?? ReferenceSet(references: [:])
        var changes: [String] = []
        for o in outcomes {
            guard let measured = o.measured else { continue }
            let old = set.references[o.name]
            let new = ReferenceSet.Reference(valid: measured, tolerance: old?.tolerance ?? 0.01, data: o.checksums, fast: old?.fast ?? false)
            if old != new {
                changes.append("\(o.name): valid \(old.map { String(format: "%.3f", $0.valid) } ?? "none") → \(String(format: "%.3f", measured))"
                               + (old?.data != o.checksums && old != nil ? " (data checksums changed)" : ""))
            }
            set.references[o.name] = new
        }
        try set.write(folder)
        return changes
    }
}
