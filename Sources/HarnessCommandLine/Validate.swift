import ArgumentParser
import Foundation
import HarnessSpec
import HarnessTraining

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a spec: print it resolved (defaults filled in), its parameters and FLOPs per token, or every error.")

    @Argument(help: "The experiment spec (YAML).")
    var spec: String

    func run() throws {
        try Exit.run {
            let spec = try SpecLoader.load(file: self.spec)
            // The data first: some errors (more samples than words) show only once it is read,
            // and an invalid spec prints nothing on stdout.
            let experiment = try Experiment(spec)
            for note in spec.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
            print("# \(self.spec), resolved (spec hash \(spec.hash.prefix(8)))")
            print(spec.resolved.yaml(), terminator: "")
            let model = experiment.model
            print("\n# vocabulary: \(experiment.vocabulary.count) entries; training tokens: "
                  + "\(experiment.train.tokenCount)")
            print("# parameters: \(model.store.count)")
            for (component, count) in model.parameterCounts {
                print("#   \(component.padding(toLength: 9, withPad: " ", startingAt: 0)) \(count)")
            }
            print(String(format: "# training FLOPs per target token: %.3g", model.trainingFLOPsPerToken))
        }
    }
}
