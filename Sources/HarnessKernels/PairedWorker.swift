import Dispatch
import Foundation

/// Two-way parallel work without a heap allocation per call: one persistent thread,
/// handed a non-escaping closure through two semaphores. `run` executes `body(0)` on the
/// calling thread and `body(1)` on the worker, and returns when both are done. While
/// another caller holds the worker, both halves run on the calling thread, in order.
public final class PairedWorker: @unchecked Sendable {
    public static let shared = PairedWorker()

    private var job: ((Int) -> Void)?
    private let start = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    private let busy = NSLock()

    private init() {
        let thread = Thread { [unowned self] in
            while true {
                self.start.wait()
                self.job?(1)
                self.done.signal()
            }
        }
        thread.name = "harness paired worker"
        thread.start()
    }

    public func run(_ body: (Int) -> Void) {
        guard busy.try() else {
            body(0)
            body(1)
            return
        }
        defer { busy.unlock() }
        withoutActuallyEscaping(body) { body in
            job = body
            start.signal()
            body(0)
            done.wait()
            job = nil
        }
    }
}
