import Foundation
import HarnessData
import HarnessSpec
import HarnessTraining

/// A finished run directory brought back: its spec, its vocabulary and its best weights.
enum LoadedRun {
    /// The run's model without any of its data files (`embed`, `similar`): they need only
    /// the run folder, wherever the corpus went.
    static func model(_ path: String) throws -> Experiment {
        var spec = try spec(path)
        spec.data.valid = nil
        spec.data.test = nil
        return try loadWeights(spec, RunDirectory(existing: path))
    }

    /// The run with its evaluation splits, found by the absolute paths recorded at
    /// training time (`data-paths.json`); a moved corpus is an error that says to pass
    /// `--corpus`.
    /// - Parameter configure: adjusts the spec before the data is read (`eval --corpus`).
    static func load(_ path: String, configure: (inout ExperimentSpec) throws -> Void = { _ in }) throws -> Experiment {
        let directory = RunDirectory(existing: path)
        var spec = try spec(path)
        let recorded = directory.readDataPaths()
        // A one-file split by its absolute path at training time; several files as the spec resolves them now.
        if spec.data.validShards.count == 1 { spec.data.valid = recorded["valid"] ?? spec.data.valid }
        if spec.data.testShards.count == 1 { spec.data.test = recorded["test"] ?? spec.data.test }
        let missing = (spec.data.validShards + spec.data.testShards).first { !FileManager.default.fileExists(atPath: $0) }
        if missing != nil { spec.data.valid = nil; spec.data.test = nil }
        try configure(&spec)
        if let missing, spec.data.valid == nil && spec.data.test == nil {
            throw DataError("the run's evaluation data is not there any more (moved or deleted); "
                            + "pass --corpus FOLDER with its valid.txt and test.txt", file: missing)
        }
        return try loadWeights(spec, directory)
    }

    /// The run's resolved spec; "not a run folder" when `path` is not one.
    private static func spec(_ path: String) throws -> ExperimentSpec {
        let directory = RunDirectory(existing: path)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue,
              FileManager.default.fileExists(atPath: directory.spec) else {
            throw RunError.unreadable(path: path, reason: "not a run folder (expected runs/<name>-<hash> with spec.resolved.yaml, vocabulary.txt and best.ckpt)")
        }
        return try SpecLoader.load(file: directory.spec)
    }

    private static func loadWeights(_ spec: ExperimentSpec, _ directory: RunDirectory) throws -> Experiment {
        let experiment = try Experiment(spec, vocabularyFile: directory.vocabulary, loadTraining: false)
        // Names and shapes of every parameter are checked; the spec hash is not, so that a
        // newer harness still reads the runs of an older one.
        try Checkpoint.load(directory.bestCheckpoint, into: experiment.model.store)
        return experiment
    }
}
