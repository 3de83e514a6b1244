import Foundation
import HarnessKernels
import HarnessTestSupport
@testable import HarnessModel
import Testing

struct LogUniformSamplerTests {
    @Test func probabilitiesFormADistributionFavouringFrequentIDs() {
        let sampler = LogUniformSampler(vocabularySize: 1000, count: 10)
        let total = (0..<1000).reduce(0.0) { $0 + sampler.probability($1) }
        #expect(abs(total - 1) < 1e-12)
        #expect(sampler.probability(0) > sampler.probability(1) && sampler.probability(1) > sampler.probability(999))
        #expect(abs(sampler.probability(0) - Foundation.log(2) / Foundation.log(1001)) < 1e-15)
    }

    @Test func candidatesAreDistinctAndCountTheirTries() {
        let sampler = LogUniformSampler(vocabularySize: 50, count: 20)
        var g = SeededGenerator(seed: 1)
        for _ in 0..<20 {
            sampler.sample(generator: &g)
            #expect(Set(sampler.candidates).count == 20)
            #expect(sampler.candidates.allSatisfy { $0 >= 0 && $0 < 50 })
            #expect(sampler.tries >= 20)
            for (j, id) in sampler.candidates.enumerated() { #expect(sampler.candidateIndex(of: id) == j) }
            let q = Foundation.exp(sampler.logExpectedCount(0))
            #expect(abs(q - (1 - Foundation.pow(1 - sampler.probability(0), Double(sampler.tries)))) < 1e-12)
        }
    }

    @Test func drawFrequenciesFollowTheDistribution() {
        let sampler = LogUniformSampler(vocabularySize: 100, count: 1)
        var g = SeededGenerator(seed: 2)
        var counts = [Int](repeating: 0, count: 100)
        let draws = 200_000
        for _ in 0..<draws { sampler.sample(generator: &g); counts[Int(sampler.candidates[0])] += 1 }
        for id in [0, 1, 5, 50] {
            let expected = sampler.probability(id) * Double(draws)
            #expect(abs(Double(counts[id]) - expected) < 5 * expected.squareRoot(), "id \(id): \(counts[id]) vs \(expected)")
        }
    }
}

struct SampledSoftmaxTests {
    /// The sampled loss recomputed by hand from the step's candidates: log-Q corrected
    /// logits, the true class's own candidate column removed.
    @Test func lossMatchesTheDefinitionWithAccidentalHitsRemoved() {
        let v = 6, d = 3, k = 4
        let layer = SampledSoftmaxLayer<Double>(vocabularySize: v, inputSize: d, samples: k, tiedTo: nil, initScale: 0.9)
        var g = SeededGenerator(seed: 3)
        _ = ParameterStore(layer.parameters, generator: &g)
        for i in 0..<v { layer.full.bias.value.base[i] = Double(i) * 0.1 }
        let arena = Arena()
        let h: Matrix<Double> = randomMatrix(8, d, seed: 4, in: arena)
        let targets: [Int32] = [0, 1, 2, 3, 4, 5, 0, 1]
        var losses = [Double](repeating: 0, count: 8)
        var sampling = SeededGenerator(seed: 5)
        _ = layer.sampledSoftmax(h, targets: targets, weights: nil, gradientScale: 1, rowLosses: &losses,
                                 context: StepContext(training: true), generator: &sampling)
        let sampler = layer.sampler
        var hits = 0
        func logit(_ r: Int, _ id: Int) -> Double {
            var z = layer.full.bias.value.base[id] - sampler.logExpectedCount(id)
            for j in 0..<d { z += h[r, j] * layer.full.weight.value[id, j] }
            return z
        }
        for r in 0..<8 {
            let y = Int(targets[r])
            var logits = [logit(r, y)]
            for id in sampler.candidates.map(Int.init) {
                if id == y { hits += 1 } else { logits.append(logit(r, id)) }
            }
            let lse = Foundation.log(logits.map { Foundation.exp($0) }.reduce(0, +))
            #expect(abs(losses[r] - (lse - logits[0])) < 1e-12, "row \(r): \(losses[r]) vs \(lse - logits[0])")
        }
        #expect(hits > 0, "the case must contain accidental hits to test their removal")
    }
}
