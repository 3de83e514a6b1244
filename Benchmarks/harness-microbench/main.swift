// Micro-benchmark of the two GEMM-bound components, printed as GFLOPS next to the
// OpenBLAS sgemm rate measured at the same thread count on this machine.
//
//   swift run -c release harness-microbench [--threads N] [--repeats N] [--kernels] [--packed-gemm]
//   swift run -c release harness-microbench --sha256 FILE   # the data checksum's MB/s, alone
//   swift run -c release harness-microbench --text FILE     # reading a corpus: MB/s of each stage
//   swift run -c release harness-microbench --make-corpus FOLDER --tokens N [--shards K] [--types V]
//   swift run -c release harness-microbench --corpus-load FOLDER [--batching stream|sentences] [--steps N]
//       # a synthetic corpus, and one process's load time, tokens/s and peak RSS on it
//       # (Benchmarks/corpus-scaling.sh runs both at 2M, 20M and 200M tokens)
//
// Figures are medians of the repeats; the machine may be shared, so compare ratios.
import Foundation
import HarnessData
import HarnessKernels
import HarnessModel

OpenBLASCore.restartWithReplacementIfNeeded()

func argument(_ name: String, default value: Int) -> Int {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count, let v = Int(args[i + 1]) else { return value }
    return v
}

let repeats = argument("--repeats", default: 7)
let threadCounts = CommandLine.arguments.contains("--threads")
    ? [argument("--threads", default: 1)] : [1, ProcessInfo.processInfo.activeProcessorCount]

/// Median seconds of `body` over `repeats` runs, after one warm-up.
func median(_ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[times.count / 2]
}

if let i = CommandLine.arguments.firstIndex(of: "--sha256"), i + 1 < CommandLine.arguments.count {
    // SHA256.file (libcrypto) on a file from the page cache, as the data checksums run it.
    let path = CommandLine.arguments[i + 1]
    guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber else {
        FileHandle.standardError.write(Data("\(path): error: cannot read it\n".utf8))
        exit(66)
    }
    var digest = ""
    let seconds = median { digest = (try? SHA256.file(path)) ?? "unreadable" }
    print(String(format: "sha256 %@: %.0f MB/s (median of %d)", digest, size.doubleValue / seconds / 1e6, repeats))
    exit(0)
}

if let i = CommandLine.arguments.firstIndex(of: "--make-corpus"), i + 1 < CommandLine.arguments.count {
    let paths = try SyntheticCorpus.write(folder: CommandLine.arguments[i + 1], tokens: argument("--tokens", default: 2_000_000),
                                          shards: argument("--shards", default: 1), types: argument("--types", default: 500_000))
    print("wrote \(paths.count) shard(s) in \(CommandLine.arguments[i + 1])")
    exit(0)
}

if let i = CommandLine.arguments.firstIndex(of: "--corpus-load"), i + 1 < CommandLine.arguments.count {
    let batching = CommandLine.arguments.firstIndex(of: "--batching").map { CommandLine.arguments[$0 + 1] } ?? "stream"
    do {
        try CorpusLoadBenchmark.run(folder: CommandLine.arguments[i + 1], batching: batching, steps: argument("--steps", default: 200))
    } catch {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        exit(65)
    }
    exit(0)
}

if let i = CommandLine.arguments.firstIndex(of: "--text"), i + 1 < CommandLine.arguments.count {
    // The first pass over a corpus as a run makes it (issue #20: ≥ 50 MB/s per core wanted):
    // TextFile.read (UTF-8 check, lines, tokens), the vocabulary count, the encoding to ids.
    let path = CommandLine.arguments[i + 1]
    guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber else {
        FileHandle.standardError.write(Data("\(path): error: cannot read it\n".utf8))
        exit(66)
    }
    var lines: [[String]] = []
    let read = median { lines = (try? TextFile.read(path)) ?? [] }
    var vocabulary: Vocabulary?
    let count = median { vocabulary = Vocabulary(training: lines, withBeginOfSentence: false) }
    let encode = median { _ = vocabulary!.encode(lines) }
    let mb = size.doubleValue / 1e6
    print(String(format: "%.1f MB, %d lines: read %.0f MB/s, vocabulary %.0f MB/s, encode %.0f MB/s; all three %.0f MB/s (medians of %d, one core)",
                 mb, lines.count, mb / read, mb / count, mb / encode, mb / (read + count + encode), repeats))
    // The corpus cache's one pass (training splits): the same three stages, in blocks, ids written to disk.
    let root = NSTemporaryDirectory() + "harness-microbench-cache-\(getpid())"
    let build = median {
        try? FileManager.default.removeItem(atPath: root)
        _ = try? CorpusCache.load(shards: [path], maxTokens: nil, vocabulary: .build(minCount: 1, maxSize: nil, withBeginOfSentence: false),
                                  root: root)
    }
    try? FileManager.default.removeItem(atPath: root)
    print(String(format: "corpus cache build (read, count, encode, write ids): %.0f MB/s (median of %d, one core)", mb / build, repeats))
    exit(0)
}

func random(_ rows: Int, _ columns: Int, _ arena: Arena, seed: UInt64) -> Matrix<Float> {
    var g = SeededGenerator(seed: seed)
    let m = arena.matrix(rows, columns, of: Float.self)
    for i in 0..<m.count { m.base[i] = Float(g.nextUniform(-0.1, 0.1)) }
    return m
}

func sgemmRate() -> Double {
    let n = 2048
    let arena = Arena()
    let a = random(n, n, arena, seed: 1), b = random(n, n, arena, seed: 2), c = arena.matrix(n, n, of: Float.self)
    return 2 * Double(n * n * n) / BLAS.onLibraryPool { median { gemm(a, b, into: c) } } / 1e9
}

func lstmpRate() -> Double {
    let b = 32, t = 20, h = 1024, p = 256, d = 256
    let layer = LSTMLayer<Float>("bench", component: LSTMComponent(
        layers: 1, hiddenSize: h, projectionSize: p, cellClip: 3, projectionClip: 3), inputSize: d, initScale: 0.05)
    var g = SeededGenerator(seed: 3)
    let store = ParameterStore(layer.parameters, generator: &g)
    let fixtures = Arena()
    let x = random(t * b, d, fixtures, seed: 4), dy = random(t * b, p, fixtures, seed: 5)
    let context = StepContext(training: true)
    let seconds = median {
        context.arena.reset()
        store.zeroGradients()
        _ = layer.forward(x, steps: t, batchSize: b, state: nil, context: context)
        _ = layer.backward(dy, context: context)
    }
    let forward = 2.0 * Double(t * b) * Double(4 * h * d + 4 * h * p + h * p)
    return 3 * forward / seconds / 1e9
}

func softmaxRate() -> Double {
    let n = 700, d = 200, v = 10_000
    let layer = SoftmaxLayer<Float>(vocabularySize: v, inputSize: d, tiedTo: nil, initScale: 0.05)
    var g = SeededGenerator(seed: 6)
    let store = ParameterStore(layer.parameters, generator: &g)
    let fixtures = Arena()
    let h = random(n, d, fixtures, seed: 7)
    var targets = [Int32](repeating: 0, count: n)
    for i in 0..<n { targets[i] = Int32(g.next() % UInt64(v)) }
    let context = StepContext(training: true)
    let seconds = median {
        context.arena.reset()
        store.zeroGradients()
        layer.loss(h, targets: targets, weights: nil, gradientScale: 1 / Float(n), rowLosses: nil, context: context, sampling: &g)
    }
    return 3 * 2.0 * Double(n * d * v) / seconds / 1e9
}

if CommandLine.arguments.contains("--kernels") {
    // The pointwise kernels, ns per element: the portable Swift SIMD code (what ran before
    // the C variants; in a flag-free build its 16 lanes are four xmm registers) and every
    // C variant this CPU runs. All give the same bits (PointwiseKernelTests).
    let arena = Arena()
    let rows = 32, h = 512                                    // config C's batch and LSTMP cell
    let gates = random(rows, 4 * h, arena, seed: 12), previous = random(rows, h, arena, seed: 13)
    let cell = arena.matrix(rows, h, of: Float.self), cellTanh = arena.matrix(rows, h, of: Float.self)
    let hidden = arena.matrix(rows, h, of: Float.self), dCell = random(rows, h, arena, seed: 14)
    let dGates = arena.matrix(rows, 4 * h, of: Float.self)
    let logits = random(70, 10_000, arena, seed: 9), work = arena.matrix(70, 10_000, of: Float.self)
    let cellElements = Double(rows * h) / 1e9, logitElements = Double(logits.count) / 1e9
    func report(_ name: String, forward: () -> Void, backward: () -> Void, softmax: () -> Void) {
        print(String(format: "%@ LSTM cell forward %.2f, backward %.2f ns/unit; softmax exponentials %.3f ns/logit",
                     name.padding(toLength: 9, withPad: " ", startingAt: 0), median(forward) / cellElements, median(backward) / cellElements, median(softmax) / logitElements))
    }
    let clip: Float = 3
    report("portable", forward: {
        for r in 0..<rows {
            LSTMCellKernels.portableForward(hidden: h, gates: gates.row(r), previousCell: previous.row(r), clipPrevious: true,
                                            cellClip: clip, cell: cell.row(r), cellTanh: cellTanh.row(r), hiddenOut: hidden.row(r))
        }
    }, backward: {
        for r in 0..<rows {
            LSTMCellKernels.portableBackward(hidden: h, gates: gates.row(r), cell: cell.row(r), cellTanh: cellTanh.row(r),
                                             previousCell: previous.row(r), clipPrevious: true, cellClip: clip,
                                             dHidden: hidden.row(r), dCell: dCell.row(r), dGates: dGates.row(r))
        }
    }, softmax: {
        work.base.update(from: logits.base, count: logits.count)
        for r in 0..<work.rows { _ = softmaxExponentials(work.columns, work.row(r)) }
    })
    for variant in KernelVariant.runnable {
        report(variant.description, forward: {
            for r in 0..<rows {
                LSTMCellKernels.forward(hidden: h, gates: gates.row(r), previousCell: previous.row(r), clipPrevious: true,
                                        cellClip: clip, cell: cell.row(r), cellTanh: cellTanh.row(r), hiddenOut: hidden.row(r),
                                        variant: variant)
            }
        }, backward: {
            for r in 0..<rows {
                LSTMCellKernels.backward(hidden: h, gates: gates.row(r), cell: cell.row(r), cellTanh: cellTanh.row(r),
                                         previousCell: previous.row(r), clipPrevious: true, cellClip: clip,
                                         dHidden: hidden.row(r), dCell: dCell.row(r), dGates: dGates.row(r), variant: variant)
            }
        }, softmax: {
            work.base.update(from: logits.base, count: logits.count)
            _ = softmaxCrossEntropy(logits: work, targets: [Int32](repeating: 3, count: work.rows), weights: nil,
                                    gradientScale: nil, variant: variant)
        })
    }
}
if CommandLine.arguments.contains("--packed-gemm") {
    // The per-timestep products of config C (32 rows: LSTMP 512/128) and B (20 rows: LSTM
    // 650), then the whole-sequence products that stay in BLAS (C's input projection, A's
    // full softmax, B's input projection), one thread: packed panels against BLAS.
    BLAS.threads = 1
    let arena = Arena()
    for (m, n, k, transposed) in [(32, 2048, 128, true), (32, 128, 512, true), (32, 512, 128, false), (32, 128, 2048, false),
                                  (20, 2600, 650, true), (20, 650, 2600, false),
                                  (1280, 2048, 128, true), (400, 10000, 200, true), (700, 2600, 650, true)] {
        let a = random(m, k, arena, seed: 10), c = arena.matrix(m, n, of: Float.self)
        let b = random(transposed ? n : k, transposed ? k : n, arena, seed: 11)
        let calls = max(1, 3200 / m)   // 100 calls of 32 rows; as many rows in all for the larger ones
        let flops = 2.0 * Double(m * n * k) * Double(calls)
        var line = String(format: "(%d, %d)·(%d, N=%d)%@", m, k, k, n, transposed ? ", b transposed" : "")
        for variant in KernelVariant.runnable.reversed() {   // every packed kernel this CPU runs, widest first
            let packed = PackedMatrix(b, transposed: transposed, arena: arena, pack: true, variant: variant)
            let rate = flops / median { for _ in 0..<calls { gemm(a, packed, into: c, accumulate: true) } } / 1e9
            line += String(format: "  packed %@ %6.1f", variant.description, rate)
        }
        let blasRate = flops / median {
            for _ in 0..<calls { gemm(a, b, into: c, transposeB: transposed, accumulate: true) }
        } / 1e9
        print(line + String(format: "  BLAS %6.1f GFLOPS", blasRate))
    }
    print("kernel variant selected: \(KernelVariant.selected) (this CPU supports \(KernelVariant.supported))")
}
print("OpenBLAS: \(BLAS.configuration)")
print("median of \(repeats) runs; forward + backward; FLOPs counted as 3 x forward matmul FLOPs")
print("threads  sgemm 2048^3  LSTMP B32 T20 H1024 P256       full softmax 700x200x10000")
for threads in threadCounts {
    BLAS.threads = threads
    let roof = sgemmRate(), lstm = lstmpRate(), softmax = softmaxRate()
    print(String(format: "%7d  %7.1f GFLOPS  %6.1f GFLOPS (%3.0f%% of sgemm)  %6.1f GFLOPS (%3.0f%% of sgemm)",
                 threads, roof, lstm, 100 * lstm / roof, softmax, 100 * softmax / roof))
}
