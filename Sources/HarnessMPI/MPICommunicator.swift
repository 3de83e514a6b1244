// Built with the package trait MPI only (`swift build --traits MPI`): the plain build
// neither needs nor links an MPI library.
#if MPI
import CMPI
import HarnessModel
#if canImport(Glibc)
import Glibc
#endif

/// The processes of an MPI job (`mpirun -np N harness run SPEC`, or `srun` under Slurm)
/// as a `Communicator`, over MPI_COMM_WORLD: sums with `MPI_Allreduce` (in place), the
/// carried LSTM state with `MPI_Gatherv`. MPI's default error handler stays in place, so
/// a failed call ends the whole job; a process that dies makes the launcher end the others.
///
/// Thread level MPI_THREAD_FUNNELED: only the thread that initialised MPI calls it (the
/// training loop), while OpenBLAS and the direction workers compute.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    private let world = harness_mpi_comm_world()

    /// Initialises MPI (once per process); `MPI_Finalize` runs when the process exits.
    public init() {
        var provided: Int32 = 0
        MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided)
        var rank: Int32 = 0, size: Int32 = 1
        MPI_Comm_rank(world, &rank)
        MPI_Comm_size(world, &size)
        self.rank = Int(rank)
        self.size = Int(size)
        atexit { harnessFinalizeMPI() }
    }

    /// The MPI library's own description of itself (`MPI_Get_library_version`, callable
    /// before `MPI_Init`), first line only: e.g. "Open MPI v4.1.4, package: Debian …".
    public static var libraryVersion: String {
        var buffer = [CChar](repeating: 0, count: Int(MPI_MAX_LIBRARY_VERSION_STRING) + 1)
        var length: Int32 = 0
        guard MPI_Get_library_version(&buffer, &length) == MPI_SUCCESS else { return "an unknown MPI library" }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).first.map(String.init) ?? text
    }

    /// MPI counts are 32-bit: longer buffers go in pieces.
    private static let piece = 1 << 30

    public func sum(_ values: UnsafeMutableBufferPointer<Float>) {
        reduce(values, type: harness_mpi_float(), operation: harness_mpi_sum())
    }

    public func sum(_ values: UnsafeMutableBufferPointer<Double>) {
        reduce(values, type: harness_mpi_double(), operation: harness_mpi_sum())
    }

    public func maximum(_ values: UnsafeMutableBufferPointer<UInt8>) {
        reduce(values, type: harness_mpi_uint8(), operation: harness_mpi_max())
    }

    private func reduce<E>(_ values: UnsafeMutableBufferPointer<E>, type: MPI_Datatype, operation: MPI_Op) {
        guard let base = values.baseAddress else { return }
        var start = 0
        while start < values.count {
            let n = min(Self.piece, values.count - start)
            MPI_Allreduce(harness_mpi_in_place(), base + start, Int32(n), type, operation, world)
            start += n
        }
    }

    public func gather(_ values: [Double]) -> [[Double]]? {
        var count = Int32(values.count)
        var counts = [Int32](repeating: 0, count: size)
        MPI_Gather(&count, 1, harness_mpi_int32(), &counts, 1, harness_mpi_int32(), 0, world)
        var offsets = [Int32](repeating: 0, count: size)
        for r in 1 ..< max(size, 1) { offsets[r] = offsets[r - 1] + counts[r - 1] }
        var all = [Double](repeating: 0, count: rank == 0 ? Int(counts.reduce(0, +)) : 0)
        var local = values
        MPI_Gatherv(&local, count, harness_mpi_double(), &all, &counts, &offsets, harness_mpi_double(), 0, world)
        guard rank == 0 else { return nil }
        return (0 ..< size).map { Array(all[Int(offsets[$0]) ..< Int(offsets[$0] + counts[$0])]) }
    }

    public func barrier() { MPI_Barrier(world) }

    public func abort(code: Int32) -> Never {
        MPI_Abort(world, code)
        exit(code)
    }
}

/// `MPI_Finalize` at exit, unless already finalized (the C function pointer `atexit` takes).
private func harnessFinalizeMPI() {
    var finalized: Int32 = 0
    MPI_Finalized(&finalized)
    if finalized == 0 { MPI_Finalize() }
}
#endif
