import Foundation
import HarnessKernels
import Testing

/// The SIMD nonlinearities against double-precision libm on [-20, 20], worst error kept.
struct FastMathTests {
    /// 400,001 evenly spaced points on [-20, 20] plus the region boundaries of the kernels.
    static let points: [Float] = (0...400_000).map { Float(-20 + 40 * Double($0) / 400_000) }
        + [0, -0, 0.625, -0.625, 0.62499994, Float.ulpOfOne, -Float.ulpOfOne, 1e-30]

    private func worstError(_ kernel: (SIMD16<Float>) -> SIMD16<Float>, reference: (Double) -> Double,
                            relative: Bool) -> (error: Double, at: Float) {
        var worst = (error: 0.0, at: Float(0))
        var i = 0
        let xs = Self.points
        while i < xs.count {
            var v = SIMD16<Float>(repeating: 0)
            let lanes = min(16, xs.count - i)
            for l in 0..<lanes { v[l] = xs[i + l] }
            let y = kernel(v)
            for l in 0..<lanes {
                let exact = reference(Double(xs[i + l]))
                var error = abs(Double(y[l]) - exact)
                if relative { error /= abs(exact) }
                if error > worst.error { worst = (error, xs[i + l]) }
            }
            i += lanes
        }
        return worst
    }

    @Test func expRelativeErrorWithin2e7() {
        let worst = worstError(FastMath.exp, reference: Foundation.exp, relative: true)
        #expect(worst.error <= 2e-7, "exp: worst relative error \(worst.error) at \(worst.at)")
    }

    @Test func sigmoidAbsoluteErrorWithin2e7() {
        let worst = worstError(FastMath.sigmoid, reference: { 1 / (1 + Foundation.exp(-$0)) }, relative: false)
        #expect(worst.error <= 2e-7, "sigmoid: worst absolute error \(worst.error) at \(worst.at)")
    }

    @Test func tanhAbsoluteErrorWithin2e7() {
        let worst = worstError(FastMath.tanh, reference: Foundation.tanh, relative: false)
        #expect(worst.error <= 2e-7, "tanh: worst absolute error \(worst.error) at \(worst.at)")
    }

    @Test func extremeInputsStayFinite() {
        let y = FastMath.exp(SIMD16<Float>(repeating: 1000))
        #expect(y[0].isFinite && y[0] > 1e38)
        #expect(FastMath.sigmoid(SIMD16<Float>(repeating: -1000))[0] >= 0)
        #expect(FastMath.tanh(SIMD16<Float>(repeating: 1000))[0] == 1)
        #expect(FastMath.tanh(SIMD16<Float>(repeating: -1000))[0] == -1)
    }

    @Test func bufferKernelsHandleTails() {
        // 37 = two full vectors of 16 and a tail of 5.
        var x = (0..<37).map { Float($0) / 10 - 1.8 }
        let reference = x.map { Foundation.tanh(Double($0)) }
        x.withUnsafeMutableBufferPointer { tanhInPlace(37, $0.baseAddress!) }
        for (a, b) in zip(x, reference) { #expect(abs(Double(a) - b) <= 2e-7) }
    }
}
