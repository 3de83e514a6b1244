import Dispatch
import Foundation
import Synchronization

/// Work that splits in two halves, for `PairedWorker`: half 0 runs on the calling
/// thread, half 1 on the worker. A class, so that handing it over stores a reference:
/// a closure would have to escape through `withoutActuallyEscaping`, whose check box is
/// heap-allocated on every call (32 bytes, seen in the training step).
public protocol PairedJob: AnyObject {
    func run(half: Int)
}

/// A `PairedJob` around a closure made once, on its owner's first use: running it
/// allocates nothing, and the closure is the owner's specialized code, where a generic
/// job class called through the protocol would run unspecialized.
public final class PairedClosure: PairedJob {
    private let body: (Int) -> Void

    public init(_ body: @escaping (Int) -> Void) { self.body = body }

    public func run(half: Int) { body(half) }
}

/// Two-way parallel work without a heap allocation per call: one persistent thread,
/// handed a `PairedJob` through an atomic state it spins on for a while (about 100 µs)
/// before it sleeps on a semaphore. A recurrent model hands over a few small products
/// per timestep, and a futex wake-up per hand-over cost more than the products' halves.
///
/// A caller first takes the worker with `acquire()`; only then may it fill in a job
/// shared with other callers (the split GEMMs reuse one job each). When another caller
/// holds the worker, `acquire()` returns false and the caller does the work itself.
public final class PairedWorker: @unchecked Sendable {
    public static let shared = PairedWorker()

    private enum State: Int {
        case idle, sleeping, posted, done
    }

    private var job: PairedJob?
    private let state = Atomic<Int>(State.idle.rawValue)
    private let wake = DispatchSemaphore(value: 0)
    private let busy = NSLock()
    /// Polls of `state` before the worker sleeps.
    private let spinLimit = 200_000

    private init() {
        let thread = Thread { [unowned self] in
            while true {
                waitForJob()
                job?.run(half: 1)
                state.store(State.done.rawValue, ordering: .releasing)
            }
        }
        thread.name = "harness paired worker"
        thread.start()
    }

    private func waitForJob() {
        var polls = 0
        while state.load(ordering: .acquiring) != State.posted.rawValue {
            polls += 1
            guard polls >= spinLimit else { continue }
            // idle → sleeping, unless a job was posted meanwhile.
            if state.compareExchange(expected: State.idle.rawValue, desired: State.sleeping.rawValue,
                                     ordering: .acquiringAndReleasing).exchanged {
                wake.wait()
            }
            polls = 0
        }
    }

    /// Takes the worker; false when another caller holds it.
    public func acquire() -> Bool { busy.try() }

    /// With the worker taken: `job` half 0 here and half 1 on the worker, and when both
    /// are done, gives the worker back.
    public func run(_ job: PairedJob) {
        self.job = job
        if state.exchange(State.posted.rawValue, ordering: .acquiringAndReleasing) == State.sleeping.rawValue {
            wake.signal()
        }
        job.run(half: 0)
        while state.load(ordering: .acquiring) != State.done.rawValue {}
        state.store(State.idle.rawValue, ordering: .releasing)
        self.job = nil
        busy.unlock()
    }
}
