import HarnessKernels
import Testing

/// The BLAS wrapper against a naive triple loop, for every transpose combination.
struct GemmTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matchesNaiveProduct(transposeA: Bool, transposeB: Bool) {
        let m = 5, n = 4, k = 3
        let arena = Arena()
        var generator = SeededGenerator(seed: 7)
        let a = arena.matrix(transposeA ? k : m, transposeA ? m : k, of: Double.self)
        let b = arena.matrix(transposeB ? n : k, transposeB ? k : n, of: Double.self)
        let c = arena.matrix(m, n, of: Double.self)
        for i in 0..<a.count { a.base[i] = generator.nextUniform(-1, 1) }
        for i in 0..<b.count { b.base[i] = generator.nextUniform(-1, 1) }
        for i in 0..<c.count { c.base[i] = 1 }
        gemm(a, b, into: c, transposeA: transposeA, transposeB: transposeB, alpha: 2, accumulate: true)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    s += (transposeA ? a[p, i] : a[i, p]) * (transposeB ? b[j, p] : b[p, j])
                }
                #expect(abs(c[i, j] - (1 + 2 * s)) < 1e-12, "c[\(i), \(j)]")
            }
        }
    }

    @Test func overwritesWithoutAccumulate() {
        let arena = Arena()
        let a = arena.matrix(1, 2, of: Float.self), b = arena.matrix(2, 1, of: Float.self), c = arena.matrix(1, 1, of: Float.self)
        a.base[0] = 1; a.base[1] = 2; b.base[0] = 3; b.base[1] = 4; c.base[0] = 100
        gemm(a, b, into: c)
        #expect(c.base[0] == 11)
    }
}
