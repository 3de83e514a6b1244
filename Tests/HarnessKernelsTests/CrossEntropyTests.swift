import Foundation
import HarnessKernels
import Testing

struct CrossEntropyTests {
    @Test func lossAndGradientMatchTheDefinition() {
        let arena = Arena()
        let v = 21  // a full SIMD8<Double> vector twice and a tail
        let logits = arena.matrix(3, v, of: Double.self)
        var generator = SeededGenerator(seed: 3)
        for i in 0..<logits.count { logits.base[i] = generator.nextUniform(-4, 4) }
        let original = logits.array
        let targets: [Int32] = [0, 20, 7]
        let weights: [Double] = [1, 0, 1]
        var rowLosses = [Double](repeating: -1, count: 3)
        let total = softmaxCrossEntropy(logits: logits, targets: targets, weights: weights, gradientScale: 0.5,
                                        rowLosses: &rowLosses)
        var expected = 0.0
        for r in 0..<3 {
            let row = Array(original[r * v ..< (r + 1) * v])
            let lse = Foundation.log(row.map { Foundation.exp($0) }.reduce(0, +))
            let loss = lse - row[Int(targets[r])]
            if weights[r] == 1 {
                #expect(abs(rowLosses[r] - loss) < 1e-12)
                expected += loss
                for j in 0..<v {
                    let softmax = Foundation.exp(row[j] - lse)
                    let gradient = 0.5 * (softmax - (j == Int(targets[r]) ? 1 : 0))
                    #expect(abs(logits[r, j] - gradient) < 1e-12, "row \(r) class \(j)")
                }
            } else {
                #expect(rowLosses[r] == 0)
                #expect((0..<v).allSatisfy { logits[r, $0] == 0 }, "padding rows get no gradient")
            }
        }
        #expect(abs(total - expected) < 1e-12)
    }

    @Test func uniformLogitsGiveLogV() {
        let arena = Arena()
        let logits = arena.matrix(1, 10_000, zeroed: true, of: Float.self)
        let total = softmaxCrossEntropy(logits: logits, targets: [42], weights: nil, gradientScale: nil)
        #expect(abs(total - Foundation.log(10_000)) < 1e-5)
    }
}
