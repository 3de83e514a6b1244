import Foundation
import HarnessData
import HarnessKernels
import HarnessModel
import HarnessSpec

/// The resumable side of `Trainer`: when `train.ckpt` is written, what it holds, and
/// how a run continues from it (refusing changed data).
extension Trainer {
    /// After a SIGINT or SIGTERM: checkpoint and stop. Under data parallelism the
    /// processes agree first, so that all stop at the same step (a signal reaching one
    /// process stops them all), and on whether to checkpoint now (`checkpointDue`, rank
    /// 0's clock deciding): the checkpoint gathers every process's carried state.
    /// - Returns: whether to write a checkpoint now.
    @discardableResult
    func stopIfInterrupted(checkpointDue: Bool = false) throws -> Bool {
        var signal = Interruption.requested, checkpoint = checkpointDue
        if communicator.size > 1 {   // one collective for both
            var flags: [UInt8] = [UInt8(clamping: signal ?? 0), checkpoint ? 1 : 0]
            flags.withUnsafeMutableBufferPointer { communicator.maximum($0) }
            signal = flags[0] == 0 ? nil : Int32(flags[0])
            checkpoint = flags[1] != 0
        }
        guard let signal else { return checkpoint }
        try writeTrainingCheckpoint()
        throw RunError.interrupted(signal: signal, step: state.step, epoch: state.epoch, checkpoint: directory.trainingCheckpoint,
                                   resumeCommand: resumeCommand)
    }

    /// Under data parallelism, that every process trains the same model: at the start (or
    /// resume) the same spec, build, vocabulary, data checksums, weights and random
    /// generators — a process started from another binary, spec or copy of the data would
    /// otherwise enter the collectives with other buffers — and after every epoch the same
    /// weights and generators: identical sums and updates keep them so, and a process whose
    /// update differed (an MPI reduction that is not the same everywhere, nodes whose
    /// arithmetic differs, a plug-in drawing batch-shaped random numbers for its rows only)
    /// would otherwise train a different model unnoticed. One FNV-1a hash, `Communicator.agree`.
    func checkProcessesAgree(atStart: Bool = false) throws {
        guard communicator.size > 1 else { return }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ x: UInt64) { hash = (hash ^ x) &* 0x0000_0100_0000_01b3 }
        for value in model.store.values { mix(UInt64(value.bitPattern)) }
        for generator in [experiment.streams.data, context.dropoutGenerator, sampling] { mix(generator.state) }
        if atStart {
            let identity = [spec.hash, MachineInfo.buildCommit ?? "", String(experiment.vocabulary.count)]
                + state.dataChecksums.sorted { $0.key < $1.key }.map { $0.key + " " + $0.value }
            for byte in identity.joined(separator: "\n").utf8 { mix(UInt64(byte)) }
        }
        guard !communicator.agree(on: hash) else { return }
        throw RunError.dataParallel(atStart
            ? "the processes do not start from the same model: their spec, harness build, vocabulary, data files (SHA-256) or "
                + "checkpoint differ; start every process with the same binary and spec, on the same files"
            : "after epoch \(state.epoch) the processes hold different weights or random generators: their updates were not "
                + "identical, so they no longer train one model")
    }

    /// Refuses a batch that `processes` processes cannot share (fewer sequences than
    /// processes), as a spec error naming the key: `harness run` checks it before it
    /// creates the run folder, and `run()` again for library callers.
    /// - Throws: `SpecErrors` (exit 64).
    public static func checkShares(of spec: ExperimentSpec, processes n: Int) throws {
        guard n > 1 else { return }
        let sizes = [("data.batching.batch_size", spec.data.batching.batchSize), ("data.eval_batch_size", spec.data.evalBatchSize)]
        let errors = sizes.filter { $0.1 < n }.map { key, size in
            SpecError("'\(key)' is \(size), fewer sequences than the \(n) processes that share every batch",
                      at: spec.locations[key] ?? SourceLocation(file: spec.file, line: 1, column: 1),
                      note: "raise it to at least \(n), or run fewer processes")
        }
        guard errors.isEmpty else { throw SpecErrors(errors, source: spec.source) }
    }

    var checkpointDue: Bool {
        let policy = spec.training.checkpoint
        if let steps = policy.everySteps, state.step % steps == 0, state.consecutiveSkips == 0 { return true }
        if let minutes = policy.everyMinutes, Date().timeIntervalSince(lastCheckpoint) >= minutes * 60 { return true }
        return false
    }

    /// A periodic checkpoint that cannot be written (a full disk) does not stop training:
    /// the previous checkpoint is intact, and the next one is tried on schedule. The
    /// warning is repeated at most once a minute.
    func checkpointOrWarn() {
        do {
            try writeTrainingCheckpoint()
        } catch {
            lastCheckpoint = Date()
            guard lastWarning.map({ Date().timeIntervalSince($0) >= 60 }) ?? true else { return }
            lastWarning = Date()
            FileHandle.standardError.write(Data("warning: \(error); training goes on, the previous checkpoint is kept\n".utf8))
        }
    }

    func writeTrainingCheckpoint() throws {
        state.schedule = schedule.snapshot
        state.stopping = stopping.snapshot
        state.optimizerSteps = optimizer.steps
        state.setGenerator("data", experiment.streams.data)
        state.setGenerator("dropout", context.dropoutGenerator)
        state.setGenerator("sampling", sampling)
        var saved = state
        saved.wallSeconds = wallSeconds
        let carried = model.saveState()
        let shapes = carried.map { $0.map { TrainingState.StateShape(batch: $0.h.rows, output: $0.h.columns, cell: $0.c.columns) } }
        let local = carried.flatMap { $0.flatMap { $0.h.array + $0.c.array } }.map(Double.init)
        // Every process's rows of the carried state, on rank 0, in the one-process layout.
        guard let gathered = communicator.gather(local) else { return }
        let lstmState = Self.joinRows(gathered, shapes: shapes.joined())
        let rows = gathered.map { $0.count / max(shapes.joined().reduce(0) { $0 + $1.output + $1.cell }, 1) }.reduce(0, +)
        saved.carriedState = shapes.map { $0.map { .init(batch: rows, output: $0.output, cell: $0.cell) } }
        let buffers = optimizer.stateBuffers(count: model.store.count)
        try lstmState.withUnsafeBufferPointer { lstm in
            var sections = buffers.enumerated().map { Checkpoint.Section("optimizer.\($0.offset)", UnsafeBufferPointer($0.element)) }
            sections.append(Checkpoint.Section("lstm_state", lstm))
            try Checkpoint.save(model.store, specHash: spec.hash, epoch: state.epoch, to: directory.trainingCheckpoint,
                                training: saved, sections: sections)
        }
        lastCheckpoint = Date()
    }

    func restore(checksums: [String: String]) throws {
        let path = directory.trainingCheckpoint
        let contents: Checkpoint.Contents
        do { contents = try Checkpoint.read(path) } catch RunError.badCheckpoint(let path, let reason) {
            throw RunError.badCheckpoint(path: path, reason: reason + "; --fresh starts the run over")
        }
        guard let saved = contents.training else {
            throw RunError.badCheckpoint(path: path, reason: "holds weights only, no training state")
        }
        guard contents.specHash == spec.hash else {
            throw RunError.resumeRefused(path: path, reason: "it was written for spec \(contents.specHash), this spec is \(spec.hash); "
                                         + "start over with --fresh")
        }
        for (file, sum) in saved.dataChecksums.sorted(by: { $0.key < $1.key }) where checksums[file] != sum {
            let now = checksums[file].map { "\($0.prefix(12))… now" } ?? "no longer read"
            throw RunError.resumeRefused(path: path, reason: "\(file) changed since the run started (SHA-256 \(sum.prefix(12))… then, \(now)); "
                                         + "restore it, or start over with --fresh")
        }
        if let added = checksums.keys.sorted().first(where: { saved.dataChecksums[$0] == nil }) {
            throw RunError.resumeRefused(path: path, reason: "the run now reads \(added), which it did not when it started; start over with --fresh")
        }
        try contents.loadWeights(into: model.store, expectedSpecHash: spec.hash)
        for (index, buffer) in optimizer.stateBuffers(count: model.store.count).enumerated() {
            try contents.loadSection("optimizer.\(index)", into: buffer)
        }
        let stateCount = saved.carriedState.joined().reduce(0) { $0 + $1.batch * ($1.output + $1.cell) }
        var lstmState = [Double](repeating: 0, count: stateCount)
        try lstmState.withUnsafeMutableBufferPointer { try contents.loadSection("lstm_state", into: $0) }
        // This process's rows (all of them for one process).
        var offset = 0
        model.restoreState(saved.carriedState.map { shapes in
            shapes.map { shape in
                let rows = communicator.share(of: shape.batch)
                let s = RecurrentState<Float>(batchSize: rows.count, outputSize: shape.output, cellSize: shape.cell)
                for i in 0..<s.h.count { s.h.base[i] = Float(lstmState[offset + rows.lowerBound * shape.output + i]) }
                offset += shape.batch * shape.output
                for i in 0..<s.c.count { s.c.base[i] = Float(lstmState[offset + rows.lowerBound * shape.cell + i]) }
                offset += shape.batch * shape.cell
                return s
            }
        })
        guard let data = saved.generator("data"), let dropout = saved.generator("dropout"), let sampling = saved.generator("sampling") else {
            throw RunError.badCheckpoint(path: path, reason: "the training state lacks the random generators")
        }
        experiment.streams.data = data
        context.dropoutGenerator = dropout
        self.sampling = sampling
        schedule.snapshot = saved.schedule
        stopping.snapshot = saved.stopping
        optimizer.learningRate = schedule.rate   // what the epoch in progress runs at
        optimizer.steps = saved.optimizerSteps
        state = saved
        if writesFiles { try directory.truncateMetrics(keeping: saved.metricsRecords) }
        progress.line("resuming from \(path): step \(saved.step), epoch \(saved.epoch)"
                      + (saved.finished ? " (training done, final evaluation)" : ", batch \(saved.nextBatch)"))
    }

    /// The carried state of every process (`parts`, in rank order, each its matrices' rows
    /// one after the other as `shapes` lists them) as one process holds it: each matrix's
    /// rows of rank 0, then of rank 1, …
    static func joinRows(_ parts: [[Double]], shapes: some Collection<TrainingState.StateShape>) -> [Double] {
        guard parts.count > 1 else { return parts.first ?? [] }
        let width = shapes.reduce(0) { $0 + $1.output + $1.cell }
        var joined: [Double] = []
        joined.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        var column = 0
        for shape in shapes {
            for matrixColumns in [shape.output, shape.cell] {
                for part in parts {
                    let rows = part.count / max(width, 1)
                    joined += part[rows * column ..< rows * (column + matrixColumns)]
                }
                column += matrixColumns
            }
        }
        return joined
    }

    /// SHA-256 of every data file the run reads, by path; the training shards' from the
    /// corpus cache where it read them whole (a cached start does not read the text).
    func dataChecksums() throws -> [String: String] {
        let data = spec.data
        var sums: [String: String] = [:]
        for file in data.trainShards + data.validShards + data.testShards + [data.vocabularyFile].compactMap({ $0 }) {
            if let cached = experiment.trainChecksums[file] { sums[file] = cached; continue }
            do { sums[file] = try SHA256.file(file) } catch { throw DataError("cannot read the file to checksum it: \(error)", file: file) }
        }
        return sums
    }
}
