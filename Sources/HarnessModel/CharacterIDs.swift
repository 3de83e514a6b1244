/// Character ids for the char-CNN, as in bilm-tf's `UnicodeCharsVocabulary`: the UTF-8
/// bytes of the token (ids 0–255) between begin-of-word and end-of-word markers, cut to
/// `maxCharacters` and padded. Sentence boundaries are one marker character of their own.
public enum CharacterIDs {
    public static let beginOfSentence: Int32 = 256
    public static let endOfSentence: Int32 = 257
    public static let beginOfWord: Int32 = 258
    public static let endOfWord: Int32 = 259
    public static let padding: Int32 = 260
    /// Size of the character embedding table.
    public static let count = 261

    /// What a token stands for, as far as its characters go.
    public enum Token: Equatable {
        case word(String)
        case sentenceStart
        case sentenceEnd
    }

    /// `maxCharacters` ids: [bow, bytes…, eow, pad…]; a word longer than
    /// `maxCharacters − 2` bytes keeps its first bytes (bilm-tf does the same).
    public static func ids(for token: Token, maxCharacters: Int) -> [Int32] {
        precondition(maxCharacters >= 3, "max_characters must leave room for the markers")
        var ids = [Int32](repeating: padding, count: maxCharacters)
        ids[0] = beginOfWord
        var n = 1
        switch token {
        case .sentenceStart: ids[1] = beginOfSentence; n = 2
        case .sentenceEnd: ids[1] = endOfSentence; n = 2
        case .word(let text):
            for byte in text.utf8.prefix(maxCharacters - 2) { ids[n] = Int32(byte); n += 1 }
        }
        ids[n] = endOfWord
        return ids
    }
}

/// The character ids of every vocabulary entry: (V, K), row v for token id v.
public struct CharacterTable: Sendable {
    public let maxCharacters: Int
    public let ids: [Int32]

    public init(tokens: [CharacterIDs.Token], maxCharacters: Int) {
        self.maxCharacters = maxCharacters
        ids = tokens.flatMap { CharacterIDs.ids(for: $0, maxCharacters: maxCharacters) }
    }

    public var vocabularySize: Int { ids.count / maxCharacters }
}
