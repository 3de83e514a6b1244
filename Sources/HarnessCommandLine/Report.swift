import ArgumentParser
import Foundation
import HarnessReports
import HarnessSpec
import HarnessTraining

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tables of every sweep in a runs folder (or of one sweep spec): perplexities ± std over seeds, speed, cost, Δ to the baseline.")

    @Argument(help: "A runs folder, or a sweep spec (YAML) whose runs are in --runs.")
    var source: String

    @Option(help: "Runs folder of a sweep spec.")
    var runs = "runs"

    @Option(help: "md (for people), csv (one row per point and seed), json (docs/report.schema.json) or html.")
    var format = "md"

    @Flag(help: "With --format csv: one row per point group, with mean, std and n of each measurement over seeds.")
    var aggregate = false

    @Option(name: .shortAndLong, help: "Write to this file (atomically) instead of standard output.")
    var output: String?

    func validate() throws {
        if !["md", "csv", "json", "html"].contains(format) { throw ValidationError("--format is md, csv, json or html, not '\(format)'") }
        if aggregate && format != "csv" { throw ValidationError("--aggregate goes with --format csv (the json holds both tables; md and html are aggregated)") }
    }

    func run() throws {
        try Exit.run {
            var manifests: [(SweepManifest, String)] = [], unreadableManifests: [String] = []
            if source.hasSuffix(".yaml") || source.hasSuffix(".yml") {
                let spec = try SweepSpec.load(file: source)
                manifests = [(try SweepManifest(spec, points: spec.expand()), runs)]
            } else {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
                    throw RunError.unreadable(path: source, reason: "no such folder (give a runs folder, or a sweep spec .yaml)")
                }
                guard isDirectory.boolValue else {
                    throw RunError.unreadable(path: source, reason: "not a folder or a sweep spec (.yaml): give a runs folder, or a sweep spec")
                }
                let files = (try? FileManager.default.contentsOfDirectory(atPath: source)) ?? []
                for file in files.sorted() where file.hasSuffix(".sweep.json") {
                    do {
                        manifests.append((try SweepManifest.read("\(source)/\(file)"), source))
                    } catch {
                        FileHandle.standardError.write(Data("\(error); left out of the report\n".utf8))
                        unreadableManifests.append("\(error)")
                    }
                }
                if manifests.isEmpty && !unreadableManifests.isEmpty {
                    throw RunError.unreadable(path: source, reason: "none of the \(unreadableManifests.count) sweep manifests here could be read")
                }
                if manifests.isEmpty {
                    throw RunError.unreadable(path: source, reason: "no sweep manifests (*.sweep.json) here; run `harness sweep` first")
                }
            }
            let reports = manifests.map { SweepReport(manifest: $0.0, root: $0.1) }
            for problem in reports.flatMap(\.unreadable) {
                FileHandle.standardError.write(Data("\(problem); that point is shown as unreadable\n".utf8))
            }
            let provenance = ReportProvenance(harnessVersion: Version.number, harnessCommit: BuildInfo.commit,
                                              runsFolder: manifests.first?.1 ?? source, unreadableManifests: unreadableManifests)
            let text: String = switch format {
            case "csv": aggregate ? TidyReport.aggregateCSV(reports) : TidyReport.csv(reports)
            case "json": TidyReport.json(reports, provenance: provenance)
            case "html": HTMLReport.render(reports, provenance: provenance)
            default: reports.map(\.markdown).joined(separator: "\n")
            }
            if let output { try AtomicFile.write(text, to: output) } else { print(text, terminator: "") }
        }
    }
}
