import HarnessModel

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

    /// The built-in components of a kind; their names are the harness's own (checked in the tests).
    public init(kind: String, _ components: [Component<Product>]) {
        self.kind = kind
        self.components = []
        do { try add(components, origin: "built-in") } catch { preconditionFailure("\(error)") }
    }

    /// Appends `added`, registered by `origin`. Refused, before anything is appended, when a
    /// name is not a valid `type:` (letters, digits, '-', '_', '.', starting with a letter or
    /// digit, so that it reads back from a resolved spec unquoted) or is already taken.
    mutating func add(_ added: [Component<Product>], origin: String) throws {
        var taken = Dictionary(components.map { ($0.type, $0.summary) }, uniquingKeysWith: { a, _ in a })
        for c in added {
            guard Self.isValidType(c.type) else {
                throw RegistrationError("\(origin) \(kind) component '\(c.type)' (\(c.summary)): a type name is letters, digits, "
                    + "'-', '_' and '.', starting with a letter or digit")
            }
            if let existing = taken[c.type] {
                throw RegistrationError("\(origin) \(kind) component '\(c.type)' (\(c.summary)): the name is taken by '\(existing)'; "
                    + "taken \(kind) names: \(components.map(\.type).joined(separator: ", "))")
            }
            taken[c.type] = c.summary
            // A package's component must report the name it answers to (built with every key at its default).
            if origin != "built-in", let reported = (c.make(Self.defaultsReader(kind)) as? any SpecComponent)?.type, reported != c.type {
                throw RegistrationError("\(origin) \(kind) component '\(c.type)' (\(c.summary)): it reports its type as "
                    + "'\(reported)'; its `type` must be the name it is registered under")
            }
        }
        components += added
    }

    /// Whether `name` can be a `type:`: ASCII letters, digits, '-', '_', '.', starting with a letter or digit.
    static func isValidType(_ name: String) -> Bool {
        func isAlphanumeric(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) }
        guard let first = name.unicodeScalars.first, isAlphanumeric(first) else { return false }
        return name.unicodeScalars.allSatisfy { isAlphanumeric($0) || "-_.".unicodeScalars.contains($0) }
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
        let reader = Self.defaultsReader(kind)
        _ = components.first { $0.type == type }?.make(reader)
        return reader
    }

    /// A reader of an empty mapping: every key at its default.
    private static func defaultsReader(_ kind: String) -> MappingReader {
        MappingReader(nil, path: kind, source: SpecSource(file: "<defaults>", text: ""), location: SourceLocation(file: "<defaults>", line: 1, column: 1))
    }
}

/// A component a package tried to register that the registry refuses (`Registries.register`).
public struct RegistrationError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = "error: cannot register the " + description }
}
