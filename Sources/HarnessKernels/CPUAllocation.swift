import Foundation

/// The CPUs this process may run on: its affinity mask (what Slurm's
/// `--cpus-per-task`, `taskset` and container cpusets set), capped by a cgroup v2 CPU
/// quota (`cpu.max`, what `docker --cpus` sets). Foundation's `activeProcessorCount`
/// reports the node's cores whatever the allocation, so two jobs sharing a node would
/// each start a thread per core.
public enum CPUAllocation {
    /// At least 1.
    public static var available: Int {
        var count = ProcessInfo.processInfo.activeProcessorCount
        #if os(Linux)
        if let allowed = affinityCount { count = allowed }
        if let quota = cgroupQuota { count = min(count, quota) }
        #endif
        return max(1, count)
    }

    /// The CPUs of this process's affinity mask, from `Cpus_allowed_list` in
    /// `/proc/self/status` ("0-3,8"): what `sched_getaffinity` returns, which Swift's Glibc
    /// module does not declare (it needs `_GNU_SOURCE`).
    private static var affinityCount: Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) else { return nil }
        var count = 0
        for range in line.dropFirst("Cpus_allowed_list:".count).split(separator: ",") {
            let bounds = range.split(separator: "-").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard let low = bounds.first, let high = bounds.last, high >= low, bounds.count <= 2 else { return nil }
            count += high - low + 1
        }
        return count > 0 ? count : nil
    }

    /// `cpu.max` of this process's cgroup (v2): "max 100000" means no quota, "150000 100000" 1.5 CPUs (rounded up).
    private static var cgroupQuota: Int? {
        guard let membership = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
              let line = membership.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else { return nil }
        let path = "/sys/fs/cgroup" + line.dropFirst(3) + "/cpu.max"
        guard let text = try? String(contentsOfFile: path.replacingOccurrences(of: "//", with: "/"), encoding: .utf8) else { return nil }
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let quota = Double(fields[0]), let period = Double(fields[1]), quota > 0, period > 0 else { return nil }
        return max(1, Int((quota / period).rounded(.up)))
    }
}
