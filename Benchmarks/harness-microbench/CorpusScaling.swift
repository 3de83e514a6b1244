import Foundation
import HarnessData
import HarnessKernels
import HarnessSpec
import HarnessTraining

/// Synthetic corpora for the loading benchmark (issue #20), the same bytes for the same
/// arguments on every machine: words drawn from a Zipf law (exponent 1.07) over `types`
/// ranks, lines of 5–35 words, one `SeededGenerator` stream. A rank's word is its digits
/// in base 100 spelled as consonant–vowel syllables, so frequent words are short, as in
/// text (about 5 bytes a token with its space).
enum SyntheticCorpus {
    static func word(_ rank: Int) -> String {
        let consonants = Array("bcdfghjklmnpqrstvwxz"), vowels = Array("aeiou")
        var rank = rank, word = ""
        repeat {
            word.append(consonants[(rank % 100) / 5]); word.append(vowels[rank % 5])
            rank /= 100
        } while rank > 0
        return word
    }

    /// Writes `shards` files `train-0000k-of-0000n.txt` holding `tokens` words in all
    /// (lines end where a shard's share runs out), and returns their paths.
    static func write(folder: String, tokens: Int, shards: Int, types: Int) throws -> [String] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var cumulative = [Double](repeating: 0, count: types), sum = 0.0
        for r in 0 ..< types { sum += 1 / pow(Double(r + 1), 1.07); cumulative[r] = sum }
        let words = (0 ..< types).map { Array(word($0).utf8) }
        var generator = SeededGenerator(seed: 20)
        var paths: [String] = []
        for shard in 0 ..< shards {
            let path = folder + String(format: "/train-%05d-of-%05d.txt", shard + 1, shards)
            guard FileManager.default.createFile(atPath: path, contents: nil) else { throw DataError("cannot create the file", file: path) }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 22)
            var remaining = tokens / shards + (shard < tokens % shards ? 1 : 0)
            while remaining > 0 {
                let length = min(5 + Int(generator.next() % 31), remaining)
                for i in 0 ..< length {
                    let u = Double(generator.next() >> 11) / Double(1 << 53) * sum
                    var low = 0, high = types - 1
                    while low < high { let mid = (low + high) / 2; if cumulative[mid] < u { low = mid + 1 } else { high = mid } }
                    buffer += words[low]
                    buffer.append(i + 1 == length ? 0x0A : 0x20)
                }
                remaining -= length
                if buffer.count >= 1 << 22 { try handle.write(contentsOf: buffer); buffer.removeAll(keepingCapacity: true) }
            }
            try handle.write(contentsOf: buffer)
            try handle.close()
            paths.append(path)
        }
        return paths
    }
}

/// One process's measurement of a corpus: the time to a trainable experiment (the corpus
/// cache built, or reused), training tokens/s over `steps` steps, and the peak resident
/// set (VmHWM) of the whole process. The model is small (word 16, LSTM 1×32, sampled
/// softmax 256 over at most 50,000 words, SGD), so that the data's memory shows.
enum CorpusLoadBenchmark {
    static func run(folder: String, batching: String, steps: Int) throws {
        let batchingSpec = batching == "stream" ? "{type: stream, batch_size: 32, bptt: 20}" : "{type: sentences, batch_size: 32, max_length: 40}"
        let text = """
            name: corpus-load
            seed: 1
            data:
              train: \(folder)/train-*.txt
              vocabulary: {max_size: 50000}
              batching: \(batchingSpec)
            model:
              direction: forward
              token_encoder: {type: word, dim: 16}
              recurrent: {type: lstm, layers: 1, hidden: 32}
              output: {type: sampled-softmax, samples: 256}
            training:
              optimizer: {type: sgd, lr: 0.5}
            """
        let bytes = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("train-") }
            .reduce(0) { $0 + ((try FileManager.default.attributesOfItem(atPath: folder + "/" + $1)[.size] as? Int) ?? 0) }
        BLAS.threads = 1
        let start = DispatchTime.now().uptimeNanoseconds
        let experiment = try Experiment(try SpecLoader.parse(text, file: "corpus-load.yaml"))
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let trainer = Trainer(experiment, directory: RunDirectory(existing: folder))
        let pass = try experiment.pass(experiment.train, training: true)
        var tokens = 0
        let trainStart = DispatchTime.now().uptimeNanoseconds
        // Steps spread over the pass, so that sentences mode loads several shards.
        for i in 0 ..< min(steps, pass.count) {
            let (_, _, directions) = trainer.computeGradients(try pass.step(i * (pass.count / min(steps, pass.count))))
            trainer.update()
            tokens += directions.reduce(0) { $0 + $1.tokens }
        }
        let trainSeconds = Double(DispatchTime.now().uptimeNanoseconds - trainStart) / 1e9
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let peak = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        let built = experiment.trainCache!.built
        print(String(format: "%@ | %@ | %.0f MB | %d | %d | %@ | %.2f s | %@ | %.0f | %.0f MB",
                     (folder as NSString).lastPathComponent, batching, Double(bytes) / 1e6, experiment.train.tokenCount,
                     experiment.train.shards.count, built ? "built" : "reused", loadSeconds,
                     built ? String(format: "%.0f MB/s", Double(bytes) / 1e6 / loadSeconds) : "–",
                     Double(tokens) / trainSeconds, Double(peak) / 1024))
    }
}
