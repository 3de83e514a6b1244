import Foundation

/// Where a report came from, printed on the HTML page and stored in the JSON: when it was
/// made, by which harness build, from which runs folder, how many run records it read and
/// which files it could not read.
public struct ReportProvenance: Sendable {
    /// UTC, ISO 8601 (`2026-12-01T14:03:07Z`).
    public var generatedAt: String
    /// `harness` release, e.g. "0.5.0".
    public var harnessVersion: String
    /// The commit the binary was built from; nil when not built from a git checkout.
    public var harnessCommit: String?
    /// The runs folder (or sweep spec's runs folder) the report read.
    public var runsFolder: String
    /// Sweep manifests that could not be read (each "path: error: reason"); the points'
    /// unreadable run files are added per report (`SweepReport.unreadable`).
    public var unreadableManifests: [String]

    public init(generatedAt: Date = Date(), harnessVersion: String, harnessCommit: String?, runsFolder: String,
                unreadableManifests: [String] = []) {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        self.generatedAt = formatter.string(from: generatedAt)
        self.harnessVersion = harnessVersion
        self.harnessCommit = harnessCommit
        self.runsFolder = runsFolder
        self.unreadableManifests = unreadableManifests
    }

    /// Run records read (`result.json` and `failed.json`) over `reports`.
    public static func runsRead(_ reports: [SweepReport]) -> Int {
        reports.reduce(0) { $0 + $1.points.filter { $0.run != nil }.count }
    }

    /// Every file that could not be read: the manifests, then each report's run files.
    public func unreadable(_ reports: [SweepReport]) -> [String] {
        unreadableManifests + reports.flatMap(\.unreadable)
    }
}
