import Foundation
import HarnessData
import HarnessKernels
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

    private func spec(train: String, evaluation: String = "valid: \(corpus)/valid.txt") throws -> ExperimentSpec {
        try SpecLoader.parse("""
            data:
              train: \(train)
              \(evaluation)
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
        #expect(try fromShards.train.ids(0 ..< fromShards.train.tokenCount) == whole.train.ids(0 ..< whole.train.tokenCount))
        #expect(fromShards.train.shards.map(\.lines.count) == [100, 100, 100])
        // A list keeps its own order.
        let listed = try spec(train: "[\(folder)/part-02.txt, \(folder)/part-00.txt]")
        #expect(listed.data.trainShards == ["\(folder)/part-02.txt", "\(folder)/part-00.txt"])
        #expect(try Experiment(listed).train.lineCount == 200)
        // The resolved spec (run folders keep it) reads back to the same shards.
        let again = try SpecLoader.parse(listed.resolved.yaml(), file: "resolved.yaml")
        #expect(again.data == listed.data && again.hash == listed.hash)
    }

    @Test func aPatternThatMatchesNothingIsASpecError() throws {
        let folder = try shards()
        let error = #expect(throws: SpecErrors.self) { try spec(train: "\(folder)/shard-*.txt") }
        #expect(error?.errors.first?.message == "no file matches '\(folder)/shard-*.txt' in 'data.train'")
        let twice = #expect(throws: SpecErrors.self) { try spec(train: "[\(folder)/part-0*.txt, \(folder)/part-01.txt]") }
        #expect(twice?.errors.first?.message == "'\(folder)/part-01.txt' is named twice in 'data.train'")
        // The same file through a symbolic link, a directory among the matches, the valid split among the shards.
        try FileManager.default.createSymbolicLink(atPath: folder + "/link-00.txt", withDestinationPath: folder + "/part-00.txt")
        let linked = #expect(throws: SpecErrors.self) { try spec(train: "[\(folder)/part-00.txt, \(folder)/link-00.txt]") }
        #expect(linked?.errors.first?.message == "'\(folder)/link-00.txt' is named twice in 'data.train' (as '\(folder)/part-00.txt')")
        try FileManager.default.createDirectory(atPath: folder + "/part-03.txt", withIntermediateDirectories: false)
        let directory = #expect(throws: SpecErrors.self) { try spec(train: "\(folder)/part-*.txt") }
        #expect(directory?.errors.first?.message == "'\(folder)/part-*.txt' in 'data.train' matches '\(folder)/part-03.txt', which is a directory")
        let evaluated = #expect(throws: SpecErrors.self) { try spec(train: "[\(folder)/part-00.txt, \(Self.corpus)/v*.txt]") }
        #expect(evaluated?.errors.first?.message == "'\(Self.corpus)/valid.txt' in 'data.train' is also the valid or test split: "
                + "a model would be scored on its training text")
    }

    /// `valid` and `test` take a file, a pattern or a list too: one split, files in order.
    @Test func evaluationSplitsMayBeShardsToo() throws {
        let folder = try shards()
        let text = try spec(train: "\(folder)/part-00.txt", evaluation: """
            valid: [\(folder)/part-02.txt, \(folder)/part-01.txt]
              test: \(folder)/part-0[12].txt
            """)
        #expect(text.data.validShards == ["\(folder)/part-02.txt", "\(folder)/part-01.txt"])
        #expect(text.data.testShards == ["\(folder)/part-01.txt", "\(folder)/part-02.txt"])
        #expect(text.data.valid == "\(folder)/part-02.txt, \(folder)/part-01.txt")
        let experiment = try Experiment(text)
        #expect(experiment.valid!.shards.map(\.lines.count) == [100, 100] && experiment.test!.lineCount == 200)
        // The valid split reads its files in the listed order: the test split's, shard for shard swapped.
        let valid = experiment.valid!, test = experiment.test!
        #expect(try valid.ids(valid.shards[0].tokens) == test.ids(test.shards[1].tokens))
        // A pattern that matches nothing names its key.
        let error = #expect(throws: SpecErrors.self) {
            try SpecLoader.parse("data: {train: \(folder)/part-00.txt, valid: \(folder)/held-*.txt}\nmodel: {direction: forward, "
                                 + "token_encoder: {type: word, dim: 8}, recurrent: {type: lstm, layers: 1, hidden: 8}}\n",
                                 file: "x.yaml", defaultName: "x")
        }
        #expect(error?.errors.first?.message == "no file matches '\(folder)/held-*.txt' in 'data.valid'")
    }

    @Test func anEmptyShardIsBadData() throws {
        let folder = try shards()
        try "".write(toFile: folder + "/part-03.txt", atomically: true, encoding: .utf8)
        let error = #expect(throws: DataError.self) { try Experiment(try spec(train: "\(folder)/part-*.txt")) }
        #expect(error?.description == "\(folder)/part-03.txt: error: this training shard has no tokens (a truncated download?)")
    }

    /// bilm-tf's vocabulary files name the specials </S>, <S>, <UNK> (first, in that order).
    @Test func aBilmVocabularyFileMapsItsSpecials() throws {
        let file = temporaryFolder() + "/vocab.txt"
        try "</S>\n<S>\n<UNK>\nthe\nof\n".write(toFile: file, atomically: true, encoding: .utf8)
        let vocabulary = try Vocabulary(file: file, withBeginOfSentence: true)
        #expect(vocabulary.tokens == [Vocabulary.eos, Vocabulary.bos, Vocabulary.unk, "the", "of"])
        #expect(vocabulary.eosID == 0 && vocabulary.bosID == 1 && vocabulary.unkID == 2)
        try "</S>\n<S>\n</S>\nthe\n".write(toFile: file, atomically: true, encoding: .utf8)
        let clash = #expect(throws: DataError.self) { try Vocabulary(file: file, withBeginOfSentence: false) }
        #expect(clash?.description == "\(file):3: error: token '</S>' (bilm-tf's name of <eos>) is listed twice: line 1 has '</S>' (bilm-tf's name of <eos>)")
        // A file that also uses the harness's names is the harness's (a run's vocabulary.txt): <S> and </S> stay words.
        try "<eos>\n<unk>\n<S>\n</S>\nthe\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try Vocabulary(file: file, withBeginOfSentence: false).tokens == [Vocabulary.eos, Vocabulary.unk, "<S>", "</S>", "the"])
        // One bilm-tf special is enough to read the file as bilm-tf's.
        try "</S>\nthe\nof\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try Vocabulary(file: file, withBeginOfSentence: false).tokens == [Vocabulary.eos, "the", "of", Vocabulary.unk])
    }
}

/// `experiments/1b-word-elmo-small.yaml` on a generated stand-in for the 1B Word
/// Benchmark's layout: 99 small training shards (and a file the pattern must not match), two
/// held-out shards and a bilm-tf vocabulary of 9,000 words (more than the 8,192 sampled
/// negatives need).
struct OneBillionWordSpecTests {
    @Test func theSpecReadsAStandInOfTheBenchmark() throws {
        let root = temporaryFolder()
        let training = root + "/data/1b/training-monolingual.tokenized.shuffled"
        let heldout = root + "/data/1b/heldout-monolingual.tokenized.shuffled"
        try FileManager.default.createDirectory(atPath: training, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: heldout, withIntermediateDirectories: true)
        let words = (0..<9000).map { "w\($0)" }
        var generator = SeededGenerator(seed: 7)
        func lines(_ count: Int) -> String {
            // Skewed to the low ids, so that the vocabulary's order is by frequency, as bilm-tf's is.
            (0..<count).map { _ in (0..<12).map { _ in words[Int(generator.nextUnit() * generator.nextUnit() * 9000)] }.joined(separator: " ") }
                .joined(separator: "\n") + "\n"
        }
        for shard in 1...99 {
            try lines(30).write(toFile: String(format: "%@/news.en-%05d-of-00100", training, shard), atomically: true, encoding: .utf8)
        }
        try lines(30).write(toFile: training + "/news.en.heldout.README", atomically: true, encoding: .utf8)   // not a shard
        for shard in 0...1 {
            try lines(30).write(toFile: String(format: "%@/news.en.heldout-%05d-of-00050", heldout, shard), atomically: true, encoding: .utf8)
        }
        try (["</S>", "<S>", "<UNK>"] + words).joined(separator: "\n").write(toFile: root + "/data/1b/vocab-2016-09-10.txt",
                                                                            atomically: true, encoding: .utf8)
        let text = try String(contentsOf: packageRoot.appendingPathComponent("experiments/1b-word-elmo-small.yaml"), encoding: .utf8)
            .replacingOccurrences(of: " data/1b/", with: " \(root)/data/1b/")
        let spec = try SpecLoader.parse(text, file: "1b-word-elmo-small.yaml")
        #expect(spec.data.trainShards.count == 99)
        #expect(spec.data.trainShards.first?.hasSuffix("news.en-00001-of-00100") == true)
        #expect(spec.data.trainShards.last?.hasSuffix("news.en-00099-of-00100") == true)
        let experiment = try Experiment(spec)
        #expect(experiment.vocabulary.count == 9003 && experiment.vocabulary.eosID == 0)
        #expect(experiment.train.lineCount == 99 * 30)
    }
}
