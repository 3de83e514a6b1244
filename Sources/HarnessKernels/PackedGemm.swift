import PackedKernels

/// A weight laid out once for many products with few rows: the per-timestep GEMMs of
/// an LSTM, (B, P)·(P, 4H) and (B, 4H)·(4H, P) with B = 20…64 rows, repeated T times
/// against the same weight.
///
/// BLAS packs its `b` operand into cache-friendly panels on every call, and with so few
/// rows that copy costs about as much as the arithmetic (config C: 13 % of a step in
/// OpenBLAS's copy routines). `PackedMatrix` holds op(b) already in that form: column
/// panels of `width` = two SIMD vectors of the kernel variant it is packed for
/// (`KernelVariant`: 32 Float columns for AVX-512, 16 for AVX2), each panel K rows of
/// `width` contiguous values, the columns past N zero. Measured on config C's four
/// per-timestep shapes, one core (`harness-microbench --packed-gemm`): 157–170 GFLOPS
/// with the AVX-512 kernels on an Emerald Rapids against OpenBLAS SkylakeX's 66–111.
///
/// Packing pays where OpenBLAS runs single-threaded (`BLAS.threads` ≤ 2; at two the
/// panels are split over the two cores). With OpenBLAS's own pool (more than two
/// threads) `PackedMatrix` keeps the source and hands products to threaded BLAS.
public struct PackedMatrix<T: Scalar> {
    /// Whether per-timestep products should use packed panels at the current thread
    /// count: where OpenBLAS runs single-threaded (`BLAS.threads` ≤ 2, see above).
    public static var paysOff: Bool { BLAS.threads <= 2 }

    /// `pack` for a layer's per-timestep weights: always for batch-invariant inference,
    /// else the step's override (`StepContext.packsWeights`, tests), else `paysOff`.
    public static func shouldPack(batchInvariant: Bool, override: Bool?) -> Bool {
        batchInvariant || (override ?? paysOff)
    }

    /// The panels; nil when products go through BLAS on `source`.
    public let panels: UnsafeMutablePointer<T>?
    public let source: Matrix<T>
    public let transposed: Bool
    /// Rows of op(b): the inner dimension of the product.
    public let k: Int
    /// Columns of op(b).
    public let n: Int
    /// The kernel the panels are laid out for.
    public let variant: KernelVariant
    /// Columns per panel (`variant.panelWidth(T.self)`).
    public let width: Int

    /// op(b) = `b` (K, N) or, when `transposed`, `b`ᵀ with `b` (N, K), packed into storage
    /// from `arena` when `pack` (callers pass `shouldPack(…)`, see above) for `variant`
    /// (`StepContext.kernelVariant`, tests), else `KernelVariant.selected`.
    public init(_ b: Matrix<T>, transposed: Bool, arena: Arena, pack: Bool, variant: KernelVariant? = nil) {
        let variant = variant ?? .selected
        let storage = pack ? arena.allocate(Self.storageCount(b, transposed: transposed, variant: variant), of: T.self) : nil
        self.init(b, transposed: transposed, into: storage, variant: variant)
    }

    /// op(b) packed for `variant` into `storage` (`storageCount` values), or, when nil,
    /// products through BLAS on `b`.
    init(_ b: Matrix<T>, transposed: Bool, into storage: UnsafeMutablePointer<T>?, variant: KernelVariant) {
        source = b
        self.transposed = transposed
        k = transposed ? b.columns : b.rows
        n = transposed ? b.rows : b.columns
        self.variant = variant
        width = variant.panelWidth(T.self)
        panels = storage
        guard let base = storage else { return }
        let width = width, k = k, n = n
        for panel in 0..<(n + width - 1) / width {
            let out = base + panel * k * width
            let first = panel * width, valid = min(width, n - first)
            if transposed {
                // Column j of the panel is row first + j of b: read along b's rows.
                for column in 0..<valid {
                    let source = b.row(first + column)
                    for row in 0..<k { out[row * width + column] = source[row] }
                }
            } else {
                for row in 0..<k { (out + row * width).update(from: b.row(row) + first, count: valid) }
            }
            if valid < width {
                for row in 0..<k { (out + row * width + valid).update(repeating: 0, count: width - valid) }
            }
        }
    }

    /// Values the panels of op(`b`) take for `variant`: K times N rounded up to the panel width.
    static func storageCount(_ b: Matrix<T>, transposed: Bool, variant: KernelVariant) -> Int {
        let width = variant.panelWidth(T.self), n = transposed ? b.rows : b.columns
        return (n + width - 1) / width * width * (transposed ? b.columns : b.rows)
    }
}

/// A `PackedMatrix` in memory of its own, for weights that stay fixed over many products
/// (a model that only runs forward, `harness embed`): packed once, freed with this object.
/// The source matrix may be released afterwards (`Parameter.release`), as the products
/// read only the panels.
public final class PackedWeights<T: Scalar> {
    public let matrix: PackedMatrix<T>
    private let storage: UnsafeMutableRawPointer

    /// op(b) = `b` or `b`ᵀ packed for `variant` (`KernelVariant.selected` when nil), in
    /// 64-byte aligned memory as the arena's: a vector load never straddles two cache lines.
    public init(_ b: Matrix<T>, transposed: Bool, variant: KernelVariant? = nil) {
        let variant = variant ?? .selected
        let count = PackedMatrix.storageCount(b, transposed: transposed, variant: variant)
        storage = .allocate(byteCount: count * MemoryLayout<T>.stride, alignment: 64)
        matrix = PackedMatrix(b, transposed: transposed, into: storage.bindMemory(to: T.self, capacity: count), variant: variant)
    }

    deinit { storage.deallocate() }
}

/// `c ← a · op(b) + (accumulate ? c : 0)` with op(b) packed: a (M, K), c (M, N).
///
/// Runs the kernel of the variant the panels were packed for (`PackedKernels`: blocks of
/// rows of `a` against one panel, register-blocked for that instruction set). With
/// `BLAS.splitsInTwo` the panels are split over the two cores.
public func gemm<T: Scalar>(_ a: Matrix<T>, _ b: PackedMatrix<T>, into c: Matrix<T>, accumulate: Bool = false) {
    guard let panels = b.panels else {
        gemm(a, b.source, into: c, transposeB: b.transposed, accumulate: accumulate)
        return
    }
    precondition(a.columns == b.k && c.rows == a.rows && c.columns == b.n,
                 "gemm shapes: a \(a.rows)x\(a.columns), op(b) \(b.k)x\(b.n), c \(c.rows)x\(c.columns)")
    let count = (b.n + b.width - 1) / b.width
    guard BLAS.splitsInTwo, count >= 2, PairedWorker.shared.acquire() else {
        return multiplyPanels(0 ..< count, b.variant, a.base, rows: a.rows, k: b.k, panels: panels, into: c.base,
                              columns: c.columns, accumulate: accumulate)
    }
    let job = PackedGemmHalves.shared
    job.scalar = T.self
    job.variant = b.variant
    job.a = UnsafeRawPointer(a.base); job.rows = a.rows; job.k = b.k
    job.panels = UnsafeRawPointer(panels); job.count = count
    job.c = UnsafeMutableRawPointer(c.base); job.columns = c.columns
    job.accumulate = accumulate
    PairedWorker.shared.run(job)
}

/// A packed product as two halves of its panels for `PairedWorker`; a single instance,
/// filled in by whoever holds the worker (see `GemmHalves`).
final class PackedGemmHalves: PairedJob {
    static let shared = PackedGemmHalves()

    var scalar: any Scalar.Type = Float.self
    var variant = KernelVariant.generic
    var a = UnsafeRawPointer(bitPattern: 1)!, panels = UnsafeRawPointer(bitPattern: 1)!
    var c = UnsafeMutableRawPointer(bitPattern: 1)!
    var rows = 0, k = 0, columns = 0, count = 0
    var accumulate = false

    /// Dispatched by hand: an opened existential would run the generic body unspecialized.
    func run(half: Int) { scalar == Float.self ? run(half: half, Float.self) : run(half: half, Double.self) }

    private func run<T: Scalar>(half: Int, _: T.Type) {
        multiplyPanels(half == 0 ? 0 ..< count / 2 : count / 2 ..< count, variant, a.assumingMemoryBound(to: T.self),
                       rows: rows, k: k, panels: panels.assumingMemoryBound(to: T.self),
                       into: c.assumingMemoryBound(to: T.self), columns: columns, accumulate: accumulate)
    }
}

/// Panels `range` through the C kernel of `variant` (Float or Double).
@inline(__always)
private func multiplyPanels<T: Scalar>(_ range: Range<Int>, _ variant: KernelVariant, _ a: UnsafePointer<T>, rows: Int, k: Int,
                                       panels: UnsafePointer<T>, into c: UnsafeMutablePointer<T>, columns: Int,
                                       accumulate: Bool) {
    if T.self == Float.self {
        harness_packed_gemm_f32(variant.c, UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), rows, k,
                                UnsafeRawPointer(panels).assumingMemoryBound(to: Float.self), range.lowerBound, range.upperBound,
                                UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), columns, accumulate ? 1 : 0)
    } else {
        precondition(T.self == Double.self, "packed GEMM for \(T.self)")
        harness_packed_gemm_f64(variant.c, UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), rows, k,
                                UnsafeRawPointer(panels).assumingMemoryBound(to: Double.self), range.lowerBound, range.upperBound,
                                UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), columns, accumulate ? 1 : 0)
    }
}
