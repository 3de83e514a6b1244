// Micro-benchmark of the two GEMM-bound components, printed as GFLOPS next to the
// OpenBLAS sgemm rate measured at the same thread count on this machine.
//
//   swift run -c release harness-microbench [--threads N] [--repeats N] [--kernels] [--packed-gemm]
//   swift run -c release harness-microbench --sha256 FILE   # the data checksum's MB/s, alone
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
    let arena = Arena()
    let logits = random(700, 10_000, arena, seed: 9)
    let targets = [Int32](repeating: 3, count: 700)
    let ce = median { _ = softmaxCrossEntropy(logits: logits, targets: targets, weights: nil, gradientScale: 1) }
    let t = median { tanhInPlace(logits.count, logits.base) }
    print(String(format: "cross-entropy %.2f ns/element, tanh %.2f ns/element", ce / 7e6 * 1e9, t / 7e6 * 1e9))
}
if CommandLine.arguments.contains("--packed-gemm") {
    // The per-timestep products of config C (32 rows: LSTMP 512/128) and B (20 rows: LSTM
    // 650), one thread: packed panels against BLAS.
    BLAS.threads = 1
    let arena = Arena()
    for (m, n, k, transposed) in [(32, 2048, 128, true), (32, 128, 512, true), (32, 512, 128, false), (32, 128, 2048, false),
                                  (20, 2600, 650, true), (20, 650, 2600, false)] {
        let a = random(m, k, arena, seed: 10), c = arena.matrix(m, n, of: Float.self)
        let b = random(transposed ? n : k, transposed ? k : n, arena, seed: 11)
        let flops = 2.0 * Double(m * n * k) * 100
        var line = String(format: "(%d, %d)·(%d, N=%d)%@", m, k, k, n, transposed ? ", b transposed" : "")
        for variant in KernelVariant.runnable.reversed() {   // every packed kernel this CPU runs, widest first
            let packed = PackedMatrix(b, transposed: transposed, arena: arena, pack: true, variant: variant)
            let rate = flops / median { for _ in 0..<100 { gemm(a, packed, into: c, accumulate: true) } } / 1e9
            line += String(format: "  packed %@ %6.1f", variant.description, rate)
        }
        let blasRate = flops / median {
            for _ in 0..<100 { gemm(a, b, into: c, transposeB: transposed, accumulate: true) }
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
