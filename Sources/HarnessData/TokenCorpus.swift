import SystemPackage

/// A split as token ids: every line's ids followed by `<eos>`, lines back to back, in
/// shards (the files of a sharded split, in the order the spec lists them).
///
/// Training splits live in a file of the corpus cache (`CorpusCache`) and are read a
/// window at a time (`pread`), so memory does not grow with the corpus; evaluation splits
/// and tests hold theirs in memory. Positions count ids, `<eos>` included.
public final class TokenCorpus: @unchecked Sendable {
    /// One shard's ids (`tokens`, positions in the whole split) and lines (indices).
    public struct Shard: Sendable, Equatable {
        public let tokens: Range<Int>
        public let lines: Range<Int>
    }

    public let shards: [Shard]
    private let storage: Storage

    private enum Storage {
        case memory(ids: [Int32], lineEnds: [Int])
        /// Ids as Int32 and line ends as Int64, little-endian (the cache's files).
        case file(ids: FileDescriptor, lineEnds: FileDescriptor, folder: String)
    }

    /// Ids, `<eos>` included.
    public var tokenCount: Int { shards.last?.tokens.upperBound ?? 0 }
    public var lineCount: Int { shards.last?.lines.upperBound ?? 0 }

    /// One in-memory shard of `lines` (ids without `<eos>`; it is added after each).
    public convenience init(lines: [[Int32]], eos: Int32) {
        self.init(shards: [lines], eos: eos)
    }

    /// In-memory shards, each a list of lines (ids without `<eos>`).
    public init(shards: [[[Int32]]], eos: Int32) {
        var ids: [Int32] = [], lineEnds: [Int] = [], extents: [Shard] = []
        for lines in shards {
            let (firstToken, firstLine) = (ids.count, lineEnds.count)
            for line in lines {
                ids += line
                ids.append(eos)
                lineEnds.append(ids.count)
            }
            extents.append(Shard(tokens: firstToken ..< ids.count, lines: firstLine ..< lineEnds.count))
        }
        storage = .memory(ids: ids, lineEnds: lineEnds)
        self.shards = extents
    }

    /// The split in the cache's files, which it keeps open until released.
    init(ids: FileDescriptor, lineEnds: FileDescriptor, folder: String, shards: [Shard]) {
        storage = .file(ids: ids, lineEnds: lineEnds, folder: folder)
        self.shards = shards
    }

    deinit {
        if case .file(let ids, let lineEnds, _) = storage {
            try? ids.close()
            try? lineEnds.close()
        }
    }

    /// Copies the ids at `positions` into `buffer` (at least `positions.count` long).
    /// - Throws: `DataError` naming the cache file when it cannot be read (shortened or
    ///   removed while a run reads it).
    public func read(_ positions: Range<Int>, into buffer: UnsafeMutableBufferPointer<Int32>) throws {
        precondition(positions.lowerBound >= 0 && positions.upperBound <= tokenCount && buffer.count >= positions.count)
        switch storage {
        case .memory(let ids, _):
            ids.withUnsafeBufferPointer { source in
                _ = buffer.initialize(from: UnsafeBufferPointer(rebasing: source[positions]))
            }
        case .file(let ids, _, let folder):
            try Self.pread(ids, path: folder + "/" + CorpusCache.idsFile, offset: positions.lowerBound * 4,
                           into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[..<positions.count])))
        }
    }

    /// The ids at `positions`.
    public func ids(_ positions: Range<Int>) throws -> [Int32] {
        try [Int32](unsafeUninitializedCapacity: positions.count) { buffer, count in
            try read(positions, into: buffer)
            count = positions.count
        }
    }

    /// Where each line of `lines` ends: the position after its `<eos>`.
    public func lineEnds(_ lines: Range<Int>) throws -> [Int] {
        switch storage {
        case .memory(_, let lineEnds):
            return Array(lineEnds[lines])
        case .file(_, let file, let folder):
            var ends = [Int64](repeating: 0, count: lines.count)
            try ends.withUnsafeMutableBytes { try Self.pread(file, path: folder + "/" + CorpusCache.lineEndsFile, offset: lines.lowerBound * 8, into: $0) }
            return ends.map { Int($0) }
        }
    }

    private static func pread(_ file: FileDescriptor, path: String, offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        var done = 0
        while done < buffer.count {
            let n: Int
            do {
                n = try file.read(fromAbsoluteOffset: Int64(offset + done), into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            } catch {
                throw DataError("cannot read the corpus cache: \(error)", file: path)
            }
            if n == 0 {
                throw DataError("the corpus cache ends early (changed while in use?); delete the folder to rebuild it", file: path)
            }
            done += n
        }
    }
}
