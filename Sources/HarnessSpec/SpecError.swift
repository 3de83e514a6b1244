import Foundation

/// A problem with an experiment spec, at a place in its file.
///
/// Printed compiler-style, with the offending line and a caret:
///
///     experiments/x.yaml:12:9: error: unknown recurrent type 'lstmp'; did you mean 'lstm-projected'?
///       recurrent: {type: lstmp, layers: 2}
///                         ^
///       note: available: lstm, lstm-projected
public struct SpecError: Error, Equatable, Sendable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String
    public var suggestion: String?
    public var note: String?
    /// For an unknown key, its dotted path ("training.max_token"): what a sweep's
    /// dotted paths are checked against.
    public var unknownKey: String?

    public init(_ message: String, at location: SourceLocation, suggestion: String? = nil, note: String? = nil,
                unknownKey: String? = nil) {
        self.location = location
        self.message = message
        self.suggestion = suggestion
        self.note = note
        self.unknownKey = unknownKey
    }

    /// The one-line form: `file:line:col: error: message; did you mean 'x'?`.
    public var description: String {
        "\(location): error: \(message)" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
    }

    /// The full form: the one-line form, the source line with a caret, and the note.
    public func rendered(source: String?) -> String {
        var text = description
        if let source {
            let lines = Self.lines(of: source)
            if location.line >= 1 && location.line <= lines.count {
                let (line, caret) = Self.window(Array(lines[location.line - 1]), column: max(location.column - 1, 0))
                text += "\n  \(line)\n  " + String(repeating: " ", count: caret) + "^"
            }
        }
        if let note { text += "\n  note: \(note)" }
        return text
    }

    /// The lines of `text` as YAML counts them: LF, CR, CRLF, NEL, LS and PS end a line.
    public static func lines(of text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false) { ["\n", "\r", "\r\n", "\u{85}", "\u{2028}", "\u{2029}"].contains($0) }
    }

    /// At most `width` characters of a long line around `column`, cut ends marked with …;
    /// returns the text and the caret's column in it.
    static func window(_ line: [Character], column: Int, width: Int = 100) -> (String, Int) {
        guard line.count > width else { return (String(line), column) }
        let start = max(0, min(column - width / 2, line.count - width)), end = min(start + width, line.count)
        return ((start > 0 ? "…" : "") + String(line[start..<end]) + (end < line.count ? "…" : ""),
                column - start + (start > 0 ? 1 : 0))
    }
}

/// Every error of a spec, in file order: the validator collects them all before failing.
public struct SpecErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [SpecError]
    /// The spec's text, for the source lines under each error.
    public var source: String?

    public init(_ errors: [SpecError], source: String?) {
        self.errors = errors.sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
        self.source = source
    }

    public var description: String {
        let body = errors.map { $0.rendered(source: source) }.joined(separator: "\n")
        let count = errors.count == 1 ? "1 error" : "\(errors.count) errors"
        return body + "\n\(count) in \(errors.first?.location.file ?? "spec")"
    }
}

/// The candidate `word` most plausibly meant: one that contains it as an abbreviation
/// (its letters in order: "lstmp" → "lstm-projected", "hiden" → "hidden"), else the
/// nearest by edit distance when that is close enough to be a typo (at most 3 edits and
/// a third of the longer word), else one sharing its first four letters.
public func nearest(_ word: String, in candidates: [String]) -> String? {
    let abbreviated = candidates.filter { $0 != word && isSubsequence(word, of: $0) }
    if let shortest = abbreviated.min(by: { $0.count < $1.count }) { return shortest }
    let scored = candidates.map { ($0, editDistance(word, $0)) }.min { $0.1 < $1.1 }
    guard let (best, distance) = scored else { return nil }
    let limit = min(3, max(1, max(word.count, best.count) / 3))
    if distance <= limit { return best }
    return word.count >= 4 ? candidates.first { $0.hasPrefix(word.prefix(4)) } : nil
}

func isSubsequence(_ a: String, of b: String) -> Bool {
    var rest = b[...]
    for c in a {
        guard let i = rest.firstIndex(of: c) else { return false }
        rest = rest[rest.index(after: i)...]
    }
    return true
}

/// Levenshtein distance over characters.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = previous
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
