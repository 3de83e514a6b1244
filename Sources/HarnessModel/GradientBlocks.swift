/// Which blocks of a `ParameterStore`'s flat gradient buffer a training step may have
/// written: what lets a 793k-word embedding or sampled softmax cost per step what its
/// touched rows cost, not its vocabulary (TensorFlow's IndexedSlices serve the same end).
///
/// Blocks are `size` gradients from the buffer's start, the blocks of `sumOfSquares`, so
/// a norm over the written blocks alone equals the norm over the whole buffer bit for bit.
/// A block is *permanent* when a dense parameter owns any of its values: every step may
/// write it. The other blocks belong to row-sparse parameters (`ParameterStore.makeRowSparse`)
/// and are *touched* when a layer writes a row there (`Parameter.touchRow`), until the
/// next `zeroGradients` zeroes them.
final class GradientBlocks {
    static let size = 1024
    static let clean: UInt8 = 0, touched: UInt8 = 1, permanent: UInt8 = 2

    let count: Int
    let state: UnsafeMutablePointer<UInt8>
    /// Blocks that are not permanent, in order (empty: the store is dense).
    private(set) var sparse: [Int] = []

    init(values: Int) {
        count = (values + Self.size - 1) / Self.size
        state = .allocate(capacity: max(count, 1))
        state.initialize(repeating: Self.permanent, count: max(count, 1))
    }

    deinit { state.deallocate() }

    /// Makes the blocks wholly inside `values` sparse (and clean: their gradients must be zero).
    func makeSparse(_ values: Range<Int>) {
        let first = (values.lowerBound + Self.size - 1) / Self.size, end = values.upperBound / Self.size
        guard first < end else { return }
        for block in first ..< end { state[block] = Self.clean }
        sparse = (0 ..< count).filter { state[$0] != Self.permanent }
    }

    /// Marks the blocks holding `values` touched (a permanent block stays permanent).
    @inline(__always)
    func touch(_ start: Int, count n: Int) {
        var block = start / Self.size
        let last = (start + n - 1) / Self.size
        while block <= last {
            if state[block] == Self.clean { state[block] = Self.touched }
            block += 1
        }
    }

    /// The maximal runs of written (touched or permanent) blocks, as value ranges
    /// clipped to `values` values.
    func forEachWrittenRange(values: Int, _ body: (Range<Int>) -> Void) {
        var block = 0
        while block < count {
            guard state[block] != Self.clean else { block += 1; continue }
            let start = block
            while block < count && state[block] != Self.clean { block += 1 }
            body(start * Self.size ..< min(block * Self.size, values))
        }
    }

    /// Touched blocks become clean again (their gradients were just zeroed).
    func clearTouched() {
        for block in sparse where state[block] == Self.touched { state[block] = Self.clean }
    }
}
