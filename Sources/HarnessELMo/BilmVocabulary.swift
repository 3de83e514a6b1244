import HarnessData

/// A bilm-tf vocabulary file as a harness vocabulary, row for row.
///
/// bilm-tf (`Vocabulary` in bilm/data.py) gives each line's token the next id, skipping
/// `!!!MAXTERMID`, and knows `<S>`, `</S>` and `<UNK>` as the sentence boundaries and the
/// unknown word; token k's row is row k of the word embedding (`embedding`) and of the
/// softmax. The harness calls them `<bos>`, `<eos>` and `<unk>`, so those three are
/// renamed in place and every other entry keeps its row. A boundary or `<unk>` missing
/// from the file is appended after the file's rows (the harness vocabulary has all three).
public struct BilmVocabulary: Equatable, Sendable {
    /// bilm-tf's names of the harness's `<bos>`, `<eos>`, `<unk>`.
    public static let renamed = ["<S>": Vocabulary.bos, "</S>": Vocabulary.eos, "<UNK>": Vocabulary.unk]

    /// The harness vocabulary: the file's entries (renamed), then `appended`.
    public let tokens: [String]
    /// The file's entries: the rows of bilm-tf's embedding and softmax.
    public let rows: Int
    /// Harness specials the file lacked, after its rows.
    public let appended: [String]

    /// The three specials alone, for a char-CNN model imported without a vocabulary.
    public static let specialsOnly = BilmVocabulary(tokens: [Vocabulary.bos, Vocabulary.eos, Vocabulary.unk], rows: 0,
                                                    appended: [Vocabulary.bos, Vocabulary.eos, Vocabulary.unk])

    private init(tokens: [String], rows: Int, appended: [String]) {
        self.tokens = tokens
        self.rows = rows
        self.appended = appended
    }

    /// Reads `path`: one token per line, as bilm-tf does.
    /// - Throws: `DataError` (with the line) for a line with no token or with two, a token
    ///   listed twice, or one of the harness's own special names.
    public init(file path: String) throws {
        var tokens: [String] = []
        var seen: [String: Int] = [:]
        for (index, line) in try TextFile.read(path).enumerated() {
            let number = index + 1
            guard line.count == 1 else {
                throw DataError(line.isEmpty ? "an empty line: bilm-tf would give the empty token a row, which the harness cannot hold"
                                             : "expected one token per line, found \(line.count)", file: path, line: number)
            }
            let token = line[0]
            if token == "!!!MAXTERMID" { continue }   // bilm-tf skips it without an id
            if Self.renamed.values.contains(token) {
                throw DataError("'\(token)' is the harness's own name for bilm-tf's "
                                + "\(Self.renamed.first { $0.value == token }!.key); a bilm-tf vocabulary cannot also list it",
                                file: path, line: number)
            }
            if let first = seen[token] {
                throw DataError("'\(token)' is listed twice (first on line \(first))", file: path, line: number)
            }
            seen[token] = number
            tokens.append(Self.renamed[token] ?? token)
        }
        let missing = [Vocabulary.bos, Vocabulary.eos, Vocabulary.unk].filter { !tokens.contains($0) }
        self.init(tokens: tokens + missing, rows: tokens.count, appended: missing)
    }

    /// bilm-tf's name of `token` (`<S>` for `<bos>`), for messages.
    public static func bilmName(_ token: String) -> String {
        renamed.first { $0.value == token }?.key ?? token
    }
}
