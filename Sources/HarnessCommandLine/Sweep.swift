import ArgumentParser
import Foundation
import HarnessKernels
import HarnessReports
import HarnessSpec
import HarnessTraining

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an ablation sweep: every point of a grid × zip × seeds, resumable, in parallel or sharded.",
        discussion: """
            A point whose spec sets training.threads gets that many BLAS threads; the others share the \
            CPUs this process may use (its affinity: Slurm's allocation, taskset) between the --jobs \
            points that run at once. --emit slurm prints a job-array script instead of running \
            (README: Sweeps on a Slurm cluster).
            """)

    @Argument(help: "The sweep spec (YAML).")
    var sweep: String

    @Option(help: "Folder that holds the run directories.")
    var runs = "runs"

    @Option(help: "Points run at once; the allocated CPUs are divided between them.")
    var jobs = 1

    @Option(help: "Run only shard i of n (i/n, 0-based), e.g. one array task of a cluster job.")
    var shard: String?

    @Option(help: "Instead of running, print a job script: 'slurm' (one array task per shard).")
    var emit: String?

    @Option(help: "Shards of the emitted script (default: one per point).")
    var shards: Int?

    @Option(help: "Emitted script: CPUs per array task (default: the largest training.threads of the points, else 1).")
    var cpusPerTask: Int?

    @Option(help: "Emitted script: Slurm's --time of each array task, e.g. 2:00:00.")
    var time: String?

    @Option(help: "Emitted script: Slurm's --mem of each array task, e.g. 8G.")
    var mem: String?

    @Option(help: "Emitted script: Slurm's --partition.")
    var partition: String?

    @Flag(help: "Emitted script: near the time limit, checkpoint every running point and requeue the task, which resumes them.")
    var requeue = false

    @Option(help: "Emitted script: the harness binary on the compute nodes (default: $HARNESS when the job runs, else harness on PATH).")
    var binary: String?

    @Flag(help: "List the points and exit (writes nothing).")
    var list = false

    func validate() throws {
        if let emit, emit != "slurm" { throw ValidationError("--emit knows 'slurm', not '\(emit)'") }
        if !(1...256).contains(jobs) { throw ValidationError("--jobs must be in [1, 256], found \(jobs)") }
        if let shards, shards < 1 { throw ValidationError("--shards must be at least 1, found \(shards)") }
        if let shard, parseShard(shard) == nil { throw ValidationError("--shard takes i/n with 0 ≤ i < n, not '\(shard)'") }
        if let cpusPerTask, !TrainingSpec.threadRange.contains(cpusPerTask) {
            throw ValidationError("--cpus-per-task must be in [1, \(TrainingSpec.threadRange.upperBound)], found \(cpusPerTask)")
        }
        let slurmOnly = [("--cpus-per-task", cpusPerTask != nil), ("--time", time != nil), ("--mem", mem != nil),
                         ("--partition", partition != nil), ("--requeue", requeue), ("--binary", binary != nil), ("--shards", shards != nil)]
        if emit == nil, let (name, _) = slurmOnly.first(where: { $0.1 }) {
            throw ValidationError("\(name) is an option of the emitted script: add --emit slurm")
        }
        for (name, value) in [("--time", time), ("--mem", mem), ("--partition", partition), ("--binary", binary)] {
            if let value, value.isEmpty || value.contains(where: { $0.isWhitespace || $0 == "'" }) {
                throw ValidationError("\(name) takes one word without spaces or quotes, not '\(value)'")
            }
        }
    }

    private func parseShard(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, parts[0] >= 0, parts[0] < parts[1] else { return nil }
        return (parts[0], parts[1])
    }

    func run() throws {
        try Exit.run {
            Interruption.install()
            let spec = try SweepSpec.load(file: sweep)
            let points = try spec.expand()
            if emit != nil { return try emitSlurm(spec, points: points) }
            var selected = points
            if let (index, count) = shard.flatMap(parseShard) { selected = SweepSpec.shard(points, index: index, count: count) }
            if list {
                for p in selected { print("\(p.id)  \(p.group)\(p.seed.map { "  seed \($0)" } ?? "")\(p.invalid == nil ? "" : "  INVALID")") }
                return
            }
            try SweepManifest(spec, points: points).write(root: runs)
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            let runner = SweepRunner(root: runs, executable: executable, jobs: jobs)
            let cpus = CPUAllocation.available, parallel = runner.parallelism(for: selected.count)
            FileHandle.standardError.write(Data(("sweep \(spec.name): \(selected.count) of \(points.count) points, \(parallel) at a time "
                + "on \(cpus) CPU\(cpus == 1 ? "" : "s"), in \(runs)\n").utf8))
            if let most = selected.compactMap(\.threads).max(), most * parallel > cpus {
                FileHandle.standardError.write(Data(("note: points set training.threads up to \(most); \(parallel) at a time use more "
                    + "threads than the \(cpus) CPUs\n").utf8))
            }
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

    /// Prints the job-array script; creates the runs folder, its `slurm/` log folder and the
    /// sweep's manifest (so that `harness report` lists the points before any task starts).
    private func emitSlurm(_ spec: SweepSpec, points: [SweepPoint]) throws {
        let here = FileManager.default.currentDirectoryPath
        func absolute(_ path: String) -> String {
            URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: here, isDirectory: true)).standardizedFileURL.path
        }
        // The tasks run in this folder (--chdir): a data path that does not resolve here fails every task.
        if let missing = Set(points.flatMap(\.dataFiles)).sorted().first(where: { !FileManager.default.fileExists(atPath: $0) }) {
            throw RunError.unreadable(path: missing, reason: "the sweep's points read this file, which does not exist; relative data "
                + "paths resolve against the working directory (\(here)), which becomes the script's --chdir: emit from the folder they are relative to")
        }
        let threads = points.compactMap(\.threads).max()
        let cpus = cpusPerTask ?? threads ?? 1
        let reason = cpusPerTask != nil ? "from --cpus-per-task"
            : threads.map { "the largest training.threads of the points (\($0))" }
            ?? "no point's spec sets training.threads, so each runs on 1 CPU (set --cpus-per-task to change)"
        var script = SlurmScript(jobName: "harness-\(spec.name)", sweepFile: absolute(sweep), runs: absolute(runs), workingDirectory: here,
                                 shards: min(shards ?? points.count, max(points.count, 1)), cpusPerTask: cpus, cpusReason: reason,
                                 binary: binary.map(absolute), time: time, memory: mem, partition: partition, requeue: requeue)
        script.cpuRequirement = BuildInfo.requiredCPUFlags.isEmpty
            ? "this harness was built for any x86-64 CPU (no HARNESS_TARGET_CPU)"
            : "this harness was built for \(BuildInfo.builtFor) (HARNESS_TARGET_CPU) and needs \(BuildInfo.requiredCPUFlags.joined(separator: " ")) "
                + "on every node; it refuses to start, naming what is missing, on a node without them"
        do {
            try FileManager.default.createDirectory(atPath: script.logFolder, withIntermediateDirectories: true)
        } catch {
            throw RunError.cannotWrite(path: script.logFolder, reason: error.localizedDescription)
        }
        try SweepManifest(spec, points: points).write(root: runs)
        print(script.text, terminator: "")
    }
}
