import HarnessModel

extension Component where Product == any TokenEncoderComponent {
    /// `word`: one learned vector per vocabulary entry.
    static let word = Component("word", summary: "one learned embedding per vocabulary word") { r in
        WordEncoderComponent(size: r.int("dim", default: nil, range: 1...65_536, doc: "embedding size D"))
    }
}
