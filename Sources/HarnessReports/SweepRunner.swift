import Foundation
import HarnessKernels
import HarnessTraining

/// Runs the points of a sweep, each in its own `harness run` process (a crash or a NaN
/// in one point cannot take the others down), `jobs` at a time with the allocated CPUs
/// shared between them.
///
/// Resumable and safe to run twice at once: a point with a `result.json` is skipped; a
/// point's `harness run` holds `<run>/lock` (`RunLock`), so a second sweep process, a
/// second shard or a sweep restarted while a killed predecessor's points still run skips
/// points that are running; a failed or interrupted point is run again, an interrupted
/// one from its checkpoint. A signal (Ctrl-C, SIGTERM) is passed on to the running
/// points, which checkpoint and exit; no further point starts.
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
    public var display = SweepDisplay()

    /// - Parameters:
    ///   - executable: the `harness` binary that runs each point.
    ///   - jobs: points run at once, at most one per CPU; each gets cpus / jobs BLAS
    ///     threads, so that jobs × threads ≤ cpus, unless its spec sets `training.threads`.
    ///   - cpus: the CPUs this process may use (`CPUAllocation.available`).
    public init(root: String, executable: String, jobs: Int, cpus: Int = CPUAllocation.available) {
        self.root = root
        self.executable = executable
        self.jobs = min(max(1, jobs), max(1, cpus))
        threadsPerJob = max(1, cpus / self.jobs)
    }

    /// Points run at once for `count` points: never more than there are.
    public func parallelism(for count: Int) -> Int { min(jobs, max(count, 1)) }

    public func run(_ points: [SweepPoint]) -> [String: Outcome] {
        let lock = NSLock()
        var next = 0
        var outcomes: [String: Outcome] = [:]
        let watcher = Thread { self.forwardInterruption() }
        watcher.start()
        defer { watcher.cancel() }
        DispatchQueue.concurrentPerform(iterations: parallelism(for: points.count)) { _ in
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
                case .finished: display.message("\(what): finished in \(TrainingProgress.duration(Date().timeIntervalSince(started)))")
                case .skippedDone: display.message("\(what): already finished")
                case .skippedRunning: display.message("\(what): running in another process, skipped")
                case .failed(let error): display.message("\(what): FAILED: \(error.split(separator: "\n").first ?? "")")
                case .interrupted: display.message("\(what): interrupted after a checkpoint; rerun the sweep to resume it")
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
        if RunLock.isHeld(directory) { return .skippedRunning }
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
        process.arguments = ["run", spec, "--runs", root, "--progress-to-stdout"]
            + (point.threads == nil ? ["--threads", String(threadsPerJob)] : [])
        // Progress through a pipe; standard error into the run folder, where it outlives
        // this process (a killed sweep's point runs on) and explains a failure later.
        let progress = Pipe(), log = directory.path + "/stderr.log"
        guard FileManager.default.createFile(atPath: log, contents: nil), let errors = FileHandle(forWritingAtPath: log) else {
            return .failed("\(log): cannot write")
        }
        defer { try? errors.close() }
        process.standardOutput = progress
        process.standardError = errors
        runningLock.lock()
        do { try process.run() } catch {
            runningLock.unlock()
            return .failed("cannot start \(executable): \(error)")
        }
        if Interruption.requested == nil { running[process.processIdentifier] = process }
        runningLock.unlock()
        display.started(point.id)
        forEachLine(of: progress.fileHandleForReading) { display.output(point.id, $0) }
        process.waitUntilExit()
        display.ended(point.id)
        runningLock.lock()
        running[process.processIdentifier] = nil
        runningLock.unlock()
        let status = process.terminationStatus, exited = process.terminationReason == .exit
        if exited && status == 0 && FileManager.default.fileExists(atPath: directory.result) { return .finished }
        if exited && [130, 143].contains(status) { return .interrupted }
        if exited && status == ExitStatus.busy { return .skippedRunning }
        let message = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let reason = exited ? message : "killed by signal \(status)\n" + message
        let text = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        record(PointFailure(exitCode: status, error: text.isEmpty ? "exited with \(status)" : text), at: failure)
        return .failed(text)
    }

    /// Calls `body` with each line read from `handle` until end of file.
    private func forEachLine(of handle: FileHandle, _ body: (String) -> Void) {
        var pending = Data()
        while case let chunk = handle.availableData, !chunk.isEmpty {
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                body(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                pending.removeSubrange(pending.startIndex...newline)
            }
        }
        if !pending.isEmpty { body(String(decoding: pending, as: UTF8.self)) }
    }

    private func record(_ failure: PointFailure, at path: String) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try? AtomicFile.write(try encoder.encode(failure), to: path)
    }
}
