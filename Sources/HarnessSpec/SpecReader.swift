import Yams

/// Shared state of one spec read: its file, its text, and every error found so far.
/// Readers record an error and go on with a placeholder, so that one run of the
/// validator reports every problem of a spec at once.
public final class SpecSource {
    public let file: String
    public let text: String
    public private(set) var errors: [SpecError] = []
    /// Where each key that was read is written, by dotted path ("model.output.samples").
    public private(set) var locations: [String: SourceLocation] = [:]

    public init(file: String, text: String) {
        self.file = file
        self.text = text
    }

    public func error(_ message: String, at location: SourceLocation, suggestion: String? = nil, note: String? = nil,
                      unknownKey: String? = nil) {
        errors.append(SpecError(message, at: location, suggestion: suggestion, note: note, unknownKey: unknownKey))
    }

    func noteLocation(_ path: String, _ location: SourceLocation) { locations[path] = location }

    public func location(of node: Node?, fallback: SourceLocation) -> SourceLocation {
        guard let mark = node?.mark else { return fallback }
        return SourceLocation(file: file, line: mark.line, column: mark.column)
    }
}

/// Reads one YAML mapping of a spec: typed accessors that check types and ranges,
/// remember which keys were read (so `finish()` can reject the rest as unknown), and
/// record the resolved value of each key, defaults included.
public final class MappingReader {
    public let source: SpecSource
    /// Dotted path of this mapping ("model.recurrent"), for messages.
    public let path: String
    /// Where the mapping starts (or its parent key, when absent from the file).
    public let location: SourceLocation
    private let pairs: [(key: String, keyNode: Node, value: Node)]
    /// The node was not a mapping (already reported): its contents are not checked further.
    public let isMisplaced: Bool
    private var read: Set<String> = []
    public private(set) var resolved: [ResolvedValue.Entry] = []

    /// A reader over `node`; a missing node reads as an empty mapping (all defaults).
    public init(_ node: Node?, path: String, source: SpecSource, location: SourceLocation) {
        self.source = source
        self.path = path
        self.location = source.location(of: node, fallback: location)
        switch node {
        case .mapping(let mapping)?:
            pairs = mapping.map { (key: $0.key.string ?? "", keyNode: $0.key, value: $0.value) }
            isMisplaced = false
        case nil:
            pairs = []
            isMisplaced = false
        case let other?:
            isMisplaced = !Self.isNull(other)
            if isMisplaced {
                source.error("expected a mapping for '\(path)', found \(Self.describe(other))", at: self.location)
            }
            pairs = []
        }
    }

    public var resolvedValue: ResolvedValue { .mapping(resolved) }

    /// Where `key` is written (its key), or this mapping's location.
    public func location(of key: String) -> SourceLocation {
        source.location(of: pairs.first { $0.key == key }?.keyNode, fallback: location)
    }

    /// Where the value of `key` is written, or this mapping's location.
    public func valueLocation(of key: String) -> SourceLocation {
        source.location(of: pairs.first { $0.key == key }?.value, fallback: location)
    }

    /// The raw node of `key`, marking it read.
    public func node(_ key: String) -> Node? {
        read.insert(key)
        guard let pair = pairs.first(where: { $0.key == key }) else { return nil }
        source.noteLocation(qualified(key), source.location(of: pair.value, fallback: location))
        return Self.isNull(pair.value) ? nil : pair.value
    }

    /// Records `key`'s resolved value. Every key is first recorded with its default; a
    /// later record is the value read from the file, still "default" if it equals it.
    func record(_ key: String, _ value: ResolvedValue, doc: String, isDefault: Bool? = nil) {
        let previous = resolved.first { $0.key == key }
        resolved.removeAll { $0.key == key }
        let isDefault = isDefault ?? previous.map { $0.isDefault && $0.value == value } ?? true
        resolved.append(.init(key: key, value: value, doc: doc, isDefault: isDefault))
    }

    // MARK: Scalars

    private func scalar(_ key: String, expected: String) -> (text: String, location: SourceLocation, plain: Bool)? {
        guard let node = node(key) else { return nil }
        let location = source.location(of: node, fallback: self.location)
        guard case .scalar(let s) = node else {
            source.error("expected \(expected) for '\(path.isEmpty ? key : path + "." + key)', found \(Self.describe(node))", at: location)
            return nil
        }
        return (s.string, location, s.style == .plain || s.style == .any)
    }

    private func qualified(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// An integer; `nil` default makes the key required (unless `optional`).
    public func int(_ key: String, default value: Int?, range: ClosedRange<Int>? = nil, doc: String) -> Int {
        record(key, .scalar(value.map(String.init) ?? "required"), doc: doc)
        guard let (text, location, plain) = scalar(key, expected: "an integer") else {
            if value == nil && node(key) == nil { missing(key) }
            return value ?? range?.lowerBound ?? 0
        }
        guard plain, let n = Int(text.replacingUnderscores) else {
            source.error("expected an integer for '\(qualified(key))', found '\(text)'", at: location)
            return value ?? range?.lowerBound ?? 0
        }
        if let range, !range.contains(n) {
            source.error("'\(qualified(key))' must be in \(Self.describe(range)), found \(n)", at: location)
            return value ?? range.lowerBound   // a valid stand-in, so that reading can go on
        }
        record(key, .scalar(String(n)), doc: doc)
        return n
    }

    /// An optional integer: absent or null gives nil.
    public func optionalInt(_ key: String, range: ClosedRange<Int>? = nil, doc: String) -> Int? {
        guard node(key) != nil else { record(key, .scalar("null"), doc: doc); return nil }
        return int(key, default: nil, range: range, doc: doc)
    }

    /// A number.
    public func double(_ key: String, default value: Double?, range: ClosedRange<Double>? = nil,
                       exclusiveUpper: Bool = false, positive: Bool = false, doc: String) -> Double {
        record(key, .scalar(value.map(Self.format) ?? "required"), doc: doc)
        guard let (text, location, plain) = scalar(key, expected: "a number") else {
            if value == nil && node(key) == nil { missing(key) }
            return value ?? range?.lowerBound ?? 1
        }
        guard plain, let x = Double(text.replacingUnderscores), x.isFinite else {
            source.error("expected a number for '\(qualified(key))', found '\(text)'", at: location)
            return value ?? range?.lowerBound ?? 1
        }
        if let range, !range.contains(x) || (exclusiveUpper && x == range.upperBound) {
            let shown = exclusiveUpper ? "[\(Self.format(range.lowerBound)), \(Self.format(range.upperBound)))" : Self.describe(range)
            source.error("'\(qualified(key))' must be in \(shown), found \(Self.format(x))", at: location)
            return value ?? range.lowerBound   // a valid stand-in, so that reading can go on
        }
        if positive && x <= 0 {
            source.error("'\(qualified(key))' must be positive, found \(Self.format(x))", at: location)
            return value ?? 1
        }
        record(key, .scalar(Self.format(x)), doc: doc)
        return x
    }

    /// An optional number: absent or null gives nil.
    public func optionalDouble(_ key: String, range: ClosedRange<Double>? = nil, positive: Bool = false, doc: String) -> Double? {
        guard node(key) != nil else { record(key, .scalar("null"), doc: doc); return nil }
        return double(key, default: nil, range: range, positive: positive, doc: doc)
    }

    /// A yes/no key. Unlike other keys, an explicit null is an error: `projection: null`
    /// could mean "none" as well as "the default", and the default is often true.
    public func bool(_ key: String, default value: Bool, doc: String) -> Bool {
        record(key, .scalar(String(value)), doc: doc)
        if let pair = pairs.first(where: { $0.key == key }), Self.isNull(pair.value) {
            read.insert(key)
            source.error("expected true or false for '\(qualified(key))', found null "
                         + "(leave the key out for the default, \(value))", at: source.location(of: pair.value, fallback: location))
            return value
        }
        guard let (text, location, plain) = scalar(key, expected: "true or false") else { return value }
        switch (plain, text) {
        case (true, "true"), (true, "True"): record(key, .scalar("true"), doc: doc); return true
        case (true, "false"), (true, "False"): record(key, .scalar("false"), doc: doc); return false
        default:
            source.error("expected true or false for '\(qualified(key))', found '\(text)'", at: location)
            return value
        }
    }

    /// A string; `nil` default makes it required.
    public func string(_ key: String, default value: String?, doc: String) -> String? {
        record(key, .scalar(value.map(Self.quoted) ?? "required"), doc: doc)
        guard let (text, _, _) = scalar(key, expected: "a string") else {
            if value == nil && node(key) == nil { missing(key) }
            return value
        }
        record(key, .scalar(Self.quoted(text)), doc: doc)
        return text
    }

    /// One of `choices`; an unknown value gets "did you mean" and the list.
    public func choice(_ key: String, of choices: [String], default value: String?, doc: String) -> String? {
        record(key, .scalar(value ?? "required"), doc: "\(doc) (\(choices.joined(separator: " | ")))")
        guard let (text, location, _) = scalar(key, expected: "one of \(choices.joined(separator: ", "))") else {
            if value == nil && node(key) == nil { missing(key) }
            return value
        }
        guard choices.contains(text) else {
            source.error("unknown \(key) '\(text)' for '\(path)'", at: location,
                         suggestion: nearest(text, in: choices), note: "expected one of: \(choices.joined(separator: ", "))")
            return value
        }
        record(key, .scalar(text), doc: "\(doc) (\(choices.joined(separator: " | ")))")
        return text
    }

    /// One of an enum's cases, by raw value, in the order of `allCases` (`choice` above).
    public func choice<E: RawRepresentable & CaseIterable>(_ key: String, default value: E, doc: String) -> E
    where E.RawValue == String {
        choice(key, of: E.allCases.map(\.rawValue), default: value.rawValue, doc: doc).flatMap(E.init(rawValue:)) ?? value
    }

    // MARK: Structure

    /// The nested mapping at `key` (absent: an empty reader, so defaults apply).
    public func mapping(_ key: String) -> MappingReader {
        MappingReader(node(key), path: qualified(key), source: source, location: location(of: key))
    }

    /// The items of the sequence at `key` (absent or null: empty).
    public func list(_ key: String) -> [(node: Node, location: SourceLocation)] {
        guard let node = node(key) else { return [] }
        guard case .sequence(let items) = node else {
            source.error("expected a list for '\(qualified(key))', found \(Self.describe(node))", at: source.location(of: node, fallback: location))
            return []
        }
        return items.map { ($0, source.location(of: $0, fallback: location)) }
    }

    /// Records a nested reader's resolved mapping under `key` (default when all of it is).
    public func record(_ key: String, reader: MappingReader, doc: String) {
        record(key, reader.resolvedValue, doc: doc, isDefault: reader.resolved.allSatisfy(\.isDefault))
    }

    /// Records a value read by other means: first its default, then what the file gave.
    public func record(_ key: String, value: ResolvedValue, doc: String) {
        record(key, value, doc: doc, isDefault: nil)
    }

    /// Every key of the file this reader did not read is an error ("did you mean");
    /// with `only`, just the unread keys that look like a misspelling of it.
    public func finish(allowed extra: [String] = [], only: String? = nil) {
        let known = resolved.map(\.key) + extra
        for pair in pairs where !read.contains(pair.key) && (only.map { nearest(pair.key, in: [$0]) != nil } ?? true) {
            source.error("unknown key '\(pair.key)' in '\(path.isEmpty ? "spec" : path)'",
                         at: source.location(of: pair.keyNode, fallback: location),
                         suggestion: nearest(pair.key, in: known), note: "known keys: \(known.joined(separator: ", "))",
                         unknownKey: qualified(pair.key))
        }
    }

    private func missing(_ key: String) {
        source.error("missing required key '\(key)' in '\(path.isEmpty ? "spec" : path)'", at: location)
    }

    // MARK: Formatting

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain || s.style == .any else { return false }
        return s.string == "null" || s.string == "~" || s.string == "Null" || s.string == "NULL" || s.string.isEmpty
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return "'\(s.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    static func describe<T>(_ range: ClosedRange<T>) -> String {
        if let upper = range.upperBound as? Int, upper == Int.max { return "[\(range.lowerBound), ∞)" }
        if let upper = range.upperBound as? Double, upper == .infinity { return "[\(format(range.lowerBound as! Double)), ∞)" }
        if let l = range.lowerBound as? Double, let u = range.upperBound as? Double { return "[\(format(l)), \(format(u))]" }
        return "[\(range.lowerBound), \(range.upperBound)]"
    }

    /// Shortest text that reads back as the same Double.
    static func format(_ x: Double) -> String {
        if x == x.rounded() && abs(x) < 1e15 { return String(Int(x)) + (x == 0 && x.sign == .minus ? "" : "") }
        return "\(x)"
    }

    static func quoted(_ s: String) -> String {
        let plainSafe = !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || "-_./".contains($0) }
            && Double(s) == nil && !["true", "false", "null", "yes", "no", "on", "off", "~"].contains(s.lowercased())
        return plainSafe ? s : "\"" + s.replacingBackslashesAndQuotes + "\""
    }
}

extension String {
    var replacingUnderscores: String { String(filter { $0 != "_" }) }
    var replacingBackslashesAndQuotes: String {
        var out = ""
        for c in self {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            default: out.append(c)
            }
        }
        return out
    }
}
