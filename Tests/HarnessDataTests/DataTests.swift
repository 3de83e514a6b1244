import Foundation
import HarnessKernels
@testable import HarnessData
import HarnessModel
import HarnessTestSupport
import Testing

/// Writes `text` (or raw bytes) to a fresh temporary file and returns its path.
func temporaryFile(_ text: String? = nil, bytes: [UInt8]? = nil, name: String = "file.txt") -> String {
    let path = TestFolder.make("data") + "/" + name
    precondition(FileManager.default.createFile(atPath: path, contents: Data(bytes ?? Array((text ?? "").utf8))), "cannot write \(path)")
    return path
}

struct TextFileTests {
    @Test func linesAndTokensAsPythonSplit() throws {
        let lines = try TextFile.read(temporaryFile(" a b \n\n c\td \r\nlast"))
        #expect(lines == [["a", "b"], [], ["c", "d"], ["last"]])
    }

    @Test func noExtraLineForATrailingNewline() throws {
        #expect(try TextFile.read(temporaryFile("x\ny\n")) == [["x"], ["y"]])
        #expect(try TextFile.read(temporaryFile("")) == [])
    }

    @Test func tokenBudgetCountsEOS() throws {
        // 2 + 1, then 1 + 1: the budget of 4 is reached after the second line.
        #expect(try TextFile.read(temporaryFile("a b\nc\nd e\n"), maxTokens: 4) == [["a", "b"], ["c"]])
    }

    @Test func invalidUTF8IsReportedWithLineAndColumn() {
        let path = temporaryFile(bytes: Array("ok line\nbad ".utf8) + [0xC3, 0x28] + Array(" rest\n".utf8))
        #expect(throws: DataError("invalid UTF-8", file: path, line: 2, column: 5)) { try TextFile.read(path) }
    }

    @Test func aByteOrderMarkIsNotPartOfTheFirstToken() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        #expect(try TextFile.read(temporaryFile(bytes: bom + Array("first word\nsecond\n".utf8))) == [["first", "word"], ["second"]])
        #expect(try TextFile.read(temporaryFile(bytes: bom)) == [])
        // Only at the start: U+FEFF inside a line stays text (a zero-width no-break space).
        #expect(try TextFile.read(temporaryFile(bytes: Array("a ".utf8) + bom + Array("b\n".utf8))) == [["a", "\u{FEFF}b"]])
        // Columns still count the mark's bytes: they are the file's bytes.
        let path = temporaryFile(bytes: bom + [0x61, 0xC3, 0x28, 0x0A])
        #expect(throws: DataError("invalid UTF-8", file: path, line: 1, column: 5)) { try TextFile.read(path) }
    }

    @Test func missingFilesAndFolders() {
        #expect(throws: DataError("file does not exist", file: "/nonexistent/train.txt")) {
            try TextFile.read("/nonexistent/train.txt")
        }
        let folder = FileManager.default.temporaryDirectory.path
        #expect(throws: DataError("expected a text file, found a directory", file: folder)) { try TextFile.read(folder) }
    }
}

struct VocabularyTests {
    let lines = [["b", "a", "b"], ["c", "b", "a"], []]

    @Test func orderedByFrequencyThenString() {
        let v = Vocabulary(training: lines, withBeginOfSentence: false)
        // b: 3, <eos>: 3 (one per line, blank lines too), a: 2, c: 1, <unk>: 0.
        #expect(v.tokens == ["<eos>", "b", "a", "c", "<unk>"])
        #expect(v.counts == [3, 3, 2, 1, 0])
        #expect(v.id("zebra") == v.unkID)
    }

    @Test func minCountAndMaxSizeFoldIntoUnk() {
        let v = Vocabulary(training: lines, minCount: 2, withBeginOfSentence: true)
        #expect(v.tokens == ["<bos>", "<eos>", "b", "a", "<unk>"])
        #expect(v.counts.last == 1)
        let small = Vocabulary(training: lines, maxSize: 4, withBeginOfSentence: false)
        #expect(small.tokens == ["<eos>", "b", "a", "<unk>"])
        #expect(small.counts == [3, 3, 2, 1])
    }

    @Test func givenVocabularyFile() throws {
        let v = try Vocabulary(file: temporaryFile("the\ncat\n"), withBeginOfSentence: false)
        #expect(v.tokens == ["the", "cat", "<eos>", "<unk>"])
        let duplicate = temporaryFile("the\nthe\n")
        #expect(throws: DataError("token 'the' is listed twice: line 1 has 'the'", file: duplicate, line: 2)) {
            try Vocabulary(file: duplicate, withBeginOfSentence: false)
        }
    }
}

struct BatchingTests {
    // Two lines, ids 1..5, <eos> = 0: stream 1 2 0 3 4 5 0 (7 tokens).
    let lines: [[Int32]] = [[1, 2], [3, 4, 5]]

    @Test func streamWindowsCarryAcrossColumns() {
        let steps = Batching.stream(lines, eos: 0, batchSize: 2, bptt: 2, backwardDirections: [false])
        // Columns of length 3: [1 2 0] and [3 4 5]; windows of 2 targets, then none left.
        #expect(steps.count == 1)
        let batch = steps[0][0]
        #expect(batch.steps == 2 && batch.batchSize == 2)
        #expect(batch.inputs == [1, 3, 2, 4])
        #expect(batch.targets == [2, 4, 0, 5])
        #expect(batch.mask == nil)
    }

    @Test func streamBackwardReadsTheReversedStream() {
        let steps = Batching.stream(lines, eos: 0, batchSize: 1, bptt: 4, backwardDirections: [false, true])
        // One column of 7: windows of 4 and 2 targets.
        #expect(steps.map { $0[0].steps } == [4, 2])
        #expect(steps[0][1].inputs == [0, 5, 4, 3])
        #expect(steps[0][1].targets == [5, 4, 3, 0])
        #expect(steps[1][1].inputs == [0, 2] && steps[1][1].targets == [2, 1])
    }

    @Test func sentencesArePaddedMaskedAndCut() {
        var none: SeededGenerator? = nil
        let steps = Batching.sentences([[5, 6, 7, 8, 9], [5]], bos: 1, eos: 0, batchSize: 2, maxLength: 3,
                                       backwardDirections: [false, true], shuffle: &none)
        // Pieces: [1 5 6 7], [7 8 9 0] (cut at 3 targets, sharing 7) and [1 5 0], sorted by length.
        #expect(steps.count == 2)
        let first = steps[0][0]
        #expect(first.batchSize == 2 && first.steps == 3)
        #expect(first.inputs == [1, 1, 5, 5, 0, 6])
        #expect(first.targets == [5, 5, 0, 6, 0, 7])
        #expect(first.mask == [1, 1, 1, 1, 0, 1])
        // Backward: reversed within each piece, never reading padding first.
        #expect(steps[0][1].inputs == [0, 7, 5, 6, 0, 5])
        #expect(steps[0][1].mask == [1, 1, 1, 1, 0, 1])
        #expect(steps[1][0].inputs == [7, 8, 9] && steps[1][0].targets == [8, 9, 0])
    }

    @Test func shufflingIsSeededAndKeepsEveryPiece() {
        let many: [[Int32]] = (0..<50).map { Array(repeating: Int32($0 + 2), count: $0 % 7) }
        var a: SeededGenerator? = SeededGenerator(seed: 1), b: SeededGenerator? = SeededGenerator(seed: 1)
        let x = Batching.sentences(many, bos: 1, eos: 0, batchSize: 4, maxLength: 40, backwardDirections: [false], shuffle: &a)
        let y = Batching.sentences(many, bos: 1, eos: 0, batchSize: 4, maxLength: 40, backwardDirections: [false], shuffle: &b)
        #expect(x == y)
        #expect(x.reduce(0) { $0 + $1[0].targetCount } == many.reduce(0) { $0 + $1.count + 1 })
        var none: SeededGenerator? = nil
        let ordered = Batching.sentences(many, bos: 1, eos: 0, batchSize: 4, maxLength: 40, backwardDirections: [false], shuffle: &none)
        #expect(x != ordered)
    }

    @Test func bucketingCutsPadding() {
        var lengths: SeededGenerator = SeededGenerator(seed: 3)
        let many: [[Int32]] = (0..<400).map { _ in Array(repeating: 5, count: Int(lengths.next() % 30)) }
        func padding(bucket: Bool) -> Int {
            var g: SeededGenerator? = SeededGenerator(seed: 4)
            let steps = Batching.sentences(many, bos: 1, eos: 0, batchSize: 8, maxLength: 40, bucket: bucket,
                                           backwardDirections: [false], shuffle: &g)
            return steps.reduce(0) { $0 + $1[0].count - $1[0].targetCount }
        }
        #expect(padding(bucket: true) * 5 < padding(bucket: false))
    }
}

struct SHA256Tests {
    private func digest(_ text: String) -> String {
        var h = SHA256()
        h.update(Data(text.utf8))
        return h.finalize()
    }

    @Test func nistVectors() {
        #expect(digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(digest(String(repeating: "a", count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func matchesTheEmbeddedCorpusChecksums() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let sums = try String(contentsOf: root.appendingPathComponent("data/wikitext-2/SHA256SUMS"), encoding: .utf8)
        for line in sums.split(separator: "\n") where line.hasSuffix("valid.txt") || line.hasSuffix("test.txt") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            #expect(try SHA256.file(root.appendingPathComponent("data/wikitext-2/\(parts[1])").path) == String(parts[0]))
        }
    }
}
