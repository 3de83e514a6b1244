import Foundation
import HarnessKernels
import HarnessModel
import Yams

/// `adaptive-softmax`: the adaptive softmax of Grave et al. 2017 ("Efficient softmax
/// approximation for GPUs"), with PyTorch's `nn.AdaptiveLogSoftmaxWithLoss` semantics.
///
/// The vocabulary, ids ordered by descending frequency, is cut at `cutoffs` c₀ < c₁ < … :
/// the head scores the c₀ most frequent words plus one entry per tail cluster, and tail
/// cluster i (ids cᵢ ..< cᵢ₊₁, the last ending at V) scores its words through a
/// projection of size ⌊D / div_valueⁱ⁺¹⌋:
///
///     log p(y) = log softmax(h·Headᵀ)[y]                                   y < c₀
///     log p(y) = log softmax(h·Headᵀ)[c₀ + i] + log softmax((h·Pᵢᵀ)·Oᵢᵀ)[y − cᵢ]   y in cluster i
///
/// These are exact, normalised log-probabilities over the whole vocabulary, used in
/// training and evaluation alike, so the reported perplexity is exact. No biases (PyTorch's
/// `head_bias=False`); no weight tying (the head's cluster rows have no embedding).
public struct AdaptiveSoftmaxComponent: OutputComponent, Equatable {
    /// c₀ < c₁ < …, each in 1 ... V − 1.
    public var cutoffs: [Int]
    /// The projection of tail cluster i has ⌊D / div_valueⁱ⁺¹⌋ columns.
    public var divValue: Double

    public init(cutoffs: [Int], divValue: Double) {
        self.cutoffs = cutoffs
        self.divValue = divValue
    }

    public var type: String { "adaptive-softmax" }
    public var tieWeights: Bool { false }
    public var exactTrainingLoss: Bool { true }

    public var frequencyOrderReason: String? {
        "Adaptive softmax gives the head to the first ids and the small tail projections to the rest, assuming the most frequent words first"
    }

    /// ⌊D / div_valueⁱ⁺¹⌋, PyTorch's `in_features // (div_value ** (i + 1))`.
    func projectionSize(cluster i: Int, inputSize: Int) -> Int {
        Int((Double(inputSize) / Foundation.pow(divValue, Double(i + 1))).rounded(.down))
    }

    public func problems(vocabularySize: Int, inputSize: Int) -> [ComponentProblem] {
        var problems: [ComponentProblem] = []
        if let last = cutoffs.last, last > vocabularySize - 1 {
            problems.append(ComponentProblem(key: "cutoffs",
                                             message: "adaptive-softmax cutoffs \(cutoffs) do not fit a vocabulary of \(vocabularySize) entries: "
                                                 + "each must be at most \(vocabularySize - 1), found \(last)",
                                             note: "every tail cluster needs at least one word: lower the cutoffs"))
        }
        for i in cutoffs.indices where projectionSize(cluster: i, inputSize: inputSize) < 1 {
            problems.append(ComponentProblem(key: "div_value",
                                             message: "adaptive-softmax tail cluster \(i + 1) would project \(inputSize) inputs to "
                                                 + "\(inputSize) / \(divValue)^\(i + 1) < 1 columns",
                                             note: "use a smaller div_value or fewer cutoffs"))
            break
        }
        return problems
    }

    public func makeLayer<T: Scalar>(vocabularySize: Int, inputSize: Int, tiedTo: Parameter<T>?,
                                     initScale: Double) -> any OutputLayer<T> {
        precondition(tiedTo == nil, "adaptive-softmax does not tie weights")
        return AdaptiveSoftmaxLayer<T>(vocabularySize: vocabularySize, inputSize: inputSize, cutoffs: cutoffs,
                                       projectionSizes: cutoffs.indices.map { projectionSize(cluster: $0, inputSize: inputSize) },
                                       initScale: initScale)
    }

    /// D·(c₀ + clusters) + Σᵢ shareᵢ·(D·dᵢ + dᵢ·sizeᵢ): the head for every token, tail
    /// cluster i for its share of the tokens, expected under Zipf's law (the frequency of
    /// the word of rank r ∝ 1/r, so shareᵢ = Σ_{cᵢ ≤ r < cᵢ₊₁} 1/(r+1) / Σ_{r < V} 1/(r+1)).
    /// The PyTorch peer counts every tail for every token, an upper bound.
    public func multiplyAdds(inputSize: Int, vocabularySize: Int) -> Int {
        let bounds = cutoffs + [vocabularySize]
        func harmonic(_ range: Range<Int>) -> Double { range.reduce(0.0) { $0 + 1 / Double($1 + 1) } }
        let total = harmonic(0 ..< vocabularySize)
        var macs = Double(inputSize * (cutoffs[0] + cutoffs.count))
        for i in cutoffs.indices {
            let d = projectionSize(cluster: i, inputSize: inputSize)
            let share = harmonic(bounds[i] ..< bounds[i + 1]) / total
            macs += share * Double(inputSize * d + d * (bounds[i + 1] - bounds[i]))
        }
        return Int(macs.rounded())
    }
}

extension Component where Product == any OutputComponent {
    static let adaptiveSoftmax = Component("adaptive-softmax",
                                           summary: "adaptive softmax: frequent words in the head, rare ones in projected tail clusters (Grave et al. 2017)") { r in
        let cutoffs = readCutoffs(r)
        let divValue = r.double("div_value", default: 4, range: 1...1_000_000, doc: "tail cluster i (from 1) projects to D / div_value^i")
        if r.bool("tie_weights", default: false, doc: "not supported: the head's cluster rows have no embedding to share") {
            r.source.error("adaptive-softmax cannot tie weights: its head scores clusters as well as words, and its tails are projected",
                           at: r.valueLocation(of: "tie_weights"), note: "remove tie_weights, or use type: softmax")
        }
        return AdaptiveSoftmaxComponent(cutoffs: cutoffs, divValue: divValue)
    }

    /// `cutoffs: [c₀, c₁, …]`, strictly increasing positive integers.
    private static func readCutoffs(_ r: MappingReader) -> [Int] {
        let standard = [2000, 10000]
        let doc = "cluster boundaries: ids below the first in the head, one tail cluster per interval"
        let shown: ([Int]) -> ResolvedValue = { .list($0.map { .scalar(String($0)) }) }
        r.record("cutoffs", value: shown(standard), doc: doc)
        guard let node = r.node("cutoffs") else { return standard }
        guard case .sequence = node else {
            _ = r.list("cutoffs")   // the error: expected a list, found …
            return standard
        }
        var cutoffs: [Int] = []
        var valid = true
        for (item, location) in r.list("cutoffs") {
            guard let c = item.int, c >= 1 else {
                r.source.error("expected a positive integer in 'cutoffs', found \(MappingReader.describe(item))", at: location)
                valid = false
                continue
            }
            if let previous = cutoffs.last, c <= previous {
                r.source.error("'cutoffs' must increase strictly: \(c) follows \(previous)", at: location)
                valid = false
            }
            cutoffs.append(c)
        }
        if cutoffs.isEmpty && valid {
            r.source.error("'cutoffs' needs at least one boundary", at: r.valueLocation(of: "cutoffs"))
            return standard
        }
        guard valid else { return standard }
        r.record("cutoffs", value: shown(cutoffs), doc: doc)
        return cutoffs
    }
}

/// The adaptive softmax layer (see `AdaptiveSoftmaxComponent`). Every product is a GEMM:
/// the head over all rows, then each tail cluster over the rows whose target it holds,
/// gathered; their gradients are scattered back into ∂h.
///
/// Shapes: h (N, D), targets (N); Head (c₀ + clusters, D) `output.head.weight`, and for
/// tail cluster i: Pᵢ (dᵢ, D) `output.tail.i.0.weight`, Oᵢ (sizeᵢ, dᵢ)
/// `output.tail.i.1.weight` (PyTorch's parameter names and layouts).
public final class AdaptiveSoftmaxLayer<T: Scalar>: OutputLayer {
    /// c₀, c₁, …, V: cluster i holds ids bounds[i] ..< bounds[i + 1] (i = 0 is the head's shortlist).
    public let bounds: [Int]
    public let head: Parameter<T>
    public let projections: [Parameter<T>]
    public let tails: [Parameter<T>]

    public init(vocabularySize: Int, inputSize: Int, cutoffs: [Int], projectionSizes: [Int], initScale: Double) {
        precondition(!cutoffs.isEmpty && cutoffs.count == projectionSizes.count && zip(cutoffs, cutoffs.dropFirst()).allSatisfy(<)
                     && cutoffs[0] >= 1 && cutoffs.last! < vocabularySize, "adaptive softmax cutoffs \(cutoffs) for \(vocabularySize) words")
        let bounds = [0] + cutoffs + [vocabularySize]
        self.bounds = bounds
        head = Parameter("output.head.weight", rows: cutoffs[0] + cutoffs.count, columns: inputSize,
                         initializer: .uniform(scale: initScale))
        projections = projectionSizes.enumerated().map { i, d in
            Parameter("output.tail.\(i).0.weight", rows: d, columns: inputSize, initializer: .uniform(scale: initScale))
        }
        tails = projectionSizes.enumerated().map { i, d in
            Parameter("output.tail.\(i).1.weight", rows: bounds[i + 2] - bounds[i + 1], columns: d,
                      initializer: .uniform(scale: initScale))
        }
    }

    /// Head, then each cluster's projection and output, as PyTorch orders them.
    public var parameters: [Parameter<T>] {
        [head] + zip(projections, tails).flatMap { [$0, $1] }
    }

    /// The exact NLL, in training as in evaluation; `segments` and `sampling` are not used.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @discardableResult
    public func loss(_ h: Matrix<T>, segments: Int = 1, targets: UnsafePointer<Int32>, weights: UnsafePointer<T>?,
                     gradientScale: T?, rowLosses: UnsafeMutablePointer<T>?, context: StepContext,
                     sampling: inout SeededGenerator) -> (nll: Double, dh: Matrix<T>?) {
        let n = h.rows, arena = context.arena
        let shortlist = bounds[1], vocabularySize = bounds.last!
        // Head: the shortlist's words and one entry per cluster.
        let headTargets = arena.allocate(n, of: Int32.self)
        for r in 0..<n {
            let y = Int(targets[r])
            if (weights?[r] ?? 1) == 0 { headTargets[r] = 0; continue }   // padding
            precondition(y >= 0 && y < vocabularySize, "target \(y) outside the \(vocabularySize) classes")
            headTargets[r] = y < shortlist ? Int32(y) : Int32(shortlist + cluster(of: y) - 1)
        }
        let losses = rowLosses ?? arena.allocate(n, of: T.self)
        let logits = arena.matrix(n, head.rows, of: T.self)
        gemm(h, head.value, into: logits, transposeB: true)
        var nll = softmaxCrossEntropy(logits: logits, targets: headTargets, weights: weights, gradientScale: gradientScale,
                                      rowLosses: losses)
        let dh = gradientScale == nil ? nil : arena.matrix(n, h.columns, of: T.self)
        if let dh {
            gemm(logits, h, into: head.gradient, transposeA: true, accumulate: true)
            gemm(logits, head.value, into: dh)
        }
        // Tails: each over the rows whose target it holds.
        let rows = arena.allocate(n, of: Int32.self)
        for i in projections.indices {
            let first = bounds[i + 1], end = bounds[i + 2]
            var m = 0
            for r in 0..<n where (weights?[r] ?? 1) != 0 && Int(targets[r]) >= first && Int(targets[r]) < end {
                rows[m] = Int32(r)
                m += 1
            }
            guard m > 0 else { continue }
            nll += tail(i, h: h, rows: rows, count: m, targets: targets, weights: weights, gradientScale: gradientScale,
                        losses: losses, dh: dh, context: context)
        }
        return (nll, dh)
    }

    /// The tail cluster (1-based, as the head's entries count them) of a tail id.
    private func cluster(of y: Int) -> Int {
        var i = 1
        while y >= bounds[i + 1] { i += 1 }
        return i
    }

    /// Tail cluster `i` on the `count` rows listed in `rows`: adds each row's NLL within the
    /// cluster to `losses`, and its gradient to `dh`. Returns Σ weight · NLL.
    private func tail(_ i: Int, h: Matrix<T>, rows: UnsafePointer<Int32>, count m: Int, targets: UnsafePointer<Int32>,
                      weights: UnsafePointer<T>?, gradientScale: T?, losses: UnsafeMutablePointer<T>,
                      dh: Matrix<T>?, context: StepContext) -> Double {
        let arena = context.arena, projection = projections[i], output = tails[i], first = bounds[i + 1]
        let x = arena.matrix(m, h.columns, of: T.self)
        let tailTargets = arena.allocate(m, of: Int32.self)
        let tailWeights = arena.allocate(m, of: T.self)
        let tailLosses = arena.allocate(m, of: T.self)
        for j in 0..<m {
            let r = Int(rows[j])
            x.row(j).update(from: h.row(r), count: h.columns)
            tailTargets[j] = targets[r] - Int32(first)
            tailWeights[j] = weights?[r] ?? 1
        }
        let projected = arena.matrix(m, projection.rows, of: T.self)
        gemm(x, projection.value, into: projected, transposeB: true)
        let logits = arena.matrix(m, output.rows, of: T.self)
        gemm(projected, output.value, into: logits, transposeB: true)
        let nll = softmaxCrossEntropy(logits: logits, targets: tailTargets, weights: tailWeights, gradientScale: gradientScale,
                                      rowLosses: tailLosses)
        for j in 0..<m { losses[Int(rows[j])] += tailLosses[j] }
        guard let dh else { return nll }
        gemm(logits, projected, into: output.gradient, transposeA: true, accumulate: true)
        let dProjected = arena.matrix(m, projection.rows, of: T.self)
        gemm(logits, output.value, into: dProjected)
        gemm(dProjected, x, into: projection.gradient, transposeA: true, accumulate: true)
        let dx = arena.matrix(m, h.columns, of: T.self)
        // Through packed panels, not BLAS: with few rows this product is what OpenBLAS's
        // AVX-512 small-matrix sgemm kernel takes, and it mallocs a scratch copy per call
        // (kernel/x86_64/sgemm_small_kernel_nn_skylakex.c, when the D output columns leave
        // 1–8 past a multiple of 16, as D = 200 does). Packing Pᵢ is dᵢ·D copies.
        gemm(dProjected, PackedMatrix(projection.value, transposed: false, arena: arena, pack: true), into: dx)
        for j in 0..<m { axpy(h.columns, 1, dx.row(j), dh.row(Int(rows[j]))) }
        return nll
    }
}
