import HarnessKernels

/// How a bias starts (`model.output.bias_init`, and the LSTM's `bias_init`).
public enum BiasInit: String, CaseIterable, Sendable {
    /// b = 0: bilm-tf's softmax and LSTM biases (zeros initializers) and TensorFlow's default.
    case zeros
    /// b ~ U(±init_scale), as every other parameter: the PyTorch peer's (it draws all its
    /// parameters so) and Zaremba et al.'s Torch code.
    case uniform
}

@available(*, deprecated, renamed: "BiasInit")
public typealias OutputBiasInit = BiasInit

/// `softmax`: the full softmax over the vocabulary, optionally with W tied to the word
/// embedding (Press & Wolf 2016; Inan et al. 2016).
public struct SoftmaxComponent: OutputComponent, Equatable {
    public var tieWeights: Bool
    public var biasInit: BiasInit

    public init(tieWeights: Bool = false, biasInit: BiasInit = .zeros) {
        self.tieWeights = tieWeights
        self.biasInit = biasInit
    }

    public var type: String { "softmax" }
    public var exactTrainingLoss: Bool { true }

    public func makeLayer<T: Scalar>(vocabularySize: Int, inputSize: Int, tiedTo: Parameter<T>?,
                                     initScale: Double) -> any OutputLayer<T> {
        SoftmaxLayer<T>(vocabularySize: vocabularySize, inputSize: inputSize, tiedTo: tiedTo, initScale: initScale, biasInit: biasInit)
    }

    /// D·V: every token is scored against the whole vocabulary.
    public func multiplyAdds(inputSize: Int, vocabularySize: Int) -> Int { inputSize * vocabularySize }
}

/// The full softmax: logits = h·Wᵀ + b over the vocabulary, its exact NLL in training and
/// evaluation. Also the evaluation of the sampled softmax (`SampledSoftmaxLayer`).
///
/// Shapes: h (N, D), targets (N), W (V, D) `output.weight`, b (1, V) `output.bias`.
public final class SoftmaxLayer<T: Scalar>: OutputLayer {
    public let weight: Parameter<T>
    public let bias: Parameter<T>

    /// Logit elements computed at once by the full softmax (bounds its scratch memory).
    private let logitsPerBlock = 1 << 22
    /// The row pass `halves` runs, one half per core (see `run(_:)`).
    private var pendingPass: RowPass?
    private var halves: PairedClosure?

    /// - Parameters:
    ///   - tiedTo: the word embedding to share W with, or nil for W of its own.
    ///   - biasInit: b's start: zeros (bilm-tf) or U(±initScale).
    public init(vocabularySize: Int, inputSize: Int, tiedTo embedding: Parameter<T>?, initScale: Double,
                biasInit: BiasInit = .zeros) {
        if let embedding {
            precondition(embedding.rows == vocabularySize && embedding.columns == inputSize,
                         "tied weights need an embedding of (\(vocabularySize), \(inputSize)), not (\(embedding.rows), \(embedding.columns))")
            weight = embedding
        } else {
            weight = Parameter("output.weight", rows: vocabularySize, columns: inputSize, initializer: .uniform(scale: initScale))
        }
        bias = Parameter("output.bias", rows: 1, columns: vocabularySize,
                         initializer: biasInit == .zeros ? .zeros : .uniform(scale: initScale))
    }

    public var parameters: [Parameter<T>] { [weight, bias] }
    public var vocabularySize: Int { weight.rows }

    /// The full softmax's exact NLL; the logits are computed in blocks of rows, and
    /// `segments` and `sampling` are not used.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @discardableResult
    public func loss(_ h: Matrix<T>, segments: Int = 1, targets: UnsafePointer<Int32>, weights: UnsafePointer<T>?,
                     gradientScale: T?, rowLosses: UnsafeMutablePointer<T>?, context: StepContext,
                     sampling: inout SeededGenerator) -> (nll: Double, dh: Matrix<T>?) {
        let v = vocabularySize
        let block = max(1, min(h.rows, logitsPerBlock / v))
        let logitsBuffer = context.arena.allocate(block * v, of: T.self)
        let dh = gradientScale == nil ? nil : context.arena.matrix(h.rows, h.columns, of: T.self)
        var nll = 0.0
        var start = 0
        while start < h.rows {
            let rows = min(block, h.rows - start)
            let hBlock = h.rows(start ..< start + rows)
            let logits = Matrix(base: logitsBuffer, rows: rows, columns: v)
            gemm(hBlock, weight.value, into: logits, transposeB: true)
            let blockNLL = context.arena.allocate(2, of: Double.self)
            blockNLL.initialize(repeating: 0, count: 2)
            run(.biasAndCrossEntropy(logits: logits, targets: targets + start, weights: weights.map { $0 + start },
                                     gradientScale: gradientScale, rowLosses: rowLosses.map { $0 + start }, nll: blockNLL))
            nll += blockNLL[0] + blockNLL[1]
            if let dh {
                gemm(logits, hBlock, into: weight.gradient, transposeA: true, accumulate: true)
                run(.biasGradient(logits: logits))
                gemm(logits, weight.value, into: dh.rows(start ..< start + rows))
            }
            start += rows
        }
        return (nll, dh)
    }

    /// A memory-bound pass over one block of full-softmax logits (N, V).
    private enum RowPass {
        /// logits += b, then the fused softmax cross-entropy of each row (its NLL sum in
        /// `nll[half]`), by halves of the rows.
        case biasAndCrossEntropy(logits: Matrix<T>, targets: UnsafePointer<Int32>, weights: UnsafePointer<T>?,
                                 gradientScale: T?, rowLosses: UnsafeMutablePointer<T>?, nll: UnsafeMutablePointer<Double>)
        /// ∂b += the column sums of the logits' gradient, by halves of the columns.
        case biasGradient(logits: Matrix<T>)
    }

    /// `pass` in two halves on the two cores (`BLAS.splitsInTwo`), else whole: the full
    /// softmax's passes between its GEMMs would otherwise leave one core idle.
    private func run(_ pass: RowPass) {
        guard BLAS.splitsInTwo, PairedWorker.shared.acquire() else { return run(pass, half: 0, of: 1) }
        // Made on first use, here: made in the generic initializer, the closure ran unspecialized.
        let halves = self.halves ?? PairedClosure { [unowned self] half in run(pendingPass!, half: half, of: 2) }
        self.halves = halves
        pendingPass = pass
        PairedWorker.shared.run(halves)
        pendingPass = nil
    }

    private func run(_ pass: RowPass, half: Int, of parts: Int) {
        func part(of count: Int) -> Range<Int> { parts == 1 ? 0 ..< count : half == 0 ? 0 ..< count / 2 : count / 2 ..< count }
        switch pass {
        case let .biasAndCrossEntropy(logits, targets, weights, gradientScale, rowLosses, nll):
            let rows = part(of: logits.rows), first = rows.lowerBound
            let block = logits.rows(rows)
            addRowVector(bias.value.base, to: block)
            nll[half] = softmaxCrossEntropy(logits: block, targets: targets + first, weights: weights.map { $0 + first },
                                            gradientScale: gradientScale, rowLosses: rowLosses.map { $0 + first })
        case let .biasGradient(logits):
            let columns = part(of: logits.columns)
            for r in 0..<logits.rows {
                axpy(columns.count, 1, logits.row(r) + columns.lowerBound, bias.gradient.base + columns.lowerBound)
            }
        }
    }
}
