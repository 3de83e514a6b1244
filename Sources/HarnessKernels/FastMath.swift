import CIntrinsics

/// Vectorised single-precision exp, sigmoid and tanh (16 lanes), written as straight-line
/// polynomial code so that LLVM keeps it in vector registers.
///
/// Accuracy against double-precision libm on [-20, 20] (checked by `FastMathTests`):
/// exp within 2e-7 relative error; sigmoid and tanh within 2e-7 absolute error.
/// The polynomials are Cephes' `expf` and `tanhf` (S. L. Moshier). Clamping uses
/// `replace(with:where:)`: `pointwiseMin/Max` on SIMD16 compiled to scalar code.
public enum FastMath {
    public typealias V = SIMD16<Float>

    /// √x without libm's errno path, so that loops over it vectorise (the optimizers'
    /// updates: `squareRoot()` measured scalar there, 4.5 % of a config-C training step).
    @inlinable
    @inline(__always)
    public static func squareRoot(_ x: Double) -> Double { harness_sqrt(x) }

    /// e^x; inputs are clamped to [-87.33, 88.02] (results stay finite and normal).
    @inlinable
    @inline(__always)
    public static func exp(_ input: V) -> V {
        var x = input
        x.replace(with: 88.02, where: x .> 88.02)
        x.replace(with: -87.33, where: x .< -87.33)
        // x = n·ln2 + r with |r| ≤ ln2/2; ln2 split in two for an exact product n·C1.
        // Adding 1.5·2^23 rounds x·log2(e) to an integer held in the low mantissa bits
        // (vector `rounded` and float→int conversions compiled to slow scalar code).
        let magic: Float = 12_582_912
        let shifted = x * 1.442_695_040_888_963_4 + magic
        let n = shifted - magic
        var r = x - n * 0.693_359_375
        r = r + n * 2.121_944_4e-4
        let r2 = r * r
        var p = V(repeating: 1.987_569_150_0e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        let y = p * r2 + r + 1
        let exponent = (unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return y * unsafeBitCast(exponent, to: V.self)
    }

    /// 1 / (1 + e^-x).
    @inlinable
    @inline(__always)
    public static func sigmoid(_ x: V) -> V {
        1 / (1 + exp(-x))
    }

    /// tanh(x): an odd polynomial for |x| < 0.625, 1 - 2/(e^{2|x|} + 1) beyond (no cancellation there).
    @inlinable
    @inline(__always)
    public static func tanh(_ x: V) -> V {
        let negative = x .< 0
        var a = x
        a.replace(with: -x, where: negative)
        // Large branch.
        var large = 1 - 2 / (exp(a + a) + 1)
        large.replace(with: -large, where: negative)
        // Small branch: Cephes tanhf minimax polynomial in z = x².
        let z = x * x
        var p = V(repeating: -5.704_988_727_45e-3)
        p = p * z + 2.063_908_879_54e-2
        p = p * z - 5.373_971_555_31e-2
        p = p * z + 1.333_144_220_36e-1
        p = p * z - 3.333_328_194_22e-1
        let small = p * z * x + x
        large.replace(with: small, where: a .< 0.625)
        return large
    }
}
