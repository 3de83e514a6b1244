import ArgumentParser
import Foundation
import HarnessSpec
import HarnessTraining

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Train and evaluate one experiment spec.")

    @Argument(help: "The experiment spec (YAML).")
    var spec: String

    @Option(help: "Folder that holds the run directories.")
    var runs = "runs"

    @Flag(help: "No progress output, only the results.")
    var quiet = false

    @Option(help: "BLAS threads (default: the spec's training.threads, else all cores); not part of the spec's identity.")
    var threads: Int?

    func run() throws {
        try Exit.run {
            let spec = try SpecLoader.load(file: self.spec)
            let experiment = try Experiment(spec)
            let directory = RunDirectory(root: runs, name: spec.name, specHash: spec.hash)
            let progress = TrainingProgress()
            progress.quiet = quiet
            progress.line("\(spec.name): \(experiment.model.store.count) parameters, vocabulary \(experiment.vocabulary.count), "
                          + "\(experiment.train.reduce(0) { $0 + $1.count + 1 }) training tokens → \(directory.path)")
            let trainer = Trainer(experiment, directory: directory, progress: progress)
            trainer.threads = threads
            let result = try trainer.run()
            print(perplexityTable(result.perplexity))
            print(String(format: "%.0f training tokens/s, %@ in all, best epoch %@, results in %@", result.tokensPerSecond,
                         TrainingProgress.duration(result.wallSeconds), result.bestEpoch.map(String.init) ?? "-", directory.result))
        }
    }
}
