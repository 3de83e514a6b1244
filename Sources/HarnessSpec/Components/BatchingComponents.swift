import HarnessData

extension Component where Product == any BatchingComponent {
    static let stream = Component("stream", summary: "one token stream, truncated-BPTT windows, state carried (PTB/WikiText protocol)") { r in
        StreamBatching(batchSize: r.int("batch_size", default: 20, range: 1...100_000, doc: "parallel streams B"),
                       bptt: r.int("bptt", default: 35, range: 1...100_000, doc: "timesteps per window T"))
    }

    static let sentences = Component("sentences", summary: "shuffled, padded and masked sentence batches; state reset per batch") { r in
        SentenceBatching(batchSize: r.int("batch_size", default: 32, range: 1...100_000, doc: "sentences per batch B"),
                         maxLength: r.int("max_length", default: 40, range: 1...100_000, doc: "longest piece, in targets"),
                         bucket: r.bool("bucket", default: false,
                                        doc: "batch pieces of similar length in training: less padding, slower learning per token"))
    }
}
