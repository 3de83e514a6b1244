import HarnessKernels
@testable import HarnessModel
import Testing

/// Update rules against values worked out by hand on a two-element parameter.
struct OptimizerTests {
    private func store(_ values: [Double], gradient: [Double]) -> ParameterStore<Double> {
        var g = SeededGenerator(seed: 0)
        let s = ParameterStore([Parameter<Double>("w", rows: 1, columns: values.count, initializer: .zeros)], generator: &g)
        for i in values.indices { s.values[i] = values[i]; s.gradients[i] = gradient[i] }
        return s
    }

    @Test func sgd() {
        let s = store([1, -2], gradient: [0.5, -1])
        SGD(learningRate: 0.1).step(s)
        #expect(Array(s.values) == [1 - 0.05, -2 + 0.1])
    }

    @Test func sgdWithMomentum() {
        let s = store([1], gradient: [1])
        let sgd = SGD(learningRate: 0.1, momentum: 0.9)
        sgd.step(s)            // v = 1, w = 0.9
        sgd.step(s)            // v = 1.9, w = 0.71
        #expect(abs(s.values[0] - 0.71) < 1e-12)
    }

    @Test func adagrad() {
        let s = store([1], gradient: [2])
        let adagrad = Adagrad(learningRate: 0.2, initialAccumulator: 1)
        adagrad.step(s)        // a = 5, w = 1 − 0.2·2/(√5 + ε)
        let first: Double = 1 - 0.4 / (5.0.squareRoot() + 1e-10)
        #expect(abs(s.values[0] - first) < 1e-15)
        adagrad.step(s)        // a = 9, w −= 0.2·2/(3 + ε)
        let second: Double = first - 0.4 / (3 + 1e-10)
        #expect(abs(s.values[0] - second) < 1e-15)
    }

    @Test func adamFirstStepMovesByTheLearningRate() {
        // With bias correction the first step is lr·g/|g| (up to ε).
        let s = store([1, 1], gradient: [3, -0.01])
        Adam(learningRate: 0.01).step(s)
        #expect(abs(s.values[0] - 0.99) < 1e-8 && abs(s.values[1] - 1.01) < 1e-6)
    }

    @Test func clipByValue() {
        let s = store([0, 0, 0], gradient: [5, -7, 0.5])
        let norm = ValueClipping(limit: 1).apply(to: s)
        #expect(Array(s.gradients) == [1, -1, 0.5])
        let expected: Double = (25.0 + 49 + 0.25).squareRoot()
        #expect(abs(norm - expected) < 1e-12)
    }

    @Test func clipByGlobalNorm() {
        let s = store([0, 0], gradient: [3, 4])
        GlobalNormClipping(maximum: 1).apply(to: s)
        #expect(abs(s.gradientNorm() - 1) < 1e-6)
        let small = store([0, 0], gradient: [0.3, 0.4])
        GlobalNormClipping(maximum: 1).apply(to: small)
        #expect(Array(small.gradients) == [0.3, 0.4])
    }
}
