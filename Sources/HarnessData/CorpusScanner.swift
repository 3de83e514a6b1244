import Foundation
import SystemPackage

/// The one pass over a training split's text that the corpus cache is built from: reads
/// each file in blocks, checks its UTF-8, splits lines into tokens exactly as `TextFile`
/// does, and writes every token as a provisional id (its index in a `TokenTable`, in
/// order of first appearance) with `endOfLine` after each line, plus each line's end.
/// Memory: the table and one block, whatever the file's size.
struct CorpusScanner {
    /// The provisional id written for a line's end (`<eos>` once the vocabulary exists).
    static let endOfLine: Int32 = -1
    /// Bytes read at a time (a block grows to hold a longer line).
    let blockSize: Int

    private(set) var table = TokenTable()
    /// Ids written so far, `endOfLine` included: the position of the next one.
    private(set) var position = 0
    private(set) var lines = 0
    private var ids: BufferedWriter<Int32>
    private var lineEnds: BufferedWriter<Int64>

    init(ids: FileDescriptor, lineEnds: FileDescriptor, blockSize: Int = 8 << 20) {
        self.blockSize = blockSize
        self.ids = BufferedWriter(ids)
        self.lineEnds = BufferedWriter(lineEnds)
    }

    /// Scans `path` until its end, or until `position` reaches `maxTokens` at a line's end
    /// (`TextFile.read`'s rule). Returns the file's word tokens (without `endOfLine`) and,
    /// when it was read to its end, its SHA-256 (the run's data checksum, for free).
    /// - Throws: `DataError` for a missing, unreadable or non-UTF-8 file (with its line and
    ///   column), `Errno` when an output write fails.
    mutating func scan(_ path: String, maxTokens: Int?) throws -> (words: Int, sha256: String?) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError("file does not exist", file: path)
        }
        guard !isDirectory.boolValue else { throw DataError("expected a text file, found a directory", file: path) }
        let file: FileDescriptor
        do { file = try FileDescriptor.open(path, .readOnly) } catch { throw DataError("file is not readable", file: path) }
        defer { try? file.close() }
        var block = [UInt8](repeating: 0, count: blockSize)
        var filled = 0, lineNumber = 1, words = 0, skip = -1   // skip: the byte-order mark's length, once known
        var hash = SHA256()
        while true {
            if filled == block.count { block += [UInt8](repeating: 0, count: block.count) }   // a line longer than a block
            let read: Int
            do {
                read = try block.withUnsafeMutableBytes { try file.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[filled...])) }
            } catch {
                throw DataError("cannot read the file: \(error)", file: path)
            }
            block.withUnsafeBytes { hash.update(UnsafeRawBufferPointer(rebasing: $0[filled ..< filled + read])) }
            filled += read
            let atEnd = read == 0
            if skip < 0 && (filled >= 3 || atEnd) {   // TextFile.read's rule: a leading byte-order mark is not text
                skip = block.withUnsafeBufferPointer { TextFile.byteOrderMarkLength(UnsafeBufferPointer(rebasing: $0[..<filled])) }
                block.withUnsafeMutableBytes { b in b.baseAddress!.copyMemory(from: b.baseAddress! + skip, byteCount: filled - skip) }
                filled -= skip
            }
            guard skip >= 0 else { continue }
            // Whole lines only (UTF-8 never has 0x0A inside a character); at the end, the rest.
            let usable = atEnd ? filled : block.withUnsafeBufferPointer { b in (b[..<filled].lastIndex(of: 0x0A)).map { $0 + 1 } ?? 0 }
            if usable > 0 {
                let (stop, newlines, scanned) = try block.withUnsafeBufferPointer { b in
                    let part = UnsafeBufferPointer(rebasing: b[..<usable])
                    if let (line, column) = TextFile.firstInvalidUTF8(part) {
                        let line = lineNumber + line - 1   // columns count the skipped byte-order mark, as TextFile.read's do
                        throw DataError("invalid UTF-8", file: path, line: line, column: line == 1 ? column + skip : column)
                    }
                    return try scanLines(part, final: atEnd, maxTokens: maxTokens)
                }
                words += scanned
                if stop { return (words, nil) }
                lineNumber += newlines
                block.withUnsafeMutableBytes { b in
                    b.baseAddress!.copyMemory(from: b.baseAddress! + usable, byteCount: filled - usable)
                }
                filled -= usable
            }
            if atEnd { return (words, hash.finalize()) }
        }
    }

    /// Writes everything buffered.
    mutating func flush() throws {
        try ids.flush()
        try lineEnds.flush()
    }

    /// Tokens and line ends of `bytes` (whole lines, or the file's last part when `final`).
    /// Returns whether `maxTokens` was reached, the newlines consumed and the words written.
    private mutating func scanLines(_ bytes: UnsafeBufferPointer<UInt8>, final: Bool,
                                    maxTokens: Int?) throws -> (stop: Bool, newlines: Int, words: Int) {
        var tokenStart = -1, newlines = 0, words = 0
        let limit = maxTokens ?? Int.max
        for i in 0..<bytes.count {
            switch bytes[i] {
            case 0x0A:
                if tokenStart >= 0 {
                    try ids.append(table.countOccurrence(UnsafeBufferPointer(rebasing: bytes[tokenStart ..< i])))
                    words += 1; position += 1; tokenStart = -1
                }
                try endLine()
                newlines += 1
                if position >= limit { return (true, newlines, words) }
            case 0x20, 0x09, 0x0D, 0x0B, 0x0C:
                if tokenStart >= 0 {
                    try ids.append(table.countOccurrence(UnsafeBufferPointer(rebasing: bytes[tokenStart ..< i])))
                    words += 1; position += 1; tokenStart = -1
                }
            default:
                if tokenStart < 0 { tokenStart = i }
            }
        }
        if final && !bytes.isEmpty && bytes[bytes.count - 1] != 0x0A {   // a last line without its newline
            if tokenStart >= 0 {
                try ids.append(table.countOccurrence(UnsafeBufferPointer(rebasing: bytes[tokenStart...])))
                words += 1; position += 1
            }
            try endLine()
        }
        return (false, newlines, words)
    }

    @inline(__always)
    private mutating func endLine() throws {
        try ids.append(Self.endOfLine)
        position += 1
        lines += 1
        try lineEnds.append(Int64(position))
    }
}

/// Values appended to a file in their in-memory (little-endian) layout, a block at a time.
struct BufferedWriter<Element: FixedWidthInteger> {
    private let file: FileDescriptor
    private var buffer: [Element] = []
    private static var capacity: Int { (1 << 20) / MemoryLayout<Element>.stride }

    init(_ file: FileDescriptor) {
        self.file = file
        buffer.reserveCapacity(Self.capacity)
    }

    @inline(__always)
    mutating func append(_ value: Element) throws {
        buffer.append(value)
        if buffer.count == Self.capacity { try flush() }
    }

    mutating func flush() throws {
        _ = try buffer.withUnsafeBytes { try file.writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }
}
