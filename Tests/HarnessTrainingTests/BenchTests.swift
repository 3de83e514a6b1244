import Foundation
import HarnessKernels
import HarnessTraining
import Testing

/// `harness bench` end to end, without timing anything: after warm-up, a training step
/// allocates nothing on the heap, on every configuration at one thread and on the ones
/// whose products split over the two cores at two (OpenBLAS's own threaded GEMM, above
/// two threads, allocates its job buffers); and the kernels it reports are the ones the
/// CPU should get. Allocation counts do not depend on machine noise, so this is the
/// deterministic guard of the zero-allocation claim that CI runs. (It found OpenBLAS's
/// AVX-512 small-matrix sgemm kernel mallocing once per step on F-adaptive; the adaptive
/// softmax now runs that product on packed panels.)
struct BenchTests {
    @Test(arguments: [("A", 1), ("B", 1), ("C", 1), ("C-793k", 1), ("D", 1), ("E", 1), ("F-full", 1), ("F-adaptive", 1), ("ELMo-small", 1), ("A", 2), ("C", 2),
                      ("E", 2)])
    func aTrainingStepAllocatesNothing(config: String, threads: Int) throws {
        let r = try runHarness(["bench", "--configs", config, "--threads", String(threads), "--steps", "2", "--json"])
        #expect(r.status == 0, "\(r.error)")
        let result = try RunJSON.decoder().decode(Benchmark.Result.self, from: Data(r.output.utf8))
        #expect(result.label == config && result.steps == 2 && result.threads == threads)
        #expect(result.allocationsPerStep == 0, "OpenBLAS core \(result.blasCore)")
        #expect(result.tokensPerSecond > 0 && result.modelFlopsUtilization > 0 && result.peakMemoryBytes > 0)
        #expect(result.reducedValuesPerStep > 0 && result.reducedValuesPerStep <= Double(result.parameters))
        #expect(abs(result.timeSplit.values.reduce(0, +) - 1) < 1e-9)
        // The widest packed kernels, and an OpenBLAS core with the CPU's vector units
        // (the harness restarts itself when OpenBLAS falls back to a pre-AVX2 core).
        let environment = ProcessInfo.processInfo.environment
        if environment[KernelVariant.environmentKey] == nil {
            #expect(result.kernels == KernelVariant.supported.description)
        }
        if environment[OpenBLASCore.environmentKey] == nil {
            #expect(OpenBLASCore.replacement(for: result.blasCore, supported: KernelVariant.supported, environment: [:]) == nil,
                    "OpenBLAS ran \(result.blasCore) on a CPU with \(KernelVariant.supported)")
        }
    }

    @Test func anEnvironmentVariableForcesALowerKernelVariant() throws {
        let r = try runHarness(["bench", "--configs", "A", "--threads", "1", "--steps", "1", "--json"],
                               environment: ["HARNESS_KERNELS": "generic"])
        #expect(r.status == 0, "\(r.error)")
        #expect(try RunJSON.decoder().decode(Benchmark.Result.self, from: Data(r.output.utf8)).kernels == "generic")
        let bad = try runHarness(["bench", "--configs", "A"], environment: ["HARNESS_KERNELS": "avx9"])
        #expect(bad.status == 64)
        #expect(bad.error.hasPrefix("error: HARNESS_KERNELS=avx9 is not a kernel variant: expected one of generic, avx2, avx512"), "\(bad.error)")
    }
}
