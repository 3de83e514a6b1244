/// One direction's share of a step: time-major (T, B) input ids, target ids and a mask
/// (1 = a real target, 0 = padding). Row t·B + b is timestep t of sequence b.
public struct SequenceBatch: Sendable, Equatable {
    public let steps: Int
    public let batchSize: Int
    public var inputs: [Int32]
    public var targets: [Int32]
    /// nil when every position is real (stream mode).
    public var mask: [UInt8]?

    public init(steps: Int, batchSize: Int, inputs: [Int32], targets: [Int32], mask: [UInt8]? = nil) {
        precondition(inputs.count == steps * batchSize && targets.count == steps * batchSize
                     && (mask?.count ?? inputs.count) == inputs.count,
                     "batch arrays do not match (\(steps), \(batchSize))")
        self.steps = steps
        self.batchSize = batchSize
        self.inputs = inputs
        self.targets = targets
        self.mask = mask
    }

    public var count: Int { steps * batchSize }

    /// This batch with every target masked (weight 0): it scores nothing.
    public func masked() -> SequenceBatch {
        SequenceBatch(steps: steps, batchSize: batchSize, inputs: inputs, targets: targets, mask: [UInt8](repeating: 0, count: count))
    }

    /// Sequences `range` of every timestep: a data-parallel process's share (`Communicator.share`).
    public func sequences(_ range: Range<Int>) -> SequenceBatch {
        precondition(range.lowerBound >= 0 && range.upperBound <= batchSize && !range.isEmpty, "sequences \(range) of a batch of \(batchSize)")
        if range.count == batchSize { return self }
        func pick<E>(_ values: [E]) -> [E] {
            var picked: [E] = []
            picked.reserveCapacity(steps * range.count)
            for t in 0 ..< steps { picked += values[t * batchSize + range.lowerBound ..< t * batchSize + range.upperBound] }
            return picked
        }
        return SequenceBatch(steps: steps, batchSize: range.count, inputs: pick(inputs), targets: pick(targets), mask: mask.map(pick))
    }

    /// Number of real targets.
    public var targetCount: Int { mask.map { $0.reduce(0) { $0 + Int($1) } } ?? count }

    /// Sentences mode: each sequence is a whole sentence with its boundary tokens
    /// ([<bos>, w1 … wn, <eos>]). The forward direction predicts w1 … <eos> from
    /// <bos> … wn. The backward direction reverses each sentence **within its own
    /// length** before padding, so it reads wn first and predicts <bos> last — never
    /// padding first (the defect of the seed notebook). Padding goes on the right of
    /// both directions, with id `padding` and mask 0.
    public static func sentences(_ sequences: [[Int32]], backward: Bool, padding: Int32 = 0) -> SequenceBatch {
        precondition(!sequences.isEmpty && sequences.allSatisfy { $0.count >= 2 },
                     "a sentence batch needs sequences of at least two tokens")
        let b = sequences.count
        let t = sequences.map { $0.count - 1 }.max()!
        var inputs = [Int32](repeating: padding, count: t * b)
        var targets = [Int32](repeating: padding, count: t * b)
        var mask = [UInt8](repeating: 0, count: t * b)
        for (column, sequence) in sequences.enumerated() {
            let ordered = backward ? Array(sequence.reversed()) : sequence
            for step in 0..<(ordered.count - 1) {
                inputs[step * b + column] = ordered[step]
                targets[step * b + column] = ordered[step + 1]
                mask[step * b + column] = 1
            }
        }
        return SequenceBatch(steps: t, batchSize: b, inputs: inputs, targets: targets, mask: mask)
    }

    /// For a batch whose sentences are sorted longest first: per step, how many of its
    /// first rows hold tokens (the rest are padding), as `StepContext.liveRows` takes it.
    /// nil when padding precedes a token in some step (unsorted sentences, stream batches).
    public var liveRows: [Int]? {
        guard let mask else { return Array(repeating: batchSize, count: steps) }
        var live: [Int] = []
        live.reserveCapacity(steps)
        for step in 0..<steps {
            let row = mask[step * batchSize ..< (step + 1) * batchSize]
            let count = row.prefix { $0 != 0 }.count
            guard !row.dropFirst(count).contains(where: { $0 != 0 }), count <= (live.last ?? batchSize) else { return nil }
            live.append(count)
        }
        return live
    }
}
