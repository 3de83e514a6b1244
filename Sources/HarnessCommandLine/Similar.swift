import ArgumentParser
import Foundation
import HarnessData
import HarnessEmbeddings
import HarnessTraining

struct Similar: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cosine similarity of one word's contextual vectors across contexts, next to its static (layer 0) similarity.")

    @Argument(help: "A run directory (runs/<name>-<hash>).")
    var runDirectory: String

    @Option(help: "The word to follow.")
    var word: String

    @Option(help: "Contexts, one per line, each containing the word.")
    var input: String

    @OptionGroup var mix: MixOptions

    func run() throws {
        try Exit.run {
            let embedder = ContextualEmbedder(try LoadedRun.model(runDirectory))
            let selection = try mix.layers == "all" ? LayerSelection.top : mix.selection()
            let scalarMix = try mix.mix(layers: embedder.layerCount)
            let sentences = try TextFile.read(input)
            let embedded = try embedder.embed(sentences, file: input)
            var contexts: [(line: Int, text: String, contextual: [Float], static: [Float])] = []
            for (i, sentence) in embedded.enumerated() {
                guard let position = sentence.tokens.firstIndex(where: { TokenKey($0) == TokenKey(word) }) else {
                    if !sentence.tokens.isEmpty {
                        FileHandle.standardError.write(Data("note: line \(i + 1) does not contain '\(word)'; skipped\n".utf8))
                    }
                    continue
                }
                let layers = sentence.layers[position]
                contexts.append((i + 1, sentence.tokens.joined(separator: " "),
                                 EmbeddingWriter.select(layers, selection, mix: scalarMix)[0], layers[0]))
            }
            guard contexts.count >= 2 else {
                throw DataError("fewer than two lines contain '\(word)'", file: input)
            }
            func cosine(_ a: [Float], _ b: [Float]) -> Double {
                var dot = 0.0, na = 0.0, nb = 0.0
                for (x, y) in zip(a, b) { dot += Double(x * y); na += Double(x * x); nb += Double(y * y) }
                return dot / max((na * nb).squareRoot(), 1e-30)
            }
            for (i, c) in contexts.enumerated() { print("[\(i + 1)] line \(c.line): \(c.text)") }
            print("")
            func pad(_ text: String) -> String { String(repeating: " ", count: max(0, 6 - text.count)) + text }
            let header = contexts.indices.map { pad("[\($0 + 1)]") }.joined()
            print("contextual (\(selection.rawValue))".padding(toLength: 30, withPad: " ", startingAt: 0) + "   static (layer 0)")
            print("      " + header + "      " + header)
            for (i, a) in contexts.enumerated() {
                let contextual = contexts.map { String(format: "%6.2f", cosine(a.contextual, $0.contextual)) }.joined()
                let staticRow = contexts.map { String(format: "%6.2f", cosine(a.static, $0.static)) }.joined()
                print(pad("[\(i + 1)]") + contextual + "      " + staticRow)
            }
            let encoder = embedder.model.configuration.encoder
            if encoder.maxCharacters == nil, embedder.experiment.vocabulary.id(word) == embedder.experiment.vocabulary.unkID {
                FileHandle.standardError.write(Data("note: '\(word)' is not in the vocabulary; the \(encoder.type) encoder read it as <unk>\n".utf8))
            }
        }
    }
}
