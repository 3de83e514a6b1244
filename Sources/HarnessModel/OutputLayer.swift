import HarnessKernels

/// The training loss of the output layer.
public enum OutputLoss: Sendable, Equatable {
    case full
    /// Sampled softmax with this many distinct candidates per step and direction, shared by its rows.
    case sampled(samples: Int)
}

/// The word prediction layer: logits = h·Wᵀ + b over the vocabulary, trained with the
/// full softmax or the sampled softmax (Jean et al. 2015), optionally with W tied to the
/// word embedding (Press & Wolf 2016; Inan et al. 2016). Evaluation always uses the full
/// softmax, whatever the training loss.
///
/// Shapes: h (N, D), targets (N), W (V, D), b (1, V).
public final class OutputLayer<T: Scalar> {
    public typealias Loss = OutputLoss

    /// The logit given to a sampled candidate that is the row's own target (an
    /// "accidental hit", removed as in TensorFlow's sampled_softmax_loss): its exp
    /// underflows to 0, and a quarter of the largest finite value keeps the row's
    /// max-subtracted sums finite.
    static var removedLogit: T { -T.greatestFiniteMagnitude / 4 }

    public let loss: Loss
    public let weight: Parameter<T>
    public let bias: Parameter<T>
    public let sampler: LogUniformSampler?

    /// Logit elements computed at once by the full softmax (bounds its scratch memory).
    private let logitsPerBlock = 1 << 22
    /// The row pass `halves` runs, one half per core (see `run(_:)`).
    private var pendingPass: RowPass?
    private var halves: PairedClosure?

    /// - Parameter tiedTo: the word embedding to share W with, or nil for W of its own.
    public init(vocabularySize: Int, inputSize: Int, loss: Loss, tiedTo embedding: Parameter<T>?, initScale: Double) {
        self.loss = loss
        if let embedding {
            precondition(embedding.rows == vocabularySize && embedding.columns == inputSize,
                         "tied weights need an embedding of (\(vocabularySize), \(inputSize)), not (\(embedding.rows), \(embedding.columns))")
            weight = embedding
        } else {
            weight = Parameter("output.weight", rows: vocabularySize, columns: inputSize, initializer: .uniform(scale: initScale))
        }
        bias = Parameter("output.bias", rows: 1, columns: vocabularySize, initializer: .zeros)
        if case .sampled(let samples) = loss {
            sampler = LogUniformSampler(vocabularySize: vocabularySize, count: samples)
        } else {
            sampler = nil
        }
    }

    public var parameters: [Parameter<T>] { [weight, bias] }
    public var vocabularySize: Int { weight.rows }

    /// Σ weight_n · NLL_n in nats under the full softmax, and each row's NLL in `rowLosses`.
    /// With a `gradientScale` s it also accumulates ∂(s·Σ w_n NLL_n)/∂W, ∂/∂b and returns ∂/∂h.
    @discardableResult
    public func fullSoftmax(_ h: Matrix<T>, targets: UnsafePointer<Int32>, weights: UnsafePointer<T>?,
                            gradientScale: T?, rowLosses: UnsafeMutablePointer<T>?,
                            context: StepContext) -> (nll: Double, dh: Matrix<T>?) {
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

    /// Sampled softmax: the true class against candidates drawn for this call, each logit
    /// corrected by −log Q (its expected count), accidental hits removed. Returns the
    /// sampled NLL (an estimate, used for training only) and ∂(s·Σ w_n NLL_n)/∂h,
    /// accumulating the gradients of the rows of W and b that took part.
    public func sampledSoftmax(_ h: Matrix<T>, targets: UnsafePointer<Int32>, weights: UnsafePointer<T>?,
                               gradientScale: T, rowLosses: UnsafeMutablePointer<T>?,
                               context: StepContext, generator: inout SeededGenerator) -> (nll: Double, dh: Matrix<T>) {
        guard let sampler else { preconditionFailure("sampledSoftmax on a full-softmax output layer") }
        let n = h.rows, d = h.columns, k = sampler.count, width = k + 1
        let arena = context.arena
        sampler.sample(generator: &generator)
        // Gather the candidates' weights, biases and corrections.
        let w = arena.matrix(k, d, of: T.self)
        let candidateBias = arena.allocate(k, of: T.self)
        for (j, id) in sampler.candidates.enumerated() {
            w.row(j).update(from: weight.value.row(Int(id)), count: d)
            candidateBias[j] = bias.value.base[Int(id)] - T(sampler.logExpectedCount(Int(id)))
        }
        // Column 0: the true logit; columns 1...k: the candidates.
        let logits = arena.matrix(n, width, of: T.self)
        gemm(transposeA: false, transposeB: true, m: n, n: k, k: d, alpha: 1, a: h.base, lda: d,
             b: w.base, ldb: d, beta: 0, c: logits.base + 1, ldc: width)
        let zeroTargets = arena.allocate(n, of: Int32.self)
        zeroTargets.update(repeating: 0, count: n)
        for r in 0..<n {
            let row = logits.row(r)
            axpy(k, 1, candidateBias, row + 1)
            let y = targets[r]
            row[0] = dot(d, h.row(r), weight.value.row(Int(y))) + bias.value.base[Int(y)]
                - T(sampler.logExpectedCount(Int(y)))
            if let hit = sampler.candidateIndex(of: y) { row[1 + hit] = Self.removedLogit }
        }
        let nll = softmaxCrossEntropy(logits: logits, targets: zeroTargets, weights: weights,
                                      gradientScale: gradientScale, rowLosses: rowLosses)
        // Backward: candidates' gradients scattered back, then the true classes'.
        let dw = arena.matrix(k, d, of: T.self)
        gemm(transposeA: true, transposeB: false, m: k, n: d, k: n, alpha: 1, a: logits.base + 1, lda: width,
             b: h.base, ldb: d, beta: 0, c: dw.base, ldc: d)
        // The candidates' bias gradients: column sums, accumulated row by row (a column
        // walk strides across the whole block).
        let candidateSums = arena.allocate(k, of: T.self)
        candidateSums.initialize(repeating: 0, count: k)
        for r in 0..<n { axpy(k, 1, logits.row(r) + 1, candidateSums) }
        for (j, id) in sampler.candidates.enumerated() {
            axpy(d, 1, dw.row(j), weight.gradient.row(Int(id)))
            bias.gradient.base[Int(id)] += candidateSums[j]
        }
        let dh = arena.matrix(n, d, of: T.self)
        gemm(transposeA: false, transposeB: false, m: n, n: d, k: k, alpha: 1, a: logits.base + 1, lda: width,
             b: w.base, ldb: d, beta: 0, c: dh.base, ldc: d)
        for r in 0..<n {
            let dTrue = logits[r, 0]
            guard dTrue != 0 else { continue }
            let y = Int(targets[r])
            axpy(d, dTrue, h.row(r), weight.gradient.row(y))
            bias.gradient.base[y] += dTrue
            axpy(d, dTrue, weight.value.row(y), dh.row(r))
        }
        return (nll, dh)
    }
}
