import ArgumentParser
import Foundation
import HarnessEmbeddings

/// The layer selection and scalar-mix options shared by `embed` and `similar`.
struct MixOptions: ParsableArguments {
    @Option(help: "Vectors per token: all (every layer), top, average or mix.")
    var layers = "all"

    @Option(help: "Scalar-mix weights, comma-separated, one per layer (layer 0 first); softmax-normalised.")
    var mixWeights: String?

    @Option(help: "Scalar-mix scale γ.")
    var gamma = 1.0

    @Flag(help: "Normalise each layer of each token before mixing.")
    var layerNorm = false

    @Option(help: "A JSON file {\"weights\": [...], \"gamma\": 1, \"layerNorm\": false} instead of the options above.")
    var mixFile: String?

    func selection(default value: LayerSelection = .all) throws -> LayerSelection {
        guard let s = LayerSelection(rawValue: layers) else {
            throw ValidationError("--layers is all, top, average or mix, not '\(layers)'")
        }
        return s
    }

    /// The mix, checked against the model's layer count.
    func mix(layers count: Int) throws -> ScalarMix? {
        guard try selection() == .mix else { return nil }
        var mix: ScalarMix
        if let mixFile {
            guard let data = FileManager.default.contents(atPath: mixFile) else { throw ValidationError("cannot read --mix-file \(mixFile)") }
            do { mix = try JSONDecoder().decode(ScalarMix.self, from: data) } catch {
                throw ValidationError("\(mixFile): expected {\"weights\": [numbers], \"gamma\": number, \"layerNorm\": bool}")
            }
        } else if let mixWeights {
            let weights = mixWeights.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard weights.allSatisfy({ $0 != nil }) else { throw ValidationError("--mix-weights takes numbers separated by commas") }
            mix = ScalarMix(weights: weights.map { $0! }, gamma: gamma, layerNorm: layerNorm)
        } else {
            throw ValidationError("--layers mix needs --mix-weights or --mix-file")
        }
        guard mix.weights.allSatisfy(\.isFinite), mix.gamma.isFinite else {
            let given = mixFile.map { "\($0): " } ?? ""
            throw ValidationError("\(given)the scalar-mix weights and gamma must be finite numbers, found weights \(mix.weights) and gamma \(mix.gamma)")
        }
        guard mix.weights.count == count else {
            throw ValidationError("the model has \(count) layers (token layer and \(count - 1) LSTM layers); the mix gives \(mix.weights.count) weights")
        }
        return mix
    }
}
