import Foundation
import HarnessTraining
import Testing

/// `harness bench` end to end, without timing anything: after warm-up, a training step
/// allocates nothing on the heap (one BLAS thread; OpenBLAS's threaded GEMM allocates its
/// own job buffers).
struct BenchTests {
    @Test(arguments: ["A", "C", "D"])
    func aTrainingStepAllocatesNothing(config: String) throws {
        let r = try runHarness(["bench", "--configs", config, "--threads", "1", "--steps", "3", "--json"])
        #expect(r.status == 0, "\(r.error)")
        let result = try RunJSON.decoder().decode(Benchmark.Result.self, from: Data(r.output.utf8))
        #expect(result.label == config && result.steps == 3)
        #expect(result.allocationsPerStep == 0)
        #expect(result.tokensPerSecond > 0 && result.modelFlopsUtilization > 0 && result.peakMemoryBytes > 0)
        #expect(abs(result.timeSplit.values.reduce(0, +) - 1) < 1e-9)
    }
}
