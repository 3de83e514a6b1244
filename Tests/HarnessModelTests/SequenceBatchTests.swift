import RealModule
@testable import HarnessModel
import Testing

struct SequenceBatchTests {
    // <bos> = 1, <eos> = 0; sentences of different lengths.
    let sentences: [[Int32]] = [[1, 5, 6, 7, 0], [1, 8, 0]]

    @Test func forwardDirectionIsRightPadded() {
        let batch = SequenceBatch.sentences(sentences, backward: false, padding: 9)
        #expect(batch.steps == 4 && batch.batchSize == 2)
        // Time-major: row t·B + b.
        #expect(batch.inputs == [1, 1, 5, 8, 6, 9, 7, 9])
        #expect(batch.targets == [5, 8, 6, 0, 7, 9, 0, 9])
        #expect(batch.mask == [1, 1, 1, 1, 1, 0, 1, 0])
        #expect(batch.targetCount == 6)
    }

    @Test func liveRowsCountTheSentencesStillRunningWhenSortedLongestFirst() {
        for backward in [false, true] {
            #expect(SequenceBatch.sentences(sentences, backward: backward).liveRows == [2, 2, 1, 1])
            // Shorter first: padding precedes a token in step 2.
            #expect(SequenceBatch.sentences(sentences.reversed(), backward: backward).liveRows == nil)
        }
        let stream = SequenceBatch(steps: 2, batchSize: 3, inputs: [1, 2, 3, 4, 5, 6], targets: [2, 3, 4, 5, 6, 7])
        #expect(stream.liveRows == [3, 3])
    }

    @Test func backwardDirectionNeverReadsPaddingFirst() {
        let batch = SequenceBatch.sentences(sentences, backward: true, padding: 9)
        // Each sentence is reversed within its own length: the backward LM reads <eos>
        // and then the last word first, never a padding token.
        #expect(Array(batch.inputs[0..<2]) == [0, 0])
        #expect(Array(batch.inputs[2..<4]) == [7, 8])
        #expect(batch.targets == [7, 8, 6, 1, 5, 9, 1, 9])
        #expect(batch.mask == [1, 1, 1, 1, 1, 0, 1, 0])
        for (position, isReal) in batch.mask!.enumerated() where isReal == 1 {
            #expect(batch.inputs[position] != 9, "a real target is predicted from padding at row \(position)")
        }
    }
}

struct CharacterIDTests {
    @Test func wordsAreBytesBetweenMarkers() {
        #expect(CharacterIDs.ids(for: .word("cat"), maxCharacters: 7) == [258, 99, 97, 116, 259, 260, 260])
        // Multi-byte UTF-8 is kept as bytes.
        #expect(CharacterIDs.ids(for: .word("é"), maxCharacters: 5) == [258, 0xC3, 0xA9, 259, 260])
    }

    @Test func longWordsKeepTheirFirstBytes() {
        #expect(CharacterIDs.ids(for: .word("abcdefgh"), maxCharacters: 5) == [258, 97, 98, 99, 259])
    }

    @Test func sentenceBoundariesHaveTheirOwnCharacter() {
        #expect(CharacterIDs.ids(for: .sentenceStart, maxCharacters: 4) == [258, 256, 259, 260])
        #expect(CharacterIDs.ids(for: .sentenceEnd, maxCharacters: 4) == [258, 257, 259, 260])
    }
}

struct PerplexityTests {
    @Test func isEToTheMeanNLLInNats() {
        // 2 tokens, total NLL 2·ln 50 → perplexity 50 (2^loss would give ~15).
        let p = Perplexity([DirectionLoss(nll: 2 * Double.log(50), tokens: 2)])
        #expect(abs(p.directions[0] - 50) < 1e-9)
    }

    @Test func biLMReportsTheMeanOfTheDirections() {
        let p = Perplexity([DirectionLoss(nll: Double.log(100), tokens: 1), DirectionLoss(nll: Double.log(60), tokens: 1)])
        #expect(abs(p.mean - 80) < 1e-9)
    }
}
