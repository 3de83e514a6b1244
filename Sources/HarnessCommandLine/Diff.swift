import ArgumentParser
import HarnessReports

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What differs between two runs: the resolved-spec keys that differ, and their perplexities, speed and cost side by side.")

    @Argument(help: "The first run directory (A).")
    var runA: String

    @Argument(help: "The second run directory (B).")
    var runB: String

    func run() throws {
        try Exit.run {
            print(try RunDiff(runA, runB).markdown, terminator: "")
        }
    }
}
