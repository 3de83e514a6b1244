/// One interchangeable component: the `type:` name a spec uses, a one-line summary, and
/// how it reads its own keys into a product.
public struct Component<Product> {
    public let type: String
    public let summary: String
    public let make: (MappingReader) -> Product

    public init(_ type: String, summary: String, make: @escaping (MappingReader) -> Product) {
        self.type = type
        self.summary = summary
        self.make = make
    }
}

/// The components of one kind (token encoders, optimizers, …), listed explicitly: the
/// built-in ones in `Registries.swift`, a researcher's through `Registries.register`.
/// Resolves the `type:` of a mapping, lets the component read its keys, then rejects the
/// keys nobody read.
public struct Registry<Product> {
    public let kind: String
    public private(set) var components: [Component<Product>]

    public init(kind: String, _ components: [Component<Product>]) {
        self.kind = kind
        self.components = []
        add(components)
    }

    /// Appends `components`; a `type:` name already present stops the program, naming it.
    mutating func add(_ added: [Component<Product>]) {
        for c in added {
            if let existing = components.first(where: { $0.type == c.type }) {
                fatalError("two \(kind) components are named '\(c.type)': '\(existing.summary)' and '\(c.summary)'")
            }
            components.append(c)
        }
    }

    public var types: [String] { components.map(\.type) }

    /// Builds the component named by the mapping's `type` (or `defaultType` when absent).
    /// Returns nil after recording an error when the type is unknown or missing.
    public func make(_ reader: MappingReader, defaultType: String? = nil) -> Product? {
        if reader.isMisplaced { return nil }
        // An unknown or missing type is reported once; its other keys are not checked,
        // except one that looks like a misspelt `type`.
        guard let type = reader.choice("type", of: types, default: defaultType, doc: "\(kind) type") else {
            reader.finish(only: "type")
            return nil
        }
        guard let component = components.first(where: { $0.type == type }) else { return nil }
        let product = component.make(reader)
        reader.finish()
        return product
    }

    /// Resolves `type` with every key at its default: the documentation of a component.
    public func defaults(of type: String) -> MappingReader {
        let source = SpecSource(file: "<defaults>", text: "")
        let reader = MappingReader(nil, path: kind, source: source, location: SourceLocation(file: "<defaults>", line: 1, column: 1))
        _ = components.first { $0.type == type }?.make(reader)
        return reader
    }
}
