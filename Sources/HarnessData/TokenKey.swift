/// A token as a dictionary key compared and hashed by its UTF-8 bytes.
///
/// Swift's `String` equality is Unicode canonical equivalence: `café` written with a
/// precomposed é (NFC) and with e + combining acute (NFD) are `==` and hash alike, so a
/// `[String: Int]` would merge them into one vocabulary entry while the char-CNN reads
/// different bytes. bilm-tf, AllenNLP and the PyTorch peer compare tokens as bytes or
/// code points; so does the harness, everywhere a token is looked up.
public struct TokenKey: Hashable, Sendable {
    public let token: String

    @inline(__always)
    public init(_ token: String) { self.token = token }

    public static func == (a: TokenKey, b: TokenKey) -> Bool { a.token.utf8.elementsEqual(b.token.utf8) }

    public func hash(into hasher: inout Hasher) {
        var token = token
        token.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
