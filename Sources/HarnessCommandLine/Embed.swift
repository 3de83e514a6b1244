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

    @Option(help: "Embed this many lines at a time and write their vectors before the next ones (without --stateful), so that memory holds one part's vectors, not the whole file's.")
    var linesPerPart = 512

    func validate() throws {
        if !["jsonl", "npy"].contains(format) { throw ValidationError("--format is jsonl or npy, not '\(format)'") }
        if !(1...100_000).contains(batchSize) { throw ValidationError("--batch-size must be in [1, 100000], found \(batchSize)") }
        if linesPerPart < 1 { throw ValidationError("--lines-per-part must be at least 1, found \(linesPerPart)") }
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
            let tokens = sentences.reduce(0) { $0 + $1.count }
            // Before anything is written: a part must not reach standard output ahead of the error.
            for (i, sentence) in sentences.enumerated() where sentence.count > maxLength {
                throw DataError("sentence of \(sentence.count) tokens; the limit is \(maxLength) (--max-length)", file: input, line: lines[i])
            }
            // Written part by part (each part sorted by length inside the embedder), so that
            // memory holds one part's vectors; --stateful carries state through the whole
            // file in one call.
            let part = stateful ? max(sentences.count, 1) : linesPerPart
            var npy: (array: AtomicFile.Stream, index: AtomicFile.Stream)?
            var jsonl: AtomicFile.Stream?
            if format == "npy" {
                npy = (try AtomicFile.Stream(output!), try AtomicFile.Stream(output! + ".index.tsv"))
                try npy!.array.append(EmbeddingWriter.npyHeader(rows: tokens, selection: selection, layers: embedder.layerCount,
                                                                size: embedder.vectorSize))
                try npy!.index.append(EmbeddingWriter.npyIndexHeader)
            } else if let output {
                jsonl = try AtomicFile.Stream(output)
            }
            var unknown = 0
            var embedding: Duration = .zero
            for first in stride(from: 0, to: sentences.count, by: part) {
                let range = first ..< min(first + part, sentences.count)
                let partStart = clock.now
                let embedded = try embedder.embed(Array(sentences[range]), lines: Array(lines[range]), file: input,
                                                  batchSize: batchSize, stateful: stateful)
                embedding += clock.now - partStart
                unknown += embedded.reduce(0) { $0 + $1.unknown.filter { $0 }.count }
                if let npy {
                    let (values, index) = EmbeddingWriter.npyRows(embedded, lines: Array(lines[range]), selection: selection, mix: scalarMix,
                                                                  layers: embedder.layerCount, size: embedder.vectorSize)
                    try npy.array.append(values)
                    try npy.index.append(index)
                } else {
                    let text = try EmbeddingWriter.jsonl(embedded, lines: Array(lines[range]), selection: selection, mix: scalarMix, file: input)
                    if let jsonl { try jsonl.append(text) } else { print(text, terminator: "") }
                }
            }
            try npy?.array.commit()
            try npy?.index.commit()
            try jsonl?.commit()
            let encoder = embedder.model.configuration.encoder
            if unknown > 0, encoder.maxCharacters == nil {
                FileHandle.standardError.write(Data("note: \(unknown) \(unknown == 1 ? "token is" : "tokens are") not in the vocabulary; the \(encoder.type) encoder embedded \(unknown == 1 ? "it" : "them") as <unk>\n".utf8))
            }
            if timing {
                let seconds = { (d: Duration) -> Double in Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
                let total = seconds(clock.now - loaded), embedded = seconds(embedding)
                FileHandle.standardError.write(Data(String(format: "timing: load %.3f s, embed %.3f s (%d tokens in %d sentences, %.1f tokens/s), write %.3f s\n",
                                                           seconds(loaded - start), embedded, tokens, sentences.count,
                                                           Double(tokens) / embedded, total - embedded).utf8))
            }
        }
    }
}
