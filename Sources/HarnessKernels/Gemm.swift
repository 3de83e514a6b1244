/// `c ← alpha · op(a) · op(b) + (accumulate ? c : 0)` on matrix views, through BLAS
/// (through the packed kernel with `batchInvariant`, for non-transposed `a` and alpha 1).
///
/// `op(x)` is `x` or its transpose. Shapes are checked: a mismatch is a programming
/// error and stops with both shapes named.
@inline(__always)
public func gemm<T: Scalar>(
    _ a: Matrix<T>, _ b: Matrix<T>, into c: Matrix<T>,
    transposeA: Bool = false, transposeB: Bool = false,
    alpha: T = 1, accumulate: Bool = false, batchInvariant: Bool = false
) {
    let m = transposeA ? a.columns : a.rows
    let k = transposeA ? a.rows : a.columns
    let kB = transposeB ? b.columns : b.rows
    let n = transposeB ? b.rows : b.columns
    precondition(k == kB && c.rows == m && c.columns == n,
                 "gemm shapes: op(a) \(m)x\(k), op(b) \(kB)x\(n), c \(c.rows)x\(c.columns)")
    if m == 0 || n == 0 { return }
    if k == 0 {
        if !accumulate { c.base.update(repeating: 0, count: c.count) }
        return
    }
    if batchInvariant && !transposeA && alpha == 1 {
        return batchInvariantProduct(a, b, into: c, transposeB: transposeB, accumulate: accumulate)
    }
    gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
         alpha: alpha, a: a.base, lda: max(a.columns, 1), b: b.base, ldb: max(b.columns, 1),
         beta: accumulate ? 1 : 0, c: c.base, ldc: max(c.columns, 1))
}

/// `c ← a · op(b)` through a `PackedMatrix` packed for this call: each row of `c` is one
/// fused multiply-add chain in a fixed order, so a row's result does not depend on how
/// many rows the call has, which rows they are, or the BLAS kernel the CPU selects
/// (OpenBLAS picks kernels and blockings by shape: on AVX2 and AVX-512 a row's last
/// bits change with the row count). For inference, where a sentence's vectors must not
/// depend on its batch (`StepContext.batchInvariant`); allocates the panels.
private func batchInvariantProduct<T: Scalar>(_ a: Matrix<T>, _ b: Matrix<T>, into c: Matrix<T>,
                                              transposeB: Bool, accumulate: Bool) {
    let arena = Arena(initialCapacity: (b.count + KernelVariant.selected.panelWidth(T.self) * max(b.rows, b.columns)) * MemoryLayout<T>.stride)
    gemm(a, PackedMatrix(b, transposed: transposeB, arena: arena, pack: true), into: c, accumulate: accumulate)
}

/// The same on row-major pointers with explicit leading dimensions (views into wider
/// rows). With `BLAS.splitsInTwo`, a product of 2^20 multiply-adds or more runs as two
/// single-threaded halves on the two cores (`GemmHalves`).
@inline(__always)
public func gemm<T: Scalar>(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    alpha: T, a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
    beta: T, c: UnsafeMutablePointer<T>, ldc: Int
) {
    guard BLAS.splitsInTwo, m * n * k >= 1 << 20, max(m, n) >= 2, PairedWorker.shared.acquire() else {
        T.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
               a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    let job = GemmHalves.shared
    job.scalar = T.self
    job.transposeA = transposeA; job.transposeB = transposeB
    job.m = m; job.n = n; job.k = k
    job.alpha = Double(alpha); job.beta = Double(beta)
    job.a = UnsafeRawPointer(a); job.lda = lda
    job.b = UnsafeRawPointer(b); job.ldb = ldb
    job.c = UnsafeMutableRawPointer(c); job.ldc = ldc
    PairedWorker.shared.run(job)
}

/// One GEMM as two halves for `PairedWorker`: the rows of c when it has at least as
/// many rows as columns, else its columns. A single instance, filled in by whoever holds
/// the worker; the scalar type (Float or Double) is kept as a metatype.
final class GemmHalves: PairedJob {
    static let shared = GemmHalves()

    var scalar: any Scalar.Type = Float.self
    var transposeA = false, transposeB = false
    var m = 0, n = 0, k = 0, lda = 0, ldb = 0, ldc = 0
    var alpha = 0.0, beta = 0.0
    var a = UnsafeRawPointer(bitPattern: 1)!, b = UnsafeRawPointer(bitPattern: 1)!
    var c = UnsafeMutableRawPointer(bitPattern: 1)!

    /// Dispatched by hand: an opened existential would run the generic body unspecialized.
    func run(half: Int) { scalar == Float.self ? run(half: half, Float.self) : run(half: half, Double.self) }

    private func run<T: Scalar>(half: Int, _: T.Type) {
        let a = a.assumingMemoryBound(to: T.self), b = b.assumingMemoryBound(to: T.self)
        let c = c.assumingMemoryBound(to: T.self)
        if m >= n {
            let first = half == 0 ? 0 : m / 2, rows = half == 0 ? m / 2 : m - m / 2
            T.gemm(transposeA: transposeA, transposeB: transposeB, m: rows, n: n, k: k, alpha: T(alpha),
                   a: a + (transposeA ? first : first * lda), lda: lda, b: b, ldb: ldb,
                   beta: T(beta), c: c + first * ldc, ldc: ldc)
        } else {
            let first = half == 0 ? 0 : n / 2, columns = half == 0 ? n / 2 : n - n / 2
            T.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: columns, k: k, alpha: T(alpha),
                   a: a, lda: lda, b: b + (transposeB ? first * ldb : first), ldb: ldb,
                   beta: T(beta), c: c + first, ldc: ldc)
        }
    }
}
