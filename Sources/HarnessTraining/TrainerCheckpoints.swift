import Foundation
import HarnessData
import HarnessKernels
import HarnessModel

/// The resumable side of `Trainer`: when `train.ckpt` is written, what it holds, and
/// how a run continues from it (refusing changed data).
extension Trainer {
    /// After a SIGINT or SIGTERM: checkpoint and stop.
    func stopIfInterrupted() throws {
        guard let signal = Interruption.requested else { return }
        try writeTrainingCheckpoint()
        throw RunError.interrupted(signal: signal, step: state.step, epoch: state.epoch, checkpoint: directory.trainingCheckpoint,
                                   resumeCommand: resumeCommand)
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
        saved.carriedState = carried.map { $0.map { .init(batch: $0.h.rows, output: $0.h.columns, cell: $0.c.columns) } }
        let lstmState = carried.flatMap { $0.flatMap { $0.h.array + $0.c.array } }.map(Double.init)
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
        var offset = 0
        model.restoreState(saved.carriedState.map { shapes in
            shapes.map { shape in
                let s = RecurrentState<Float>(batchSize: shape.batch, outputSize: shape.output, cellSize: shape.cell)
                for i in 0..<s.h.count { s.h.base[i] = Float(lstmState[offset + i]) }
                offset += s.h.count
                for i in 0..<s.c.count { s.c.base[i] = Float(lstmState[offset + i]) }
                offset += s.c.count
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
        try directory.truncateMetrics(keeping: saved.metricsRecords)
        progress.line("resuming from \(path): step \(saved.step), epoch \(saved.epoch)"
                      + (saved.finished ? " (training done, final evaluation)" : ", batch \(saved.nextBatch)"))
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
