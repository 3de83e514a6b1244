/// The rule for experiment and sweep names, which become folder names
/// (`runs/<name>-<hash8>`) and Slurm job names: one plain path component of letters,
/// digits, `-`, `_`, `.` and `+`, starting with a letter or digit, at most 100 bytes.
/// `../../x` would write outside the runs folder; `.x` would hide the run.
public enum RunName {
    public static let maximumBytes = 100

    /// Why `name` breaks the rule, or nil.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.utf8.count > maximumBytes { return "is longer than \(maximumBytes) bytes" }
        if name.contains("/") { return "contains '/': a name is one folder name, not a path" }
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic || ("0"..."9").contains(first) else {
            return "must start with a letter or a digit"
        }
        if let bad = name.unicodeScalars.first(where: { !($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.+".unicodeScalars.contains($0)) }) {
            return "contains \(bad.properties.isWhitespace ? "a space" : "'\(bad.escaped(asASCII: true))'"); use letters, digits, '-', '_', '.' and '+'"
        }
        return nil
    }
}

extension MappingReader {
    /// `name` (default: the file's name), checked against `RunName`'s rule.
    public func runName(default value: String, doc: String) -> String {
        let name = string("name", default: value, doc: doc) ?? value
        if let problem = RunName.problem(name) {
            source.error("name '\(name)' \(problem)" + (node("name") == nil ? " (it is the file's name; give 'name:')" : ""),
                         at: location(of: "name"))
        }
        return name
    }
}
