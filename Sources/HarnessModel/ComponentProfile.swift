import Dispatch

/// Wall time spent in each part of the training step, for `harness bench`; filled only
/// when a `StepContext` carries one (two clock reads per part and step).
public final class ComponentProfile {
    public enum Part: Int, CaseIterable, Sendable {
        case encoder, recurrent, output, optimizer
        public var name: String { ["encoder", "recurrent", "output", "optimizer"][rawValue] }
    }

    /// Nanoseconds per part since the last `reset()`.
    public private(set) var nanoseconds = [UInt64](repeating: 0, count: Part.allCases.count)
    private var started: UInt64 = 0

    public init() {}

    public func reset() { for i in nanoseconds.indices { nanoseconds[i] = 0 } }

    /// Charges the time since the previous call (or `start()`) to `part`.
    @inline(__always)
    public func charge(_ part: Part) {
        let now = DispatchTime.now().uptimeNanoseconds
        nanoseconds[part.rawValue] &+= now &- started
        started = now
    }

    @inline(__always)
    public func start() { started = DispatchTime.now().uptimeNanoseconds }
}
