import Foundation
@testable import HarnessData
import HarnessKernels
import HarnessModel
import Testing

/// The corpus reader, vocabulary and batching over mutated text: no crash, invalid
/// UTF-8 reported inside the file, and the token and batch invariants hold.
struct CorpusFuzzTests {
    static func seeds() throws -> [[UInt8]] {
        let tiny = packageRoot.appendingPathComponent("Tests/Fixtures/tiny-corpus")
        var seeds = try ["train.txt", "valid.txt", "test.txt"].map { [UInt8](try Data(contentsOf: tiny.appendingPathComponent($0))) }
        let wiki = try Data(contentsOf: packageRoot.appendingPathComponent("data/wikitext-2/valid.txt"))
        seeds.append([UInt8](wiki.prefix(20_000)))
        seeds.append(Array("a b\r\nc\r\n\r\n \t \u{0B}\u{0C}\n\u{00E9}t\u{00E9} \u{1F600}\n".utf8))
        return seeds
    }

    @Test func mutatedCorporaReadAndBatchOrFailAtAPosition() throws {
        var rejected = 0, batches = 0
        let tried = try FuzzBudget.run("corpus", seeds: try Self.seeds()) { bytes, input in
            let newlines = bytes.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            let lines: [[String]]
            do {
                lines = try bytes.withUnsafeBufferPointer { try TextFile.lines($0, file: input, maxTokens: nil) }
            } catch let error as DataError {
                rejected += 1
                #expect(error.message == "invalid UTF-8")
                #expect((1...newlines + 1).contains(error.line ?? 0) && (error.column ?? 0) >= 1)
                return
            }
            #expect(lines.count == newlines + (bytes.last.map { $0 != 0x0A } ?? false ? 1 : 0))
            for token in lines.joined() {
                #expect(!token.isEmpty && !token.utf8.contains { [0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C].contains($0) })
            }
            let vocabulary = Vocabulary(training: lines, withBeginOfSentence: true)
            let ids = vocabulary.encode(lines)
            #expect(ids.joined().allSatisfy { $0 >= 0 && Int($0) < vocabulary.count })
            let stream = Batching.stream(ids, eos: vocabulary.eosID, batchSize: 3, bptt: 5, backwardDirections: [false, true])
            var shuffle: SeededGenerator? = SeededGenerator(seed: 1)
            let sentences = Batching.sentences(ids, bos: vocabulary.bosID!, eos: vocabulary.eosID, batchSize: 4, maxLength: 7,
                                               backwardDirections: [false, true], shuffle: &shuffle)
            let targets = ids.reduce(0) { $0 + $1.count + 1 }
            #expect(sentences.reduce(0) { $0 + $1[0].targetCount } == targets, "every token is a target once per direction")
            batches += stream.count + sentences.count
        }
        print("corpus fuzz: \(tried) inputs, \(rejected) invalid UTF-8, \(batches) batches built (seed \(FuzzBudget.seed), \(FuzzBudget.seconds) s)")
        #expect(tried > 100 && rejected > 0)
    }
}
