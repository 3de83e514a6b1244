import Foundation
import HarnessTraining

/// `harness --version`, and the provenance that `result.json` records: the release, the
/// commit the binary was built from and the CPU its build was tuned for (`BuildInfo`,
/// written by the BuildInfo plugin at build time).
enum Version {
    static let number = "0.6.0"

    static var description: String {
        "harness \(number)\ncommit \(BuildInfo.commit ?? "unknown (not built from a git checkout)")\n"
            + "built for \(BuildInfo.builtFor.isEmpty ? "an unknown CPU" : BuildInfo.builtFor)"
            + (BuildInfo.requiredCPUFlags.isEmpty ? "" : " (needs \(BuildInfo.requiredCPUFlags.joined(separator: " ")))")
            + "\n" + Launch.dataParallelism
    }

    /// Hands the build's provenance to the run records.
    static func record() {
        MachineInfo.buildCommit = BuildInfo.commit
        MachineInfo.builtFor = BuildInfo.builtFor.isEmpty ? nil : BuildInfo.builtFor
    }

    /// Instruction-set flags of the build's target CPU (`HARNESS_TARGET_CPU`, Package.swift)
    /// that this CPU lacks: the code may use any of them and would die of SIGILL somewhere
    /// inside a run, so `harness` refuses to start instead.
    static var missingCPUFlags: [String] {
        guard !BuildInfo.requiredCPUFlags.isEmpty, let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
        return MachineInfo.missingFlags(BuildInfo.requiredCPUFlags, cpuinfo: info)
    }
}
