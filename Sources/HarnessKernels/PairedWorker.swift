import Dispatch
import Foundation

/// Work that splits in two halves, for `PairedWorker`: half 0 runs on the calling
/// thread, half 1 on the worker. A class, so that handing it over stores a reference:
/// a closure would have to escape through `withoutActuallyEscaping`, whose check box is
/// heap-allocated on every call (32 bytes, seen in the training step).
public protocol PairedJob: AnyObject {
    func run(half: Int)
}

/// A `PairedJob` around a closure made once (when its owner is built): running it
/// allocates nothing, and the closure is the caller's specialized code, where a generic
/// job class called through the protocol would run unspecialized.
public final class PairedClosure: PairedJob {
    private let body: (Int) -> Void

    public init(_ body: @escaping (Int) -> Void) { self.body = body }

    public func run(half: Int) { body(half) }
}

/// Two-way parallel work without a heap allocation per call: one persistent thread,
/// handed a `PairedJob` through two semaphores.
///
/// A caller first takes the worker with `acquire()`; only then may it fill in a job
/// shared with other callers (the split GEMMs reuse one job each). When another caller
/// holds the worker, `acquire()` returns false and the caller does the work itself.
public final class PairedWorker: @unchecked Sendable {
    public static let shared = PairedWorker()

    private var job: PairedJob?
    private let start = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let busy = NSLock()

    private init() {
        let thread = Thread { [unowned self] in
            while true {
                self.start.wait()
                self.job?.run(half: 1)
                self.done.signal()
            }
        }
        thread.name = "harness paired worker"
        thread.start()
    }

    /// Takes the worker; false when another caller holds it.
    public func acquire() -> Bool { busy.try() }

    /// With the worker taken: `job` half 0 here and half 1 on the worker, and when both
    /// are done, gives the worker back.
    public func run(_ job: PairedJob) {
        self.job = job
        start.signal()
        job.run(half: 0)
        done.wait()
        self.job = nil
        busy.unlock()
    }
}
