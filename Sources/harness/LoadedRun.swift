import Foundation
import HarnessSpec
import HarnessTraining

/// A finished run directory brought back: its spec, its vocabulary and its best weights.
enum LoadedRun {
    /// - Parameter configure: adjusts the spec before the data is read (`eval --corpus`).
    static func load(_ path: String, configure: (inout ExperimentSpec) throws -> Void = { _ in }) throws -> Experiment {
        let directory = RunDirectory(existing: path)
        var spec = try SpecLoader.load(file: directory.spec)
        try configure(&spec)
        let experiment = try Experiment(spec, vocabularyFile: directory.vocabulary, loadTraining: false)
        // Names and shapes of every parameter are checked; the spec hash is not, so that a
        // newer harness still reads the runs of an older one.
        try Checkpoint.load(directory.bestCheckpoint, into: experiment.model.store)
        return experiment
    }
}
