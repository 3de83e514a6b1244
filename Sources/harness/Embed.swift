import ArgumentParser
import Foundation
import HarnessData
import HarnessEmbeddings
import HarnessTraining

struct Embed: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Contextual (ELMo) word vectors from a trained biLM, for each token of each input line.")

    @Argument(help: "A run directory (runs/<name>-<hash>).")
    var runDirectory: String

    @Option(help: "Sentences, one per line, tokens separated by spaces.")
    var input: String

    @OptionGroup var mix: MixOptions

    @Option(help: "jsonl (one object per line) or npy (float32 array, with an .index.tsv beside it).")
    var format = "jsonl"

    @Option(name: .shortAndLong, help: "Output file (required for npy; jsonl defaults to standard output).")
    var output: String?

    @Flag(help: "Carry each direction's LSTM state from sentence to sentence, as bilm-tf's and AllenNLP's ELMo do per batch row (default: each sentence from a zero state, so its vectors depend on nothing else).")
    var stateful = false

    @Option(help: "Sentences per batch (vectors do not depend on it).")
    var batchSize = 32

    @Option(help: "Refuse sentences longer than this many tokens.")
    var maxLength = 1000

    @Flag(help: "Print to standard error how long loading, embedding (with tokens/s) and writing took.")
    var timing = false

    func validate() throws {
        if !["jsonl", "npy"].contains(format) { throw ValidationError("--format is jsonl or npy, not '\(format)'") }
        if !(1...100_000).contains(batchSize) { throw ValidationError("--batch-size must be in [1, 100000], found \(batchSize)") }
        if !(1...1_000_000).contains(maxLength) { throw ValidationError("--max-length must be in [1, 1000000], found \(maxLength)") }
        if format == "npy" && output == nil { throw ValidationError("--format npy needs --output FILE.npy") }
        _ = try mix.selection()
    }

    func run() throws {
        try Exit.run {
            let clock = ContinuousClock(), start = clock.now
            let embedder = ContextualEmbedder(try LoadedRun.model(runDirectory), maxLength: maxLength)
            let loaded = clock.now
            let selection = try mix.selection()
            let scalarMix = try mix.mix(layers: embedder.layerCount)
            if selection == .mix || selection == .average || (selection == .all && format == "npy"), !embedder.layersHaveOneSize {
                throw ValidationError("this model's layers differ in size (token representation vs LSTM output): "
                                      + (selection == .all ? "one npy array cannot hold them; use --format jsonl or --layers top" : "use --layers all or top"))
            }
            let sentences = try TextFile.read(input)
            let lines = Array(1...max(sentences.count, 1)).prefix(sentences.count).map { $0 }
            let embedded = try embedder.embed(sentences, lines: lines, file: input, batchSize: batchSize, stateful: stateful)
            let computed = clock.now
            let unknown = embedded.reduce(0) { $0 + $1.unknown.filter { $0 }.count }
            let encoder = embedder.model.configuration.encoder
            if unknown > 0, encoder.maxCharacters == nil {
                FileHandle.standardError.write(Data("note: \(unknown) \(unknown == 1 ? "token is" : "tokens are") not in the vocabulary; the \(encoder.type) encoder embedded \(unknown == 1 ? "it" : "them") as <unk>\n".utf8))
            }
            switch format {
            case "npy":
                let (data, index) = EmbeddingWriter.npy(embedded, lines: lines, selection: selection, mix: scalarMix,
                                                        layers: embedder.layerCount, size: embedder.vectorSize)
                try AtomicFile.write(data, to: output!)
                try AtomicFile.write(index, to: output! + ".index.tsv")
            default:
                let text = try EmbeddingWriter.jsonl(embedded, lines: lines, selection: selection, mix: scalarMix, file: input)
                if let output { try AtomicFile.write(text, to: output) } else { print(text, terminator: "") }
            }
            if timing {
                let tokens = sentences.reduce(0) { $0 + $1.count }
                let seconds = { (from: ContinuousClock.Instant, to: ContinuousClock.Instant) -> Double in
                    let d = (to - from).components
                    return Double(d.seconds) + Double(d.attoseconds) * 1e-18
                }
                let embedding = seconds(loaded, computed)
                FileHandle.standardError.write(Data(String(format: "timing: load %.3f s, embed %.3f s (%d tokens in %d sentences, %.1f tokens/s), write %.3f s\n",
                                                           seconds(start, loaded), embedding, tokens, sentences.count,
                                                           Double(tokens) / embedding, seconds(computed, clock.now)).utf8))
            }
        }
    }
}
