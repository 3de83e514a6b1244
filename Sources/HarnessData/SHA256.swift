import COpenSSL
import Foundation

/// SHA-256 (FIPS 180-4), for the data checksums that reference perplexities carry, so
/// that they match `sha256sum` and the corpora's published SHA256SUMS.
///
/// OpenSSL's libcrypto (its EVP digest interface), which uses the CPU's SHA extensions
/// where it has them: `harness-microbench --sha256 data/wikitext-2/train.txt` (10.8 MB,
/// from the page cache) gives 1,047 MB/s on an Intel Xeon with SHA-NI; the Swift
/// implementation it replaced ran at 175–185 MB/s on the same file and machine (a
/// standalone -O build of it, timed the same way). swift-crypto was not used: its
/// BoringSSL build would add about a minute and a half to every clean build.
public struct SHA256 {
    private let context: DigestContext

    public init() { context = DigestContext() }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        precondition(EVP_DigestUpdate(context.pointer, base, bytes.count) == 1, "EVP_DigestUpdate failed")
    }

    public mutating func update(_ data: Data) { data.withUnsafeBytes { update($0) } }

    /// The digest as 64 lowercase hex digits. The hash cannot be updated afterwards, and
    /// copies of a `SHA256` share one digest in progress.
    public mutating func finalize() -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var count: UInt32 = 0
        precondition(EVP_DigestFinal_ex(context.pointer, &digest, &count) == 1 && count == 32, "EVP_DigestFinal_ex failed")
        return digest.prefix(32).map { String(format: "%02x", $0) }.joined()
    }

    /// The digest of a whole file, read in 1 MiB pieces.
    public static func file(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw DataError("cannot read the file to checksum it", file: path) }
        defer { try? handle.close() }
        var hash = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hash.update(chunk) }
        return hash.finalize()
    }
}

/// An EVP digest context initialised for SHA-256, freed with its last reference.
private final class DigestContext {
    let pointer: OpaquePointer

    init() {
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            fatalError("OpenSSL could not start a SHA-256 digest")
        }
        pointer = context
    }

    deinit { EVP_MD_CTX_free(pointer) }
}
