@testable import HarnessKernels
import Testing

/// The BLAS wrapper against a naive triple loop, for every transpose combination, whole
/// and as the two halves the two cores run (`GemmHalves`, run here one after the other).
struct GemmTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matchesNaiveProduct(transposeA: Bool, transposeB: Bool) {
        let arena = Arena()
        let (a, b, c) = operands(m: 5, n: 4, k: 3, transposeA: transposeA, transposeB: transposeB, in: arena)
        gemm(a, b, into: c, transposeA: transposeA, transposeB: transposeB, alpha: 2, accumulate: true)
        expectNaive(c, a, b, transposeA: transposeA, transposeB: transposeB)
        withExtendedLifetime(arena) {}  // the matrices live in it
    }

    @Test(arguments: [(9, 4, false, false), (4, 9, true, false), (7, 7, false, true), (3, 11, true, true)])
    func halvesMatchNaiveProduct(m: Int, n: Int, transposeA: Bool, transposeB: Bool) {
        let arena = Arena()
        let (a, b, c) = operands(m: m, n: n, k: 5, transposeA: transposeA, transposeB: transposeB, in: arena)
        let job = GemmHalves()
        job.scalar = Double.self
        job.transposeA = transposeA; job.transposeB = transposeB
        job.m = m; job.n = n; job.k = 5; job.alpha = 2; job.beta = 1
        job.a = UnsafeRawPointer(a.base); job.lda = a.columns
        job.b = UnsafeRawPointer(b.base); job.ldb = b.columns
        job.c = UnsafeMutableRawPointer(c.base); job.ldc = c.columns
        job.run(half: 0)
        job.run(half: 1)
        expectNaive(c, a, b, transposeA: transposeA, transposeB: transposeB)
        withExtendedLifetime(arena) {}  // the matrices live in it
    }

    @Test func overwritesWithoutAccumulate() {
        let arena = Arena()
        let a = arena.matrix(1, 2, of: Float.self), b = arena.matrix(2, 1, of: Float.self), c = arena.matrix(1, 1, of: Float.self)
        a.base[0] = 1; a.base[1] = 2; b.base[0] = 3; b.base[1] = 4; c.base[0] = 100
        gemm(a, b, into: c)
        #expect(c.base[0] == 11)
    }

    /// With batch-invariant products a row's result has the same bits whatever rows
    /// surround it, for every row count (OpenBLAS's do not on AVX2 and AVX-512), and
    /// stays the product.
    @Test(arguments: [false, true])
    func batchInvariantRowsDoNotDependOnTheOtherRows(transposeB: Bool) {
        let arena = Arena()
        var generator = SeededGenerator(seed: 11)
        let k = 300, n = 70, rows = 41
        let a = arena.matrix(rows, k, of: Float.self), b = arena.matrix(transposeB ? n : k, transposeB ? k : n, of: Float.self)
        for i in 0..<a.count { a.base[i] = Float(generator.nextUniform(-1, 1)) }
        for i in 0..<b.count { b.base[i] = Float(generator.nextUniform(-1, 1)) }
        let whole = arena.matrix(rows, n, of: Float.self)
        gemm(a, b, into: whole, transposeB: transposeB, batchInvariant: true)
        for m in [1, 3, 8, 9, 17] {
            for first in stride(from: 0, to: rows - m + 1, by: 5) {
                let part = arena.matrix(m, n, of: Float.self)
                gemm(a.rows(first ..< first + m), b, into: part, transposeB: transposeB, batchInvariant: true)
                #expect(part.array == whole.rows(first ..< first + m).array, "rows \(first)..<\(first + m)")
            }
        }
        for i in 0..<rows {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(a[i, p]) * Double(transposeB ? b[j, p] : b[p, j]) }
                #expect(abs(Double(whole[i, j]) - s) < 1e-4, "c[\(i), \(j)]")
            }
        }
    }

    /// Random a and b stored for op(a) (M, K) and op(b) (K, N); c (M, N) all ones.
    private func operands(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, in arena: Arena)
        -> (Matrix<Double>, Matrix<Double>, Matrix<Double>) {
        var generator = SeededGenerator(seed: 7)
        let a = arena.matrix(transposeA ? k : m, transposeA ? m : k, of: Double.self)
        let b = arena.matrix(transposeB ? n : k, transposeB ? k : n, of: Double.self)
        let c = arena.matrix(m, n, of: Double.self)
        for i in 0..<a.count { a.base[i] = generator.nextUniform(-1, 1) }
        for i in 0..<b.count { b.base[i] = generator.nextUniform(-1, 1) }
        for i in 0..<c.count { c.base[i] = 1 }
        return (a, b, c)
    }

    /// c = 1 + 2·op(a)·op(b), by a triple loop.
    private func expectNaive(_ c: Matrix<Double>, _ a: Matrix<Double>, _ b: Matrix<Double>, transposeA: Bool, transposeB: Bool) {
        let k = transposeA ? a.rows : a.columns
        for i in 0..<c.rows {
            for j in 0..<c.columns {
                var s = 0.0
                for p in 0..<k { s += (transposeA ? a[p, i] : a[i, p]) * (transposeB ? b[j, p] : b[p, j]) }
                #expect(abs(c[i, j] - (1 + 2 * s)) < 1e-12, "c[\(i), \(j)]")
            }
        }
    }
}
