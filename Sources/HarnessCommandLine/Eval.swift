import ArgumentParser
import Foundation
import HarnessData
import HarnessModel
import HarnessSpec
import HarnessTraining

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Recompute perplexity from a run's saved best model.")

    @Argument(help: "A run directory (runs/<name>-<hash>).")
    var runDirectory: String

    @Option(help: "Split of the run's own data to score: valid or test.")
    var split: String?

    @Option(help: "Score valid.txt and test.txt of this corpus folder instead (with the run's vocabulary).")
    var corpus: String?

    @Option(help: ArgumentHelp("Sequences scored side by side (default: the run's data.eval_batch_size).",
                               discussion: "With stream batching, 1 scores each split as one stream, the LSTM state carried from its "
                                   + "first token to its last (Kim et al. 2016's test protocol); N cuts it into N streams, each "
                                   + "starting from a zero state."))
    var batchSize: Int?

    func validate() throws {
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1, found \(batchSize)") }
        if let split, !["valid", "test"].contains(split) { throw ValidationError("--split must be valid or test, not '\(split)'") }
        if split != nil && corpus != nil { throw ValidationError("give --split or --corpus, not both") }
    }

    func run() throws {
        try Exit.run {
            let experiment = try LoadedRun.load(runDirectory) { spec in
                if let batchSize { spec.data.evalBatchSize = batchSize }
                guard let corpus else { return }
                spec.data.valid = FileManager.default.fileExists(atPath: corpus + "/valid.txt") ? corpus + "/valid.txt" : nil
                spec.data.test = FileManager.default.fileExists(atPath: corpus + "/test.txt") ? corpus + "/test.txt" : nil
                if spec.data.valid == nil && spec.data.test == nil {
                    throw DataError("no valid.txt or test.txt in this folder", file: corpus)
                }
            }
            if !experiment.spec.model.output.scoresTokens {
                throw RunError.unreadable(path: runDirectory, reason: "this model has no output layer (model.output '\(experiment.spec.model.output.type)', "
                                          + "e.g. an ELMo model imported without its softmax): it gives embeddings (harness embed, similar), not perplexities")
            }
            if experiment.valid == nil && experiment.test == nil {
                throw RunError.unreadable(path: runDirectory, reason: "the run has no evaluation data of its own; pass --corpus FOLDER with valid.txt and test.txt")
            }
            let context = StepContext(training: false)
            var table: [String: SplitPerplexity] = [:]
            for name in split.map({ [$0] }) ?? ["valid", "test"] {
                guard let lines = name == "valid" ? experiment.valid : experiment.test else { continue }
                table[name] = experiment.perplexity(try experiment.evaluate(lines, context: context))
                if corpus != nil {
                    // Another corpus scored with the run's vocabulary: say how much of it became <unk>.
                    let unk = experiment.vocabulary.unkID
                    let ids = try lines.ids(0 ..< lines.tokenCount)   // an evaluation split, in memory
                    let tokens = lines.tokenCount - lines.lineCount, unknown = ids.filter { $0 == unk }.count
                    FileHandle.standardError.write(Data(String(format: "note: %.1f %% of %@'s %d words are <unk> under the run's vocabulary "
                                                               + "(perplexity scores <unk> as one word)\n",
                                                               100 * Double(unknown) / Double(max(tokens, 1)), name, tokens).utf8))
                }
            }
            print(perplexityTable(table))
        }
    }
}
