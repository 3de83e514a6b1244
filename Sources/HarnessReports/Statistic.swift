/// Mean and sample standard deviation (n − 1) of replicate values; no deviation for one value.
public struct Statistic: Codable, Equatable, Sendable {
    public var mean: Double
    public var std: Double?
    public var count: Int

    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        count = values.count
        mean = values.reduce(0, +) / Double(values.count)
        if values.count > 1 {
            let m = mean
            std = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
        }
    }

    /// "219.19 ± 1.20" (or "219.19").
    public func formatted(_ digits: Int = 2) -> String {
        let f = "%.\(digits)f"
        return String(format: f, mean) + (std.map { " ± " + String(format: f, $0) } ?? "")
    }
}
