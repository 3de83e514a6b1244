import Foundation
import HarnessTraining

/// Runs the points of a sweep, each in its own `harness run` process (a crash or a NaN
/// in one point cannot take the others down), `jobs` at a time with the cores shared
/// between them.
///
/// Resumable and safe to run twice at once: a point with a `result.json` is skipped; a
/// point is run under an exclusive `flock` on `<run>/lock`, so a second sweep process
/// (or a second shard) skips points that are running; a failed or interrupted point is
/// run again, an interrupted one from its checkpoint. After Ctrl-C (passed on to the
/// running points: they checkpoint and exit) no further point starts. (`flock` is
/// local to a machine; on a cluster, give each job its own `--shard`.)
public final class SweepRunner {
    public enum Outcome: Equatable, Sendable {
        case finished, skippedDone, skippedRunning, failed(String)
        /// Stopped by Ctrl-C or SIGTERM after checkpointing; the next sweep resumes it.
        case interrupted
    }

    public let root: String
    public let executable: String
    public let jobs: Int
    public let threadsPerJob: Int
    public var log: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    /// - Parameters:
    ///   - executable: the `harness` binary that runs each point.
    ///   - jobs: points run at once, at most one per core; each gets cores / jobs BLAS
    ///     threads, so that jobs × threads ≤ cores.
    public init(root: String, executable: String, jobs: Int, cores: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.root = root
        self.executable = executable
        self.jobs = min(max(1, jobs), max(1, cores))
        threadsPerJob = max(1, cores / self.jobs)
    }

    public func run(_ points: [SweepPoint]) -> [String: Outcome] {
        let lock = NSLock()
        var next = 0
        var outcomes: [String: Outcome] = [:]
        let watcher = Thread { self.forwardInterruption() }
        watcher.start()
        defer { watcher.cancel() }
        DispatchQueue.concurrentPerform(iterations: min(jobs, max(points.count, 1))) { _ in
            while true {
                lock.lock()
                guard next < points.count, Interruption.requested == nil else { lock.unlock(); return }
                let index = next
                next += 1
                lock.unlock()
                let point = points[index]
                let started = Date()
                let outcome = run(point)
                lock.lock()
                outcomes[point.id] = outcome
                lock.unlock()
                let what = "[\(index + 1)/\(points.count)] \(point.id) (\(point.group)\(point.seed.map { ", seed \($0)" } ?? ""))"
                switch outcome {
                case .finished: log("\(what): finished in \(TrainingProgress.duration(Date().timeIntervalSince(started)))")
                case .skippedDone: log("\(what): already finished")
                case .skippedRunning: log("\(what): running in another process, skipped")
                case .failed(let error): log("\(what): FAILED: \(error.split(separator: "\n").first ?? "")")
                case .interrupted: log("\(what): interrupted after a checkpoint; rerun the sweep to resume it")
                }
            }
        }
        return outcomes
    }

    /// The running points' processes, by process id.
    private var running: [Int32: Process] = [:]
    private let runningLock = NSLock()

    /// Each point runs in a process group of its own, out of reach of the terminal's
    /// Ctrl-C: passes the sweep's first interruption on to every running point, once.
    private func forwardInterruption() {
        while !Thread.current.isCancelled {
            if let signal = Interruption.requested {
                runningLock.lock()
                for process in running.values { kill(process.processIdentifier, signal) }
                running.removeAll()
                runningLock.unlock()
            }
            usleep(50_000)
        }
    }

    /// Runs one point unless it is done or taken.
    public func run(_ point: SweepPoint) -> Outcome {
        let directory = RunDirectory(existing: "\(root)/\(point.id)")
        if FileManager.default.fileExists(atPath: directory.result) { return .skippedDone }
        do { try directory.create() } catch { return .failed("\(error)") }
        let fd = open(directory.path + "/lock", O_CREAT | O_RDWR, 0o644)
        guard fd >= 0 else { return .failed("cannot open \(directory.path)/lock") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return .skippedRunning }
        // Checked again under the lock: another process may have finished it meanwhile.
        if FileManager.default.fileExists(atPath: directory.result) { return .skippedDone }
        let failure = directory.path + "/failed.json"
        try? FileManager.default.removeItem(atPath: failure)
        let spec = directory.path + "/point.yaml"
        do { try AtomicFile.write(point.specText, to: spec) } catch { return .failed("\(error)") }
        if let invalid = point.invalid {
            record(PointFailure(exitCode: ExitStatus.badSpec, error: invalid), at: failure)
            return .failed(invalid)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["run", spec, "--runs", root, "--threads", String(threadsPerJob), "--quiet"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        runningLock.lock()
        do { try process.run() } catch {
            runningLock.unlock()
            return .failed("cannot start \(executable): \(error)")
        }
        if Interruption.requested == nil { running[process.processIdentifier] = process }
        runningLock.unlock()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        runningLock.lock()
        running[process.processIdentifier] = nil
        runningLock.unlock()
        if process.terminationStatus == 0 && FileManager.default.fileExists(atPath: directory.result) { return .finished }
        if process.terminationReason == .exit && [130, 143].contains(process.terminationStatus) { return .interrupted }
        let reason = process.terminationReason == .uncaughtSignal
            ? "killed by signal \(process.terminationStatus)\n" + message : message
        let text = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        record(PointFailure(exitCode: process.terminationStatus, error: text.isEmpty ? "exited with \(process.terminationStatus)" : text),
               at: failure)
        return .failed(text)
    }

    private func record(_ failure: PointFailure, at path: String) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try? AtomicFile.write(try encoder.encode(failure), to: path)
    }

    /// A Slurm job-array script that runs shard `$SLURM_ARRAY_TASK_ID` of `shards` on
    /// each array task, all writing into the shared `root`.
    public static func slurmScript(sweepFile: String, root: String, shards: Int, executable: String, cpus: Int) -> String {
        """
        #!/bin/bash
        # Generated by `harness sweep --emit slurm`: one array task per shard; each runs its
        # points one after the other into the shared runs folder. Submit with `sbatch`;
        # afterwards `harness report \(root)` merges whatever has finished.
        #SBATCH --job-name=harness-sweep
        #SBATCH --array=0-\(shards - 1)
        #SBATCH --cpus-per-task=\(cpus)
        #SBATCH --output=\(root)/slurm-%A_%a.out
        set -euo pipefail
        \(executable) sweep \(sweepFile) --runs \(root) --shard "${SLURM_ARRAY_TASK_ID}/\(shards)" --jobs 1

        """
    }
}
