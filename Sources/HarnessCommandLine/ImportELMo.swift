import ArgumentParser
import Foundation
import HarnessELMo

struct ImportELMo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-elmo",
        abstract: "A bilm-tf / AllenNLP ELMo model (options.json + HDF5 weights) as a run directory for embed, similar and eval.",
        discussion: """
            Reads bilm-tf's layout (the published ELMo files; a char-CNN model, or a word-input one whose \
            'embedding' table is in the weights or in --embedding-weights) and writes DIR with spec.resolved.yaml, vocabulary.txt, best.ckpt and import.json. \
            `harness embed DIR --stateful` carries the state from line to line as bilm-tf and AllenNLP do. \
            A file holding a softmax (softmax/W, softmax/b) keeps it when --vocabulary is given: then `harness eval DIR \
            --corpus FOLDER` scores text. Bad files exit 65, naming the file and the dataset or option.
            """)

    @Option(help: "bilm-tf's options.json (n_characters 262).")
    var options: String

    @Option(help: "The HDF5 weights (char_embed, CNN…, RNN_0/RNN_1…).")
    var weights: String

    @Option(help: "bilm-tf's vocabulary file (<S>, </S>, <UNK> become <bos>, <eos>, <unk>): needed by a word-input model and a softmax.")
    var vocabulary: String?

    @Option(help: "A word-input model's token embeddings: an HDF5 file with one dataset, 'embedding' (V, projection_dim). Without it, a model without char_cnn reads 'embedding' from --weights (bilm-tf's dump_weights and harness export-elmo put it there).")
    var embeddingWeights: String?

    @Option(name: .shortAndLong, help: "The run directory to create (absent or empty).")
    var output: String

    func run() throws {
        try Exit.run {
            let summary = try ELMoImporter.run(ELMoImportRequest(options: options, weights: weights, vocabulary: vocabulary,
                                                                 embeddingWeights: embeddingWeights, output: output))
            for note in summary.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
            print("imported a \(summary.encoder) biLM: \(summary.parameters) parameters, vocabulary \(summary.vocabularySize), "
                  + (summary.hasSoftmax ? "with its softmax" : "no softmax (embeddings only)") + " → \(summary.directory)")
        }
    }
}
