import Foundation
import HarnessKernels
import HarnessModel

/// Model weights on disk.
///
/// Layout (little-endian): magic `LMHCKPT1`; UInt32 header length; the JSON header (spec
/// hash, parameter names and shapes); the Float32 values in the order of the header;
/// UInt64 FNV-1a checksum of everything before it. Loading checks the magic, the
/// checksum and that names and shapes match the model, and says which failed.
public enum Checkpoint {
    static let magic = Array("LMHCKPT1".utf8)

    struct Header: Codable, Equatable {
        var specHash: String
        var epoch: Int
        var parameters: [Entry]
        struct Entry: Codable, Equatable { var name: String; var rows: Int; var columns: Int }
    }

    public static func save(_ store: ParameterStore<Float>, specHash: String, epoch: Int, to path: String) throws {
        let header = Header(specHash: specHash, epoch: epoch,
                            parameters: store.parameters.map { .init(name: $0.name, rows: $0.rows, columns: $0.columns) })
        let json = try JSONEncoder().encode(header)
        var data = Data(magic)
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        data.append(UnsafeBufferPointer(start: store.values.baseAddress, count: store.count))
        let sum = fnv1a(data)
        withUnsafeBytes(of: sum.littleEndian) { data.append(contentsOf: $0) }
        try AtomicFile.write(data, to: path)
    }

    /// Loads weights into `store`; returns the epoch they were saved at.
    @discardableResult
    public static func load(_ path: String, into store: ParameterStore<Float>, expectedSpecHash: String? = nil) throws -> Int {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunError.badCheckpoint(path: path, reason: FileManager.default.fileExists(atPath: path) ? "not readable" : "no such file")
        }
        let bytes = [UInt8](data)
        guard bytes.count >= magic.count + 4 + 8, Array(bytes.prefix(magic.count)) == magic else {
            throw RunError.badCheckpoint(path: path, reason: "not a harness checkpoint (bad magic)")
        }
        let stored = bytes.suffix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard fnv1a(Data(bytes.dropLast(8))) == stored else {
            throw RunError.badCheckpoint(path: path, reason: "checksum mismatch (truncated or corrupted file)")
        }
        let length = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        guard 12 + length <= bytes.count - 8,
              let header = try? JSONDecoder().decode(Header.self, from: Data(bytes[12 ..< 12 + length])) else {
            throw RunError.badCheckpoint(path: path, reason: "unreadable header")
        }
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
        let payload = 12 + length
        guard bytes.count - 8 - payload == store.count * 4 else {
            throw RunError.badCheckpoint(path: path, reason: "payload has \(bytes.count - 8 - payload) bytes, expected \(store.count * 4)")
        }
        bytes.withUnsafeBytes { raw in
            let source = raw.baseAddress! + payload
            UnsafeMutableRawPointer(store.values.baseAddress!).copyMemory(from: source, byteCount: store.count * 4)
        }
        return header.epoch
    }

    static func fnv1a(_ data: Data) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in data { h ^= UInt64(byte); h = h &* 0x100_0000_01B3 }
        return h
    }
}
