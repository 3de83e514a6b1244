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

    @Option(help: "md, csv, json or html.")
    var format = "md"

    @Option(name: .shortAndLong, help: "Write to this file (atomically) instead of standard output.")
    var output: String?

    func validate() throws {
        if !["md", "csv", "json", "html"].contains(format) { throw ValidationError("--format is md, csv, json or html, not '\(format)'") }
    }

    func run() throws {
        try Exit.run {
            var manifests: [(SweepManifest, String)] = []
            if source.hasSuffix(".yaml") || source.hasSuffix(".yml") {
                let spec = try SweepSpec.load(file: source)
                manifests = [(try SweepManifest(spec, points: spec.expand()), runs)]
            } else {
                let files = (try? FileManager.default.contentsOfDirectory(atPath: source)) ?? []
                var unreadable = 0
                for file in files.sorted() where file.hasSuffix(".sweep.json") {
                    do {
                        manifests.append((try SweepManifest.read("\(source)/\(file)"), source))
                    } catch {
                        FileHandle.standardError.write(Data("\(error); left out of the report\n".utf8))
                        unreadable += 1
                    }
                }
                if manifests.isEmpty && unreadable > 0 {
                    throw RunError.unreadable(path: source, reason: "none of the \(unreadable) sweep manifests here could be read")
                }
                if manifests.isEmpty {
                    throw RunError.cannotWrite(path: source, reason: "no sweep manifests (*.sweep.json) here; run `harness sweep` first")
                }
            }
            let reports = manifests.map { SweepReport(manifest: $0.0, root: $0.1) }
            for problem in reports.flatMap(\.unreadable) {
                FileHandle.standardError.write(Data("\(problem); that point is shown as unreadable\n".utf8))
            }
            let text: String = switch format {
            case "csv": reports.map(\.csv).joined()
            case "json": reports.count == 1 ? reports[0].json : "[\n" + reports.map(\.json).joined(separator: ",\n") + "]\n"
            case "html": HTMLReport.render(reports)
            default: reports.map(\.markdown).joined(separator: "\n")
            }
            if let output { try AtomicFile.write(text, to: output) } else { print(text, terminator: "") }
        }
    }
}
