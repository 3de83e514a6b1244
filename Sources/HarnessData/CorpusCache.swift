import Foundation
import SystemPackage

/// A training split encoded once and kept on disk: its ids (`TokenCorpus`), its line ends
/// and its vocabulary, in a folder named by a key of everything they depend on. A later
/// run of the same split starts from the folder instead of the text: no tokenizing, and
/// memory that does not grow with the corpus (issue #20).
///
/// - The key: SHA-256 of the format version, every shard's absolute path, size,
///   modification time (ns) and inode, `max_train_tokens`, and the vocabulary's recipe
///   (`min_count`, `max_size`, `<bos>`) or, for a given vocabulary, its tokens. Editing a
///   file changes its modification time and so the key, as for `make`; a stale folder is
///   never read. Each build removes the stale folders this machine built: those whose
///   shards were since edited, replaced or deleted (their key can never come again), so an
///   edited corpus does not pile up copies. Folders of other machines sharing the cache
///   are left (their paths may be local to them); those of earlier harnesses, which did
///   not record the files' state, go only when a shard is gone.
/// - The folder: `$HARNESS_CACHE_DIR`, else `$XDG_CACHE_HOME/lm-harness/corpora`, else
///   `~/.cache/lm-harness/corpora`. It is built in a temporary folder and renamed into
///   place, so a run killed while building leaves no half cache (the next build deletes
///   its temporary folder), and two runs building the same key at once both succeed (one
///   rename wins, the other reads it).
/// - The files: `ids.bin` (Int32, little-endian: every line's ids, then `<eos>`),
///   `line-ends.bin` (Int64: the position after each line's `<eos>`), `vocabulary.tsv`
///   (token, vocabulary count, training count per id), `meta.json` (shards, their
///   SHA-256 — the run's data checksums without reading the text again).
public enum CorpusCache {
    static let format = 3   // 3: a leading byte-order mark is skipped
    static let idsFile = "ids.bin", lineEndsFile = "line-ends.bin", vocabularyFile = "vocabulary.tsv", metaFile = "meta.json"

    /// Where the vocabulary comes from.
    public enum VocabularySource: Sendable {
        /// Counted over the split (`Vocabulary(counts:…)`).
        case build(minCount: Int, maxSize: Int?, withBeginOfSentence: Bool)
        /// Given (a vocabulary file, or a run's saved vocabulary).
        case given(Vocabulary)
    }

    /// A training split ready to train on.
    public struct Entry {
        public let vocabulary: Vocabulary
        public let corpus: TokenCorpus
        /// How often each id occurs in the split (words only, not the added `<eos>`).
        public let trainingCounts: [Int]
        /// SHA-256 of each shard read to its end, by path (computed in the one pass).
        public let checksums: [String: String]
        /// The cache folder, and whether this call built it (false: reused).
        public let folder: String
        public let built: Bool
    }

    /// The cache folder in use (see the type's documentation).
    public static var root: String {
        let environment = ProcessInfo.processInfo.environment
        if let folder = environment["HARNESS_CACHE_DIR"], !folder.isEmpty { return folder }
        if let folder = environment["XDG_CACHE_HOME"], !folder.isEmpty { return folder + "/lm-harness/corpora" }
        return NSHomeDirectory() + "/.cache/lm-harness/corpora"
    }

    /// The split `shards` (absolute paths, in order), read up to `maxTokens` ids (`<eos>`
    /// included; `TextFile.read`'s rule), from the cache or built into it.
    /// - Throws: `DataError` for a missing, unreadable, non-UTF-8 or (one of several) empty
    ///   shard, or a cache folder that cannot be written.
    /// - Parameter blockSize: bytes read at a time (tests make it small).
    public static func load(shards: [String], maxTokens: Int?, vocabulary source: VocabularySource,
                            root: String = CorpusCache.root, blockSize: Int = 8 << 20) throws -> Entry {
        let sources = try self.sources(of: shards)
        let key = self.key(sources: sources, maxTokens: maxTokens, vocabulary: source)
        let folder = root + "/" + key
        if let entry = try? open(folder) { return entry }
        try? FileManager.default.removeItem(atPath: folder)   // unreadable or incomplete: rebuild
        try makeFolder(root)
        removeAbandonedBuilds(in: root)
        removeStaleEntries(in: root)
        let temporary = root + "/.building-\(key.prefix(16))-\(getpid())@\(Self.host)-\(UInt32.random(in: 0 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        try build(shards: shards, sources: sources, maxTokens: maxTokens, vocabulary: source, into: temporary, blockSize: blockSize)
        if rename(temporary, folder) != 0 && errno != ENOTEMPTY && errno != EEXIST {
            throw DataError("cannot move the built corpus cache into place: \(String(cString: strerror(errno)))", file: folder)
        }
        let entry = try open(folder)
        return Entry(vocabulary: entry.vocabulary, corpus: entry.corpus, trainingCounts: entry.trainingCounts, checksums: entry.checksums,
                     folder: folder, built: true)
    }

    // MARK: Key

    /// One line per shard: "shard", its path, size, modification time (ns) and inode,
    /// tab-separated; what the key hashes of each file, and what tells a stale entry.
    /// - Throws: `DataError` for a missing, unreadable or directory shard.
    static func sources(of shards: [String]) throws -> [String] {
        try shards.map { path in
            var status = stat()
            guard stat(path, &status) == 0 else {
                throw DataError(errno == ENOENT ? "file does not exist" : "file is not readable: \(String(cString: strerror(errno)))", file: path)
            }
            guard status.st_mode & S_IFMT != S_IFDIR else { throw DataError("expected a text file, found a directory", file: path) }
            guard access(path, R_OK) == 0 else { throw DataError("file is not readable", file: path) }
            return source(path, status)
        }
    }

    private static func source(_ path: String, _ status: stat) -> String {
        "shard\t\(path)\t\(status.st_size)\t\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)\t\(status.st_ino)"
    }

    /// Whether `path` is still the file that `line` (its `sources` line) describes.
    private static func isUnchanged(_ path: String, since line: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && source(path, status) == line
    }

    static func key(sources: [String], maxTokens: Int?, vocabulary source: VocabularySource) -> String {
        var description = "lm-harness corpus cache \(format)\n"
        for line in sources { description += line + "\n" }
        description += "max_tokens\t\(maxTokens.map(String.init) ?? "all")\n"
        switch source {
        case .build(let minCount, let maxSize, let bos):
            description += "vocabulary\tbuilt\t\(minCount)\t\(maxSize.map(String.init) ?? "all")\t\(bos)\n"
        case .given(let vocabulary):
            var hash = SHA256()
            for token in vocabulary.tokens { hash.update(Data((token + "\n").utf8)) }
            description += "vocabulary\tgiven\t\(hash.finalize())\n"
        }
        var hash = SHA256()
        hash.update(Data(description.utf8))
        return String(hash.finalize().prefix(32))
    }

    // MARK: Building

    private struct Meta: Codable {
        var format: Int
        var shards: [String]
        /// Per shard: first and end position, first and end line.
        var extents: [[Int]]
        var tokens: Int
        var lines: Int
        /// SHA-256 of each shard read to its end.
        var checksums: [String: String]
        /// Entries of `vocabulary.tsv`: every id in `ids.bin` is below it.
        var vocabularySize: Int
        var buildSeconds: Double
        /// `sources` when built, and the machine that built it (absent in entries of earlier harnesses).
        var sources: [String]?
        var host: String?
    }

    private static func build(shards: [String], sources: [String], maxTokens: Int?, vocabulary source: VocabularySource, into folder: String,
                              blockSize: Int) throws {
        let start = Date()
        try makeFolder(folder)
        let provisionalPath = folder + "/provisional.bin"
        let provisional = try create(provisionalPath), lineEnds = try create(folder + "/" + lineEndsFile)
        var scanner = CorpusScanner(ids: provisional, lineEnds: lineEnds, blockSize: blockSize)
        var extents: [TokenCorpus.Shard] = []
        var checksums: [String: String] = [:]
        for path in shards {
            if let maxTokens, scanner.position >= maxTokens { break }
            let (firstToken, firstLine) = (scanner.position, scanner.lines)
            let (words, sha256) = try scanner.scan(path, maxTokens: maxTokens)
            checksums[path] = sha256
            if shards.count > 1 && words == 0 {
                throw DataError("this training shard has no tokens (a truncated download?)", file: path)
            }
            extents.append(TokenCorpus.Shard(tokens: firstToken ..< scanner.position, lines: firstLine ..< scanner.lines))
        }
        try writing(folder) { try scanner.flush() }
        try? lineEnds.close()

        let table = scanner.table
        let vocabulary: Vocabulary
        switch source {
        case .build(let minCount, let maxSize, let bos):
            var counts: [TokenKey: Int] = [:]
            counts.reserveCapacity(table.count)
            for (id, count) in table.counts.enumerated() { counts[TokenKey(table.token(id)), default: 0] += count }
            vocabulary = Vocabulary(counts: counts, lines: scanner.lines, minCount: minCount, maxSize: maxSize, withBeginOfSentence: bos)
        case .given(let given):
            vocabulary = given
        }
        let finalID = (0 ..< table.count).map { vocabulary.id(table.token($0)) }
        let eos = vocabulary.eosID

        // Provisional ids → vocabulary ids, a block at a time.
        let ids = try create(folder + "/" + idsFile)
        defer { try? ids.close() }
        var trainingCounts = [Int](repeating: 0, count: vocabulary.count)
        var block = [Int32](repeating: 0, count: 1 << 20)
        var offset: Int64 = 0
        try writing(folder) {
            while true {
                let bytes = try block.withUnsafeMutableBytes { try provisional.read(fromAbsoluteOffset: offset, into: $0) }
                guard bytes > 0 else { break }
                precondition(bytes % 4 == 0, "a short read of the provisional ids")   // a local file, read whole
                offset += Int64(bytes)
                block.withUnsafeMutableBufferPointer { block in
                    finalID.withUnsafeBufferPointer { finalID in
                        trainingCounts.withUnsafeMutableBufferPointer { trainingCounts in
                            for i in 0 ..< bytes / 4 {
                                let p = block[i]
                                if p == CorpusScanner.endOfLine {
                                    block[i] = eos
                                } else {
                                    let id = finalID[Int(p)]
                                    block[i] = id
                                    trainingCounts[Int(id)] += 1
                                }
                            }
                        }
                    }
                }
                _ = try block.withUnsafeBytes { try ids.writeAll(UnsafeRawBufferPointer(rebasing: $0[..<bytes])) }
            }
        }
        try? provisional.close()
        try? FileManager.default.removeItem(atPath: provisionalPath)

        var tsv = ""
        for id in 0 ..< vocabulary.count {
            tsv += "\(vocabulary.tokens[id])\t\(vocabulary.counts[id])\t\(trainingCounts[id])\n"
        }
        let meta = Meta(format: format, shards: shards, extents: extents.map { [$0.tokens.lowerBound, $0.tokens.upperBound, $0.lines.lowerBound, $0.lines.upperBound] },
                        tokens: scanner.position, lines: scanner.lines, checksums: checksums, vocabularySize: vocabulary.count,
                        buildSeconds: Date().timeIntervalSince(start), sources: sources, host: host)
        try writing(folder) {
            try Data(tsv.utf8).write(to: URL(fileURLWithPath: folder + "/" + vocabularyFile))
            try JSONEncoder().encode(meta).write(to: URL(fileURLWithPath: folder + "/" + metaFile))
        }
    }

    /// Deletes the temporary folders of builds whose process is gone (killed while
    /// building: `.building-<key>-<pid>@<host>-<random>`). Only this machine's: a cache on
    /// a file system that several machines share (NFS on a cluster) holds other machines'
    /// builds too, whose processes `kill(pid, 0)` cannot see. A name without a host (a
    /// build of an earlier harness) counts as this machine's.
    private static func removeAbandonedBuilds(in root: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where name.hasPrefix(".building-") {
            let rest = name.dropFirst(".building-".count)   // <key>-<owner>-<random>, the key hex digits
            guard let first = rest.firstIndex(of: "-"), let last = rest.lastIndex(of: "-"), first < last else { continue }
            let parts = rest[rest.index(after: first) ..< last].split(separator: "@", maxSplits: 1)
            guard parts.count == 1 || String(parts[1]) == host, let pid = pid_t(parts[0]),
                  kill(pid, 0) != 0 && errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: root + "/" + name)
        }
    }

    /// Deletes the entries this machine built whose shards changed since (another size,
    /// modification time or inode: edited or replaced) or are gone: no key can name them
    /// again. An entry of an earlier harness (no `sources` in its meta.json) goes when one of
    /// its shards is gone; entries of other machines, and folders without a readable
    /// meta.json (a build in progress has none), are kept.
    private static func removeStaleEntries(in root: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where isKey(name) {
            let folder = root + "/" + name
            guard let data = FileManager.default.contents(atPath: folder + "/" + metaFile),
                  let meta = try? JSONDecoder().decode(Meta.self, from: data), (meta.host ?? host) == host else { continue }
            let stale: Bool
            if let sources = meta.sources {
                guard sources.count == meta.shards.count else { continue }
                stale = zip(meta.shards, sources).contains { !isUnchanged($0, since: $1) }
            } else {
                stale = meta.shards.contains { !FileManager.default.fileExists(atPath: $0) }
            }
            if stale { try? FileManager.default.removeItem(atPath: folder) }
        }
    }

    /// Whether `name` is an entry's folder name: 32 lower-case hex digits.
    private static func isKey(_ name: String) -> Bool {
        name.utf8.count == 32 && name.utf8.allSatisfy { (0x30 ... 0x39).contains($0) || (0x61 ... 0x66).contains($0) }
    }

    /// This machine's name, in the names of its builds' temporary folders.
    static let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "/", with: "_")

    private static func makeFolder(_ folder: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            // Foundation's message ("The operation could not be completed") hides the cause:
            // name the nearest existing ancestor and what is wrong with it.
            var ancestor = (folder as NSString).deletingLastPathComponent
            while !ancestor.isEmpty && ancestor != "/" && !FileManager.default.fileExists(atPath: ancestor) {
                ancestor = (ancestor as NSString).deletingLastPathComponent
            }
            var isDirectory: ObjCBool = false
            let reason = FileManager.default.fileExists(atPath: ancestor, isDirectory: &isDirectory) && !isDirectory.boolValue
                ? "\(ancestor) is a file, not a folder"
                : access(ancestor, W_OK) != 0 ? "no permission to write in \(ancestor)" : error.localizedDescription
            throw DataError("cannot create the corpus cache folder: \(reason); set HARNESS_CACHE_DIR to a writable folder", file: folder)
        }
    }

    private static func create(_ path: String) throws -> FileDescriptor {
        do {
            return try FileDescriptor.open(path, .readWrite, options: [.create, .truncate], permissions: [.ownerReadWrite, .groupRead, .otherRead])
        } catch {
            throw DataError("cannot create a corpus cache file: \(error)", file: path)
        }
    }

    /// Runs `body`, reporting a failed write (a full disk, say) against the cache folder.
    private static func writing(_ folder: String, _ body: () throws -> Void) throws {
        do { try body() } catch let error as DataError { throw error } catch {
            throw DataError("cannot write the corpus cache: \(error)", file: folder)
        }
    }

    // MARK: Reading

    private static func open(_ folder: String) throws -> Entry {
        let meta = try JSONDecoder().decode(Meta.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/" + metaFile)))
        guard meta.format == format, (0 ... Int.max / 8).contains(meta.tokens), (0 ... Int.max / 8).contains(meta.lines) else {
            throw DataError("another format, or damaged", file: folder)
        }
        let text = try String(contentsOfFile: folder + "/" + vocabularyFile, encoding: .utf8)
        var tokens: [String] = [], counts: [Int] = [], trainingCounts: [Int] = []
        // Split by bytes: a token may begin with a combining mark, which `Character`s would join to the tab.
        for line in text.utf8.split(separator: 0x0A) {
            let fields = line.split(separator: 0x09, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            guard fields.count == 3, let count = Int(fields[1]), let trainingCount = Int(fields[2]) else {
                throw DataError("a malformed vocabulary line", file: folder)
            }
            tokens.append(fields[0]); counts.append(count); trainingCounts.append(trainingCount)
        }
        let ids = try FileDescriptor.open(folder + "/" + idsFile, .readOnly)
        let lineEnds: FileDescriptor
        do { lineEnds = try FileDescriptor.open(folder + "/" + lineEndsFile, .readOnly) } catch { try? ids.close(); throw error }
        // The extents must tile the ids and lines in order (a hand-edited or damaged meta.json is rebuilt).
        var position = 0, line = 0
        for extent in meta.extents {
            guard extent.count == 4, extent[0] == position, extent[1] >= extent[0], extent[2] == line, extent[3] >= extent[2] else {
                try? ids.close(); try? lineEnds.close()
                throw DataError("damaged shard extents", file: folder)
            }
            (position, line) = (extent[1], extent[3])
        }
        let corpus = TokenCorpus(ids: ids, lineEnds: lineEnds, folder: folder,
                                 shards: meta.extents.map { TokenCorpus.Shard(tokens: $0[0] ..< $0[1], lines: $0[2] ..< $0[3]) })
        let sizes = try [idsFile, lineEndsFile].map { try FileManager.default.attributesOfItem(atPath: folder + "/" + $0)[.size] as? Int }
        guard sizes == [meta.tokens * 4, meta.lines * 8], corpus.tokenCount == meta.tokens, corpus.lineCount == meta.lines,
              tokens.count == meta.vocabularySize else {
            throw DataError("an incomplete cache", file: folder)
        }
        return Entry(vocabulary: Vocabulary(tokens: tokens, counts: counts), corpus: corpus, trainingCounts: trainingCounts,
                     checksums: meta.checksums, folder: folder, built: false)
    }
}
