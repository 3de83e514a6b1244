import Foundation
import HarnessData
import HarnessKernels
import HarnessModel
import HarnessTraining

/// One sentence's ELMo representations.
public struct SentenceEmbedding: Sendable {
    public var tokens: [String]
    /// Tokens outside the vocabulary (embedded as `<unk>` by a word encoder).
    public var unknown: [Bool]
    /// [token][layer] → vector. Layer 0 is the token representation, duplicated [x; x]
    /// for a biLM; layer k is [forward_k; backward_k] (forward_k alone for a one-way model).
    public var layers: [[[Float]]]
}

/// Contextual word vectors from a trained biLM (Peters et al. 2018).
///
/// Each sentence `w1 … wn` is read as `<bos> w1 … wn` by the forward LM and
/// `<eos> wn … w1` by the backward LM (`<eos>` stands in for `<bos>` when the model was
/// trained in stream mode), and each word takes the layer outputs at its own position.
/// A char-CNN model embeds every word from its characters, in the vocabulary or not (as
/// bilm-tf and AllenNLP do); a word-table model reads words outside it as `<unk>`.
///
/// By default every sentence starts from a zero state, so its vectors do not depend on
/// the other sentences, their order or the batch (the stateful ELMo of AllenNLP does:
/// its most repeated complaint) — bit for bit on every CPU, as its products run with
/// `StepContext.batchInvariant`. `stateful` carries each direction's state from sentence
/// to sentence instead, one sentence at a time, as bilm-tf's `BidirectionalLanguageModel`
/// and AllenNLP's `Elmo` carry it per batch row: for a model with `<bos>`, each
/// direction then reads the whole `<bos> w1 … wn <eos>` (the backward one
/// `<eos> wn … w1 <bos>`), so the state handed on has read the sentence's far boundary
/// too, exactly as theirs (bilm/model.py `_build_lstms`). A stream-trained model (no
/// `<bos>`) reads `<eos> w1 … wn` and hands on its state there: the next sentence's
/// leading `<eos>` is the boundary of its training stream.
public final class ContextualEmbedder {
    public let experiment: Experiment
    public let maxLength: Int
    private let context: StepContext = {
        let context = StepContext(training: false)
        context.batchInvariant = true
        return context
    }()

    /// The embedder takes the model for itself: its recurrent layers lay their weights out
    /// once for the inference kernels and release the plain values (`BiLM.prepareForInference`),
    /// so that memory holds them once; the model can no longer train, be saved or exported.
    ///
    /// - Parameter maxLength: longer sentences are refused (a `DataError` naming the line).
    public init(_ experiment: Experiment, maxLength: Int = 1000) {
        self.experiment = experiment
        self.maxLength = maxLength
        experiment.model.prepareForInference()
    }

    public var model: BiLM<Float> { experiment.model }
    public var layerCount: Int { model.configuration.recurrent.layers + 1 }
    public var isBidirectional: Bool { model.configuration.direction == .bidirectional }

    /// Whether layer 0 and the LSTM layers have one size, as a scalar mix needs.
    public var layersHaveOneSize: Bool { model.configuration.recurrent.outputSize == tokenSize }

    /// The size of one layer's vector: twice the layer output for a biLM ([forward; backward]).
    public var vectorSize: Int { (isBidirectional ? 2 : 1) * model.configuration.recurrent.outputSize }

    private var tokenSize: Int { model.encoder.outputSize }

    /// Embeds `sentences` (already split into tokens), `batchSize` at a time; `lines`
    /// gives each sentence's line number for messages.
    public func embed(_ sentences: [[String]], lines: [Int]? = nil, file: String = "input",
                      batchSize: Int = 32, stateful: Bool = false) throws -> [SentenceEmbedding] {
        for (i, s) in sentences.enumerated() where s.count > maxLength {
            throw DataError("sentence of \(s.count) tokens; the limit is \(maxLength) (--max-length)", file: file, line: lines?[i] ?? i + 1)
        }
        let vocabulary = experiment.vocabulary
        let start = vocabulary.bosID ?? vocabulary.eosID, end = vocabulary.eosID
        var result = sentences.map { s in
            SentenceEmbedding(tokens: s, unknown: s.map { vocabulary.id($0) == vocabulary.unkID && $0 != Vocabulary.unk }, layers: [])
        }
        // Stateless: longest first, so that each batch's live rows are a prefix that shrinks
        // step by step (`StepContext.liveRows`) and batches hold sentences of like lengths.
        // Stateful: in the input's order, one sentence at a time.
        var order = sentences.indices.filter { !sentences[$0].isEmpty }
        if !stateful { order.sort { (sentences[$0].count, $1) > (sentences[$1].count, $0) } }
        let groups = stateful ? order.map { [$0] } : stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0 ..< min($0 + batchSize, order.count)]) }
        // bilm-tf's statefulness: both boundaries read before the state is handed on.
        let readsWholeSentence = stateful && vocabulary.bosID != nil
        model.resetState()
        defer {
            model.resetState()
            _ = model.encoder.setWordsOutsideVocabulary([])
        }
        for group in groups {
            context.arena.reset()
            let ids = tokenIDs(group.map { sentences[$0] })
            let sequences = group.indices.map { [start] + ids[$0] + [end] }
            let batches = experiment.backwardDirections.map { backward in
                readsWholeSentence ? Self.wholeSequence(sequences[0], backward: backward) : SequenceBatch.sentences(sequences, backward: backward)
            }
            context.liveRows = batches[0].liveRows
            let (tokens, layers) = model.representations(batches, carryState: stateful, context: context)
            let b = batches[0].batchSize
            for (column, index) in group.enumerated() {
                let words = sentences[index].count
                result[index].layers = (1...words).map { i in
                    // Word i sits at step i forward and at step words + 1 − i backward.
                    let rows = experiment.backwardDirections.map { $0 ? (words + 1 - i) * b + column : i * b + column }
                    var vectors: [[Float]] = []
                    let token = Array(UnsafeBufferPointer(start: tokens.row(rows[0]), count: tokens.columns))
                    vectors.append(isBidirectional ? token + token : token)
                    for k in 0..<(layerCount - 1) {
                        vectors.append(rows.enumerated().flatMap { d, row in
                            Array(UnsafeBufferPointer(start: layers[d][k].row(row), count: layers[d][k].columns))
                        })
                    }
                    return vectors
                }
            }
        }
        return result
    }

    /// The ids of `sentences`' words: a word outside the vocabulary gets an id after it
    /// when the encoder reads characters (`setWordsOutsideVocabulary`), else `<unk>`'s.
    private func tokenIDs(_ sentences: [[String]]) -> [[Int32]] {
        let vocabulary = experiment.vocabulary
        var outside: [String] = [], outsideID: [TokenKey: Int32] = [:]
        for word in sentences.joined() where !vocabulary.contains(word) && outsideID[TokenKey(word)] == nil {
            outsideID[TokenKey(word)] = Int32(vocabulary.count + outside.count)
            outside.append(word)
        }
        guard model.encoder.setWordsOutsideVocabulary(outside) else { return sentences.map { $0.map(vocabulary.id) } }
        return sentences.map { $0.map { outsideID[TokenKey($0)] ?? vocabulary.id($0) } }
    }

    /// One sequence read whole by one direction (reversed for the backward one): every
    /// token is an input, so the final state has read the last one. No targets.
    private static func wholeSequence(_ sequence: [Int32], backward: Bool) -> SequenceBatch {
        SequenceBatch(steps: sequence.count, batchSize: 1, inputs: backward ? sequence.reversed() : sequence,
                      targets: Array(repeating: 0, count: sequence.count))
    }
}
