import Foundation

/// A corpus file read as lines of whitespace-separated tokens.
///
/// Handling, documented because it decides the token counts:
/// - the file must be UTF-8; the first invalid byte is reported with its line and column;
/// - a UTF-8 byte-order mark (EF BB BF) at the start is skipped, as Python's `utf-8-sig`
///   does, rather than becoming part of the first token;
/// - lines end at `\n`; a `\r` before it (CRLF files) is dropped;
/// - tokens are separated by ASCII whitespace (space, tab, `\r`, vertical tab, form feed);
/// - every line, blank lines included, later ends with one `<eos>` (the Mikolov/PTB
///   convention behind published perplexities).
public enum TextFile {
    /// The lines of `path` as token lists; `maxTokens` stops after that many tokens
    /// counting one `<eos>` per line.
    public static func read(_ path: String, maxTokens: Int? = nil) throws -> [[String]] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError("file does not exist", file: path)
        }
        guard !isDirectory.boolValue else { throw DataError("expected a text file, found a directory", file: path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError("file is not readable", file: path)
        }
        return try data.withUnsafeBytes { raw in
            try lines(raw.bindMemory(to: UInt8.self), file: path, maxTokens: maxTokens)
        }
    }

    static func lines(_ bytes: UnsafeBufferPointer<UInt8>, file: String, maxTokens: Int?) throws -> [[String]] {
        if let (line, column) = firstInvalidUTF8(bytes) {
            throw DataError("invalid UTF-8", file: file, line: line, column: column)
        }
        var result: [[String]] = []
        var tokens: [String] = []
        var tokenStart = -1
        var count = 0
        func endToken(_ i: Int) {
            guard tokenStart >= 0 else { return }
            tokens.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[tokenStart..<i]), as: UTF8.self))
            tokenStart = -1
        }
        func endLine() {
            result.append(tokens)
            count += tokens.count + 1
            tokens.removeAll(keepingCapacity: true)
        }
        let n = bytes.count, start = byteOrderMarkLength(bytes)
        for i in start..<n {
            switch bytes[i] {
            case 0x0A:
                endToken(i)
                endLine()
                if let maxTokens, count >= maxTokens { return result }
            case 0x20, 0x09, 0x0D, 0x0B, 0x0C:
                endToken(i)
            default:
                if tokenStart < 0 { tokenStart = i }
            }
        }
        endToken(n)
        if n > start && bytes[n - 1] != 0x0A { endLine() }  // a last line without its newline
        return result
    }

    /// 3 when `bytes` starts with UTF-8's byte-order mark (EF BB BF), else 0.
    static func byteOrderMarkLength(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
    }

    /// (line, column) of the first byte that is not valid UTF-8, 1-based, column in bytes.
    static func firstInvalidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> (Int, Int)? {
        var line = 1, lineStart = 0, i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b == 0x0A { line += 1; lineStart = i + 1; i += 1; continue }
            if b < 0x80 { i += 1; continue }
            let length: Int
            var minimum: UInt32
            var scalar: UInt32
            switch b {
            case 0xC2...0xDF: length = 2; scalar = UInt32(b & 0x1F); minimum = 0x80
            case 0xE0...0xEF: length = 3; scalar = UInt32(b & 0x0F); minimum = 0x800
            case 0xF0...0xF4: length = 4; scalar = UInt32(b & 0x07); minimum = 0x10000
            default: return (line, i - lineStart + 1)
            }
            guard i + length <= n else { return (line, i - lineStart + 1) }
            for k in 1..<length {
                let c = bytes[i + k]
                guard c & 0xC0 == 0x80 else { return (line, i - lineStart + 1) }
                scalar = scalar << 6 | UInt32(c & 0x3F)
            }
            if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) { return (line, i - lineStart + 1) }
            i += length
        }
        return nil
    }
}
