import ArgumentParser
import Foundation
import HarnessELMo

struct ExportELMo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-elmo",
        abstract: "A trained biLM as a bilm-tf / AllenNLP ELMo model: options.json, weights.hdf5, vocabulary.txt.",
        discussion: """
            Writes bilm-tf's dump_weights layout (TensorFlow's kernel shapes and gate order, forget_bias 1 taken out \
            of the bias), which bilm-tf's BidirectionalLanguageModel, AllenNLP's Elmo and `harness import-elmo` read. \
            A word-input model's table is the 'embedding' dataset of weights.hdf5 (bilm-tf: pass the same file as \
            embedding_weight_file). The run must be bidirectional with lstm or lstm-projected layers; what bilm-tf's \
            format cannot express exits 65, naming the key.
            """)

    @Argument(help: "A run directory (runs/<name>-<hash>, or one written by import-elmo).")
    var runDirectory: String

    @Option(name: .shortAndLong, help: "The folder to create (absent or empty).")
    var output: String

    @Flag(help: "Leave the softmax out (bilm-tf's dump_weights does; needed for an adaptive softmax, which bilm-tf cannot hold).")
    var withoutSoftmax = false

    func run() throws {
        try Exit.run {
            let summary = try ELMoExporter.run(try LoadedRun.model(runDirectory), run: runDirectory, output: output,
                                               softmax: !withoutSoftmax)
            for note in summary.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
            print("exported a \(summary.encoder) biLM: \(summary.values) values, vocabulary \(summary.vocabularySize), "
                  + (summary.hasSoftmax ? "with its softmax" : "no softmax") + " → \(summary.directory)")
        }
    }
}
