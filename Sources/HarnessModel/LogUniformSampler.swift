import HarnessKernels

/// TensorFlow's `log_uniform_candidate_sampler` with `unique=True`, as bilm-tf and the
/// PyTorch peer use it: P(k) = log((k+2)/(k+1)) / log(V+1) over ids ranked by descending
/// frequency; draws repeat until `count` distinct ids are found, and each id's expected
/// count among the draws, 1 − (1 − P(k))^tries, gives the log-Q correction.
public final class LogUniformSampler {
    public let vocabularySize: Int
    public let count: Int
    private let logRange: Double
    /// position[id] = index among this step's candidates, or −1.
    private var position: [Int32]
    public private(set) var candidates: [Int32]
    public private(set) var tries = 0

    public init(vocabularySize: Int, count: Int) {
        precondition(count > 0 && count < vocabularySize,
                     "sampled softmax needs 0 < samples (\(count)) < vocabulary (\(vocabularySize))")
        self.vocabularySize = vocabularySize
        self.count = count
        logRange = Double.log(Double(vocabularySize + 1))
        position = Array(repeating: -1, count: vocabularySize)
        candidates = Array(repeating: 0, count: count)
    }

    public func probability(_ id: Int) -> Double {
        (Double.log(Double(id + 2)) - Double.log(Double(id + 1))) / logRange
    }

    /// log of the expected number of times `id` was drawn in the last `sample`.
    public func logExpectedCount(_ id: Int) -> Double {
        Double.log(-Double.expMinusOne(Double(tries) * Double.log(onePlus: -probability(id))))
    }

    /// Draws `count` distinct candidates.
    public func sample(generator: inout SeededGenerator) {
        for id in candidates where position[Int(id)] >= 0 { position[Int(id)] = -1 }
        var found = 0
        tries = 0
        while found < count {
            let draw = min(Int(Double.exp(generator.nextUnit() * logRange)) - 1, vocabularySize - 1)
            tries += 1
            if position[draw] < 0 {
                position[draw] = Int32(found)
                candidates[found] = Int32(draw)
                found += 1
            }
        }
    }

    /// Index of `id` among the current candidates, or nil.
    @inline(__always)
    public func candidateIndex(of id: Int32) -> Int? {
        let p = position[Int(id)]
        return p >= 0 ? Int(p) : nil
    }
}
