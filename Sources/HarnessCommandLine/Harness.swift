import ArgumentParser
import Foundation
import HarnessKernels
import HarnessModel
import HarnessSpec
import HarnessTraining

/// The `harness` command line as a function, for the `harness` executable and for a
/// researcher's own (`Examples/layer-norm-lstm`): every command — run, sweep, report,
/// check, components, embed, … — with the built-in components and `components`.
public enum Harness {
    /// Registers `components` (`Registries.register`), then parses the process's arguments
    /// and runs the command; never returns. Exit statuses as documented in the README; a
    /// component the registry refuses (a name that is taken or not a valid `type:`) exits
    /// 70 with a message naming it, before any command runs.
    public static func main(registering components: ComponentSet = ComponentSet()) -> Never {
        do {
            try Registries.register(components)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            Foundation.exit(ExitStatus.badComponent)
        }
        HarnessCommand.main()
        Foundation.exit(0)
    }
}

struct HarnessCommand: ParsableCommand {
    /// An unknown command gets "did you mean" (ArgumentParser would take it as an
    /// unexpected argument of the root command and list nothing).
    static func main() {
        let missing = Version.missingCPUFlags
        if !missing.isEmpty {
            FileHandle.standardError.write(Data(("error: this harness was built for \(BuildInfo.builtFor) and may use "
                + "instructions this CPU (\(MachineInfo.cpuModel)) lacks: \(missing.joined(separator: " ")); rebuild it without "
                + "HARNESS_TARGET_CPU (the default runs on any x86-64 CPU), or with HARNESS_TARGET_CPU=haswell for AVX2 + FMA\n").utf8))
            Foundation.exit(ExitStatus.failedRun)
        }
        OpenBLASCore.restartWithReplacementIfNeeded()
        do {
            _ = try KernelVariant.fromEnvironment()
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            Foundation.exit(ExitStatus.badSpec)
        }
        Version.record()
        let arguments = Array(CommandLine.arguments.dropFirst())
        // Only `run` shares its work among the processes of a launcher; any other command
        // would run once per process, writing the same files.
        if let n = Launch.processes, n > 1, let first = arguments.first, !first.hasPrefix("-"), first != "run" {
            FileHandle.standardError.write(Data(("error: 'harness \(first)' runs as one process, and a launcher (mpirun, srun) started "
                + "\(n); only 'harness run' trains one model with several processes\n").utf8))
            Foundation.exit(ExitStatus.badSpec)
        }
        if let first = arguments.first, !first.hasPrefix("-") {
            let names = configuration.subcommands.compactMap { $0.configuration.commandName ?? $0._commandName }
            if !names.contains(first) && first != "help" {
                let suggestion = nearest(first, in: names).map { "; did you mean '\($0)'?" } ?? ""
                FileHandle.standardError.write(Data("error: unknown command '\(first)'\(suggestion)\n  commands: \(names.joined(separator: ", "))\n".utf8))
                Foundation.exit(ExitStatus.badSpec)
            }
        }
        main(arguments)
    }

    static let configuration = CommandConfiguration(
        // The executable's own name: `harness`, or a component package's (`harness-layernorm`).
        commandName: CommandLine.arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "harness",
        abstract: "Train, evaluate and compare ELMo-style LSTM language models on CPU.",
        version: Version.description,
        subcommands: [Run.self, Validate.self, Components.self, Eval.self, Sweep.self, Report.self, Diff.self, Embed.self, Similar.self, ImportELMo.self, ExportELMo.self, Check.self, Bench.self])
}

/// Runs a command body, printing a user error (bad spec, bad data, failed run) with its
/// exit code instead of a stack trace.
///
/// In a data-parallel run (`communicator.size` > 1) every process stops on an error:
/// rank 0 prints it as one process would, the others name their rank, and the error ends
/// the whole job (`Communicator.abort`), so that no process waits forever for one that
/// stopped. A spec error, the same on every process (each reads the same file), is
/// printed by rank 0 alone: the others wait for its abort (5 s at most) rather than race
/// it, since the first abort kills every process, the one about to print included. An
/// interruption, which the processes agree on (`RunError.interrupted`, or an `ExitCode`
/// thrown on every process), ends each process normally, rank 0 printing it.
enum Exit {
    static func run(communicator: any Communicator = SingleProcess(), _ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            let interrupted = if case RunError.interrupted = error { true } else { false }
            guard communicator.size > 1 else {
                guard let (code, message) = ExitStatus.of(error) else { throw error }
                FileHandle.standardError.write(Data((message + "\n").utf8))
                throw ExitCode(code)
            }
            if error is ExitCode { throw error }
            let (code, message) = ExitStatus.of(error) ?? (ExitStatus.failedRun, "error: \(error)")
            if communicator.rank != 0 && error is SpecErrors {
                // Rank 0 reads the same file, prints the same errors and ends the job: leave
                // the message to it, and speak (below) only if it has not done so in 5 s.
                Thread.sleep(forTimeInterval: 5)
            }
            if communicator.rank == 0 || !interrupted {
                let prefix = communicator.rank == 0 ? "" : "rank \(communicator.rank) of \(communicator.size): "
                FileHandle.standardError.write(Data((prefix + message + "\n").utf8))
            }
            if interrupted { throw ExitCode(code) }
            communicator.abort(code: code)
        }
    }
}
