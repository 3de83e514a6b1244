import Foundation
@testable import HarnessReports
import HarnessTraining
import Testing

/// The fast subset of the pinned reference perplexities (`references/`), and proof that
/// the check catches a drifted reference.
@Suite(.serialized)
struct ReferenceTests {
    static let folder = packageRoot.appendingPathComponent("references").path

    /// The references run from the package root (their corpus path is relative to it).
    private func inPackageRoot<R>(_ body: () throws -> R) rethrows -> R {
        let previous = FileManager.default.currentDirectoryPath
        precondition(FileManager.default.changeCurrentDirectoryPath(packageRoot.path), "cannot enter \(packageRoot.path)")
        defer { precondition(FileManager.default.changeCurrentDirectoryPath(previous), "cannot return to \(previous)") }
        return try body()
    }

    @Test func fastReferencesHoldTheirPinnedPerplexities() throws {
        let set = try ReferenceSet.load(Self.folder)
        let fast = Set(set.references.filter(\.value.fast).keys)
        #expect(fast.count >= 6)
        let progress = TrainingProgress(isTerminal: false)
        progress.quiet = true
        let outcomes = try inPackageRoot { try ReferenceCheck.run(folder: Self.folder, only: fast, progress: progress) }
        #expect(outcomes.count == fast.count)
        for o in outcomes {
            #expect(o.passed, "\(o.name): expected \(o.expected ?? .nan), measured \(o.measured ?? .nan): \(o.problem ?? "")")
        }
    }

    @Test func aWrongReferenceFailsTheCheck() throws {
        // A copy of one reference whose expected value is 2 % off.
        let folder = temporaryFolder()
        try FileManager.default.copyItem(atPath: Self.folder + "/base.yaml", toPath: folder + "/base.yaml")
        var set = try ReferenceSet.load(Self.folder)
        set.references = set.references.filter { $0.key == "base" }
        set.references["base"]!.valid *= 1.02
        try set.write(folder)
        let progress = TrainingProgress(isTerminal: false)
        progress.quiet = true
        let outcomes = try inPackageRoot { try ReferenceCheck.run(folder: folder, progress: progress) }
        #expect(outcomes.count == 1 && !outcomes[0].passed)
        #expect(outcomes[0].problem?.hasPrefix("drifted by -1.96 %") == true, "\(outcomes[0].problem ?? "")")
        #expect(ReferenceCheck.table(outcomes).hasSuffix("0 passed, 1 failed"))
        // A changed corpus is named as such, not as a drift.
        set.references["base"]!.data["train.txt"] = String(repeating: "0", count: 64)
        try set.write(folder)
        let changed = try inPackageRoot { try ReferenceCheck.run(folder: folder, progress: progress) }
        #expect(changed[0].problem?.hasPrefix("the data differs from the reference's") == true)
    }
}
