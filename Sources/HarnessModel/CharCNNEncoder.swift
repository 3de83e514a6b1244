import HarnessKernels

/// The char-CNN's hyperparameters (defaults: ELMo's filters up to width 5, 2 highways).
/// `char-cnn`: the char-CNN's hyperparameters (Kim et al. 2016; ELMo's defaults).
public struct CharCNNConfiguration: TokenEncoderComponent, Equatable {
    public enum Activation: String, Sendable, CaseIterable { case tanh, relu }
    /// The padding character's embedding: `trained` like every other character (bilm-tf), or
    /// `zero`, a constant zero vector that receives no gradient (Kim et al. 2016's
    /// lstm-char-cnn: "zero-padding vector is always zero", main.lua).
    public enum PaddingEmbedding: String, Sendable, CaseIterable { case trained, zero }
    public var characterEmbeddingSize = 16
    /// (width, number of filters) pairs.
    public var filters: [Filter] = [.init(1, 32), .init(2, 32), .init(3, 64), .init(4, 128), .init(5, 256)]
    public var activation = Activation.tanh
    public var highwayLayers = 2
    /// Whether a linear map F → `outputSize` follows the highways (bilm-tf); without it
    /// the highway output is the token representation (Kim et al. 2016) and `outputSize` is F.
    public var projects = true
    public var outputSize = 256
    /// K, characters per token with the begin- and end-of-word markers.
    public var maxCharacterCount = 50
    /// `padding_embedding`: how the padding character is embedded.
    public var paddingEmbedding = PaddingEmbedding.trained

    public struct Filter: Sendable, Equatable {
        public var width: Int
        public var count: Int
        public init(_ width: Int, _ count: Int) { self.width = width; self.count = count }
    }

    public init() {}
    public var filterTotal: Int { filters.reduce(0) { $0 + $1.count } }

    public var type: String { "char-cnn" }
    public var maxCharacters: Int? { maxCharacterCount }
    public var hasEmbeddingTable: Bool { false }

    public func makeEncoder<T: Scalar>(vocabularySize: Int, characters: CharacterTable?, initScale: Double) -> any TokenEncoder<T> {
        guard let characters else { preconditionFailure("the char-CNN encoder needs a character table") }
        precondition(characters.vocabularySize == vocabularySize,
                     "character table covers \(characters.vocabularySize) tokens, vocabulary has \(vocabularySize)")
        return CharCNNEncoder<T>(configuration: self, characters: characters, initScale: initScale)
    }

    /// Σ_w n_w·C·w·(K − w + 1) for the convolutions, 2F² per highway layer, F·D for the
    /// projection (if any); counted for every token (the encoder runs once per distinct token of a
    /// call, so the real cost is lower).
    public func multiplyAdds() -> Int {
        let k = maxCharacterCount, f = filterTotal
        return filters.reduce(0) { $0 + $1.count * characterEmbeddingSize * $1.width * (k - $1.width + 1) }
            + highwayLayers * f * 2 * f + (projects ? f * outputSize : 0)
    }
}

/// The `char-cnn` token encoder of Kim et al. 2016 as used by ELMo (Peters et al. 2018,
/// bilm-tf): character embeddings → one 1-D convolution per width → max over positions →
/// tanh or relu → highway layers → linear projection (bilm-tf; none in Kim et al. 2016).
///
/// Shapes: ids (N) → characters (N, K) → embeddings (N·K, C) → per width w with n_w
/// filters: windows (N·(K−w+1), w·C) · (n_w, w·C)ᵀ → max over the K−w+1 positions →
/// concatenation (N, F = Σ n_w) → highways (N, F) → projection (N, D), or D = F without one.
/// Padding characters are convolved like any other: with their trained embedding (as in
/// bilm-tf) or, with `padding_embedding: zero`, as zero vectors (Kim et al. 2016; the
/// table's padding row is then zero, untouched by training). The CNN runs once
/// per distinct token of a call (a step's directions share most of theirs), and its rows
/// are gathered back. Words outside the vocabulary can be given ids after it
/// (`setWordsOutsideVocabulary`) and are embedded from their characters.
public final class CharCNNEncoder<T: Scalar>: TokenEncoder {
    public typealias Configuration = CharCNNConfiguration

    public let configuration: Configuration
    public let characters: CharacterTable
    public let characterEmbedding: Parameter<T>
    public let convolutionWeights: [Parameter<T>]   // (n_w, w·C) each
    public let convolutionBiases: [Parameter<T>]    // (1, n_w) each
    public let highways: [Highway<T>]
    public let projection: Linear<T>?

    // Cache of the last forward pass.
    private var count = 0
    /// slot[id] = row of `id` among the call's distinct tokens, or −1; ids past the
    /// vocabulary are the words of `setWordsOutsideVocabulary`.
    private var slot: [Int32]
    /// (E, K): the character ids of the words outside the vocabulary, ids V ..< V + E.
    private var extraCharacters: [Int32] = []
    /// Rows of the last call, and each one's row among its distinct tokens.
    private var rows = 0
    private var distinctRow: UnsafeMutablePointer<Int32>!
    /// The widest filter and the largest filter count (scratch sizes, fixed at init).
    private let maxWindow: Int, maxFilters: Int
    private var characterIDs: UnsafeMutablePointer<Int32>!   // (N, K)
    private var embedded: Matrix<T>!                          // (N·K, C)
    private var pooled: Matrix<T>!                            // (N, F), after the activation
    private var argmax: UnsafeMutablePointer<Int32>!          // (N, F) winning position

    /// Words encoded per block of the convolution (bounds the window buffers).
    private let wordsPerBlock = 128

    public init(configuration: Configuration, characters: CharacterTable, initScale: Double) {
        self.configuration = configuration
        self.characters = characters
        slot = Array(repeating: -1, count: characters.vocabularySize)
        maxWindow = configuration.filters.map(\.width).max() ?? 1
        maxFilters = configuration.filters.map(\.count).max() ?? 1
        let c = configuration.characterEmbeddingSize
        let zeroRows = configuration.paddingEmbedding == .zero ? [Int(CharacterIDs.padding)] : []
        characterEmbedding = Parameter("encoder.char_embedding", rows: CharacterIDs.count, columns: c,
                                       initializer: zeroRows.isEmpty ? .uniform(scale: initScale)
                                                                     : .uniformZeroingRows(scale: initScale, zeroRows))
        convolutionWeights = configuration.filters.map {
            Parameter("encoder.conv\($0.width).weight", rows: $0.count, columns: $0.width * c, initializer: .uniform(scale: initScale))
        }
        convolutionBiases = configuration.filters.map {
            Parameter("encoder.conv\($0.width).bias", rows: 1, columns: $0.count, initializer: .uniform(scale: initScale))
        }
        let f = configuration.filterTotal
        highways = (0..<configuration.highwayLayers).map { Highway("encoder.highway\($0)", size: f, initScale: initScale) }
        precondition(configuration.projects || configuration.outputSize == f,
                     "without a projection the token representation has the filters' \(f) columns, not \(configuration.outputSize)")
        projection = configuration.projects
            ? Linear("encoder.projection", inputSize: f, outputSize: configuration.outputSize, initScale: initScale) : nil
        for filter in configuration.filters {
            precondition(filter.width <= characters.maxCharacters,
                         "filter width \(filter.width) exceeds max_characters \(characters.maxCharacters)")
        }
    }

    public var outputSize: Int { configuration.outputSize }

    public var parameters: [Parameter<T>] {
        [characterEmbedding] + convolutionWeights + convolutionBiases
            + highways.flatMap(\.parameters) + (projection?.parameters ?? [])
    }

    public var embeddingTable: Parameter<T>? { nil }

    public func setWordsOutsideVocabulary(_ words: [String]) -> Bool {
        extraCharacters = words.flatMap { CharacterIDs.ids(for: .word($0), maxCharacters: characters.maxCharacters) }
        slot = Array(repeating: -1, count: characters.vocabularySize + words.count)
        return true
    }

    /// ids (N) → (N, D): the CNN over the call's distinct tokens, gathered back to the rows.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forward(ids: UnsafePointer<Int32>, count n: Int, context: StepContext) -> Matrix<T> {
        let arena = context.arena
        distinctRow = arena.allocate(n, of: Int32.self)
        rows = n
        let uniqueIDs = arena.allocate(n, of: Int32.self)
        var distinct = 0
        for r in 0..<n {
            let id = Int(ids[r])
            precondition(id >= 0 && id < slot.count, "token id \(id) outside the vocabulary of \(slot.count)")
            if slot[id] < 0 { slot[id] = Int32(distinct); uniqueIDs[distinct] = ids[r]; distinct += 1 }
            distinctRow[r] = slot[id]
        }
        for u in 0..<distinct { slot[Int(uniqueIDs[u])] = -1 }
        let encoded = forwardDistinct(ids: uniqueIDs, count: distinct, context: context)
        let tokens = arena.matrix(n, encoded.columns, of: T.self)
        for r in 0..<n { tokens.row(r).update(from: encoded.row(Int(distinctRow[r])), count: encoded.columns) }
        return tokens
    }

    /// dy (N, D): summed into the distinct tokens' rows, then through the CNN.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func backward(_ dy: Matrix<T>, context: StepContext) {
        let dDistinct = context.arena.matrix(count, dy.columns, zeroed: true, of: T.self)
        for r in 0..<rows { axpy(dy.columns, 1, dy.row(r), dDistinct.row(Int(distinctRow[r]))) }
        backwardDistinct(dDistinct, context: context)
    }

    /// ids (N) of distinct tokens → (N, D).
    private func forwardDistinct(ids: UnsafePointer<Int32>, count n: Int, context: StepContext) -> Matrix<T> {
        let k = characters.maxCharacters, c = configuration.characterEmbeddingSize
        let f = configuration.filterTotal
        count = n
        // Characters and their embeddings.
        characterIDs = context.arena.allocate(n * k, of: Int32.self)
        embedded = context.arena.matrix(n * k, c, of: T.self)
        let v = characters.vocabularySize
        characters.ids.withUnsafeBufferPointer { table in
            extraCharacters.withUnsafeBufferPointer { extra in
                for r in 0..<n {
                    let id = Int(ids[r])
                    precondition(id >= 0 && id < v + extra.count / k,
                                 "token id \(id) outside the character table of \(v) + \(extra.count / k) words")
                    (characterIDs + r * k).update(from: id < v ? table.baseAddress! + id * k : extra.baseAddress! + (id - v) * k, count: k)
                }
            }
        }
        let zeroPadding = configuration.paddingEmbedding == .zero
        for i in 0..<(n * k) {
            let id = characterIDs[i]
            if zeroPadding && id == CharacterIDs.padding {
                embedded.row(i).update(repeating: 0, count: c)
            } else {
                embedded.row(i).update(from: characterEmbedding.value.row(Int(id)), count: c)
            }
        }
        // Convolutions with max-pooling, one block of words at a time.
        pooled = context.arena.matrix(n, f, of: T.self)
        argmax = context.arena.allocate(n * f, of: Int32.self)
        let block = min(wordsPerBlock, max(n, 1))
        let windows = context.arena.allocate(block * k * maxWindow * c, of: T.self)
        let responses = context.arena.allocate(block * k * maxFilters, of: T.self)
        var column = 0
        for (index, filter) in configuration.filters.enumerated() {
            let w = filter.width, positions = k - w + 1, nf = filter.count
            var start = 0
            while start < n {
                let words = min(block, n - start)
                // im2col: row (word, p) = embedded rows p..<p+w of that word, flattened.
                let a = Matrix(base: windows, rows: words * positions, columns: w * c)
                for word in 0..<words {
                    let source = embedded.row((start + word) * k)
                    for p in 0..<positions {
                        a.row(word * positions + p).update(from: source + p * c, count: w * c)
                    }
                }
                let y = Matrix(base: responses, rows: words * positions, columns: nf)
                gemm(a, convolutionWeights[index].value, into: y, transposeB: true, batchInvariant: context.batchInvariant)
                for word in 0..<words {
                    let out = pooled.row(start + word) + column
                    let best = argmax + (start + word) * f + column
                    out.update(from: y.row(word * positions), count: nf)
                    best.update(repeating: 0, count: nf)
                    for p in 1..<max(positions, 1) {
                        let candidate = y.row(word * positions + p)
                        for j in 0..<nf where candidate[j] > out[j] {
                            out[j] = candidate[j]
                            best[j] = Int32(p)
                        }
                    }
                    axpy(nf, 1, convolutionBiases[index].value.base, out)
                }
                start += words
            }
            column += nf
        }
        switch configuration.activation {
        case .tanh: tanhInPlace(n * f, pooled.base)
        case .relu: for i in 0..<(n * f) { pooled.base[i] = max(pooled.base[i], 0) }
        }
        var x = pooled!
        for highway in highways { x = highway.forward(x, context: context) }
        return projection?.forward(x, context: context) ?? x
    }

    /// dy (N, D) of the distinct tokens: accumulates the gradients of every parameter (the ids have none).
    private func backwardDistinct(_ dy: Matrix<T>, context: StepContext) {
        let n = count, k = characters.maxCharacters, c = configuration.characterEmbeddingSize
        let f = configuration.filterTotal
        var dx = projection?.backward(dy, context: context) ?? dy
        for highway in highways.reversed() { dx = highway.backward(dx, context: context) }
        // Through the activation.
        for i in 0..<(n * f) {
            let a = pooled.base[i]
            switch configuration.activation {
            case .tanh: dx.base[i] *= 1 - a * a
            case .relu: if a <= 0 { dx.base[i] = 0 }
            }
        }
        // Through max-pooling and the convolutions: only the winning window of each
        // (word, filter) receives gradient, so scatter directly instead of a dense GEMM.
        let dEmbedded = context.arena.matrix(n * k, c, zeroed: true, of: T.self)
        var column = 0
        for (index, filter) in configuration.filters.enumerated() {
            let width = filter.width * c
            let weight = convolutionWeights[index]
            let biasGradient = convolutionBiases[index].gradient.base
            for word in 0..<n {
                let g = dx.row(word) + column
                let best = argmax + word * f + column
                axpy(filter.count, 1, g, biasGradient)
                for j in 0..<filter.count where g[j] != 0 {
                    let window = (Int(best[j]) + word * k) * c
                    axpy(width, g[j], embedded.base + window, weight.gradient.row(j))
                    axpy(width, g[j], weight.value.row(j), dEmbedded.base + window)
                }
            }
            column += filter.count
        }
        let zeroPadding = configuration.paddingEmbedding == .zero
        for i in 0..<(n * k) where !(zeroPadding && characterIDs[i] == CharacterIDs.padding) {
            axpy(c, 1, dEmbedded.row(i), characterEmbedding.gradient.row(Int(characterIDs[i])))
        }
    }
}
