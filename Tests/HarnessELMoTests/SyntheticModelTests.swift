import Foundation
import HarnessData
@testable import HarnessELMo
import HarnessModel
import HarnessSpec
import HarnessTraining
import Testing

/// Shapes the fixture does not have, as bilm-tf builds them: no LSTM projection when
/// projection_dim >= dim (a plain LSTMCell, still clipped), no CNN_proj when the filters
/// add up to projection_dim, tanh, skip connections. Weights are made up (sin of the index).
struct SyntheticModelTests {
    let folder = temporaryFolder()

    /// A weight file with every dataset `options` call for.
    func weights(_ options: BilmOptions) throws -> String {
        let path = folder + "/weights.hdf5"
        let file = try HDF5File(creating: path)
        for (d, dataset) in (BilmWeightLayout.characterEncoder(options) + BilmWeightLayout.recurrent(options)).enumerated() {
            let count = dataset.shape.reduce(1, *)
            try file.write(dataset.name, shape: dataset.shape, values: (0..<count).map { Float(0.3 * sin(Double(d * 1000 + $0))) })
        }
        return path
    }

    @Test func unprojectedLSTMAndCNNWithoutProjectionImport() throws {
        let optionsPath = folder + "/options.json"
        try """
            {"lstm": {"dim": 12, "projection_dim": 12, "n_layers": 2, "cell_clip": 2, "proj_clip": 1, "use_skip_connections": true},
             "char_cnn": {"activation": "tanh", "embedding": {"dim": 3}, "filters": [[1, 4], [2, 8]], "n_highway": 1,
                          "n_characters": 262, "max_characters_per_token": 10},
             "dropout": 0.1, "n_epochs": 10}
            """.write(toFile: optionsPath, atomically: true, encoding: .utf8)
        let options = try BilmOptions(file: optionsPath)
        #expect(!options.lstm.projects && options.charCNN!.filterTotal == 12)
        let names = BilmWeightLayout.recurrent(options).map(\.name)
        #expect(!names.contains { $0.hasSuffix("W_P_0") })
        #expect(!BilmWeightLayout.characterEncoder(options).contains { $0.name.hasPrefix("CNN_proj/") })
        let run = folder + "/run"
        let result = try harness(["import-elmo", "--options", optionsPath, "--weights", try weights(options), "-o", run])
        try #require(result.status == 0, "harness import-elmo failed: \(result.error)")
        let spec = try SpecLoader.load(file: run + "/spec.resolved.yaml")
        // TensorFlow's LSTMCell without num_proj ignores proj_clip.
        #expect(try #require(spec.model.recurrent as? LSTMComponent)
                == LSTMComponent(layers: 2, hiddenSize: 12, cellClip: 2, residual: true))
        #expect(spec.model.recurrent.type == "lstm")
        let experiment = try Experiment(spec, vocabularyFile: run + "/vocabulary.txt", loadTraining: false)
        try Checkpoint.load(run + "/best.ckpt", into: experiment.model.store)
        let projection = try #require(experiment.model.store.parameters.first { $0.name == "encoder.projection.weight" })
        #expect((0..<144).allSatisfy { projection.value.base[$0] == ($0 / 12 == $0 % 12 ? 1 : 0) })
        let input = folder + "/input.txt"
        try "a cat sat\nthe dog\n".write(toFile: input, atomically: true, encoding: .utf8)
        let embedded = try harness(["embed", run, "--input", input, "--layers", "top", "--stateful"])
        #expect(embedded.status == 0 && embedded.output.split(separator: "\n").count == 2, "\(embedded.error)")
    }
}
