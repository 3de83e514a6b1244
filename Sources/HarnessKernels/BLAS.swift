import CBLAS

/// How many threads the GEMM-bound kernels use, and whose.
///
/// At two threads (this machine's two cores) OpenBLAS runs single-threaded and the
/// harness splits each large GEMM, and the packed per-timestep products, in two over the
/// `PairedWorker` itself. OpenBLAS's own pool keeps its threads spinning between calls,
/// so it cannot share the cores with the worker, and its threaded GEMM pays that on the
/// many small products of a recurrent model: at two threads config B ran 1,810 tokens/s
/// on OpenBLAS's pool and 2,050 split by the harness, A 6,900 or 8,500 (bimodal) and
/// 8,100. Above two threads OpenBLAS's pool does the work, as the worker is two-way.
public enum BLAS {
    nonisolated(unsafe) private static var current: Int = {
        let threads = Int(openblas_get_num_threads())  // OPENBLAS_NUM_THREADS, else all cores
        configureLibrary(for: threads)
        return threads
    }()
    nonisolated(unsafe) private static var measuringLibraryPool = false

    /// Threads for the GEMM-bound work of a step (a biLM's concurrent directions set one each).
    public static var threads: Int {
        get { current }
        set {
            current = newValue
            configureLibrary(for: newValue)
        }
    }

    /// Whether kernels split their work in two over `PairedWorker` themselves.
    @inline(__always)
    public static var splitsInTwo: Bool { current == 2 && !measuringLibraryPool }

    /// `body` on OpenBLAS's own pool at `threads` threads, without splitting: the sgemm
    /// rate `harness bench` measures model FLOPs utilization against.
    public static func onLibraryPool<R>(_ body: () throws -> R) rethrows -> R {
        openblas_set_num_threads(Int32(current))
        measuringLibraryPool = true
        defer {
            measuringLibraryPool = false
            configureLibrary(for: current)
        }
        return try body()
    }

    /// The OpenBLAS build string, for run records (e.g. "OpenBLAS 0.3.21 ... Zen").
    public static var configuration: String {
        String(cString: openblas_get_config())
    }

    private static func configureLibrary(for threads: Int) {
        openblas_set_num_threads(Int32(threads == 2 ? 1 : threads))
    }
}
