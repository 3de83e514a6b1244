import Foundation
import HarnessModel

/// Token ↔ id, ordered by descending training frequency (ties by string), which the
/// log-uniform sampler of the sampled softmax relies on.
///
/// `<eos>` ends every line; `<bos>` starts every sentence in sentences mode; `<unk>`
/// stands for words outside the vocabulary (WikiText-2 and PTB already contain it).
public struct Vocabulary: Sendable, Equatable {
    public static func == (a: Vocabulary, b: Vocabulary) -> Bool {
        a.counts == b.counts && a.tokens.map(TokenKey.init) == b.tokens.map(TokenKey.init)
    }

    public static let eos = "<eos>", bos = "<bos>", unk = "<unk>"

    public let tokens: [String]
    /// Training count of each entry (0 for entries from a vocabulary file).
    public let counts: [Int]
    private let index: [TokenKey: Int32]

    public var count: Int { tokens.count }
    public var eosID: Int32 { index[TokenKey(Self.eos)]! }
    public var unkID: Int32 { index[TokenKey(Self.unk)]! }
    public var bosID: Int32? { index[TokenKey(Self.bos)] }

    /// Builds from training lines. Words rarer than `minCount` and those past `maxSize`
    /// become `<unk>`; `<eos>`, `<unk>` (and `<bos>` with `withBeginOfSentence`) are
    /// always kept, counted like words (`<eos>` and `<bos>` once per line).
    public init(training lines: [[String]], minCount: Int = 1, maxSize: Int? = nil, withBeginOfSentence: Bool) {
        var counts: [TokenKey: Int] = [:]
        for line in lines { for token in line { counts[TokenKey(token), default: 0] += 1 } }
        self.init(counts: counts, lines: lines.count, minCount: minCount, maxSize: maxSize, withBeginOfSentence: withBeginOfSentence)
    }

    /// Builds from word counts over `lines` lines (`init(training:…)` without the lines:
    /// the corpus cache counts them as it reads).
    public init(counts: [TokenKey: Int], lines: Int, minCount: Int = 1, maxSize: Int? = nil, withBeginOfSentence: Bool) {
        var counts = counts
        let eos = TokenKey(Self.eos), bos = TokenKey(Self.bos), unk = TokenKey(Self.unk)
        counts[eos, default: 0] += lines
        if withBeginOfSentence { counts[bos, default: 0] += lines }
        counts[unk, default: 0] += 0
        let specials: Set<TokenKey> = withBeginOfSentence ? [eos, bos, unk] : [eos, unk]
        var unknown = 0
        for (token, n) in counts where n < minCount && !specials.contains(token) {
            unknown += n
            counts[token] = nil
        }
        counts[unk]! += unknown
        func byFrequency(_ a: (key: TokenKey, value: Int), _ b: (key: TokenKey, value: Int)) -> Bool {
            a.value != b.value ? a.value > b.value : a.key.token.utf8.lexicographicallyPrecedes(b.key.token.utf8)
        }
        var ordered = counts.map { (key: $0.key, value: $0.value) }.sorted(by: byFrequency)
        if let maxSize, ordered.count > maxSize {
            var kept = Array(ordered.prefix(maxSize))
            for special in specials where !kept.contains(where: { $0.key == special }) {
                kept.removeLast()
                kept.append((special, counts[special]!))
            }
            let keptSet = Set(kept.map(\.key))
            let dropped = ordered.filter { !keptSet.contains($0.key) }.reduce(0) { $0 + $1.value }
            kept = kept.map { $0.key == unk ? ($0.key, $0.value + dropped) : $0 }
            ordered = kept.sorted(by: byFrequency)
        }
        self.init(tokens: ordered.map(\.key.token), counts: ordered.map(\.value))
    }

    /// bilm-tf's names of the special tokens (its vocabulary files start with `</S>`,
    /// `<S>`, `<UNK>`; README of allenai/bilm-tf) and the harness's.
    public static let bilmSpecials = ["</S>": eos, "<S>": bos, "<UNK>": unk]

    /// A given vocabulary: one token per line, most frequent first. `<eos>` and `<unk>`
    /// (and `<bos>` when asked) are appended if the file lacks them. A bilm-tf vocabulary
    /// (one with any of `</S>`, `<S>`, `<UNK>` and none of `<eos>`, `<bos>`, `<unk>`) is read with its `</S>`, `<S>`, `<UNK>` as the
    /// harness's `<eos>`, `<bos>`, `<unk>`, at the places the file gives them.
    public init(file path: String, withBeginOfSentence: Bool) throws {
        let lines = try TextFile.read(path)
        // bilm-tf's convention only when the file uses none of the harness's names: a
        // harness vocabulary (a run's vocabulary.txt) may hold `<S>` or `</S>` as words.
        let harnessSpecials: Set<String> = [Self.eos, Self.bos, Self.unk]
        let isBilm = lines.contains { $0.count == 1 && Self.bilmSpecials[$0[0]] != nil }
            && !lines.contains { $0.count == 1 && harnessSpecials.contains($0[0]) }
        var tokens: [String] = []
        var firstLine: [TokenKey: (line: Int, written: String)] = [:]
        for (number, line) in lines.enumerated() {
            if line.isEmpty { continue }
            guard line.count == 1 else {
                throw DataError("expected one token per line, found \(line.count)", file: path, line: number + 1)
            }
            let token = isBilm ? Self.bilmSpecials[line[0]] ?? line[0] : line[0]
            if let first = firstLine[TokenKey(token)] {
                let read = { (written: String) in written == token ? "'\(written)'" : "'\(written)' (bilm-tf's name of \(token))" }
                throw DataError("token \(read(line[0])) is listed twice: line \(first.line) has \(read(first.written))",
                                file: path, line: number + 1)
            }
            firstLine[TokenKey(token)] = (number + 1, line[0])
            tokens.append(token)
        }
        let seen = Set(firstLine.keys)
        for special in [Self.eos, Self.unk] + (withBeginOfSentence ? [Self.bos] : []) where !seen.contains(TokenKey(special)) {
            tokens.append(special)
        }
        self.init(tokens: tokens, counts: Array(repeating: 0, count: tokens.count))
    }

    init(tokens: [String], counts: [Int]) {
        self.tokens = tokens
        self.counts = counts
        index = Dictionary(uniqueKeysWithValues: tokens.enumerated().map { (TokenKey($1), Int32($0)) })
    }

    /// The id of `token`, compared by its UTF-8 bytes (`TokenKey`); `<unk>`'s when absent.
    public func id(_ token: String) -> Int32 { index[TokenKey(token)] ?? unkID }

    /// Whether `token` (by its bytes) is an entry.
    public func contains(_ token: String) -> Bool { index[TokenKey(token)] != nil }

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

extension Vocabulary {
    /// How well the id order follows `lines`' token counts: Spearman's rank correlation
    /// between an entry's position and its count (ties share their mean rank), over the
    /// entries other than `<eos>`, `<bos>` and `<unk>`. 1 for a vocabulary ordered by
    /// these counts, about 0 for an unrelated order (alphabetical, say). The log-uniform
    /// sampler of the sampled softmax draws ids as if ordered by frequency.
    public func frequencyOrderCorrelation(with lines: [[Int32]]) -> Double {
        var counts = [Int](repeating: 0, count: count)
        for line in lines { for id in line { counts[Int(id)] += 1 } }
        return frequencyOrderCorrelation(counts: counts)
    }

    /// `frequencyOrderCorrelation(with:)` from each id's count.
    public func frequencyOrderCorrelation(counts: [Int]) -> Double {
        let counts = counts.map(Double.init)
        let specials = Set([Self.eos, Self.bos, Self.unk].compactMap { index[TokenKey($0)] }.map(Int.init))
        let entries = (0..<count).filter { !specials.contains($0) }
        guard entries.count >= 3 else { return 1 }
        // Rank of each entry by descending count, ties averaged; positions are ranks already.
        let byCount = entries.indices.sorted { counts[entries[$0]] > counts[entries[$1]] }
        var countRank = [Double](repeating: 0, count: entries.count)
        var start = 0
        while start < byCount.count {
            var end = start
            while end + 1 < byCount.count && counts[entries[byCount[end + 1]]] == counts[entries[byCount[start]]] { end += 1 }
            for i in start...end { countRank[byCount[i]] = Double(start + end) / 2 }
            start = end + 1
        }
        let n = Double(entries.count), mean = (n - 1) / 2
        var covariance = 0.0, positionVariance = 0.0, countVariance = 0.0
        for i in entries.indices {
            let p = Double(i) - mean, c = countRank[i] - mean
            covariance += p * c; positionVariance += p * p; countVariance += c * c
        }
        return countVariance == 0 ? 0 : covariance / (positionVariance * countVariance).squareRoot()
    }
}
