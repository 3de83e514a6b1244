import Foundation
@testable import HarnessKernels
import Testing

/// The packed small-row GEMM, every kernel variant this CPU runs, against a naive triple
/// loop on shapes that give row blocks of every height the kernels use and
/// partial panels (N not a multiple of the width); its BLAS fallback (not packed) on the
/// same terms; its two halves for the two cores; and the choice of variant.
struct PackedGemmTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matchesNaiveProductInDouble(transposed: Bool, accumulate: Bool) {
        for variant in KernelVariant.runnable {
            check(Double.self, m: 13, n: 37, k: 7, transposed: transposed, accumulate: accumulate, tolerance: 1e-12, variant: variant)
        }
        check(Double.self, m: 13, n: 37, k: 7, transposed: transposed, accumulate: accumulate, tolerance: 1e-12, pack: false)
    }

    /// The kernels split the rows into even blocks of at most 4, 6 or 8 (generic, AVX2,
    /// AVX-512): these M give every block height from 1 to 8 in each variant.
    @Test(arguments: [(1, 1, 1), (8, 32, 128), (20, 800, 200), (20, 600, 200), (20, 200, 600), (32, 128, 2048), (9, 33, 5),
                      (7, 17, 3), (25, 9, 11), (2, 19, 5), (3, 40, 9), (11, 23, 6), (13, 16, 4)])
    func matchesNaiveProductInFloat(m: Int, n: Int, k: Int) {
        for variant in KernelVariant.runnable {
            check(Float.self, m: m, n: n, k: k, transposed: true, accumulate: true, tolerance: 1e-5 * Float(k).squareRoot(), variant: variant)
            check(Float.self, m: m, n: n, k: k, transposed: false, accumulate: false, tolerance: 1e-5 * Float(k).squareRoot(), variant: variant)
        }
    }

    /// The AVX2 and AVX-512 kernels compute each element as the same fused multiply-add
    /// chain, so they agree to the bit; the generic one (separate multiply and add) to
    /// rounding, within the tolerance `KernelVariant` documents: 1e-5·√k for inputs in ±1.
    @Test func variantsAgreeAsDocumented() {
        let arena = Arena()
        var generator = SeededGenerator(seed: 21)
        let m = 20, k = 200, n = 600
        let a = arena.matrix(m, k, of: Float.self), b = arena.matrix(n, k, of: Float.self)
        for i in 0..<a.count { a.base[i] = Float(generator.nextUniform(-1, 1)) }
        for i in 0..<b.count { b.base[i] = Float(generator.nextUniform(-1, 1)) }
        var results: [KernelVariant: [Float]] = [:]
        for variant in KernelVariant.runnable {
            let c = arena.matrix(m, n, of: Float.self)
            gemm(a, PackedMatrix(b, transposed: true, arena: arena, pack: true, variant: variant), into: c)
            results[variant] = c.array
        }
        if let avx2 = results[.avx2], let avx512 = results[.avx512] {
            #expect(avx2 == avx512, "AVX2 and AVX-512 differ in \(zip(avx2, avx512).filter { $0 != $1 }.count) elements")
        }
        let generic = results[.generic]!, best = results[KernelVariant.supported]!
        let worst = zip(generic, best).map { abs($0 - $1) }.max()!
        #expect(worst <= 1e-5 * Float(k).squareRoot(), "generic against \(KernelVariant.supported): \(worst)")
        withExtendedLifetime(arena) {}
    }

    /// `supported` is the widest variant the CPU's flags allow (/proc/cpuinfo, read
    /// independently of the kernels' own cpuid check).
    @Test func dispatcherPicksTheWidestSupportedVariant() throws {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let flags = Set(line.split(separator: ":", maxSplits: 1)[1].split(separator: " ").map(String.init))
        let expected: KernelVariant = flags.contains("avx512f") && flags.contains("fma") ? .avx512
            : flags.isSuperset(of: ["avx2", "fma"]) ? .avx2 : .generic
        #expect(KernelVariant.supported == expected)
        #expect(KernelVariant.selected == (try KernelVariant.fromEnvironment() ?? expected))
        #expect(KernelVariant.runnable.last == expected && KernelVariant.runnable.first == .generic)
    }

    @Test func environmentNamesAVariantTheCPURuns() throws {
        #expect(try KernelVariant.fromEnvironment([:]) == nil)
        #expect(try KernelVariant.fromEnvironment(["HARNESS_KERNELS": "generic"]) == .generic)
        let unknown = #expect(throws: KernelVariantError.self) { try KernelVariant.fromEnvironment(["HARNESS_KERNELS": "sse9"]) }
        let runnable = KernelVariant.runnable.map(\.description).joined(separator: ", ")
        #expect(unknown?.description == "HARNESS_KERNELS=sse9 is not a kernel variant: expected one of generic, avx2, avx512; this CPU runs \(runnable)")
        if KernelVariant.supported != .avx512 {
            let lacking = #expect(throws: KernelVariantError.self) { try KernelVariant.fromEnvironment(["HARNESS_KERNELS": "avx512"]) }
            #expect(lacking?.description.contains("this CPU lacks its instructions") == true)
        }
    }

    @Test func openBLASCoreIsReplacedOnlyWhenItLacksAVX2() {
        #expect(OpenBLASCore.replacement(for: "Prescott", supported: .avx512, environment: [:]) == "SkylakeX")
        #expect(OpenBLASCore.replacement(for: "Nehalem", supported: .avx2, environment: [:]) == "Haswell")
        #expect(OpenBLASCore.replacement(for: "Prescott", supported: .generic, environment: [:]) == nil)
        #expect(OpenBLASCore.replacement(for: "Zen", supported: .avx2, environment: [:]) == nil)
        #expect(OpenBLASCore.replacement(for: "Haswell", supported: .avx512, environment: [:]) == nil)
        #expect(OpenBLASCore.replacement(for: "Prescott", supported: .avx512, environment: ["OPENBLAS_CORETYPE": "Prescott"]) == nil)
    }

    @Test func halvesMatchTheWholeProduct() {
        for variant in KernelVariant.runnable {
            let arena = Arena()
            var generator = SeededGenerator(seed: 12)
            let a = arena.matrix(11, 6, of: Double.self), b = arena.matrix(6, 53, of: Double.self)
            for i in 0..<a.count { a.base[i] = generator.nextUniform(-1, 1) }
            for i in 0..<b.count { b.base[i] = generator.nextUniform(-1, 1) }
            let packed = PackedMatrix(b, transposed: false, arena: arena, pack: true, variant: variant)
            let whole = arena.matrix(11, 53, zeroed: true, of: Double.self), halves = arena.matrix(11, 53, zeroed: true, of: Double.self)
            gemm(a, b, into: whole)
            let job = PackedGemmHalves()
            job.scalar = Double.self
            job.variant = variant
            job.a = UnsafeRawPointer(a.base); job.rows = 11; job.k = 6
            job.panels = UnsafeRawPointer(packed.panels!); job.count = (53 + packed.width - 1) / packed.width
            job.c = UnsafeMutableRawPointer(halves.base); job.columns = 53
            job.run(half: 0)
            job.run(half: 1)
            #expect(zip(whole.array, halves.array).allSatisfy { abs($0 - $1) < 1e-12 }, "\(variant)")
            withExtendedLifetime(arena) {}  // the matrices live in it
        }
    }

    private func check<T: Scalar>(_: T.Type, m: Int, n: Int, k: Int, transposed: Bool, accumulate: Bool, tolerance: T,
                                  pack: Bool = true, variant: KernelVariant? = nil) {
        let arena = Arena()
        var generator = SeededGenerator(seed: 11)
        let a = arena.matrix(m, k, of: T.self)
        let b = arena.matrix(transposed ? n : k, transposed ? k : n, of: T.self)
        let c = arena.matrix(m, n, of: T.self)
        for i in 0..<a.count { a.base[i] = T(generator.nextUniform(-1, 1)) }
        for i in 0..<b.count { b.base[i] = T(generator.nextUniform(-1, 1)) }
        for i in 0..<c.count { c.base[i] = 3 }
        let packed = PackedMatrix(b, transposed: transposed, arena: arena, pack: pack, variant: variant)
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
        let kernel = variant.map(String.init(describing:)) ?? "selected"
        #expect(worst <= tolerance, "\(m)x\(k)·\(k)x\(n), transposed \(transposed), accumulate \(accumulate), pack \(pack), \(kernel)")
        withExtendedLifetime(arena) {}  // the matrices live in it
    }
}
