import Foundation
import HarnessKernels
import HarnessModel
import HarnessTraining
#if MPI
import HarnessMPI
#endif

/// How this process was started: alone, or as one of the N processes of an MPI job
/// (`mpirun -np N harness run SPEC`, `srun` under Slurm) that train one model together.
enum Launch {
    /// The process count a launcher announced in the environment: Open MPI's mpirun
    /// (`OMPI_COMM_WORLD_SIZE`), MPICH's and Slurm's PMI (`PMI_SIZE`), a Slurm job step
    /// (`SLURM_STEP_NUM_TASKS`); nil when none did.
    static var processes: Int? {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"].lazy.compactMap { environment[$0].flatMap(Int.init) }.first
    }

    /// The job's processes on this machine (Open MPI's `OMPI_COMM_WORLD_LOCAL_SIZE`,
    /// MPICH's `MPI_LOCALNRANKS`), 1 when not announced.
    static var processesOnThisMachine: Int {
        let environment = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"].lazy.compactMap { environment[$0].flatMap(Int.init) }.first ?? 1
    }

    /// The processes this one trains with: MPI's when a launcher started several (a
    /// harness built with the MPI trait), else this process alone.
    /// - Throws: `RunError.dataParallel` when a launcher started several processes of a
    ///   harness built without MPI: each would train the whole model on its own.
    static func communicator() throws -> any Communicator {
        guard let n = processes, n > 1 else { return SingleProcess() }
        #if MPI
        let communicator = MPICommunicator()
        guard communicator.size == n else {
            throw RunError.dataParallel("the launcher started \(n) processes, but MPI joins \(communicator.size) of them into one job: "
                                        + "the launcher does not speak this MPI's protocol (under Slurm use srun --mpi=pmix; else the "
                                        + "mpirun of the MPI library this harness was built with)")
        }
        return communicator
        #else
        throw RunError.dataParallel("this process is one of \(n) that a launcher (mpirun, srun) started, but this harness was built "
                                    + "without MPI, so each would train the whole model alone; build it with "
                                    + "`swift build -c release --traits MPI` (needs libopenmpi-dev), or start one process")
        #endif
    }

    /// What `--version` says about training one model with several processes.
    static var dataParallelism: String {
        #if MPI
        "data parallelism: MPI (\(MPICommunicator.libraryVersion)): mpirun -np N harness run SPEC"
        #else
        "data parallelism: none (built without the MPI trait; swift build -c release --traits MPI adds it)"
        #endif
    }

    /// BLAS threads per process when neither `--threads` nor the spec sets them: the cores
    /// this process may run on (`CPUAllocation.available`, its affinity) — divided among
    /// the job's processes on this machine when each may run on all of them (a launcher
    /// that does not bind), and as they are when the launcher bound the process to its own.
    static func defaultThreads(_ communicator: any Communicator) -> Int? {
        guard communicator.size > 1 else { return nil }
        let allowed = CPUAllocation.available, machine = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return allowed < machine ? allowed : max(1, allowed / processesOnThisMachine)
    }
}
