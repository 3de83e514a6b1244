import Foundation
import HarnessKernels
import HarnessModel
import SystemPackage

/// Model weights on disk, and optionally everything a run needs to resume exactly.
///
/// Layout (little-endian): magic `LMHCKPT1`; UInt32 header length; the JSON header (spec
/// hash, parameter names and shapes, the further sections, the training state); the
/// Float32 weights in the order of the header; each further section as Float64 (optimizer
/// state, carried LSTM state); UInt64 FNV-1a checksum of everything before it. Reading
/// checks the magic, the checksum, the header and the sizes, and says which failed.
/// Weights-only files (`best.ckpt`) have no sections and no training state.
public enum Checkpoint {
    static let magic = Array("LMHCKPT1".utf8)

    struct Header: Codable, Equatable {
        var specHash: String
        var epoch: Int
        var parameters: [Entry]
        /// Float64 arrays after the weights, in this order.
        var sections: [Section]?
        var training: TrainingState?
        struct Entry: Codable, Equatable { var name: String; var rows: Int; var columns: Int }
        struct Section: Codable, Equatable { var name: String; var count: Int }
    }

    /// A named Float64 array stored after the weights.
    public struct Section {
        public var name: String
        public var values: UnsafeBufferPointer<Double>
        public init(_ name: String, _ values: UnsafeBufferPointer<Double>) {
            self.name = name
            self.values = values
        }
    }

    public static func save(_ store: ParameterStore<Float>, specHash: String, epoch: Int, to path: String,
                            training: TrainingState? = nil, sections: [Section] = []) throws {
        precondition(store.releasedParameters.isEmpty, "saving a store whose values \(store.releasedParameters) were released")
        let header = Header(specHash: specHash, epoch: epoch,
                            parameters: store.parameters.map { .init(name: $0.name, rows: $0.rows, columns: $0.columns) },
                            sections: sections.isEmpty ? nil : sections.map { .init(name: $0.name, count: $0.values.count) },
                            training: training)
        let json = try JSONEncoder().encode(header)
        var data = Data(capacity: 12 + json.count + store.count * 4 + sections.reduce(0) { $0 + $1.values.count * 8 } + 8)
        data.append(contentsOf: magic)
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        data.append(UnsafeBufferPointer(start: store.values.baseAddress, count: store.count))
        for section in sections { data.append(section.values) }
        let sum = fnv1a(data)
        withUnsafeBytes(of: sum.littleEndian) { data.append(contentsOf: $0) }
        try AtomicFile.write(data, to: path)
    }

    /// Loads weights into `store`; returns the epoch they were saved at.
    @discardableResult
    public static func load(_ path: String, into store: ParameterStore<Float>, expectedSpecHash: String? = nil) throws -> Int {
        let contents = try read(path)
        try contents.loadWeights(into: store, expectedSpecHash: expectedSpecHash)
        return contents.header.epoch
    }

    /// Reads and verifies a checkpoint file (magic, checksum, header, sizes).
    public static func read(_ path: String) throws -> Contents {
        // Read through a file descriptor, neither loaded nor mapped: the weights are read
        // once into the parameter store, and mapped pages count as resident memory once
        // the checksum has touched them, so either way a large model's peak held its
        // weights twice (ELMo Original: 374 MB).
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        guard exists, !isDirectory.boolValue, let file = try? CheckpointFile(path) else {
            throw RunError.badCheckpoint(path: path, reason: !exists ? "no such file" : isDirectory.boolValue ? "is a directory" : "not readable")
        }
        let size = file.size
        guard size >= magic.count + 4 + 8, try file.bytes(at: 0, count: magic.count) == magic else {
            throw RunError.badCheckpoint(path: path, reason: "not a harness checkpoint (bad magic)")
        }
        let stored = try file.bytes(at: size - 8, count: 8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard try file.fnv1a(count: size - 8) == stored else {
            throw RunError.badCheckpoint(path: path, reason: "checksum mismatch (truncated or corrupted file)")
        }
        let length = try file.bytes(at: 8, count: 4).reversed().reduce(0) { $0 << 8 | Int($1) }
        guard 12 + length <= size - 8,
              let header = try? JSONDecoder().decode(Header.self, from: Data(file.bytes(at: 12, count: length))) else {
            throw RunError.badCheckpoint(path: path, reason: "unreadable header")
        }
        let payload = size - 8 - (12 + length)
        // Every size in the header is checked before it is used: a crafted header must
        // not overflow the arithmetic below or describe more than the file holds.
        var described = 0
        func add(_ count: Int, _ width: Int, _ what: String) throws {
            let (bytes, overflow) = count.multipliedReportingOverflow(by: width)
            guard count >= 0, !overflow, bytes <= payload - described else {
                throw RunError.badCheckpoint(path: path, reason: "the header describes \(what), more than the file's \(payload) payload bytes")
            }
            described += bytes
        }
        for p in header.parameters {
            let (count, overflow) = p.rows.multipliedReportingOverflow(by: p.columns)
            guard p.rows >= 1, p.columns >= 1, !overflow else {
                throw RunError.badCheckpoint(path: path, reason: "parameter \(p.name) has the impossible shape (\(p.rows), \(p.columns))")
            }
            try add(count, 4, "parameter \(p.name) (\(p.rows)x\(p.columns))")
        }
        for section in header.sections ?? [] { try add(section.count, 8, "section \(section.name) of \(section.count) values") }
        guard payload == described else {
            throw RunError.badCheckpoint(path: path, reason: "payload has \(payload) bytes, the header describes \(described)")
        }
        return Contents(path: path, header: header, file: file, payload: 12 + length)
    }

    /// A verified checkpoint file, kept open: its arrays are read straight into their destinations.
    public struct Contents {
        public let path: String
        let header: Header
        let file: CheckpointFile
        let payload: Int

        public var specHash: String { header.specHash }
        public var epoch: Int { header.epoch }
        public var training: TrainingState? { header.training }

        /// Copies the weights into `store` after checking that names and shapes match.
        public func loadWeights(into store: ParameterStore<Float>, expectedSpecHash: String? = nil) throws {
            if let expectedSpecHash, header.specHash != expectedSpecHash {
                throw RunError.badCheckpoint(path: path, reason: "written for spec \(header.specHash), not \(expectedSpecHash)")
            }
            let expected = store.parameters.map { Header.Entry(name: $0.name, rows: $0.rows, columns: $0.columns) }
            guard header.parameters == expected else {
                let diff = zip(header.parameters, expected).first { $0 != $1 }
                    .map { "\($0.name) (\($0.rows)x\($0.columns)) vs the model's \($1.name) (\($1.rows)x\($1.columns))" }
                    ?? "\(header.parameters.count) parameters vs the model's \(expected.count)"
                throw RunError.badCheckpoint(path: path, reason: "does not fit this model: \(diff)")
            }
            try file.read(at: payload, into: UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(store.values)[..<(store.count * 4)]))
        }

        /// Copies section `name` into `destination`, which must have its size.
        public func loadSection(_ name: String, into destination: UnsafeMutableBufferPointer<Double>) throws {
            var offset = payload + header.parameters.reduce(0) { $0 + $1.rows * $1.columns } * 4
            for section in header.sections ?? [] {
                if section.name == name {
                    guard section.count == destination.count else {
                        throw RunError.badCheckpoint(path: path, reason: "section \(name) has \(section.count) values, expected \(destination.count)")
                    }
                    try file.read(at: offset, into: UnsafeMutableRawBufferPointer(destination))
                    return
                }
                offset += section.count * 8
            }
            throw RunError.badCheckpoint(path: path, reason: "no section \(name)")
        }
    }
}

/// An open checkpoint file, read with `pread` (swift-system's `FileDescriptor`); closed
/// when the last `Checkpoint.Contents` holding it goes.
final class CheckpointFile {
    let path: String
    let size: Int
    private let descriptor: FileDescriptor

    init(_ path: String) throws {
        self.path = path
        descriptor = try FileDescriptor.open(FilePath(path), .readOnly)
        do { size = Int(try descriptor.seek(offset: 0, from: .end)) } catch {
            try? descriptor.close()
            throw error
        }
    }

    deinit { try? descriptor.close() }

    /// Fills `buffer` from byte `offset`; a file that ends first is a `badCheckpoint`.
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        var done = 0
        while done < buffer.count {
            let count = try descriptor.read(fromAbsoluteOffset: Int64(offset + done), into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            guard count > 0 else { throw RunError.badCheckpoint(path: path, reason: "ended at byte \(offset + done) while reading") }
            done += count
        }
    }

    func bytes(at offset: Int, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try read(at: offset, into: $0) }
        return bytes
    }

    /// FNV-1a of the first `count` bytes, read 4 MB at a time.
    func fnv1a(count: Int) throws -> UInt64 {
        let chunk = 1 << 22
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: min(chunk, max(count, 1)), alignment: 64)
        defer { buffer.deallocate() }
        var hash = FNV1a(), offset = 0
        while offset < count {
            let part = UnsafeMutableRawBufferPointer(rebasing: buffer[..<min(chunk, count - offset)])
            try read(at: offset, into: part)
            hash.combine(UnsafeRawBufferPointer(part))
            offset += part.count
        }
        return hash.value
    }
}
