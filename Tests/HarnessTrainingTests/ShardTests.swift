import Foundation
import HarnessData
import HarnessSpec
@testable import HarnessTraining
import Testing

/// `data.train` as shards (issue #20): a glob pattern or a list of files, read one after
/// the other, the vocabulary counted over all of them; and bilm-tf's vocabulary files.
struct ShardTests {
    static let corpus = packageRoot.appendingPathComponent("Tests/Fixtures/tiny-corpus").path

    /// The tiny corpus's 300 training lines cut into three shards part-00…02 of 100 lines.
    private func shards() throws -> String {
        let folder = temporaryFolder()
        let lines = try String(contentsOfFile: Self.corpus + "/train.txt", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        for part in [2, 0, 1] {   // written out of order: reading order is the paths'
            let text = lines[(part * 100)..<((part + 1) * 100)].joined(separator: "\n") + "\n"
            try text.write(toFile: "\(folder)/part-0\(part).txt", atomically: true, encoding: .utf8)
        }
        return folder
    }

    private func spec(train: String) throws -> ExperimentSpec {
        try SpecLoader.parse("""
            data:
              train: \(train)
              valid: \(Self.corpus)/valid.txt
              batching: {type: stream, batch_size: 4, bptt: 5}
            model:
              direction: forward
              token_encoder: {type: word, dim: 8}
              recurrent: {type: lstm, layers: 1, hidden: 8}
            training: {epochs: 1}
            """, file: "shards.yaml", defaultName: "shards")
    }

    @Test func aPatternReadsItsShardsInPathOrderAsOneCorpus() throws {
        let folder = try shards()
        let sharded = try spec(train: "\(folder)/part-*.txt")
        #expect(sharded.data.trainShards == (0...2).map { "\(folder)/part-0\($0).txt" })
        let whole = try Experiment(try spec(train: "\(Self.corpus)/train.txt"))
        let fromShards = try Experiment(sharded)
        #expect(fromShards.vocabulary == whole.vocabulary)
        #expect(fromShards.train == whole.train)
        // A list keeps its own order.
        let listed = try spec(train: "[\(folder)/part-02.txt, \(folder)/part-00.txt]")
        #expect(listed.data.trainShards == ["\(folder)/part-02.txt", "\(folder)/part-00.txt"])
        #expect(try Experiment(listed).train.count == 200)
    }

    @Test func aPatternThatMatchesNothingIsASpecError() throws {
        let folder = try shards()
        let error = #expect(throws: SpecErrors.self) { try spec(train: "\(folder)/shard-*.txt") }
        #expect(error?.errors.first?.message == "no file matches '\(folder)/shard-*.txt' in 'data.train'")
        let twice = #expect(throws: SpecErrors.self) { try spec(train: "[\(folder)/part-0*.txt, \(folder)/part-01.txt]") }
        #expect(twice?.errors.first?.message == "'\(folder)/part-01.txt' is named twice in 'data.train'")
    }

    /// bilm-tf's vocabulary files name the specials </S>, <S>, <UNK> (first, in that order).
    @Test func aBilmVocabularyFileMapsItsSpecials() throws {
        let file = temporaryFolder() + "/vocab.txt"
        try "</S>\n<S>\n<UNK>\nthe\nof\n".write(toFile: file, atomically: true, encoding: .utf8)
        let vocabulary = try Vocabulary(file: file, withBeginOfSentence: true)
        #expect(vocabulary.tokens == [Vocabulary.eos, Vocabulary.bos, Vocabulary.unk, "the", "of"])
        #expect(vocabulary.eosID == 0 && vocabulary.bosID == 1 && vocabulary.unkID == 2)
        try "</S>\n<UNK>\n<eos>\nthe\n".write(toFile: file, atomically: true, encoding: .utf8)
        let clash = #expect(throws: DataError.self) { try Vocabulary(file: file, withBeginOfSentence: false) }
        #expect(clash?.description.contains("token '<eos>' is listed twice") == true)
    }
}
