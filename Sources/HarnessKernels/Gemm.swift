/// `c ← alpha · op(a) · op(b) + (accumulate ? c : 0)` on matrix views, through BLAS.
///
/// `op(x)` is `x` or its transpose. Shapes are checked: a mismatch is a programming
/// error and stops with both shapes named.
@inline(__always)
public func gemm<T: Scalar>(
    _ a: Matrix<T>, _ b: Matrix<T>, into c: Matrix<T>,
    transposeA: Bool = false, transposeB: Bool = false,
    alpha: T = 1, accumulate: Bool = false
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
    T.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
           alpha: alpha, a: a.base, lda: max(a.columns, 1), b: b.base, ldb: max(b.columns, 1),
           beta: accumulate ? 1 : 0, c: c.base, ldc: max(c.columns, 1))
}
