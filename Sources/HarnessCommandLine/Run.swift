import ArgumentParser
import Foundation
import HarnessKernels
import HarnessModel
import HarnessSpec
import HarnessTraining

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train and evaluate one experiment spec.",
        discussion: """
            An unfinished run continues from its checkpoint (runs/<name>-<id>/train.ckpt); a finished \
            one prints its results. Ctrl-C checkpoints after the current step and exits 130.

            Started by an MPI launcher (mpirun -np N harness run SPEC, or srun under Slurm), a harness \
            built with the MPI trait trains the one model with N processes: each computes its share of \
            every batch (batch_size is the whole batch's), rank 0 writes the run folder.
            """)

    @Argument(help: "The experiment spec (YAML).")
    var spec: String

    @Option(help: "Folder that holds the run directories.")
    var runs = "runs"

    @Flag(help: "No progress output, only the results.")
    var quiet = false

    @Option(help: "BLAS threads (default: the spec's training.threads, else all cores); not part of the spec's identity.")
    var threads: Int?

    @Flag(help: .hidden)   // `harness sweep` reads its points' progress lines from standard output
    var progressToStdout = false

    @Flag(help: "Require a checkpoint to continue from (error if this spec has none).")
    var resume = false

    @Flag(help: "Start over: discard this spec's checkpoint and results.")
    var fresh = false

    func validate() throws {
        if resume && fresh { throw ValidationError("--resume and --fresh exclude each other") }
        if let threads, !TrainingSpec.threadRange.contains(threads) {
            let range = TrainingSpec.threadRange
            throw ValidationError("--threads must be in [\(range.lowerBound), \(range.upperBound)] like training.threads, found \(threads)")
        }
    }

    func run() throws {
        let communicator: any Communicator
        do { communicator = try Launch.communicator() } catch { try Exit.run { throw error }; return }
        let root = communicator.rank == 0
        try Exit.run(communicator: communicator) {
            Interruption.install(announcing: root)
            let spec = try SpecLoader.load(file: self.spec)
            try Trainer.checkShares(of: spec, processes: communicator.size)
            let directory = RunDirectory(root: runs, name: spec.name, specHash: spec.hash)
            // Rank 0's view of the run folder decides for every process.
            if communicator.any(root && printIfFinished(directory)) { return }
            let checkpointExists = FileManager.default.fileExists(atPath: directory.trainingCheckpoint)
            if !checkpointExists && root {
                let earlier = unfinishedEarlierVersions(of: spec)
                if resume {
                    throw RunError.resumeRefused(path: directory.path, reason: "this spec has no checkpoint to continue from"
                        + (earlier.isEmpty ? "" : "; the spec changed since an unfinished run started:\n" + earlier.joined(separator: "\n")))
                }
                for note in spec.notes where !quiet { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
                if !earlier.isEmpty && !quiet {
                    FileHandle.standardError.write(Data(("note: the spec changed since an unfinished run started; this one starts "
                        + "afresh in \(directory.path)\n" + earlier.joined(separator: "\n") + "\n").utf8))
                }
            }
            // Rank 0 reads the data first, building the corpus cache if needed; the other
            // processes then read that cache instead of each building its own.
            if !root { communicator.barrier() }
            let experiment = try Experiment(spec)
            if root { communicator.barrier() }
            let lock = root ? try RunLock(directory) : nil   // rank 0 alone writes the folder
            defer { withExtendedLifetime(lock) {} }
            // Again under the lock: another process may have finished this run meanwhile.
            if communicator.any(root && printIfFinished(directory)) { return }
            if communicator.any(Interruption.requested != nil) {
                if root { FileHandle.standardError.write(Data("interrupted before training started; nothing to save\n".utf8)) }
                throw ExitCode(128 + (Interruption.requested ?? SIGTERM))
            }
            let progress = progressToStdout ? TrainingProgress(output: .standardOutput, isTerminal: false) : TrainingProgress()
            progress.quiet = quiet || !root
            progress.line("\(spec.name): \(experiment.model.store.count) parameters, vocabulary \(experiment.vocabulary.count), "
                          + "\(experiment.train.tokenCount) training tokens → \(directory.path)")
            if communicator.size > 1 {
                progress.line("data parallel: \(communicator.size) processes (MPI), each computing its share of every batch of "
                              + "\(spec.data.batching.batchSize) sequences with \(trainerThreads(spec, communicator) ?? CPUAllocation.available) BLAS thread(s)")
            }
            if let cache = experiment.trainCache {
                progress.line("training ids \(cache.built ? "encoded into" : "read from") the corpus cache \(cache.folder)")
            }
            let trainer = Trainer(experiment, directory: directory, progress: progress)
            trainer.threads = trainerThreads(spec, communicator)
            trainer.resume = !fresh
            trainer.communicator = communicator
            trainer.resumeCommand = (communicator.size > 1 ? "the same launcher command (mpirun -np \(communicator.size), srun …): " : "")
                + "harness run \(self.spec)" + (runs == "runs" ? "" : " --runs \(runs)")
            let result = try trainer.run()
            if root { printResult(result, directory: directory) }
        }
    }

    /// BLAS threads: `--threads`, else the spec's, else (several processes) the launcher's share.
    private func trainerThreads(_ spec: ExperimentSpec, _ communicator: any Communicator) -> Int? {
        threads ?? spec.training.threads ?? Launch.defaultThreads(communicator)
    }

    /// Prints a finished run's results (unless --fresh); true if it is finished.
    private func printIfFinished(_ directory: RunDirectory) -> Bool {
        guard !fresh, !FileManager.default.fileExists(atPath: directory.trainingCheckpoint),
              let result = try? directory.readResult() else { return false }
        print("\(directory.path) is finished (--fresh trains it again):")
        printResult(result, directory: directory)
        return true
    }

    private func printResult(_ result: RunResult, directory: RunDirectory) {
        print(perplexityTable(result.perplexity))
        print(String(format: "%.0f training tokens/s, %@ in all, best epoch %@, results in %@", result.tokensPerSecond,
                     TrainingProgress.duration(result.wallSeconds), result.bestEpoch.map(String.init) ?? "-", directory.result))
    }

    /// Other run directories of this spec's name with a checkpoint: what changed, per directory.
    private func unfinishedEarlierVersions(of spec: ExperimentSpec) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []
        let current = spec.resolved.yaml()
        return names.sorted().compactMap { name -> String? in
            let other = RunDirectory(existing: runs + "/" + name)
            guard name.hasPrefix(spec.name + "-"), name.count == spec.name.count + 9, name != RunDirectory.id(name: spec.name, hash: spec.hash),
                  FileManager.default.fileExists(atPath: other.trainingCheckpoint),
                  let earlier = try? String(contentsOfFile: other.spec, encoding: .utf8) else { return nil }
            let changes = SpecDifference.between(earlier, current)
            return "  \(other.path): " + (changes.isEmpty ? "different spec" : changes.joined(separator: ", "))
        }
    }
}
