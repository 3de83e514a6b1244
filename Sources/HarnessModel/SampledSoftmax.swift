import HarnessKernels

/// `sampled-softmax`: the full softmax's W and b, trained on the true class against a
/// sample of log-uniform negatives drawn per step and direction (Jean et al. 2015), as
/// bilm-tf trains ELMo; evaluated with the full softmax.
public struct SampledSoftmaxComponent: OutputComponent, Equatable {
    /// K, the distinct negatives drawn per step and direction.
    public var samples: Int
    public var tieWeights: Bool
    public var biasInit: BiasInit

    public init(samples: Int, tieWeights: Bool = false, biasInit: BiasInit = .zeros) {
        self.samples = samples
        self.tieWeights = tieWeights
        self.biasInit = biasInit
    }

    public var type: String { "sampled-softmax" }
    public var exactTrainingLoss: Bool { false }

    public var frequencyOrderReason: String? {
        "Sampled softmax's log-uniform sampler assumes the most frequent words first and would draw the wrong negatives"
    }

    public func problems(vocabularySize: Int, inputSize: Int) -> [ComponentProblem] {
        guard samples >= vocabularySize else { return [] }
        return [ComponentProblem(key: "samples",
                                 message: "sampled-softmax samples (\(samples)) must be fewer than the vocabulary (\(vocabularySize) entries)",
                                 note: "use type: softmax, or fewer samples")]
    }

    public func makeLayer<T: Scalar>(vocabularySize: Int, inputSize: Int, tiedTo: Parameter<T>?,
                                     initScale: Double) -> any OutputLayer<T> {
        SampledSoftmaxLayer<T>(vocabularySize: vocabularySize, inputSize: inputSize, samples: samples, tiedTo: tiedTo,
                               initScale: initScale, biasInit: biasInit)
    }

    /// D·(K + 1): each token scores its true class and the K negatives.
    public func multiplyAdds(inputSize: Int, vocabularySize: Int) -> Int { inputSize * (samples + 1) }
}

/// The sampled softmax layer (TensorFlow's `sampled_softmax_loss` with `remove_accidental_hits`,
/// as bilm-tf uses it). Training outside `context.training`, and evaluation, use the
/// full softmax.
///
/// Shapes: h (N, D), targets (N); W (V, D) and b (1, V) are the full softmax's.
public final class SampledSoftmaxLayer<T: Scalar>: OutputLayer {
    /// The logit given to a sampled candidate that is the row's own target (an
    /// "accidental hit", removed as in TensorFlow's sampled_softmax_loss): its exp
    /// underflows to 0, and a quarter of the largest finite value keeps the row's
    /// max-subtracted sums finite.
    static var removedLogit: T { -T.greatestFiniteMagnitude / 4 }

    /// W and b, and the evaluation.
    public let full: SoftmaxLayer<T>
    public let sampler: LogUniformSampler

    public init(vocabularySize: Int, inputSize: Int, samples: Int, tiedTo embedding: Parameter<T>?, initScale: Double,
                biasInit: BiasInit = .zeros) {
        full = SoftmaxLayer(vocabularySize: vocabularySize, inputSize: inputSize, tiedTo: embedding, initScale: initScale,
                            biasInit: biasInit)
        sampler = LogUniformSampler(vocabularySize: vocabularySize, count: samples)
    }

    public var parameters: [Parameter<T>] { full.parameters }
    /// A training step writes the rows (and bias entries) of its candidates and targets.
    public var rowSparseParameters: [Parameter<T>] { [full.weight, full.bias] }

    /// In training, each segment (direction) draws its own negatives, as bilm-tf's two
    /// sampled_softmax_loss calls do.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @discardableResult
    public func loss(_ h: Matrix<T>, segments: Int, targets: UnsafePointer<Int32>, weights: UnsafePointer<T>?,
                     gradientScale: T?, rowLosses: UnsafeMutablePointer<T>?, context: StepContext,
                     sampling: inout SeededGenerator) -> (nll: Double, dh: Matrix<T>?) {
        guard let gradientScale, context.training else {
            return full.loss(h, segments: segments, targets: targets, weights: weights, gradientScale: gradientScale,
                             rowLosses: rowLosses, context: context, sampling: &sampling)
        }
        precondition(h.rows % segments == 0, "\(h.rows) rows do not split into \(segments) equal segments")
        let n = h.rows / segments
        let dh = context.arena.matrix(h.rows, h.columns, of: T.self)
        var nll = 0.0
        for d in 0..<segments {
            let part = sampledSoftmax(h.rows(d * n ..< (d + 1) * n), targets: targets + d * n, weights: weights.map { $0 + d * n },
                                      gradientScale: gradientScale, rowLosses: rowLosses.map { $0 + d * n }, context: context,
                                      generator: &sampling)
            nll += part.nll
            dh.row(d * n).update(from: part.dh.base, count: part.dh.count)
        }
        return (nll, dh)
    }

    /// Sampled softmax: the true class against candidates drawn for this call, each logit
    /// corrected by −log Q (its expected count), accidental hits removed. Returns the
    /// sampled NLL (an estimate, used for training only) and ∂(s·Σ w_n NLL_n)/∂h,
    /// accumulating the gradients of the rows of W and b that took part.
    func sampledSoftmax(_ h: Matrix<T>, targets: UnsafePointer<Int32>, weights: UnsafePointer<T>?,
                        gradientScale: T, rowLosses: UnsafeMutablePointer<T>?,
                        context: StepContext, generator: inout SeededGenerator) -> (nll: Double, dh: Matrix<T>) {
        let weight = full.weight, bias = full.bias
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
            weight.touchRow(Int(id)); bias.touchValues(Int(id), count: 1)
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
            weight.touchRow(y); bias.touchValues(y, count: 1)
            axpy(d, dTrue, h.row(r), weight.gradient.row(y))
            bias.gradient.base[y] += dTrue
            axpy(d, dTrue, weight.value.row(y), dh.row(r))
        }
        return (nll, dh)
    }
}
