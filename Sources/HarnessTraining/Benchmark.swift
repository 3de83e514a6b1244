import Foundation
import HarnessData
import HarnessKernels
import HarnessModel
import HarnessSpec

/// `harness bench`: the PyTorch peer's reference configurations A–D
/// (`../shared/bench/README.md`) on the same kind of synthetic data (Zipf(1) over a
/// 10,000-word vocabulary, lines of 39 words), timed through the training step of
/// `Trainer` (forward, backward, clipping, update); and the plug-ins' own: E (A with GRU
/// layers), F-full and F-adaptive (A on WikiText-2's 33,278 words, full or adaptive softmax);
/// and ELMo-small, bilm-tf's small ELMo on the 1B Word Benchmark's vocabulary, for the
/// data-parallel plan (docs/scaling.md).
public enum Benchmark {
    public struct Configuration: Sendable {
        public var label: String
        public var title: String
        /// The experiment spec, `CORPUS` standing for the synthetic corpus folder.
        public var spec: String
        public var syntheticTokens: Int
        /// Timed steps, after `warmup` untimed ones.
        public var steps: Int
        /// Words of the synthetic corpus, specials included.
        public var vocabularySize = 10_000
    }

    public struct Result: Codable, Sendable {
        public var label: String
        public var threads: Int
        public var steps: Int
        public var tokensPerSecond: Double
        public var gflops: Double
        /// Model FLOPs utilization: `gflops` over the sgemm rate measured at the same thread count.
        public var modelFlopsUtilization: Double
        public var sgemmGFLOPS: Double
        /// Fraction of the step's time per part (encoder, recurrent, output, optimizer).
        public var timeSplit: [String: Double]
        public var allocationsPerStep: Double
        public var peakMemoryBytes: Int
        /// The packed-GEMM kernel variant (`KernelVariant.selected`).
        public var kernels: String
        /// The core OpenBLAS ran (`OpenBLASCore.current`).
        public var blasCore: String
        /// The model's parameters.
        public var parameters: Int
        /// Gradient values a step wrote, mean over the warm-up steps: every parameter for a
        /// dense model, fewer where row-sparse tables touch some rows only
        /// (`ParameterStore.writtenGradientCount`). 4 bytes each: what a data-parallel step
        /// all-reduces (`mpirun -np N`, docs/scaling.md).
        public var reducedValuesPerStep: Double
        /// Target tokens per step, all directions.
        public var tokensPerStep: Double
    }

    public static let warmup = 5

    private static let stream = "batching: {type: stream, batch_size: 20, bptt: %d}"
    private static let elmo = """
        data:
          train: CORPUS/train.txt
          vocabulary: {file: CORPUS/vocabulary.txt}
          batching: {type: sentences, batch_size: 32, max_length: 40}
        model:
          direction: bidirectional
          token_encoder: %@
          recurrent: {type: lstm-projected, layers: 2, hidden: 512, projection: 128, cell_clip: 3, proj_clip: 3, residual: true}
          output: {type: sampled-softmax, samples: 1024, tie_weights: %@}
        training:
          optimizer: {type: adagrad, lr: 0.2}
          clip: {type: global-norm, max: 10}
        """

    /// bilm-tf's small ELMo (`experiments/1b-word-elmo-small.yaml`): char-CNN to 2048
    /// filters, LSTMP 2×1024/128, sampled softmax 8192 over the 1B Word Benchmark's words.
    private static let elmoSmall = """
        data:
          train: CORPUS/train.txt
          vocabulary: {file: CORPUS/vocabulary.txt}
          batching: {type: stream, batch_size: 128, bptt: 20}
        model:
          direction: bidirectional
          token_encoder: {type: char-cnn, char_embedding_dim: 16, filters: [[1, 32], [2, 32], [3, 64], [4, 128], [5, 256], [6, 512], [7, 1024]],
                          activation: relu, highway_layers: 1, output_dim: 128, max_characters: 50}
          recurrent: {type: lstm-projected, layers: 2, hidden: 1024, projection: 128, cell_clip: 3, proj_clip: 3, residual: true}
          output: {type: sampled-softmax, samples: 8192}
          dropout: [{type: standard, rate: 0.1}]
        training:
          optimizer: {type: adagrad, lr: 0.2, initial_accumulator: 1}
          clip: {type: global-norm, max: 10}
        """

    private static func zaremba(hidden: Int, bptt: Int, dropout: String, initScale: Double, cell: String = "lstm",
                                output: String = "{type: softmax}") -> String {
        """
        data:
          train: CORPUS/train.txt
          vocabulary: {file: CORPUS/vocabulary.txt}
          \(String(format: stream, bptt))
        model:
          direction: forward
          token_encoder: {type: word, dim: \(hidden)}
          recurrent: {type: \(cell), layers: 2, hidden: \(hidden)}
          output: \(output)
          init_scale: \(initScale)\(dropout)
        training:
          optimizer: {type: sgd, lr: 1}
          clip: {type: global-norm, max: 5}
          loss: time-sum
        """
    }

    public static let configurations: [Configuration] = [
        Configuration(label: "A", title: "Zaremba small: word, forward, 2×200, full softmax, batch 20, BPTT 20",
                      spec: zaremba(hidden: 200, bptt: 20, dropout: "", initScale: 0.1), syntheticTokens: 200_000, steps: 200),
        Configuration(label: "B", title: "Zaremba medium: 2×650, dropout 0.5, BPTT 35",
                      spec: zaremba(hidden: 650, bptt: 35, dropout: "\n  dropout: [{type: standard, rate: 0.5}]", initScale: 0.05),
                      syntheticTokens: 200_000, steps: 40),
        Configuration(label: "C", title: "ELMo-small, word: bidirectional LSTMP 2×512/128, sampled softmax 1024, tied, Adagrad, batch 32",
                      spec: String(format: elmo, "{type: word, dim: 128}", "true"), syntheticTokens: 300_000, steps: 40),
        Configuration(label: "C-793k", title: "C at the 1B Word Benchmark's vocabulary (793,471 words): the row-sparse table and softmax",
                      // 3M tokens: enough of the Zipf tail seen for the frequency-order check of the vocabulary file.
                      spec: String(format: elmo, "{type: word, dim: 128}", "true"), syntheticTokens: 3_000_000, steps: 40,
                      vocabularySize: oneBillionWordWords),
        Configuration(label: "D", title: "ELMo-small, char: C with the char-CNN (filters to 256, 2 highways)",
                      spec: String(format: elmo, """
                          {type: char-cnn, char_embedding_dim: 16, filters: [[1, 32], [2, 32], [3, 64], [4, 128], [5, 256]],
                                          highway_layers: 2, output_dim: 128, max_characters: 50}
                          """, "false"),
                      syntheticTokens: 300_000, steps: 20),
        Configuration(label: "ELMo-small", title: "bilm-tf's small ELMo: char-CNN 2048 filters, LSTMP 2×1024/128, sampled softmax 8192, "
                      + "batch 128, BPTT 20, on 793,471 words", spec: elmoSmall, syntheticTokens: 3_000_000, steps: 3,
                      vocabularySize: oneBillionWordWords),
        Configuration(label: "E", title: "A with GRU layers (2×200): the recurrent plug-in against the LSTM on the same sizes",
                      spec: zaremba(hidden: 200, bptt: 20, dropout: "", initScale: 0.1, cell: "gru"), syntheticTokens: 200_000, steps: 200),
        Configuration(label: "F-full", title: "A on WikiText-2's vocabulary (33,278 words) with the full softmax",
                      spec: zaremba(hidden: 200, bptt: 20, dropout: "", initScale: 0.1), syntheticTokens: 200_000, steps: 60,
                      vocabularySize: wikiText2Words),
        Configuration(label: "F-adaptive", title: "F-full with the adaptive softmax, cutoffs [2000, 10000], div_value 4",
                      spec: zaremba(hidden: 200, bptt: 20, dropout: "", initScale: 0.1,
                                    output: "{type: adaptive-softmax, cutoffs: [2000, 10000], div_value: 4}"),
                      syntheticTokens: 200_000, steps: 200, vocabularySize: wikiText2Words),
    ]

    /// WikiText-2's vocabulary size (Merity et al. 2016), `<eos>` and `<unk>` included.
    static let wikiText2Words = 33_278
    /// bilm-tf's vocabulary of the 1B Word Benchmark (`vocab-2016-09-10.txt`), specials included.
    static let oneBillionWordWords = 793_471

    /// The configuration labelled `label`, whatever its case.
    public static func configuration(_ label: String) -> Configuration? {
        configurations.first { $0.label.uppercased() == label.uppercased() }
    }

    /// Writes `train.txt` (Zipf(1) word ids, 39 per line) and `vocabulary.txt` (all
    /// `vocabularySize` words, most frequent first) into `folder`. Words are random letters
    /// and their rank, as the peer's synthetic vocabulary, so that the char-CNN sees words.
    public static func writeSyntheticCorpus(tokens: Int, vocabularySize: Int, to folder: String) throws {
        var generator = SeededGenerator(seed: 1)
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let words = (0..<vocabularySize - 3).map { rank -> String in
            String((0..<2 + Int(generator.next() % 9)).map { _ in letters[Int(generator.next() % 26)] }) + String(rank)
        }
        var cumulative: [Double] = []
        var total = 0.0
        for rank in words.indices { total += 1 / Double(rank + 1); cumulative.append(total) }
        var text = ""
        var written = 0
        while written < tokens {
            var line: [String] = []
            for _ in 0..<39 {
                let u = generator.nextUnit() * total
                var low = 0, high = cumulative.count - 1
                while low < high { let mid = (low + high) / 2; if cumulative[mid] < u { low = mid + 1 } else { high = mid } }
                line.append(words[low])
            }
            text += line.joined(separator: " ") + "\n"
            written += 40
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try AtomicFile.write(text, to: folder + "/train.txt")
        try AtomicFile.write((["<eos>", "<bos>", "<unk>"] + words).joined(separator: "\n") + "\n", to: folder + "/vocabulary.txt")
    }

    /// OpenBLAS sgemm GFLOPS (2048³, median of 5) on its own pool at the current `BLAS.threads`.
    public static func sgemmGFLOPS() -> Double {
        BLAS.onLibraryPool { measureSgemm() }
    }

    private static func measureSgemm() -> Double {
        let n = 2048
        let arena = Arena()
        let a = arena.matrix(n, n, of: Float.self), b = arena.matrix(n, n, of: Float.self), c = arena.matrix(n, n, of: Float.self)
        var generator = SeededGenerator(seed: 2)
        for i in 0..<a.count { a.base[i] = Float(generator.nextUniform(-1, 1)); b.base[i] = Float(generator.nextUniform(-1, 1)) }
        gemm(a, b, into: c)
        let times = (0..<5).map { _ -> Double in
            let start = DispatchTime.now().uptimeNanoseconds
            gemm(a, b, into: c)
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        return 2 * Double(n * n * n) / times.sorted()[2] / 1e9
    }

    /// Runs `configuration` at `threads` BLAS threads on the corpus in `corpus`.
    /// - Parameter allocations: the process's heap allocation count so far.
    public static func run(_ configuration: Configuration, corpus: String, threads: Int, steps: Int? = nil, sgemm: Double,
                           allocations: () -> UInt64) throws -> Result {
        BLAS.threads = threads
        let text = "name: bench-\(configuration.label)\nseed: 1\n" + configuration.spec.replacingOccurrences(of: "CORPUS", with: corpus)
        let experiment = try Experiment(try SpecLoader.parse(text, file: "bench-\(configuration.label).yaml"))
        let trainer = Trainer(experiment, directory: RunDirectory(existing: corpus))
        let pass = try experiment.pass(experiment.train, training: true)
        let steps = steps ?? configuration.steps
        precondition(pass.count >= warmup + steps, "the synthetic corpus has \(pass.count) steps, \(warmup + steps) needed")
        // Made before timing: the measured loop is the training step alone.
        let batches = try (0 ..< warmup + steps).map(pass.step)
        var reduced = 0, warmupTokens = 0
        for batch in batches.prefix(warmup) {
            let (_, _, directions) = trainer.computeGradients(batch)
            reduced += experiment.model.store.writtenGradientCount
            warmupTokens += directions.reduce(0) { $0 + $1.tokens }
            trainer.update()
        }
        let profile = ComponentProfile()
        trainer.profile = profile
        resetPeakMemory()
        let allocationsBefore = allocations()
        var tokens = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for batch in batches[warmup ..< warmup + steps] {
            let (_, _, directions) = trainer.computeGradients(batch)
            trainer.update()
            tokens += directions.reduce(0) { $0 + $1.tokens }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let allocationsDuring = allocations() - allocationsBefore
        let tokensPerSecond = Double(tokens) / seconds
        let gflops = experiment.model.trainingFLOPsPerToken * tokensPerSecond / 1e9
        let measured = Double(profile.nanoseconds.reduce(0, +))
        return Result(label: configuration.label, threads: threads, steps: steps, tokensPerSecond: tokensPerSecond, gflops: gflops,
                      modelFlopsUtilization: gflops / sgemm, sgemmGFLOPS: sgemm,
                      timeSplit: Dictionary(uniqueKeysWithValues: ComponentProfile.Part.allCases.map {
                          ($0.name, Double(profile.nanoseconds[$0.rawValue]) / max(measured, 1)) }),
                      allocationsPerStep: Double(allocationsDuring) / Double(steps), peakMemoryBytes: peakMemory(),
                      kernels: KernelVariant.selected.description, blasCore: OpenBLASCore.current,
                      parameters: experiment.model.store.count, reducedValuesPerStep: Double(reduced) / Double(warmup),
                      tokensPerStep: Double(warmupTokens) / Double(warmup))
    }

    /// Resets the process's peak resident set (Linux: `5` to /proc/self/clear_refs).
    static func resetPeakMemory() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }

    /// The peak resident set since the last reset (VmHWM), in bytes.
    static func peakMemory() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kilobytes * 1024
    }
}
