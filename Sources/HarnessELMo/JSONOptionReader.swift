import Foundation
import HarnessData

/// A decoded JSON value: booleans kept apart from numbers, which `JSONSerialization`'s
/// `NSNumber`s do not do the same way on every platform.
enum JSONValue: Decodable, Equatable {
    case null, bool(Bool), number(Double), string(String), list([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let l = try? c.decode([JSONValue].self) { self = .list(l) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(n)
        case .string(let s): "'\(s)'"
        case .list: "a list"
        case .object: "an object"
        }
    }
}

/// Typed access to decoded JSON, every error a `DataError` naming the option.
struct JSONReader {
    let file: String

    func mapping(_ value: JSONValue, at key: String) throws -> [String: JSONValue] {
        guard case .object(let m) = value else {
            throw DataError(key.isEmpty ? "expected a JSON object of options" : "option '\(key)' is not an object", file: file)
        }
        return m
    }

    func required(_ m: [String: JSONValue], _ key: String, at section: String) throws -> JSONValue {
        guard let value = m[key], value != .null else {
            throw DataError("option '\(section).\(key)' is missing; bilm-tf requires it", file: file)
        }
        return value
    }

    func onlyKeys(_ m: [String: JSONValue], _ known: [String], at section: String) throws {
        if let unknown = m.keys.sorted().first(where: { !known.contains($0) }) {
            throw DataError("unknown option '\(section).\(unknown)': the harness cannot tell what it changes "
                            + "(bilm-tf's '\(section)' has \(known.joined(separator: ", ")))", file: file)
        }
    }

    func int(_ value: JSONValue, at key: String, range: ClosedRange<Int>) throws -> Int {
        guard case .number(let x) = value, let n = Int(exactly: x), range.contains(n) else {
            throw DataError("option '\(key)' is \(value.description); expected an integer in \(range.lowerBound)...\(range.upperBound)", file: file)
        }
        return n
    }

    func bool(_ value: JSONValue, at key: String) throws -> Bool {
        guard case .bool(let b) = value else {
            throw DataError("option '\(key)' is \(value.description); expected true or false", file: file)
        }
        return b
    }

    func string(_ value: JSONValue, at key: String) throws -> String {
        guard case .string(let s) = value else { throw DataError("option '\(key)' is \(value.description); expected a string", file: file) }
        return s
    }

    /// A clip value: absent or null means no clipping (TensorFlow's `LSTMCell` default).
    func optionalPositive(_ value: JSONValue?, at key: String) throws -> Double? {
        guard let value, value != .null else { return nil }
        guard case .number(let x) = value, x > 0, x.isFinite else {
            throw DataError("option '\(key)' is \(value.description); expected a positive number or null", file: file)
        }
        return x
    }
}
