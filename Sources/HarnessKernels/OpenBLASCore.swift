import CBLAS
import Foundation

/// Which of its kernel families ("cores") OpenBLAS runs, and the one to ask for when it
/// chose badly.
///
/// Debian's OpenBLAS is built with DYNAMIC_ARCH: when the library loads it reads `cpuid`
/// and picks kernels for the CPU — unless `OPENBLAS_CORETYPE` names a core. A CPU newer
/// than the library is not recognised and gets a generic SSE3 core: OpenBLAS 0.3.21
/// (Debian 12) runs "Prescott" kernels on an Intel Xeon of family 6 model 207 (Emerald
/// Rapids, AVX-512), where sgemm then reaches 25–32 GFLOPS on one core against ~100 with
/// its AVX-512 "SkylakeX" kernels. Because the choice is made at load time, before `main`,
/// the `harness` command restarts itself once with `OPENBLAS_CORETYPE` set
/// (`restartWithReplacementIfNeeded`); a value the user set is never overridden.
public enum OpenBLASCore {
    /// The environment variable OpenBLAS reads when it loads.
    public static let environmentKey = "OPENBLAS_CORETYPE"

    /// The core OpenBLAS runs, e.g. "Haswell", "Zen", "SkylakeX" or "Prescott".
    public static var current: String { String(cString: openblas_get_corename()) }

    /// OpenBLAS's x86-64 cores without AVX2 (its `corename` table), lowercased.
    static let withoutAVX2: Set<String> = [
        "unknown", "katmai", "coppermine", "northwood", "prescott", "banias", "atom", "core2", "penryn", "dunnington",
        "nehalem", "athlon", "opteron", "opteron_sse3", "barcelona", "nano", "sandybridge", "bulldozer", "piledriver",
        "steamroller",
    ]

    /// The core to ask for instead of `current` on a CPU whose widest packed kernels are
    /// `supported`: "SkylakeX" (AVX-512) or "Haswell" (AVX2 + FMA) when OpenBLAS chose a
    /// core without AVX2 on a CPU that has it. nil when OpenBLAS's choice stands, and
    /// whenever `OPENBLAS_CORETYPE` is already set.
    public static func replacement(for current: String, supported: KernelVariant, environment: [String: String]) -> String? {
        guard environment[environmentKey] == nil, withoutAVX2.contains(current.lowercased()) else { return nil }
        switch supported {
        case .avx512: return "SkylakeX"
        case .avx2: return "Haswell"
        case .generic: return nil
        }
    }

    /// Restarts this process (same executable, same arguments) with `OPENBLAS_CORETYPE`
    /// set to `replacement(…)` when there is one; returns when there is none, and when the
    /// restart fails (the run goes on with OpenBLAS's own choice). Call first thing in
    /// `main`, before any thread starts. Linux only (`/proc/self/exe`).
    public static func restartWithReplacementIfNeeded() {
        #if os(Linux)
        guard let core = replacement(for: current, supported: KernelVariant.supported,
                                     environment: ProcessInfo.processInfo.environment) else { return }
        setenv(environmentKey, core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv(environmentKey)   // execv returned: it failed
        #endif
    }
}
