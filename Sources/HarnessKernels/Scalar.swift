import CBLAS
import RealModule

/// The floating-point types the model runs in: `Float` for training, `Double` for
/// gradient checks. Everything numeric in the harness is generic over `Scalar`; the few
/// operations that must differ per type (BLAS entry points and the vectorised
/// nonlinearities) are the protocol's requirements.
///
/// `Vector` is the SIMD width the fused kernels work in: 16 lanes of `Float` (one
/// 512-bit or two 256-bit registers), 8 lanes of `Double`.
public protocol Scalar: BinaryFloatingPoint, Real, SIMDScalar, Sendable, Codable {
    associatedtype Vector: SIMD where Vector.Scalar == Self

    /// `C ← alpha · op(A) · op(B) + beta · C`, row-major, with explicit leading dimensions.
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    /// Lane-wise e^x.
    static func exp(_ x: Vector) -> Vector
    /// Lane-wise 1 / (1 + e^-x).
    static func sigmoid(_ x: Vector) -> Vector
    /// Lane-wise tanh(x).
    static func tanh(_ x: Vector) -> Vector

    // Lane-wise selections. Generic SIMD comparisons compile to slow lane-by-lane code
    // even when specialized (measured 7 ns vs 0.08 ns per element), so each type
    // provides them on its concrete vector.

    /// Lane-wise max(a, b).
    static func maximum(_ a: Vector, _ b: Vector) -> Vector
    /// Lane-wise clamp(x, −limit, limit).
    static func clamp(_ x: Vector, limit: Self) -> Vector
    /// `gradient` with the lanes where |x| > limit set to zero: the derivative of `clamp`.
    static func zeroWhereClamped(_ gradient: Vector, input x: Vector, limit: Self) -> Vector
}

@inline(__always)
@usableFromInline func transpose(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: Scalar {
    public typealias Vector = SIMD16<Float>

    @inlinable
    @inline(__always)
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, transpose(transposeA), transpose(transposeB),
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }

    @inlinable @inline(__always) public static func exp(_ x: Vector) -> Vector { FastMath.exp(x) }
    @inlinable @inline(__always) public static func sigmoid(_ x: Vector) -> Vector { FastMath.sigmoid(x) }
    @inlinable @inline(__always) public static func tanh(_ x: Vector) -> Vector { FastMath.tanh(x) }

    @inlinable @inline(__always) public static func maximum(_ a: Vector, _ b: Vector) -> Vector { a.replacing(with: b, where: b .> a) }

    @inlinable @inline(__always) public static func clamp(_ x: Vector, limit: Float) -> Vector {
        x.replacing(with: limit, where: x .> limit).replacing(with: -limit, where: x .< -limit)
    }

    @inlinable @inline(__always) public static func zeroWhereClamped(_ gradient: Vector, input x: Vector, limit: Float) -> Vector {
        gradient.replacing(with: 0, where: (x .> limit) .| (x .< -limit))
    }
}

extension Double: Scalar {
    public typealias Vector = SIMD8<Double>

    @inlinable
    @inline(__always)
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(CblasRowMajor, transpose(transposeA), transpose(transposeB),
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                    beta, c, Int32(ldc))
    }

    // Double is the reference precision for gradient checks: libm, lane by lane.
    @inlinable
    public static func exp(_ x: Vector) -> Vector {
        var y = x
        for i in y.indices { y[i] = Double.exp(x[i]) }
        return y
    }

    @inlinable
    public static func sigmoid(_ x: Vector) -> Vector {
        var y = x
        for i in y.indices { y[i] = 1 / (1 + Double.exp(-x[i])) }
        return y
    }

    @inlinable
    public static func tanh(_ x: Vector) -> Vector {
        var y = x
        for i in y.indices { y[i] = Double.tanh(x[i]) }
        return y
    }

    @inlinable @inline(__always) public static func maximum(_ a: Vector, _ b: Vector) -> Vector { a.replacing(with: b, where: b .> a) }

    @inlinable @inline(__always) public static func clamp(_ x: Vector, limit: Double) -> Vector {
        x.replacing(with: limit, where: x .> limit).replacing(with: -limit, where: x .< -limit)
    }

    @inlinable @inline(__always) public static func zeroWhereClamped(_ gradient: Vector, input x: Vector, limit: Double) -> Vector {
        gradient.replacing(with: 0, where: (x .> limit) .| (x .< -limit))
    }
}
