import HarnessModel
import Yams

extension Component where Product == any TokenEncoderComponent {
    /// `char-cnn`: Kim et al. 2016 / ELMo character CNN with highway layers and projection.
    static let charCNN = Component("char-cnn", summary: "character CNN + highway + projection (Kim et al. 2016, ELMo)") { r in
        var c = CharCNNConfiguration()
        c.characterEmbeddingSize = r.int("char_embedding_dim", default: 16, range: 1...1024, doc: "character embedding size C")
        c.filters = readFilters(r, default: c.filters)
        c.activation = r.choice("activation", default: CharCNNConfiguration.Activation.tanh, doc: "after max-pooling")
        c.highwayLayers = r.int("highway_layers", default: 2, range: 0...16, doc: "highway layers")
        c.projects = r.bool("projection", default: true,
                            doc: "a linear map to output_dim after the highways (bilm-tf); false: the highway output of F = Σ filters columns is the token representation (Kim et al. 2016)")
        if c.projects {
            c.outputSize = r.int("output_dim", default: 256, range: 1...65_536, doc: "token representation size D")
        } else {
            if r.node("output_dim") != nil {
                r.source.error("'output_dim' needs a projection: without one (projection: false) the token representation has the filters' \(c.filterTotal) columns",
                               at: r.valueLocation(of: "output_dim"))
            }
            c.outputSize = c.filterTotal
        }
        c.maxCharacterCount = r.int("max_characters", default: 50, range: 3...1000, doc: "characters per token, markers included")
        c.paddingEmbedding = r.choice("padding_embedding", default: CharCNNConfiguration.PaddingEmbedding.trained,
                                      doc: "the padding character's embedding: trained (bilm-tf) or held at zero (Kim et al. 2016)")
        if let widest = c.filters.map(\.width).max(), widest > c.maxCharacterCount {
            r.source.error("filter width \(widest) exceeds max_characters \(c.maxCharacterCount)", at: r.valueLocation(of: "filters"))
        }
        return c
    }

    /// `filters: [[width, count], …]`.
    private static func readFilters(_ r: MappingReader, default value: [CharCNNConfiguration.Filter]) -> [CharCNNConfiguration.Filter] {
        let shown: (([CharCNNConfiguration.Filter]) -> ResolvedValue) = { filters in
            .list(filters.map { .list([.scalar(String($0.width)), .scalar(String($0.count))]) })
        }
        let doc = "[[width, number of filters], ...]"
        r.record("filters", value: shown(value), doc: doc)
        let items = r.list("filters")
        guard r.node("filters") != nil else { return value }
        var filters: [CharCNNConfiguration.Filter] = []
        for (node, location) in items {
            guard case .sequence(let pair) = node, pair.count == 2,
                  let width = pair[0].int, let count = pair[1].int, width >= 1, count >= 1 else {
                r.source.error("expected a filter [width, count] of positive integers in 'filters', found \(MappingReader.describe(node))",
                               at: location)
                continue
            }
            filters.append(.init(width, count))
        }
        if filters.isEmpty && items.isEmpty {
            r.source.error("'filters' needs at least one [width, count]", at: r.valueLocation(of: "filters"))
            return value
        }
        r.record("filters", value: shown(filters), doc: doc)
        return filters
    }
}
