import Foundation
@testable import HarnessKernels
import PackedKernels
import Testing

/// The C pointwise kernels (PointwiseKernels.h), every variant this CPU runs, against the
/// portable Swift kernels they transcribe: the same bits, for widths with and without a
/// SIMD tail, with and without cell clipping, on inputs from −30 to 30 (the exponential's
/// clamp, both branches of tanh). The Swift kernels themselves are gradient-checked in
/// Double (ComponentGradientTests) through the same code.
struct PointwiseKernelTests {
    static let widths = [1, 5, 15, 16, 17, 33, 300, 512]

    /// n Floats from U(−scale, scale), and a few fixed extremes at the start.
    private func values(_ n: Int, scale: Double, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        var v = (0..<n).map { _ in Float(generator.nextUniform(-scale, scale)) }
        for (i, x) in [Float(-30), 30, 0, -0.0, 0.624, -0.626, 88.5, -90].enumerated() where i < n { v[i] = x }
        return v
    }

    private func bits(_ v: [Float]) -> [UInt32] { v.map(\.bitPattern) }

    @Test(arguments: widths)
    func lstmCell(hidden h: Int) {
        for (clip, clipPrevious) in [(nil, false), (Float(0.8), false), (Float(0.8), true)] as [(Float?, Bool)] {
            let gates = values(4 * h, scale: 12, seed: 1), previous = values(h, scale: 2, seed: 2)
            let dHidden = values(h, scale: 1, seed: 3), dCellIn = values(h, scale: 1, seed: 4)
            // The portable Swift kernels' results.
            var refGates = gates, refCell = [Float](repeating: 0, count: h), refTanh = refCell, refHidden = refCell
            LSTMCellKernels.portableForward(hidden: h, gates: &refGates, previousCell: previous, clipPrevious: clipPrevious,
                                            cellClip: clip, cell: &refCell, cellTanh: &refTanh, hiddenOut: &refHidden)
            var refDCell = dCellIn, refDGates = [Float](repeating: 0, count: 4 * h)
            LSTMCellKernels.portableBackward(hidden: h, gates: refGates, cell: refCell, cellTanh: refTanh, previousCell: previous,
                                             clipPrevious: clipPrevious, cellClip: clip, dHidden: dHidden, dCell: &refDCell,
                                             dGates: &refDGates)
            for variant in KernelVariant.runnable {
                var g = gates, cell = [Float](repeating: 0, count: h), tanhCell = cell, hidden = cell
                LSTMCellKernels.forward(hidden: h, gates: &g, previousCell: previous, clipPrevious: clipPrevious, cellClip: clip,
                                        cell: &cell, cellTanh: &tanhCell, hiddenOut: &hidden, variant: variant)
                var dCell = dCellIn, dGates = [Float](repeating: 0, count: 4 * h)
                LSTMCellKernels.backward(hidden: h, gates: g, cell: cell, cellTanh: tanhCell, previousCell: previous,
                                         clipPrevious: clipPrevious, cellClip: clip, dHidden: dHidden, dCell: &dCell,
                                         dGates: &dGates, variant: variant)
                let label = "\(variant), H \(h), clip \(clip.map { "\($0)" } ?? "none"), clip previous \(clipPrevious)"
                #expect(bits(g) == bits(refGates) && bits(cell) == bits(refCell) && bits(tanhCell) == bits(refTanh)
                        && bits(hidden) == bits(refHidden), "forward: \(label)")
                #expect(bits(dCell) == bits(refDCell) && bits(dGates) == bits(refDGates), "backward: \(label)")
            }
        }
    }

    @Test(arguments: widths)
    func gruCell(hidden h: Int) {
        let gates = values(3 * h, scale: 12, seed: 5), hiddenGates = values(3 * h, scale: 6, seed: 6)
        let previous = values(h, scale: 1, seed: 7), dOutput = values(h, scale: 1, seed: 8), dPreviousIn = values(h, scale: 1, seed: 9)
        var refGates = gates, refN = [Float](repeating: 0, count: h), refOut = refN
        GRUCellKernels.portableForward(hidden: h, gates: &refGates, hiddenGates: hiddenGates, hiddenN: &refN, previous: previous,
                                       output: &refOut)
        var refDPrevious = dPreviousIn, refDInput = [Float](repeating: 0, count: 3 * h), refDHidden = refDInput
        GRUCellKernels.portableBackward(hidden: h, gates: refGates, hiddenN: refN, previous: previous, dOutput: dOutput,
                                        dPrevious: &refDPrevious, dInputGates: &refDInput, dHiddenGates: &refDHidden)
        for variant in KernelVariant.runnable {
            var g = gates, n = [Float](repeating: 0, count: h), out = n
            GRUCellKernels.forward(hidden: h, gates: &g, hiddenGates: hiddenGates, hiddenN: &n, previous: previous, output: &out,
                                   variant: variant)
            var dPrevious = dPreviousIn, dInput = [Float](repeating: 0, count: 3 * h), dHidden = dInput
            GRUCellKernels.backward(hidden: h, gates: g, hiddenN: n, previous: previous, dOutput: dOutput, dPrevious: &dPrevious,
                                    dInputGates: &dInput, dHiddenGates: &dHidden, variant: variant)
            #expect(bits(g) == bits(refGates) && bits(n) == bits(refN) && bits(out) == bits(refOut), "forward: \(variant), H \(h)")
            #expect(bits(dPrevious) == bits(refDPrevious) && bits(dInput) == bits(refDInput) && bits(dHidden) == bits(refDHidden),
                    "backward: \(variant), H \(h)")
        }
    }

    @Test(arguments: widths + [10_000, 33_278])
    func softmaxExponentials(count v: Int) {
        let logits = values(v, scale: 20, seed: 10)
        var reference = logits
        let (m, s) = HarnessKernels.softmaxExponentials(v, &reference)
        for variant in KernelVariant.runnable {
            var z = logits
            var cMax: Float = 0
            let cSum = harness_softmax_exp_f32(variant.c, v, &z, &cMax)
            #expect(cMax.bitPattern == m.bitPattern && cSum.bitPattern == s.bitPattern && bits(z) == bits(reference),
                    "\(variant), V \(v): max \(cMax) vs \(m), sum \(cSum) vs \(s)")
        }
    }

    @Test(arguments: widths)
    func sigmoidAndTanhInPlace(count n: Int) {
        let x = values(n, scale: 25, seed: 11)
        let sigmoid = x.map { FastMath.sigmoid(FastMath.V(repeating: $0))[0] }
        let tanh = x.map { FastMath.tanh(FastMath.V(repeating: $0))[0] }
        for variant in KernelVariant.runnable {
            var s = x, t = x
            sigmoidInPlace(n, &s, variant: variant)
            tanhInPlace(n, &t, variant: variant)
            #expect(bits(s) == bits(sigmoid) && bits(t) == bits(tanh), "\(variant), n \(n)")
        }
    }
}
