import Foundation
import HarnessKernels

/// How a parameter's initial values are drawn (from the run's "init" random stream).
public enum Initializer: Sendable, Equatable {
    /// U(-scale, scale), as Zaremba et al. and the PyTorch peer (`--init-scale`).
    case uniform(scale: Double)
    /// Consecutive runs of constants, e.g. an LSTM bias [0 (H), 1 (H), 0 (2H)]: zero
    /// gates except a forget-gate bias of 1.
    case piecewise([Run])
    /// U(-scale, scale) plus the runs' constants: an LSTM bias drawn as PyTorch's peer and
    /// Torch draw every weight, with a forget-gate offset.
    case uniformPlus(scale: Double, [Run])
    /// U(-scale, scale) with the given rows then set to zero (drawn first, so the parameters
    /// after it start as they would under `.uniform`): a constant padding embedding.
    case uniformZeroingRows(scale: Double, [Int])

    public struct Run: Sendable, Equatable {
        public var count: Int
        public var value: Double
        public init(_ count: Int, _ value: Double) { self.count = count; self.value = value }
    }

    public static var zeros: Initializer { .piecewise([]) }
}

/// One named trainable tensor, (rows, columns), whose value and gradient live in a
/// `ParameterStore`'s flat buffers. Components create their parameters, the store binds
/// them; a parameter shared by two components (weight tying) is one object.
public final class Parameter<T: Scalar> {
    public let name: String
    public let rows: Int
    public let columns: Int
    public let initializer: Initializer
    public fileprivate(set) var value: Matrix<T>!
    public fileprivate(set) var gradient: Matrix<T>!
    /// Keeps the buffers that `value` and `gradient` point into alive.
    fileprivate var storage: FlatBuffers<T>?
    /// Set when the store made the parameter row-sparse: where its rows' gradients are.
    fileprivate var blocks: GradientBlocks?
    fileprivate var offset = 0

    public init(_ name: String, rows: Int, columns: Int, initializer: Initializer) {
        precondition(rows > 0 && columns > 0, "parameter \(name) has empty shape (\(rows), \(columns))")
        self.name = name
        self.rows = rows
        self.columns = columns
        self.initializer = initializer
    }

    public var count: Int { rows * columns }

    /// Records that a layer writes gradient row `row` this step. A layer that lists the
    /// parameter in its `rowSparseParameters` calls it for every row it writes; for a
    /// dense parameter it does nothing.
    @inline(__always)
    public func touchRow(_ row: Int) {
        blocks?.touch(offset + row * columns, count: columns)
    }

    /// `touchRow` for `count` values from flat index `start` (a bias's entries, say).
    @inline(__always)
    public func touchValues(_ start: Int, count: Int) {
        blocks?.touch(offset + start, count: count)
    }

    /// Whether the store tracks the rows written (`ParameterStore.makeRowSparse`).
    public var isRowSparse: Bool { blocks != nil }

    /// Whether `release()` has given the value's memory back.
    public var isReleased: Bool { storage != nil && value == nil }

    /// Gives the memory of the value back to the system and leaves the parameter without
    /// one, for a layer that keeps its weights in a layout of its own for inference
    /// (`RecurrentLayer.prepareForInference`): an Original-size ELMo then holds its LSTM
    /// weights once (302 MB), not twice. The whole pages inside the value are returned
    /// (`madvise(MADV_DONTNEED)`: they read as zeros if touched again, and no longer count
    /// as resident). Reading `value` afterwards traps; `Checkpoint.save` and `Trainer.update`
    /// refuse a store with a released parameter (`ParameterStore.releasedParameters`).
    public func release() {
        guard let storage, let value else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = UInt(bitPattern: value.base), end = start + UInt(count * MemoryLayout<T>.stride)
        let first = (start + UInt(page) - 1) / UInt(page) * UInt(page), last = end / UInt(page) * UInt(page)
        if last > first {
            _ = madvise(UnsafeMutableRawPointer(bitPattern: first), Int(last - first), MADV_DONTNEED)
        }
        storage.released.append(name)
        self.value = nil
    }
}

/// The two flat buffers of a `ParameterStore`, owned jointly by the store and its
/// parameters so that a parameter's views never outlive their memory.
final class FlatBuffers<T: Scalar> {
    let values: UnsafeMutableBufferPointer<T>
    let gradients: UnsafeMutableBufferPointer<T>
    /// Names of the parameters whose values were released (`Parameter.release`).
    var released: [String] = []

    /// Both zeroed by `calloc`: the C library takes large blocks from the kernel as zero
    /// pages that become resident only when written, so a model that only runs forward
    /// (`embed`, `similar`, `eval`) never holds its gradient buffer in memory (ELMo
    /// Original: 374 MB).
    init(count: Int) {
        values = Self.zeroed(max(count, 1))
        gradients = Self.zeroed(max(count, 1))
    }

    private static func zeroed(_ count: Int) -> UnsafeMutableBufferPointer<T> {
        guard let memory = calloc(count, MemoryLayout<T>.stride) else {
            fatalError("out of memory: \(count) parameters of \(T.self)")
        }
        return UnsafeMutableBufferPointer(start: memory.bindMemory(to: T.self, capacity: count), count: count)
    }

    deinit {
        free(values.baseAddress)
        free(gradients.baseAddress)
    }
}

/// All of a model's parameters in one flat value buffer and one flat gradient buffer
/// (llm.c's `malloc_and_point_parameters`): optimizers, clipping and checkpoints work on
/// the whole buffer at once.
public final class ParameterStore<T: Scalar> {
    public let parameters: [Parameter<T>]
    public let count: Int
    /// All values, in the order of `parameters`.
    public let values: UnsafeMutableBufferPointer<T>
    /// All gradients, laid out like `values`.
    public let gradients: UnsafeMutableBufferPointer<T>
    private let storage: FlatBuffers<T>
    private let blocks: GradientBlocks

    /// Binds `parameters` (duplicates by identity are bound once) and initialises them
    /// in order from `generator`.
    public init(_ parameters: [Parameter<T>], generator: inout SeededGenerator) {
        let unique = Self.distinct(parameters)
        var names = Set<String>()
        for p in unique { precondition(names.insert(p.name).inserted, "two parameters named \(p.name)") }
        self.parameters = unique
        count = Self.count(of: unique)
        storage = FlatBuffers(count: count)
        values = storage.values
        gradients = storage.gradients
        blocks = GradientBlocks(values: count)
        var offset = 0
        for p in unique {
            p.value = Matrix(base: values.baseAddress! + offset, rows: p.rows, columns: p.columns)
            p.gradient = Matrix(base: gradients.baseAddress! + offset, rows: p.rows, columns: p.columns)
            p.storage = storage
            p.offset = offset
            offset += p.count
            Self.initialize(p, generator: &generator)
        }
    }

    /// The values `parameters` hold once bound: each distinct parameter (by identity) once.
    public static func count(of parameters: [Parameter<T>]) -> Int {
        distinct(parameters).reduce(0) { $0 + $1.count }
    }

    private static func distinct(_ parameters: [Parameter<T>]) -> [Parameter<T>] {
        var seen = Set<ObjectIdentifier>()
        return parameters.filter { seen.insert(ObjectIdentifier($0)).inserted }
    }

    private static func initialize(_ p: Parameter<T>, generator: inout SeededGenerator) {
        let v = p.value.base
        switch p.initializer {
        case .uniform(let scale):
            for i in 0..<p.count { v[i] = T(generator.nextUniform(-scale, scale)) }
        case .piecewise(let runs):
            v.update(repeating: 0, count: p.count)
            addRuns(runs, to: p)
        case .uniformPlus(let scale, let runs):
            for i in 0..<p.count { v[i] = T(generator.nextUniform(-scale, scale)) }
            addRuns(runs, to: p)
        case .uniformZeroingRows(let scale, let rows):
            for i in 0..<p.count { v[i] = T(generator.nextUniform(-scale, scale)) }
            for row in rows { p.value.row(row).update(repeating: 0, count: p.columns) }
        }
    }

    private static func addRuns(_ runs: [Initializer.Run], to p: Parameter<T>) {
        var i = 0
        for run in runs {
            precondition(i + run.count <= p.count, "initializer of \(p.name) longer than the parameter")
            for j in i ..< i + run.count { p.value.base[j] += T(run.value) }
            i += run.count
        }
    }

    /// Parameters whose values were given back (`Parameter.release`): the flat `values`
    /// no longer hold them, so nothing may save or update the store.
    public var releasedParameters: [String] { storage.released }

    /// Zeroes the gradients a step may have written: all of them, except the untouched
    /// rows of row-sparse parameters (already zero).
    /// Specialized: unspecialized, the fill ran through a value witness per element (3 %
    /// of config A's step at two threads).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func zeroGradients() {
        forEachGradientRange { gradients.baseAddress!.advanced(by: $0.lowerBound).update(repeating: 0, count: $0.count) }
        blocks.clearTouched()
    }

    /// Makes `parameter`'s gradient row-sparse: from now on only the rows that layers
    /// touch (`Parameter.touchRow`) are zeroed, clipped, summed into the norm and updated
    /// by optimizers whose update of a zero gradient is nothing (SGD without momentum,
    /// Adagrad); results are bit-identical to the dense ones. Every layer that writes the
    /// parameter's gradient must touch its rows: `BiLM` makes a parameter row-sparse only
    /// when every component holding it lists it in `rowSparseParameters`.
    public func makeRowSparse(_ parameter: Parameter<T>) {
        precondition(parameter.storage === storage, "\(parameter.name) is not bound to this store")
        parameter.gradient.base.update(repeating: 0, count: parameter.count)
        parameter.blocks = blocks
        blocks.makeSparse(parameter.offset ..< parameter.offset + parameter.count)
    }

    /// The ranges of `gradients` a step may have written, in order (the whole buffer for a
    /// store without row-sparse parameters); the values outside them are zero.
    public func forEachGradientRange(_ body: (Range<Int>) -> Void) {
        if blocks.sparse.isEmpty { body(0 ..< count); return }
        blocks.forEachWrittenRange(values: count, body)
    }

    /// Sums every process's gradients (`Communicator.sum`), after the backward pass and
    /// before clipping: a dense store in place, in one call; a store with row-sparse
    /// parameters first takes the union of the blocks the processes wrote (a block one
    /// process wrote is zero on the others), then sums those blocks, packed into
    /// `scratch` so that the call is one however scattered the rows are.
    public func sumGradients(over communicator: any Communicator, scratch: inout [T]) where T == Float {
        guard communicator.size > 1 else { return }
        if blocks.sparse.isEmpty { communicator.sum(gradients); return }
        communicator.maximum(UnsafeMutableBufferPointer(start: blocks.state, count: blocks.count))
        let total = writtenGradientCount
        if scratch.count < total { scratch = [T](repeating: 0, count: total) }
        scratch.withUnsafeMutableBufferPointer { packed in
            var offset = 0
            forEachGradientRange { range in
                (packed.baseAddress! + offset).update(from: gradients.baseAddress! + range.lowerBound, count: range.count)
                offset += range.count
            }
            communicator.sum(UnsafeMutableBufferPointer(rebasing: packed[0 ..< total]))
            offset = 0
            forEachGradientRange { range in
                (gradients.baseAddress! + range.lowerBound).update(from: packed.baseAddress! + offset, count: range.count)
                offset += range.count
            }
        }
    }

    /// The gradient values the last step may have written (`forEachGradientRange`): all
    /// of them for a dense store. What a data-parallel step sums (`sumGradients`).
    public var writtenGradientCount: Int {
        var n = 0
        forEachGradientRange { n += $0.count }
        return n
    }

    public func parameter(named name: String) -> Parameter<T>? {
        parameters.first { $0.name == name }
    }

    /// √Σ g² over every parameter. Inlinable: the trainer calls it from another module
    /// (specs without clipping), where a generic call ran the SIMD loop unspecialized —
    /// ~185 ms a step for 2.5M parameters, 98 % of a small model's step.
    /// Over the written ranges only, bit-identical to the whole buffer's (`accumulateSumOfSquares`).
    @inlinable
    public func gradientNorm() -> Double {
        var total = 0.0
        forEachGradientRange { accumulateSumOfSquares($0.count, gradients.baseAddress! + $0.lowerBound, into: &total) }
        return total.squareRoot()
    }

    /// Copies all values from another store with the same layout (e.g. Double → Float).
    public func copyValues<U: Scalar>(from other: ParameterStore<U>) {
        precondition(other.count == count, "stores differ in size: \(other.count) vs \(count)")
        for i in 0..<count { values[i] = T(other.values[i]) }
    }
}
