import Foundation
import HarnessKernels

/// Seeded byte-level mutations for property-based fuzzing: flips, insertions of bytes
/// that matter to YAML and to corpus readers, deletions, duplications, splices from
/// other seeds, and numbers swapped for extreme values.
struct Mutator {
    var generator: SeededGenerator
    let corpus: [[UInt8]]

    /// Bytes that change how YAML or text is read, and some that are not UTF-8.
    static let interesting: [UInt8] = Array(":{}[]-,#&*!|>'\"%@`?\n\r\t \\0.e+~".utf8) + [0x00, 0x80, 0xC3, 0xE2, 0xFF, 0xF4, 0x0B, 0x0C]
    static let extremes = ["0", "-1", "1e309", "-1e309", "99999999999999999999", ".nan", ".inf", "1e-320", "0x7fffffffffffffff",
                           "9223372036854775807", "-9223372036854775808", "~", "[]", "{}", "''", "null", "true", "1_000"]

    init(seed: UInt64, corpus: [[UInt8]]) {
        generator = SeededGenerator(seed: seed)
        self.corpus = corpus
    }

    mutating func random(_ n: Int) -> Int { n <= 1 ? 0 : Int(generator.next() % UInt64(n)) }

    /// One to four mutations of a random seed input.
    mutating func next() -> [UInt8] {
        var bytes = corpus[random(corpus.count)]
        for _ in 0...random(4) { mutate(&bytes) }
        return bytes
    }

    mutating func mutate(_ bytes: inout [UInt8]) {
        let position = random(bytes.count + 1)
        switch random(7) {
        case 0 where !bytes.isEmpty:
            bytes[min(position, bytes.count - 1)] ^= UInt8(1 << random(8))
        case 1:
            bytes.insert(Self.interesting[random(Self.interesting.count)], at: position)
        case 2 where !bytes.isEmpty:
            bytes.removeSubrange(position ..< min(bytes.count, position + 1 + random(16)))
        case 3:
            let piece = Array(bytes[position ..< min(bytes.count, position + random(64))])
            bytes.insert(contentsOf: piece, at: min(bytes.count, position + random(64)))
        case 4:
            let other = corpus[random(corpus.count)]
            let start = random(other.count)
            bytes.insert(contentsOf: other[start ..< min(other.count, start + random(128))], at: position)
        case 5:
            // The next number becomes an extreme value.
            if let digit = bytes[position...].firstIndex(where: { (0x30...0x39).contains($0) }) {
                var end = digit
                while end < bytes.count, (0x30...0x39).contains(bytes[end]) || bytes[end] == 0x2E { end += 1 }
                bytes.replaceSubrange(digit ..< end, with: Array(Self.extremes[random(Self.extremes.count)].utf8))
            }
        default:
            bytes.insert(contentsOf: Array(repeating: Self.interesting[random(Self.interesting.count)], count: random(3000)), at: position)
        }
    }
}

/// How long each fuzz target runs: `HARNESS_FUZZ_SECONDS` (default 5, bounded for CI),
/// from seed `HARNESS_FUZZ_SEED` (default 1). A crash kills the test process; the input
/// being tried is always in `lastInputPath` to reproduce it.
enum FuzzBudget {
    static var seconds: Double { ProcessInfo.processInfo.environment["HARNESS_FUZZ_SECONDS"].flatMap(Double.init) ?? 5 }
    static var seed: UInt64 { ProcessInfo.processInfo.environment["HARNESS_FUZZ_SEED"].flatMap { UInt64($0) } ?? 1 }

    static func lastInputPath(_ target: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("harness-fuzz-\(target)-last-input").path
    }

    /// Calls `body` with mutations of `seeds` (the bytes, and the file that holds them)
    /// until the time is up; returns how many inputs were tried.
    static func run(_ target: String, seeds: [[UInt8]], body: ([UInt8], String) throws -> Void) rethrows -> Int {
        var mutator = Mutator(seed: seed, corpus: seeds)
        let input = lastInputPath(target)
        let deadline = Date().addingTimeInterval(seconds)
        var tried = 0
        while Date() < deadline {
            let bytes = mutator.next()
            _ = FileManager.default.createFile(atPath: input, contents: Data(bytes))
            tried += 1
            try body(bytes, input)
        }
        return tried
    }
}

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
