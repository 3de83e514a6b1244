/// The spec as the harness resolved it: every key it read, defaults filled in, in
/// reading order. Written to each run directory and printed by `harness validate`;
/// reading it back gives the same spec.
public indirect enum ResolvedValue: Equatable, Sendable {
    case scalar(String)
    case list([ResolvedValue])
    case mapping([Entry])

    public struct Entry: Equatable, Sendable {
        public var key: String
        public var value: ResolvedValue
        /// What the key means (from the component that read it); emitted as a comment.
        public var doc: String
        /// The value is the key's default (given or not).
        public var isDefault: Bool = false
    }

    /// The resolved spec without the entries at their defaults: what identifies a run.
    /// Adding a key with a default to the harness leaves every existing id unchanged.
    public var canonical: ResolvedValue {
        switch self {
        case .mapping(let entries):
            return .mapping(entries.filter { !$0.isDefault }.map { .init(key: $0.key, value: $0.value.canonical, doc: "") })
        case .list(let items):
            return .list(items.map(\.canonical))
        case .scalar:
            return self
        }
    }

    /// This value without the entry at `path` (a list of mapping keys).
    public func removing(_ path: [String]) -> ResolvedValue {
        guard let key = path.first, case .mapping(let entries) = self else { return self }
        if path.count == 1 { return .mapping(entries.filter { $0.key != key }) }
        return .mapping(entries.map { $0.key == key ? Entry(key: $0.key, value: $0.value.removing(Array(path.dropFirst())),
                                                              doc: $0.doc, isDefault: $0.isDefault) : $0 })
    }

    /// Block-style YAML with the docs as end-of-line comments.
    public func yaml(comments: Bool = true) -> String {
        var out = ""
        emit(into: &out, indent: 0, comments: comments)
        return out
    }

    private func emit(into out: inout String, indent: Int, comments: Bool) {
        guard case .mapping(let entries) = self else {
            out += String(repeating: " ", count: indent) + flow + "\n"
            return
        }
        let pad = String(repeating: " ", count: indent)
        for entry in entries {
            switch entry.value {
            case .mapping(let inner) where !inner.isEmpty:
                out += "\(pad)\(entry.key):" + (comments && !entry.doc.isEmpty ? "  # \(entry.doc)" : "") + "\n"
                entry.value.emit(into: &out, indent: indent + 2, comments: comments)
            case .list(let items) where items.contains(where: { if case .mapping = $0 { return true } else { return false } }):
                out += "\(pad)\(entry.key):" + (comments && !entry.doc.isEmpty ? "  # \(entry.doc)" : "") + "\n"
                for item in items { out += "\(pad)  - \(item.flow)\n" }
            default:
                let line = "\(pad)\(entry.key): \(entry.value.flow)"
                out += line + (comments && !entry.doc.isEmpty ? "  # \(entry.doc)" : "") + "\n"
            }
        }
    }

    /// One-line (flow) YAML.
    public var flow: String {
        switch self {
        case .scalar(let s): return s
        case .list(let items): return "[" + items.map(\.flow).joined(separator: ", ") + "]"
        case .mapping(let entries): return "{" + entries.map { "\($0.key): \($0.value.flow)" }.joined(separator: ", ") + "}"
        }
    }

    /// The value at a dotted path ("model.recurrent.hidden"), if any.
    public func value(at path: String) -> ResolvedValue? {
        var current: ResolvedValue? = self
        for part in path.split(separator: ".") {
            guard case .mapping(let entries)? = current else { return nil }
            current = entries.first { $0.key == part }?.value
        }
        return current
    }
}
