import ArgumentParser
import Foundation
import HarnessReports
import HarnessTraining

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train every reference spec of a folder and compare its validation perplexity with the pinned value.")

    @Argument(help: "A references folder: <name>.yaml specs and expected.json.")
    var folder = "references"

    @Option(help: "Only these references (comma-separated names).")
    var only: String?

    @Flag(help: "Re-record the expected values from this run and print what changed.")
    var update = false

    func run() throws {
        try Exit.run {
            let progress = TrainingProgress()
            progress.quiet = true
            let names = only.map { Set($0.split(separator: ",").map(String.init)) }
            let outcomes = try ReferenceCheck.run(folder: folder, only: names, progress: progress)
            print(ReferenceCheck.table(outcomes))
            if update {
                let changes = try ReferenceCheck.update(folder: folder, with: outcomes)
                print(changes.isEmpty ? "expected.json unchanged" : "expected.json updated:\n  " + changes.joined(separator: "\n  "))
                return
            }
            if outcomes.contains(where: { !$0.passed }) { throw ExitCode(ExitStatus.failedRun) }
        }
    }
}
