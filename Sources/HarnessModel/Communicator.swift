#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The processes that train one model together (data parallelism): each holds the same
/// weights, computes the gradients of its share of every batch, and the sums of those
/// gradients, taken with `sum`, drive identical optimizer steps everywhere — the
/// synchronous scheme of bilm-tf's towers, with the processes of an MPI job
/// (`mpirun -np N harness run`, `HarnessMPI`) in place of GPUs.
///
/// Every method but `rank`, `size` and `abort` is collective: each process must call it,
/// in the same order, with buffers of the same length.
public protocol Communicator: AnyObject {
    /// This process's index, 0 ..< `size`; rank 0 alone writes the run's files.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Replaces `values` on every process by their element-wise sum over all processes.
    func sum(_ values: UnsafeMutableBufferPointer<Float>)
    /// Replaces `values` on every process by their element-wise sum over all processes.
    func sum(_ values: UnsafeMutableBufferPointer<Double>)
    /// Replaces `values` on every process by their element-wise maximum over all processes.
    func maximum(_ values: UnsafeMutableBufferPointer<UInt8>)
    /// Every process's `values` (lengths may differ), in rank order, on rank 0; nil elsewhere.
    func gather(_ values: [Double]) -> [[Double]]?
    /// Returns once every process has called it.
    func barrier()
    /// Ends every process of the job with exit status `code` (after this process printed why).
    func abort(code: Int32) -> Never
}

extension Communicator {
    /// Rows `lowerBound ..< upperBound` of a batch of `batchSize` rows: this process's
    /// share, contiguous, the first `batchSize % size` ranks one row more than the others.
    public func share(of batchSize: Int) -> Range<Int> {
        let base = batchSize / size, extra = batchSize % size
        let start = rank * base + min(rank, extra)
        return start ..< start + base + (rank < extra ? 1 : 0)
    }

    /// This process's part of a step's batches (one per direction): its sequences
    /// (`share(of:)`), and the rows of the whole batch they are, for `StepContext.batchShare`.
    /// A short last batch of a sentences pass may hold fewer sequences than there are
    /// processes: one left without any computes a placeholder, sequence 0 with every
    /// target masked, which adds nothing to the losses or gradients but draws the random
    /// numbers the others draw, so that every process's generators stay the same.
    public func part(of batches: [SequenceBatch]) -> (batches: [SequenceBatch], rows: Range<Int>) {
        let rows = share(of: batches[0].batchSize)
        guard rows.isEmpty else { return (batches.map { $0.sequences(rows) }, rows) }
        return (batches.map { $0.sequences(0 ..< 1).masked() }, 0 ..< 1)
    }

    /// Whether `flag` holds on any process (each process's answer is the same).
    public func any(_ flag: Bool) -> Bool {
        guard size > 1 else { return flag }
        var byte: UInt8 = flag ? 1 : 0
        withUnsafeMutablePointer(to: &byte) { maximum(UnsafeMutableBufferPointer(start: $0, count: 1)) }
        return byte != 0
    }

    /// Whether every process passed the same `hash`: compared through the element-wise
    /// maximum of its bytes and of its complement's, which equals this process's own on
    /// every process exactly when all hashes are equal.
    public func agree(on hash: UInt64) -> Bool {
        guard size > 1 else { return true }
        var bytes = withUnsafeBytes(of: hash.bigEndian, Array.init) + withUnsafeBytes(of: (~hash).bigEndian, Array.init)
        let mine = bytes
        bytes.withUnsafeMutableBufferPointer { maximum($0) }
        return bytes == mine
    }

    /// `sum` of one value.
    public func sum(_ value: Double) -> Double {
        var x = value
        withUnsafeMutablePointer(to: &x) { sum(UnsafeMutableBufferPointer(start: $0, count: 1)) }
        return x
    }

    /// `sum` of an array.
    public func sum(_ values: [Double]) -> [Double] {
        var x = values
        x.withUnsafeMutableBufferPointer { sum($0) }
        return x
    }
}

/// One process: every collective is the identity.
public final class SingleProcess: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sum(_ values: UnsafeMutableBufferPointer<Float>) {}
    public func sum(_ values: UnsafeMutableBufferPointer<Double>) {}
    public func maximum(_ values: UnsafeMutableBufferPointer<UInt8>) {}
    public func gather(_ values: [Double]) -> [[Double]]? { [values] }
    public func barrier() {}
    public func abort(code: Int32) -> Never { exit(code) }
}
