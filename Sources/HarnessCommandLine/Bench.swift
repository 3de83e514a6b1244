import AllocationCounter
import ArgumentParser
import Foundation
import HarnessKernels
import HarnessSpec
import HarnessTraining

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the PyTorch peer's reference configurations A–D, bilm-tf's ELMo-small, and E (A with GRU layers), F-full and F-adaptive (A on 33,278 words, full or adaptive softmax), on synthetic data.",
        discussion: """
            Per configuration and thread count: training tokens/s, model FLOPs utilization against the \
            sgemm rate measured first at the same thread count, the step's time split by component, heap \
            allocations per step after warm-up, and peak memory. Each configuration runs in a process of its \
            own. Build with -c release.
            """)

    @Option(help: "Configurations to run, comma-separated.")
    var configs = Benchmark.configurations.map(\.label).joined(separator: ",")

    @Option(help: "BLAS thread counts, comma-separated (default: 1 and all cores).")
    var threads: String?

    @Option(help: "Timed steps per configuration (default: per configuration, about 20-40 s each).")
    var steps: Int?

    @Flag(help: "Print one JSON result per line instead of the table.")
    var json = false

    func run() throws {
        let labels = configs.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1, found \(steps)") }
        let chosen = try labels.map { label in
            guard let c = Benchmark.configuration(label) else {
                throw ValidationError((label.isEmpty ? "an empty configuration in --configs" : "unknown configuration '\(label)'") + "; expected one of "
                                      + Benchmark.configurations.map(\.label).joined(separator: ", "))
            }
            return c
        }
        let threadCounts = try (threads ?? "1,\(CPUAllocation.available)").split(separator: ",").map { text in
            guard let n = Int(text), TrainingSpec.threadRange.contains(n) else {
                let range = TrainingSpec.threadRange
                throw ValidationError("--threads takes counts in [\(range.lowerBound), \(range.upperBound)] such as 1,2; found '\(text)'")
            }
            return n
        }
        if chosen.count == 1 && threadCounts.count == 1 {
            let result = try measure(chosen[0], threads: threadCounts[0])
            if json {
                print(String(decoding: try RunJSON.encoder().encode(result), as: UTF8.self))
            } else {
                printTable([result])
            }
            return
        }
        var results: [Benchmark.Result] = []
        for n in threadCounts {
            for configuration in chosen {
                FileHandle.standardError.write(Data("bench \(configuration.label) (\(configuration.title)), \(n) thread(s)…\n".utf8))
                results.append(try child(configuration.label, threads: n))
            }
        }
        if json {
            for r in results { print(String(decoding: try RunJSON.encoder().encode(r), as: UTF8.self)) }
        } else {
            printTable(results)
        }
    }

    private func measure(_ configuration: Benchmark.Configuration, threads: Int) throws -> Benchmark.Result {
        let corpus = FileManager.default.temporaryDirectory
            .appendingPathComponent("harness-bench-\(configuration.syntheticTokens)-\(configuration.vocabularySize)").path
        if !FileManager.default.fileExists(atPath: corpus + "/vocabulary.txt") {
            try Benchmark.writeSyntheticCorpus(tokens: configuration.syntheticTokens, vocabularySize: configuration.vocabularySize,
                                               to: corpus)
        }
        BLAS.threads = threads
        let sgemm = Benchmark.sgemmGFLOPS()
        return try Benchmark.run(configuration, corpus: corpus, threads: threads, steps: steps, sgemm: sgemm,
                                 allocations: harness_allocation_count)
    }

    /// One configuration in a fresh process, so that its peak memory is its own.
    private func child(_ label: String, threads: Int) throws -> Benchmark.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = ["bench", "--configs", label, "--threads", String(threads), "--json"] + (steps.map { ["--steps", String($0)] } ?? [])
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ExitCode(process.terminationStatus) }
        return try RunJSON.decoder().decode(Benchmark.Result.self, from: data)
    }

    private func printTable(_ results: [Benchmark.Result]) {
        // The variants are chosen per machine, the same in every child process.
        if let first = results.first {
            print("kernels (packed GEMM and pointwise): \(first.kernels) (this CPU supports \(KernelVariant.supported)); OpenBLAS core: \(first.blasCore)\n")
        }
        print("| config | threads | tokens/s | GFLOPS | MFU | sgemm GFLOPS | encoder | recurrent | output | optimizer | allocations/step | peak memory | all-reduce/step |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in results {
            let split = ["encoder", "recurrent", "output", "optimizer"].map { String(format: "%.0f %%", 100 * (r.timeSplit[$0] ?? 0)) }
            print("| \(r.label) | \(r.threads) | " + String(format: "%.0f | %.1f | %.0f %% | %.1f | ", r.tokensPerSecond, r.gflops,
                                                             100 * r.modelFlopsUtilization, r.sgemmGFLOPS)
                  + split.joined(separator: " | ") + String(format: " | %.1f | %.0f MB | %.1f MB |", r.allocationsPerStep,
                                                            Double(r.peakMemoryBytes) / 1e6, 4 * r.reducedValuesPerStep / 1e6))
        }
    }
}
