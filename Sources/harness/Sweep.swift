import ArgumentParser
import Foundation
import HarnessReports
import HarnessSpec
import HarnessTraining

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an ablation sweep: every point of a grid × zip × seeds, resumable, in parallel or sharded.")

    @Argument(help: "The sweep spec (YAML).")
    var sweep: String

    @Option(help: "Folder that holds the run directories.")
    var runs = "runs"

    @Option(help: "Points run at once; the cores are divided between them.")
    var jobs = 1

    @Option(help: "Run only shard i of n (i/n, 0-based), e.g. one array task of a cluster job.")
    var shard: String?

    @Option(help: "Instead of running, print a job script: 'slurm' (one array task per shard).")
    var emit: String?

    @Option(help: "Shards of the emitted script (default: one per point).")
    var shards: Int?

    @Flag(help: "List the points and exit.")
    var list = false

    func validate() throws {
        if let emit, emit != "slurm" { throw ValidationError("--emit knows 'slurm', not '\(emit)'") }
        if !(1...256).contains(jobs) { throw ValidationError("--jobs must be in [1, 256], found \(jobs)") }
        if let shards, shards < 1 { throw ValidationError("--shards must be at least 1, found \(shards)") }
        if let shard, parseShard(shard) == nil { throw ValidationError("--shard takes i/n with 0 ≤ i < n, not '\(shard)'") }
    }

    private func parseShard(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, parts[0] >= 0, parts[0] < parts[1] else { return nil }
        return (parts[0], parts[1])
    }

    func run() throws {
        try Exit.run {
            let spec = try SweepSpec.load(file: sweep)
            let points = try spec.expand()
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            if emit != nil {
                print(SweepRunner.slurmScript(sweepFile: sweep, root: runs, shards: shards ?? points.count, executable: executable,
                                              cpus: ProcessInfo.processInfo.activeProcessorCount), terminator: "")
                return
            }
            try SweepManifest(spec, points: points).write(root: runs)
            var selected = points
            if let (index, count) = shard.flatMap(parseShard) { selected = SweepSpec.shard(points, index: index, count: count) }
            if list {
                for p in selected { print("\(p.id)  \(p.group)\(p.seed.map { "  seed \($0)" } ?? "")\(p.invalid == nil ? "" : "  INVALID")") }
                return
            }
            FileHandle.standardError.write(Data("sweep \(spec.name): \(selected.count) of \(points.count) points, \(jobs) at a time, in \(runs)\n".utf8))
            let runner = SweepRunner(root: runs, executable: executable, jobs: jobs)
            Interruption.install()
            let outcomes = runner.run(selected)
            if let signal = Interruption.requested {
                FileHandle.standardError.write(Data("sweep interrupted; the running points wrote checkpoints. Rerun the same command to resume.\n".utf8))
                throw ExitCode(128 + signal)
            }
            let failed = outcomes.values.filter { if case .failed = $0 { true } else { false } }.count
            let manifest = try SweepManifest.read(SweepManifest.path(root: runs, name: spec.name))
            print(SweepReport(manifest: manifest, root: runs).markdown, terminator: "")
            if failed > 0 {
                FileHandle.standardError.write(Data("\(failed) point(s) failed; their errors are in <run>/failed.json. Rerun to retry them.\n".utf8))
                throw ExitCode(ExitStatus.failedRun)
            }
        }
    }
}
