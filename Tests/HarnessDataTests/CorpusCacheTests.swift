import Foundation
import HarnessKernels
@testable import HarnessData
import HarnessModel
import HarnessTestSupport
import Testing

/// The corpus cache (issue #20): the text read once, in blocks, into ids on disk that
/// training reads a window at a time. Its ids must be exactly those of reading the text
/// whole (`TextFile.read` + `Vocabulary` + `encode`), whatever the block boundaries.
struct CorpusCacheTests {
    /// A fresh cache folder per test: tests never share or leave entries in the user's cache.
    let root = TestFolder.make("cache")

    /// Awkward text: CRLF, blank lines, tabs and vertical tabs, multibyte tokens, the
    /// literal `<eos>`, a token repeated across blocks and a last line without its newline.
    static let awkward = "the cat sat\r\n\n  on\tthe\u{0B}mat <eos> café\nnaïve 日本語 the\n\n\nthe end"

    /// What reading the files whole gives: the vocabulary and each line's ids + `<eos>`;
    /// `maxTokens` counts across the files (the way training splits were read before the cache).
    private func wholeRead(_ paths: [String], maxTokens: Int? = nil, bos: Bool = false) throws -> (Vocabulary, [Int32]) {
        var lines: [[String]] = []
        for path in paths {
            let count = lines.reduce(0) { $0 + $1.count + 1 }
            if let maxTokens, count >= maxTokens { break }
            lines += try TextFile.read(path, maxTokens: maxTokens.map { $0 - count })
        }
        let vocabulary = Vocabulary(training: lines, withBeginOfSentence: bos)
        return (vocabulary, vocabulary.encode(lines).flatMap { $0 + [vocabulary.eosID] })
    }

    private func cached(_ paths: [String], maxTokens: Int? = nil, blockSize: Int = 8 << 20, bos: Bool = false) throws -> CorpusCache.Entry {
        try CorpusCache.load(shards: paths, maxTokens: maxTokens, vocabulary: .build(minCount: 1, maxSize: nil, withBeginOfSentence: bos),
                             root: root, blockSize: blockSize)
    }

    @Test(arguments: [3, 7, 64, 8 << 20])
    func idsMatchReadingTheTextWholeAtAnyBlockSize(blockSize: Int) throws {
        let path = temporaryFile(Self.awkward)
        let (vocabulary, ids) = try wholeRead([path])
        let entry = try cached([path], blockSize: blockSize)
        #expect(entry.built)
        #expect(entry.vocabulary == vocabulary)
        #expect(try entry.corpus.ids(0 ..< entry.corpus.tokenCount) == ids)
        #expect(entry.corpus.lineCount == 7 && entry.corpus.shards.count == 1)
        // Line ends: after each line's <eos>.
        let ends = try entry.corpus.lineEnds(0 ..< 7)
        #expect(ends.count == 7 && ends.last == ids.count && ends.allSatisfy { ids[$0 - 1] == vocabulary.eosID })
        // Training counts: words only. "the" occurs 4 times; the literal <eos> once (plus 7 line ends, not counted).
        #expect(entry.trainingCounts[Int(vocabulary.id("the"))] == 4)
        #expect(entry.trainingCounts[Int(vocabulary.eosID)] == 1)
    }

    @Test(arguments: [1, 2, 3, 4, 8 << 20])
    func aByteOrderMarkIsSkippedAsReadingWholeSkipsIt(blockSize: Int) throws {
        let path = temporaryFile(bytes: [0xEF, 0xBB, 0xBF] + Array("the cat\nthe end\n".utf8))
        let (vocabulary, ids) = try wholeRead([path])
        let entry = try cached([path], blockSize: blockSize)
        #expect(entry.vocabulary == vocabulary && vocabulary.id("the") != vocabulary.unkID)
        #expect(try entry.corpus.ids(0 ..< entry.corpus.tokenCount) == ids && ids.count == 6)
        #expect(entry.checksums == [path: try SHA256.file(path)])   // the file's bytes, the mark included
        let bad = temporaryFile(bytes: [0xEF, 0xBB, 0xBF, 0x61, 0xC3, 0x28, 0x0A])
        #expect(throws: DataError("invalid UTF-8", file: bad, line: 1, column: 5)) { try cached([bad], blockSize: blockSize) }
    }

    @Test func maxTokensStopsWhereReadingWholeStops() throws {
        let a = temporaryFile("a b c\nd e\nf\n"), b = temporaryFile("g h\ni\n")
        for maxTokens in [1, 4, 6, 9, 12, 100] {
            let (vocabulary, ids) = try wholeRead([a, b], maxTokens: maxTokens)
            let entry = try cached([a, b], maxTokens: maxTokens, blockSize: 4)
            #expect(entry.vocabulary == vocabulary, "max_train_tokens \(maxTokens)")
            #expect(try entry.corpus.ids(0 ..< entry.corpus.tokenCount) == ids, "max_train_tokens \(maxTokens)")
        }
    }

    @Test func shardsKeepTheirExtentsAndChecksums() throws {
        let a = temporaryFile("a b\nc\n"), b = temporaryFile("d e f\n")
        let entry = try cached([a, b])
        // The pass's SHA-256 is the file's (the run's data checksum), read again from the cache.
        #expect(entry.checksums == [a: try SHA256.file(a), b: try SHA256.file(b)])
        #expect(try cached([a, b]).checksums == entry.checksums)
        // A shard not read to its end has none: the run reads it whole to checksum it.
        #expect(try cached([a, b], maxTokens: 3).checksums == [:])
        #expect(try cached([a, b], maxTokens: 6).checksums == [a: try SHA256.file(a)])
        #expect(entry.corpus.shards == [TokenCorpus.Shard(tokens: 0 ..< 5, lines: 0 ..< 2), TokenCorpus.Shard(tokens: 5 ..< 9, lines: 2 ..< 3)])
        #expect(try entry.corpus.ids(5 ..< 9).map { entry.vocabulary.tokens[Int($0)] } == ["d", "e", "f", "<eos>"])
    }

    @Test func aSecondLoadReusesTheFolderAndAnEditRebuildsIt() throws {
        let path = temporaryFile("one two\nthree\n")
        let first = try cached([path])
        let second = try cached([path])
        #expect(first.built && !second.built && first.folder == second.folder)
        #expect(second.vocabulary == first.vocabulary)
        #expect(try second.corpus.ids(0 ..< second.corpus.tokenCount) == first.corpus.ids(0 ..< first.corpus.tokenCount))
        // An edit (its modification time changes) is a different corpus: never the old ids.
        try "four five six\n".write(toFile: path, atomically: false, encoding: .utf8)
        let edited = try cached([path])
        #expect(edited.built && edited.folder != first.folder)
        #expect(!FileManager.default.fileExists(atPath: first.folder), "the edited file's old entry is removed by the next build")
        #expect(try edited.corpus.ids(0 ..< 4).map { edited.vocabulary.tokens[Int($0)] } == ["four", "five", "six", "<eos>"])
        // Another vocabulary recipe is another entry too.
        #expect(try cached([path], bos: true).folder != edited.folder)
    }

    @Test func aDamagedEntryIsRebuilt() throws {
        let path = temporaryFile("one two\nthree\n")
        let first = try cached([path])
        let ids = try first.corpus.ids(0 ..< 5)
        try FileHandle(forWritingAtPath: first.folder + "/ids.bin")!.truncate(atOffset: 4)
        let again = try cached([path])
        #expect(again.built && again.corpus.tokenCount == 5)
        #expect(try again.corpus.ids(0 ..< 5) == ids)
        // A damaged meta.json (shard extents, counts) is rebuilt too, never trusted.
        for damage in [#""extents":[[0]]"#, #""tokens":9223372036854775807"#, #""extents":[[0,3,0,1],[2,5,1,2]]"#] {
            let meta = again.folder + "/meta.json"
            let text = try String(contentsOfFile: meta, encoding: .utf8)
            let key = String(damage.prefix { $0 != ":" })
            let damaged = text.replacingOccurrences(of: key + #":[^a-z]*?(?=,"|\})"#, with: damage, options: .regularExpression)
            #expect(damaged != text, "\(damage)")
            try damaged.write(toFile: meta, atomically: true, encoding: .utf8)
            let rebuilt = try cached([path])
            let rebuiltIDs = try rebuilt.corpus.ids(0 ..< 5)
            #expect(rebuilt.built && rebuiltIDs == ids, "\(damage)")
        }
        // A vocabulary shorter than meta.json says (its last entries lost): ids would point past it.
        let vocabulary = again.folder + "/vocabulary.tsv"
        let lines = try String(contentsOfFile: vocabulary, encoding: .utf8).split(separator: "\n")
        try (lines.dropLast().joined(separator: "\n") + "\n").write(toFile: vocabulary, atomically: true, encoding: .utf8)
        let rebuilt = try cached([path])
        #expect(rebuilt.built && rebuilt.vocabulary.count == lines.count)
    }

    @Test func aBuildRemovesTheEntriesOfChangedOrDeletedFilesAndNothingElse() throws {
        let kept = temporaryFile("kept corpus\n"), deleted = temporaryFile("deleted corpus\n")
        let replaced = temporaryFile("replaced corpus\n")
        let keptEntry = try cached([kept]), deletedEntry = try cached([deleted]), replacedEntry = try cached([replaced])
        let twoShards = try cached([kept, deleted])
        try FileManager.default.removeItem(atPath: deleted)
        try FileManager.default.removeItem(atPath: replaced)
        #expect(FileManager.default.createFile(atPath: replaced, contents: Data("replaced corpus\n".utf8)))   // same text, a new file
        // Entries this test leaves alone: another machine's (its paths may be local to it), one of an
        // earlier harness whose shards exist, and folders without a readable meta.json.
        func copy(_ entry: CorpusCache.Entry, as name: String, editing: (inout [String: Any]) -> Void) throws -> String {
            let folder = root + "/" + name
            try FileManager.default.copyItem(atPath: entry.folder, toPath: folder)
            var meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/meta.json"))) as! [String: Any]
            editing(&meta)
            try JSONSerialization.data(withJSONObject: meta).write(to: URL(fileURLWithPath: folder + "/meta.json"))
            return folder
        }
        let otherMachine = try copy(deletedEntry, as: String(repeating: "a", count: 32)) { $0["host"] = "other-node" }
        let earlierHarness = try copy(keptEntry, as: String(repeating: "b", count: 32)) { $0["sources"] = nil; $0["host"] = nil }
        let earlierHarnessDeleted = try copy(deletedEntry, as: String(repeating: "c", count: 32)) { $0["sources"] = nil; $0["host"] = nil }
        let noMeta = root + "/" + String(repeating: "d", count: 32)
        try FileManager.default.createDirectory(atPath: noMeta, withIntermediateDirectories: true)

        _ = try cached([temporaryFile("a new corpus\n")])
        let exists = { FileManager.default.fileExists(atPath: $0) }
        #expect(exists(keptEntry.folder) && exists(otherMachine) && exists(earlierHarness) && exists(noMeta))
        #expect(!exists(deletedEntry.folder) && !exists(replacedEntry.folder) && !exists(twoShards.folder) && !exists(earlierHarnessDeleted))
        #expect(try !cached([kept]).built)
    }

    @Test func aBuildKilledHalfwayLeavesNothingBehind() throws {
        // A temporary folder of a process that is gone (pid 2^22 + 1 exceeds Linux's pid_max
        // default) is deleted by the next build, with this machine's name or none (an
        // earlier harness's); one of a live process (this one) is kept, and so is one of
        // another machine (a cache shared over NFS), whose processes this one cannot see.
        let host = CorpusCache.host
        let names = [".building-0123456789abcdef-4194305-7", ".building-0123456789abcdef-4194305@\(host)-9",
                     ".building-0123456789abcdef-\(getpid())@\(host)-8", ".building-0123456789abcdef-4194305@other-node-3-6"]
        for name in names { try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true) }
        _ = try cached([temporaryFile("a b\n")])
        let left = try FileManager.default.contentsOfDirectory(atPath: root).filter { $0.hasPrefix(".building-") }
        #expect(Set(left) == [names[2], names[3]])
    }

    @Test func aGivenVocabularyMapsUnknownWordsToUnk() throws {
        let path = temporaryFile("a b zebra\n")
        let vocabulary = Vocabulary(tokens: ["<eos>", "<unk>", "a", "b"], counts: [0, 0, 0, 0])
        let entry = try CorpusCache.load(shards: [path], maxTokens: nil, vocabulary: .given(vocabulary), root: root)
        #expect(entry.vocabulary == vocabulary)
        #expect(try entry.corpus.ids(0 ..< 4) == [2, 3, 1, 0])
        #expect(entry.trainingCounts == [0, 1, 1, 1])
    }

    @Test func badTextGivesTheSameErrorsAsReadingItWhole() throws {
        // Invalid UTF-8 on line 3, column 3, found across several blocks.
        let bad = temporaryFile(bytes: Array("ok line\nsecond one\nab".utf8) + [0xFF] + Array(" c\n".utf8))
        #expect(throws: DataError("invalid UTF-8", file: bad, line: 3, column: 3)) { try cached([bad], blockSize: 5) }
        #expect(throws: DataError("file does not exist", file: "/nonexistent/train.txt")) { try cached(["/nonexistent/train.txt"]) }
        let empty = temporaryFile("\n\n")
        let good = temporaryFile("a b\n")
        #expect(throws: DataError("this training shard has no tokens (a truncated download?)", file: empty)) { try cached([good, empty]) }
        // A cache folder that cannot be made is named, with the way out.
        let file = temporaryFile("x")
        let error = #expect(throws: DataError.self) {
            try CorpusCache.load(shards: [good], maxTokens: nil, vocabulary: .build(minCount: 1, maxSize: nil, withBeginOfSentence: false),
                                 root: file + "/cache/corpora")
        }
        #expect(error == DataError("cannot create the corpus cache folder: \(file) is a file, not a folder; "
                                   + "set HARNESS_CACHE_DIR to a writable folder", file: file + "/cache/corpora"))
    }
}

/// Passes over sharded corpora: the stream is the shards' concatenation in the pass's
/// order, sentences are shuffled within one shard at a time, and any step can be made
/// again on its own (exact resume).
struct BatchPassTests {
    let shards: [[[Int32]]] = [
        (0 ..< 23).map { [Int32(2 + $0 % 5), 3] },
        (0 ..< 7).map { Array(repeating: Int32(10 + $0), count: $0 % 4) },
        (0 ..< 41).map { Array(repeating: 30, count: $0 % 9) },
    ]

    @Test func aStreamOverShardsIsTheirConcatenationInTheDrawnOrder() throws {
        let corpus = TokenCorpus(shards: shards, eos: 0)
        var generator: SeededGenerator? = SeededGenerator(seed: 5)
        let order = Batching.shardOrder(corpus, &generator)
        #expect(order.sorted() == [0, 1, 2] && generator != nil && generator!.state != SeededGenerator(seed: 5).state)
        let pass = StreamPass(corpus, order: order, batchSize: 3, bptt: 4, backwardDirections: [false, true])
        let expected = Batching.stream(order.flatMap { shards[$0] }, eos: 0, batchSize: 3, bptt: 4, backwardDirections: [false, true])
        #expect(try pass.allSteps() == expected)
        // One shard, or evaluation: the listed order, and no draw.
        var none: SeededGenerator? = nil
        #expect(Batching.shardOrder(corpus, &none) == [0, 1, 2])
        var one: SeededGenerator? = SeededGenerator(seed: 5)
        #expect(Batching.shardOrder(TokenCorpus(lines: shards[0], eos: 0), &one) == [0] && one!.state == SeededGenerator(seed: 5).state)
    }

    @Test func sentencesComeShardByShardAndEveryStepRemakesAlone() throws {
        let corpus = TokenCorpus(shards: shards, eos: 0)
        var generator: SeededGenerator? = SeededGenerator(seed: 9)
        let pass = try SentencePass(corpus, bos: 1, batchSize: 4, maxLength: 3, bucket: false, backwardDirections: [false, true],
                                    shuffle: &generator)
        let steps = try pass.allSteps()
        #expect(steps.count == pass.count)
        // Every target of every shard is scored once: pieces of length ≤ 3 targets.
        let targets = shards.flatMap { $0 }.reduce(0) { $0 + $1.count + 1 }
        #expect(steps.reduce(0) { $0 + $1[0].targetCount } == targets)
        // Steps never mix shards: the shards' words are disjoint (2…6, 10…16, 30).
        let shardOf: (Int32) -> Int? = { $0 >= 30 ? 2 : $0 >= 10 ? 1 : $0 >= 2 ? 0 : nil }
        var seen: [Int] = []
        for step in steps {
            let owners = Set(step[0].inputs.compactMap(shardOf))
            #expect(owners.count == 1)
            if seen.last != owners.first! { seen.append(owners.first!) }
        }
        #expect(seen.sorted() == [0, 1, 2])   // each shard once, in the drawn order
        // A fresh pass from the same generator makes any step alone (a resumed epoch), in any order.
        var again: SeededGenerator? = SeededGenerator(seed: 9)
        let resumed = try SentencePass(corpus, bos: 1, batchSize: 4, maxLength: 3, bucket: false, backwardDirections: [false, true],
                                       shuffle: &again)
        #expect(again!.state == generator!.state)
        for index in [steps.count - 1, 0, steps.count / 2, 1] { #expect(try resumed.step(index) == steps[index]) }
    }

    @Test func aOneShardPassDrawsWhatTheWholeSplitShuffleDrew() throws {
        // The generator after a pass is the one the next epoch starts from: it must have
        // advanced exactly as far as the pass's shuffles, with and without bucketing.
        for bucket in [false, true] {
            var counted: SeededGenerator? = SeededGenerator(seed: 2)
            let pass = try SentencePass(TokenCorpus(lines: shards[2], eos: 0), bos: 1, batchSize: 4, maxLength: 3, bucket: bucket,
                                        backwardDirections: [false], shuffle: &counted)
            var drawn = SeededGenerator(seed: 2)
            var pieces = Array(0 ..< shards[2].reduce(0) { $0 + ($1.count + 1 + 2) / 3 })
            Batching.shuffleInPlace(&pieces, &drawn)
            var batches = Array(0 ..< pass.count)
            Batching.shuffleInPlace(&batches, &drawn)
            #expect(counted!.state == drawn.state)
        }
    }
}
