import ArgumentParser
import Foundation
import HarnessSpec
import HarnessTraining

@main
struct Harness: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "harness",
        abstract: "Train, evaluate and compare ELMo-style LSTM language models on CPU.",
        subcommands: [Run.self, Validate.self, Components.self, Eval.self, Sweep.self, Report.self, Embed.self, Similar.self, Check.self, Bench.self])
}

/// Runs a command body, printing a user error (bad spec, bad data, failed run) with its
/// exit code instead of a stack trace.
enum Exit {
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            guard let (code, message) = ExitStatus.of(error) else { throw error }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            throw ExitCode(code)
        }
    }
}
