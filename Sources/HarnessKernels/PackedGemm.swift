/// A weight laid out once for many products with few rows: the per-timestep GEMMs of
/// an LSTM, (B, P)·(P, 4H) and (B, 4H)·(4H, P) with B = 20…64 rows, repeated T times
/// against the same weight.
///
/// BLAS packs its `b` operand into cache-friendly panels on every call, and with so few
/// rows that copy costs about as much as the arithmetic (config C: 13 % of a step in
/// OpenBLAS's copy routines). `PackedMatrix` holds op(b) already in that form: column
/// panels of `width` = two SIMD vectors, each panel K rows of `width` contiguous values,
/// the columns past N zero. Measured here on config C's four per-timestep shapes, one
/// core: 110–116 GFLOPS against OpenBLAS's 80–90 (`harness-microbench --packed-gemm`).
///
/// Packing pays where OpenBLAS runs single-threaded (`BLAS.threads` ≤ 2; at two the
/// panels are split over the two cores). With OpenBLAS's own pool (more than two
/// threads) `PackedMatrix` keeps the source and hands products to threaded BLAS.
public struct PackedMatrix<T: Scalar> {
    /// Columns per panel: two vectors (32 Float, 16 Double).
    public static var width: Int { 2 * T.Vector.scalarCount }

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

    /// op(b) = `b` (K, N) or, when `transposed`, `b`ᵀ with `b` (N, K), packed into storage
    /// from `arena` when `pack` (callers pass `shouldPack(…)`, see above).
    public init(_ b: Matrix<T>, transposed: Bool, arena: Arena, pack: Bool) {
        source = b
        self.transposed = transposed
        k = transposed ? b.columns : b.rows
        n = transposed ? b.rows : b.columns
        guard pack else {
            panels = nil
            return
        }
        let width = Self.width, count = (n + width - 1) / width
        let base = arena.allocate(count * k * width, of: T.self)
        for panel in 0..<count {
            let out = base + panel * k * width
            let first = panel * width, valid = min(width, n - first)
            for row in 0..<k {
                let destination = out + row * width
                if transposed {
                    for column in 0..<valid { destination[column] = b[first + column, row] }
                } else {
                    destination.update(from: b.row(row) + first, count: valid)
                }
                if valid < width { (destination + valid).update(repeating: 0, count: width - valid) }
            }
        }
        panels = base
    }
}

/// `c ← a · op(b) + (accumulate ? c : 0)` with op(b) packed: a (M, K), c (M, N).
///
/// Register-blocked: 8 rows of `a` against one panel keep 16 vector accumulators in
/// registers, fed by one broadcast of `a` and two vector loads of the panel per
/// multiply-add pair. A last block of fewer than 8 rows repeats the last row and drops
/// the repeated results. With `BLAS.splitsInTwo` the panels are split over the two cores.
public func gemm<T: Scalar>(_ a: Matrix<T>, _ b: PackedMatrix<T>, into c: Matrix<T>, accumulate: Bool = false) {
    guard let panels = b.panels else {
        gemm(a, b.source, into: c, transposeB: b.transposed, accumulate: accumulate)
        return
    }
    precondition(a.columns == b.k && c.rows == a.rows && c.columns == b.n,
                 "gemm shapes: a \(a.rows)x\(a.columns), op(b) \(b.k)x\(b.n), c \(c.rows)x\(c.columns)")
    let count = (b.n + PackedMatrix<T>.width - 1) / PackedMatrix<T>.width
    guard BLAS.splitsInTwo, count >= 2, PairedWorker.shared.acquire() else {
        return multiplyPanels(0 ..< count, a, panels: panels, k: b.k, into: c, accumulate: accumulate)
    }
    let job = PackedGemmHalves.shared
    job.scalar = T.self
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
    var a = UnsafeRawPointer(bitPattern: 1)!, panels = UnsafeRawPointer(bitPattern: 1)!
    var c = UnsafeMutableRawPointer(bitPattern: 1)!
    var rows = 0, k = 0, columns = 0, count = 0
    var accumulate = false

    /// Dispatched by hand: an opened existential would run the generic body unspecialized.
    func run(half: Int) { scalar == Float.self ? run(half: half, Float.self) : run(half: half, Double.self) }

    private func run<T: Scalar>(half: Int, _: T.Type) {
        let a = Matrix(base: UnsafeMutablePointer(mutating: a.assumingMemoryBound(to: T.self)), rows: rows, columns: k)
        let c = Matrix(base: c.assumingMemoryBound(to: T.self), rows: rows, columns: columns)
        multiplyPanels(half == 0 ? 0 ..< count / 2 : count / 2 ..< count, a,
                       panels: UnsafeMutablePointer(mutating: panels.assumingMemoryBound(to: T.self)), k: k,
                       into: c, accumulate: accumulate)
    }
}

@inline(__always)
private func multiplyPanels<T: Scalar>(_ range: Range<Int>, _ a: Matrix<T>, panels: UnsafeMutablePointer<T>, k: Int,
                                       into c: Matrix<T>, accumulate: Bool) {
    let width = PackedMatrix<T>.width
    for panel in range {
        var first = 0
        while first < a.rows {
            multiplyBlock(a, rows: first, panel: panels + panel * k * width, k: k, into: c,
                          column: panel * width, accumulate: accumulate)
            first += 8
        }
    }
}

/// c[rows ..< rows+8, column ..< column+width] (clipped to c) from 8 rows of `a` and one panel.
@inline(__always)
private func multiplyBlock<T: Scalar>(_ a: Matrix<T>, rows first: Int, panel: UnsafeMutablePointer<T>, k: Int,
                                      into c: Matrix<T>, column: Int, accumulate: Bool) {
    typealias V = T.Vector
    let lanes = V.scalarCount, last = a.rows - 1
    let a0 = a.row(first), a1 = a.row(min(first + 1, last)), a2 = a.row(min(first + 2, last))
    let a3 = a.row(min(first + 3, last)), a4 = a.row(min(first + 4, last)), a5 = a.row(min(first + 5, last))
    let a6 = a.row(min(first + 6, last)), a7 = a.row(min(first + 7, last))
    var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V(), c30 = V(), c31 = V()
    var c40 = V(), c41 = V(), c50 = V(), c51 = V(), c60 = V(), c61 = V(), c70 = V(), c71 = V()
    var p = panel
    for i in 0..<k {
        let b0 = p.vector(at: 0), b1 = p.vector(at: lanes)
        var s = V(repeating: a0[i])
        c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
        s = V(repeating: a1[i])
        c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
        s = V(repeating: a2[i])
        c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
        s = V(repeating: a3[i])
        c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
        s = V(repeating: a4[i])
        c40 = c40.addingProduct(s, b0); c41 = c41.addingProduct(s, b1)
        s = V(repeating: a5[i])
        c50 = c50.addingProduct(s, b0); c51 = c51.addingProduct(s, b1)
        s = V(repeating: a6[i])
        c60 = c60.addingProduct(s, b0); c61 = c61.addingProduct(s, b1)
        s = V(repeating: a7[i])
        c70 = c70.addingProduct(s, b0); c71 = c71.addingProduct(s, b1)
        p += 2 * lanes
    }
    let valid = min(2 * lanes, c.columns - column)
    @inline(__always)
    func store(_ low: V, _ high: V, row: Int) {
        guard row < c.rows else { return }
        let out = c.row(row) + column
        if valid == 2 * lanes {
            out.setVector(accumulate ? out.vector(at: 0) + low : low, at: 0)
            out.setVector(accumulate ? out.vector(at: lanes) + high : high, at: lanes)
        } else {
            let lowCount = min(valid, lanes), highCount = valid - lowCount
            out.setPartialVector(accumulate ? out.partialVector(at: 0, count: lowCount) + low : low, at: 0, count: lowCount)
            out.setPartialVector(accumulate ? out.partialVector(at: lanes, count: highCount) + high : high,
                                 at: lanes, count: highCount)
        }
    }
    store(c00, c01, row: first)
    store(c10, c11, row: first + 1)
    store(c20, c21, row: first + 2)
    store(c30, c31, row: first + 3)
    store(c40, c41, row: first + 4)
    store(c50, c51, row: first + 5)
    store(c60, c61, row: first + 6)
    store(c70, c71, row: first + 7)
}
