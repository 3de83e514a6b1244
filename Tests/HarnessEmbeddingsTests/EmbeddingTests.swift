import Foundation
import HarnessData
@testable import HarnessEmbeddings
import HarnessKernels
import HarnessModel
import HarnessSpec
import HarnessTraining
import Testing

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// An untrained model of the smoke spec's shape (bidirectional char-CNN, 2 LSTMP layers,
/// P = D = 16), or its word-encoder twin.
func experiment(word: Bool = false) throws -> Experiment {
    var text = try String(contentsOf: packageRoot.appendingPathComponent("experiments/smoke.yaml"), encoding: .utf8)
        .replacingOccurrences(of: "corpus: Tests/", with: "corpus: \(packageRoot.path)/Tests/")
    if word {
        text = text.replacingOccurrences(of: "type: char-cnn, char_embedding_dim: 8, filters: [[1, 8], [2, 8], [3, 16]], highway_layers: 1,\n                  output_dim: 16, max_characters: 12",
                                         with: "type: word, dim: 16")
    }
    return try Experiment(try SpecLoader.parse(text, file: "smoke.yaml"))
}

let sentences: [[String]] = [["the", "cat", "sat", "on", "the", "mat", "."], ["a", "dog", "ran", "."], [], ["the", "tree"]]

struct EmbeddingShapeTests {
    @Test func layerZeroIsTheTokenRepresentationTwiceAndLayersAreForwardThenBackward() throws {
        let embedder = ContextualEmbedder(try experiment())
        let embedded = try embedder.embed(sentences)
        #expect(embedded.map { $0.layers.count } == [7, 4, 0, 2])
        for sentence in embedded {
            for layers in sentence.layers {
                #expect(layers.count == 3)
                #expect(layers.allSatisfy { $0.count == 32 })
                #expect(Array(layers[0][0..<16]) == Array(layers[0][16..<32]))
            }
        }
        // The same word has the same layer 0 everywhere, but not the same layer 2.
        let the1 = embedded[0].layers[0], the2 = embedded[0].layers[4]
        #expect(the1[0] == the2[0] && the1[2] != the2[2])
    }

    @Test func vectorsMatchTheHiddenStatesOfTheTrainingForwardPass() throws {
        let e = try experiment()
        let words = sentences[0]
        // The trainer's forward pass over the sentence, read from the stacks before the
        // embedder packs the LSTM weights once and releases their plain values.
        let v = e.vocabulary
        let sequence = [v.bosID!] + words.map(v.id) + [v.eosID]
        let batches = [SequenceBatch.sentences([sequence], backward: false), SequenceBatch.sentences([sequence], backward: true)]
        // The embedder's products are batch-invariant (its own kernel); so is this pass.
        let context = StepContext(training: false)
        context.batchInvariant = true
        _ = e.model.evaluate(batches, carryState: false, context: context)
        let n = words.count
        let expected = (0..<2).map { k in
            (1...n).map { i in
                let forward = e.model.stacks[0].layerOutputs[k], backward = e.model.stacks[1].layerOutputs[k]
                return Array(UnsafeBufferPointer(start: forward.row(i), count: 16))
                    + Array(UnsafeBufferPointer(start: backward.row(n + 1 - i), count: 16))
            }
        }
        let embedded = try ContextualEmbedder(e).embed([words])[0]
        for k in 0..<2 {
            for i in 1...n { #expect(embedded.layers[i - 1][k + 1] == expected[k][i - 1], "word \(i) layer \(k + 1)") }
        }
        // The plain LSTM weights are gone; the token encoder's are not.
        let released = e.model.store.releasedParameters
        #expect(released.count == 2 * 2 * 3 && released.allSatisfy { $0.contains("weight") })
        #expect(e.model.stacks.flatMap(\.parameters).filter(\.isReleased).count == released.count)
        #expect(e.model.encoder.parameters.allSatisfy { !$0.isReleased })
    }

    @Test func vectorsDoNotDependOnBatchOrOrder() throws {
        let embedder = ContextualEmbedder(try experiment())
        let alone = try sentences.map { try embedder.embed([$0])[0].layers }
        let together = try embedder.embed(sentences, batchSize: 32).map(\.layers)
        let reversed = try embedder.embed(sentences.reversed(), batchSize: 2).reversed().map(\.layers)
        #expect(alone == together)
        #expect(alone == reversed)
        // Stateful embedding carries context: the second sentence changes.
        let stateful = try embedder.embed(sentences, stateful: true)
        #expect(stateful[0].layers == together[0])
        #expect(stateful[1].layers != together[1])
    }

    /// As bilm-tf and AllenNLP: a char-CNN reads a word outside the vocabulary by its
    /// characters, not as `<unk>` (a word table can only read it as `<unk>`).
    @Test func charModelEmbedsWordsOutsideTheVocabularyFromTheirCharacters() throws {
        let embedder = ContextualEmbedder(try experiment())
        let embedded = try embedder.embed([["zebra", "quokka", "<unk>"], ["a", "zebra"]])
        #expect(embedded[0].unknown == [true, true, false])
        let zebra = embedded[0].layers[0][0], quokka = embedded[0].layers[1][0], unk = embedded[0].layers[2][0]
        #expect(zebra != quokka && zebra != unk && quokka != unk)
        #expect(embedded[1].layers[1][0] == zebra)
        let word = try ContextualEmbedder(try experiment(word: true)).embed([["zebra", "quokka", "<unk>"]])[0]
        #expect(word.layers[0][0] == word.layers[2][0] && word.layers[1][0] == word.layers[2][0])
    }

    @Test func unknownWordsAreFlaggedAndLongSentencesRefused() throws {
        let embedder = ContextualEmbedder(try experiment(word: true), maxLength: 5)
        let embedded = try embedder.embed([["the", "zebra"]])
        #expect(embedded[0].unknown == [false, true])
        #expect(throws: DataError("sentence of 7 tokens; the limit is 5 (--max-length)", file: "in.txt", line: 3)) {
            try embedder.embed([["a"], ["b"], sentences[0]], file: "in.txt")
        }
    }
}

struct ScalarMixTests {
    @Test func oneHotWeightsReturnThatLayerTimesGamma() {
        let layers: [[Float]] = [[1, 2, 3], [4, 5, 6], [-1, 0.5, 2]]
        for k in 0..<3 {
            var weights = [Double](repeating: -200, count: 3)
            weights[k] = 0
            #expect(ScalarMix(weights: weights, gamma: 2.5).mix(layers) == layers[k].map { 2.5 * $0 })
        }
    }

    @Test func weightsAreSoftmaxNormalised() {
        let mix = ScalarMix(weights: [0, Foundation.log(3)], gamma: 1)
        #expect(mix.normalizedWeights.map { ($0 * 1e12).rounded() / 1e12 } == [0.25, 0.75])
        #expect(mix.mix([[4], [8]]) == [7])
    }

    @Test func layerNormNormalisesEachTokenLayer() {
        let mixed = ScalarMix(weights: [0], gamma: 1, layerNorm: true).mix([[1, 3]])
        #expect(abs(mixed[0] + 1) < 1e-6 && abs(mixed[1] - 1) < 1e-6)
    }
}

struct WriterTests {
    @Test func npyHeaderDescribesTheArray() throws {
        let embedder = ContextualEmbedder(try experiment())
        let embedded = try embedder.embed(sentences)
        let (data, index) = EmbeddingWriter.npy(embedded, lines: [1, 2, 3, 4], selection: .all, mix: nil,
                                                layers: embedder.layerCount, size: embedder.vectorSize)
        let bytes = [UInt8](data)
        #expect(Array(bytes[0..<6]) == [0x93] + Array("NUMPY".utf8))
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: bytes[10 ..< 10 + headerLength], as: UTF8.self)
        #expect(header.contains("'shape': (13, 3, 32)") && header.contains("'descr': '<f4'"))
        #expect(bytes.count == 10 + headerLength + 13 * 3 * 32 * 4)
        #expect(index.split(separator: "\n").count == 14)
        #expect(index.contains("4\t2\ttree"))
    }

    @Test func jsonlHasOneObjectPerLineEmptyOnesIncluded() throws {
        let embedded = try ContextualEmbedder(try experiment()).embed(sentences)
        let text = try EmbeddingWriter.jsonl(embedded, lines: [1, 2, 3, 4], selection: .top, mix: nil)
        let objects = try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(objects.count == 4)
        #expect((objects[2]["tokens"] as! [String]).isEmpty)
        #expect(((objects[3]["vectors"] as! [[Double]])[1]).count == 32)
    }

    /// The shape comes from the model: no tokens at all is (0, L+1, D), not (0, 1, 0).
    @Test(arguments: [(LayerSelection.all, "(0, 3, 32)"), (.top, "(0, 32)")])
    func npyOfAnEmptyInputHasTheModelsShape(selection: LayerSelection, shape: String) throws {
        let embedder = ContextualEmbedder(try experiment())
        for input in [[[String]](), [[]]] {
            let embedded = try embedder.embed(input)
            let (data, _) = EmbeddingWriter.npy(embedded, lines: Array(1...max(input.count, 1)).prefix(input.count).map { $0 },
                                                selection: selection, mix: nil, layers: embedder.layerCount, size: embedder.vectorSize)
            #expect(String(decoding: data, as: UTF8.self).contains("'shape': \(shape)"))
        }
    }

    /// JSON cannot hold NaN or infinity: such a vector is refused with its line and token.
    @Test func jsonlRefusesNonFiniteVectors() throws {
        var embedded = try ContextualEmbedder(try experiment()).embed([["the", "tree"]])
        embedded[0].layers[1][2][5] = .nan
        #expect(throws: DataError("the vector of token 2 ('tree') holds nan, which JSON cannot write; the model's weights or the mix are not finite (--format npy writes NaN/inf)",
                                  file: "in.txt", line: 7)) {
            try EmbeddingWriter.jsonl(embedded, lines: [7], selection: .all, mix: nil, file: "in.txt")
        }
        let huge = ScalarMix(weights: [0, 0, 0], gamma: 1e300)
        #expect(throws: DataError.self) { try EmbeddingWriter.jsonl(embedded, lines: [7], selection: .mix, mix: huge, file: "in.txt") }
    }
}
