@testable import HarnessKernels
import Testing

/// The packed small-row GEMM against a naive triple loop, on shapes that leave partial
/// row blocks (M not a multiple of 8) and partial panels (N not a multiple of the width);
/// its BLAS fallback (not packed) on the same terms; and its two halves for the two cores.
struct PackedGemmTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matchesNaiveProductInDouble(transposed: Bool, accumulate: Bool) {
        check(Double.self, m: 13, n: 37, k: 7, transposed: transposed, accumulate: accumulate, tolerance: 1e-12)
        check(Double.self, m: 13, n: 37, k: 7, transposed: transposed, accumulate: accumulate, tolerance: 1e-12, pack: false)
    }

    @Test(arguments: [(1, 1, 1), (8, 32, 128), (20, 800, 200), (20, 600, 200), (20, 200, 600), (32, 128, 2048), (9, 33, 5)])
    func matchesNaiveProductInFloat(m: Int, n: Int, k: Int) {
        check(Float.self, m: m, n: n, k: k, transposed: true, accumulate: true, tolerance: 1e-5 * Float(k).squareRoot())
        check(Float.self, m: m, n: n, k: k, transposed: false, accumulate: false, tolerance: 1e-5 * Float(k).squareRoot())
    }

    @Test func halvesMatchTheWholeProduct() {
        let arena = Arena()
        var generator = SeededGenerator(seed: 12)
        let a = arena.matrix(11, 6, of: Double.self), b = arena.matrix(6, 53, of: Double.self)
        for i in 0..<a.count { a.base[i] = generator.nextUniform(-1, 1) }
        for i in 0..<b.count { b.base[i] = generator.nextUniform(-1, 1) }
        let packed = PackedMatrix(b, transposed: false, arena: arena, pack: true)
        let whole = arena.matrix(11, 53, zeroed: true, of: Double.self), halves = arena.matrix(11, 53, zeroed: true, of: Double.self)
        gemm(a, b, into: whole)
        let job = PackedGemmHalves()
        job.scalar = Double.self
        job.a = UnsafeRawPointer(a.base); job.rows = 11; job.k = 6
        job.panels = UnsafeRawPointer(packed.panels!); job.count = 4  // 53 columns in panels of 16
        job.c = UnsafeMutableRawPointer(halves.base); job.columns = 53
        job.run(half: 0)
        job.run(half: 1)
        #expect(zip(whole.array, halves.array).allSatisfy { abs($0 - $1) < 1e-12 })
        withExtendedLifetime(arena) {}  // the matrices live in it
    }

    private func check<T: Scalar>(_: T.Type, m: Int, n: Int, k: Int, transposed: Bool, accumulate: Bool, tolerance: T,
                                  pack: Bool = true) {
        let arena = Arena()
        var generator = SeededGenerator(seed: 11)
        let a = arena.matrix(m, k, of: T.self)
        let b = arena.matrix(transposed ? n : k, transposed ? k : n, of: T.self)
        let c = arena.matrix(m, n, of: T.self)
        for i in 0..<a.count { a.base[i] = T(generator.nextUniform(-1, 1)) }
        for i in 0..<b.count { b.base[i] = T(generator.nextUniform(-1, 1)) }
        for i in 0..<c.count { c.base[i] = 3 }
        let packed = PackedMatrix(b, transposed: transposed, arena: arena, pack: pack)
        #expect((packed.panels != nil) == pack)
        gemm(a, packed, into: c, accumulate: accumulate)
        var worst: T = 0
        for i in 0..<m {
            for j in 0..<n {
                var s: T = accumulate ? 3 : 0
                for p in 0..<k { s += a[i, p] * (transposed ? b[j, p] : b[p, j]) }
                worst = max(worst, abs(c[i, j] - s))
            }
        }
        #expect(worst <= tolerance, "\(m)x\(k)·\(k)x\(n), transposed \(transposed), accumulate \(accumulate), pack \(pack)")
        withExtendedLifetime(arena) {}  // the matrices live in it
    }
}
