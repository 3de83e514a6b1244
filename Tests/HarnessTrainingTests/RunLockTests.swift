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

    /// The start-up check against SIGILL: a build tuned on an AVX-512 machine, run on a
    /// Zen 1 (AVX2, no AVX-512), names exactly the missing flags; on the build machine none.
    @Test func aBuildForANewerCPUNamesTheInstructionsThisOneLacks() {
        let required = ["sse4_2", "avx", "fma", "avx2", "avx512f", "avx512bw", "avx512_fp16"]
        let zen1 = "processor\t: 0\nmodel name\t: AMD EPYC 7551P 32-Core Processor\n"
            + "flags\t\t: fpu vme sse sse2 ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand avx2 bmi2 sha_ni\n"
        #expect(MachineInfo.missingFlags(required, cpuinfo: zen1) == ["avx512f", "avx512bw", "avx512_fp16"])
        let builder = "flags\t\t: " + required.joined(separator: " ") + " avx_vnni\n"
        #expect(MachineInfo.missingFlags(required, cpuinfo: builder).isEmpty)
        #expect(MachineInfo.missingFlags(required, cpuinfo: "Processor\t: AArch64\n").isEmpty, "no flags line: nothing to check")
    }
}
