import Foundation
import HarnessModel

/// Token ↔ id, ordered by descending training frequency (ties by string), which the
/// log-uniform sampler of the sampled softmax relies on.
///
/// `<eos>` ends every line; `<bos>` starts every sentence in sentences mode; `<unk>`
/// stands for words outside the vocabulary (WikiText-2 and PTB already contain it).
public struct Vocabulary: Sendable, Equatable {
    public static let eos = "<eos>", bos = "<bos>", unk = "<unk>"

    public let tokens: [String]
    /// Training count of each entry (0 for entries from a vocabulary file).
    public let counts: [Int]
    private let index: [String: Int32]

    public var count: Int { tokens.count }
    public var eosID: Int32 { index[Self.eos]! }
    public var unkID: Int32 { index[Self.unk]! }
    public var bosID: Int32? { index[Self.bos] }

    /// Builds from training lines. Words rarer than `minCount` and those past `maxSize`
    /// become `<unk>`; `<eos>`, `<unk>` (and `<bos>` with `withBeginOfSentence`) are
    /// always kept, counted like words (`<eos>` and `<bos>` once per line).
    public init(training lines: [[String]], minCount: Int = 1, maxSize: Int? = nil, withBeginOfSentence: Bool) {
        var counts: [String: Int] = [:]
        for line in lines { for token in line { counts[token, default: 0] += 1 } }
        counts[Self.eos, default: 0] += lines.count
        if withBeginOfSentence { counts[Self.bos, default: 0] += lines.count }
        counts[Self.unk, default: 0] += 0
        let specials: Set<String> = withBeginOfSentence ? [Self.eos, Self.bos, Self.unk] : [Self.eos, Self.unk]
        var unknown = 0
        for (token, n) in counts where n < minCount && !specials.contains(token) {
            unknown += n
            counts[token] = nil
        }
        counts[Self.unk]! += unknown
        var ordered = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        if let maxSize, ordered.count > maxSize {
            var kept = Array(ordered.prefix(maxSize))
            for special in specials where !kept.contains(where: { $0.key == special }) {
                kept.removeLast()
                kept.append((special, counts[special]!))
            }
            let keptSet = Set(kept.map(\.key))
            let dropped = ordered.filter { !keptSet.contains($0.key) }.reduce(0) { $0 + $1.value }
            kept = kept.map { $0.key == Self.unk ? ($0.key, $0.value + dropped) : $0 }
            ordered = kept.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        }
        self.init(tokens: ordered.map(\.key), counts: ordered.map(\.value))
    }

    /// A given vocabulary: one token per line, most frequent first. `<eos>` and `<unk>`
    /// (and `<bos>` when asked) are appended if the file lacks them.
    public init(file path: String, withBeginOfSentence: Bool) throws {
        let lines = try TextFile.read(path)
        var tokens: [String] = []
        var seen = Set<String>()
        for (number, line) in lines.enumerated() {
            if line.isEmpty { continue }
            guard line.count == 1 else {
                throw DataError("expected one token per line, found \(line.count)", file: path, line: number + 1)
            }
            guard seen.insert(line[0]).inserted else {
                throw DataError("token '\(line[0])' is listed twice", file: path, line: number + 1)
            }
            tokens.append(line[0])
        }
        for special in [Self.eos, Self.unk] + (withBeginOfSentence ? [Self.bos] : []) where !seen.contains(special) {
            tokens.append(special)
        }
        self.init(tokens: tokens, counts: Array(repeating: 0, count: tokens.count))
    }

    init(tokens: [String], counts: [Int]) {
        self.tokens = tokens
        self.counts = counts
        index = Dictionary(uniqueKeysWithValues: tokens.enumerated().map { ($1, Int32($0)) })
    }

    public func id(_ token: String) -> Int32 { index[token] ?? unkID }

    /// Lines → ids (without `<eos>`; the batchers add the boundaries).
    public func encode(_ lines: [[String]]) -> [[Int32]] {
        lines.map { $0.map(id) }
    }

    /// The char-CNN's character ids of every entry.
    public func characterTable(maxCharacters: Int) -> CharacterTable {
        CharacterTable(tokens: tokens.map {
            switch $0 {
            case Self.bos: return .sentenceStart
            case Self.eos: return .sentenceEnd
            default: return .word($0)
            }
        }, maxCharacters: maxCharacters)
    }
}
