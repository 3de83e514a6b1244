import Yams

/// The keys whose values differ between two resolved specs, as `path: old → new` lines:
/// what a user changed since a run started.
public enum SpecDifference {
    public static func between(_ old: String, _ new: String) -> [String] {
        guard let a = try? Yams.compose(yaml: old), let b = try? Yams.compose(yaml: new) else { return [] }
        let before = flatten(a), after = flatten(b)
        return Set(before.keys).union(after.keys).sorted().compactMap { key in
            let x = before[key], y = after[key]
            guard x != y else { return nil }
            return "\(key): \(x ?? "(absent)") → \(y ?? "(absent)")"
        }
    }

    /// Leaf values by dotted path; a list is one value (its flow form).
    static func flatten(_ node: Node, path: String = "") -> [String: String] {
        switch node {
        case .mapping(let mapping):
            var out: [String: String] = [:]
            for (key, value) in mapping {
                let name = key.string ?? "?"
                out.merge(flatten(value, path: path.isEmpty ? name : "\(path).\(name)")) { $1 }
            }
            return out
        case .sequence(let items):
            return [path: "[" + items.map { flow($0) }.joined(separator: ", ") + "]"]
        default:
            return [path: node.string ?? ""]
        }
    }

    private static func flow(_ node: Node) -> String {
        switch node {
        case .mapping(let mapping): return "{" + mapping.map { "\($0.key.string ?? "?"): \(flow($0.value))" }.joined(separator: ", ") + "}"
        case .sequence(let items): return "[" + items.map(flow).joined(separator: ", ") + "]"
        default: return node.string ?? ""
        }
    }
}
