import Foundation
import HarnessSpec
@testable import HarnessTraining
import Testing

/// One writer per run folder, and threads that follow the CPU allocation, through the
/// `harness` binary.
@Suite(.serialized)
struct RunLockTests {
    @Test func aSecondRunOfARunningSpecExitsNamingTheHolder() throws {
        let folder = temporaryFolder(), spec = folder + "/spec.yaml", runs = folder + "/runs"
        ResumeTests.write(ResumeTests.spec("sentences"), to: spec)
        let first = Process()
        first.executableURL = URL(fileURLWithPath: CommandLineTests.harness)
        first.arguments = ["run", spec, "--runs", runs, "--quiet"]
        first.standardOutput = FileHandle.nullDevice
        first.standardError = FileHandle.nullDevice
        try first.run()
        while first.isRunning && (ResumeTests.trainingCheckpoint(in: runs).map { !FileManager.default.fileExists(atPath: $0) } ?? true) {
            usleep(2_000)
        }
        let second = try runHarness(["run", spec, "--runs", runs])
        first.waitUntilExit()
        let directory = try #require(ResumeTests.trainingCheckpoint(in: runs)).replacingOccurrences(of: "/train.ckpt", with: "")
        #expect(second.status == 75)
        #expect(second.error == "\(directory): error: another process is running this experiment (pid \(first.processIdentifier) on host "
            + "\(ProcessInfo.processInfo.hostName)); one writer per run folder: wait for it, or stop it (Ctrl-C or kill; it checkpoints) "
            + "and run again to resume\n", "\(second.error)")
        #expect(first.terminationStatus == 0)
        // The first run's records are whole: one per epoch, none from the refused run.
        let metrics = try String(contentsOfFile: directory + "/metrics.jsonl", encoding: .utf8)
        #expect(metrics.split(separator: "\n").filter { $0.contains("\"kind\":\"epoch\"") }.count == 30)
        let third = try runHarness(["run", spec, "--runs", runs])
        #expect(third.status == 0 && third.output.contains("is finished"), "\(third.error)")
    }

    @Test func threadsFollowTheAffinityMaskNotTheNodesCores() throws {
        let folder = temporaryFolder(), spec = folder + "/spec.yaml"
        // The smoke spec without its `threads: 1`: the run takes every CPU it may use.
        let text = try String(contentsOf: packageRoot.appendingPathComponent("experiments/smoke.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "  threads: 1 ", with: "  # threads: 1 ")
            .replacingOccurrences(of: "corpus: Tests/", with: "corpus: \(packageRoot.path)/Tests/")
        ResumeTests.write(text, to: spec)
        let r = try runHarness(["-c", "0", CommandLineTests.harness, "run", spec, "--runs", folder + "/runs", "--quiet"],
                               executable: "/usr/bin/taskset")
        #expect(r.status == 0, "\(r.error)")
        #expect(try ResumeTests.result(in: folder + "/runs").threads == 1)
    }
}
