import Foundation
import HarnessKernels
import HarnessModel
import HarnessSpec
@testable import HarnessTraining
import Testing

/// The pieces of data parallelism that need no MPI (`DataParallelTests` runs the whole
/// through mpirun): how a batch is shared, the dropout masks a share draws, the carried
/// state's one-process layout, and the check that the processes' weights agree.
struct CommunicatorTests {
    /// A process `rank` of `size` whose collectives return what `others` make of them.
    final class FakeCommunicator: Communicator {
        let rank: Int, size: Int
        var others: (UnsafeMutableBufferPointer<UInt8>) -> Void = { _ in }
        init(rank: Int, size: Int) { self.rank = rank; self.size = size }
        func sum(_ values: UnsafeMutableBufferPointer<Float>) {}
        func sum(_ values: UnsafeMutableBufferPointer<Double>) {}
        func maximum(_ values: UnsafeMutableBufferPointer<UInt8>) { others(values) }
        func gather(_ values: [Double]) -> [[Double]]? { rank == 0 ? [values] : nil }
        func barrier() {}
        func abort(code: Int32) -> Never { fatalError("abort \(code)") }
    }

    @Test func sharesAreContiguousAndCoverTheBatch() {
        for (batch, size) in [(10, 3), (4, 4), (7, 2), (32, 5)] {
            let shares = (0 ..< size).map { FakeCommunicator(rank: $0, size: size).share(of: batch) }
            #expect(shares.first?.lowerBound == 0 && shares.last?.upperBound == batch)
            #expect(zip(shares, shares.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
            #expect(shares.allSatisfy { $0.count == batch / size || $0.count == batch / size + 1 })
        }
        #expect(FakeCommunicator(rank: 0, size: 3).share(of: 10) == 0 ..< 4)
        #expect(FakeCommunicator(rank: 2, size: 3).share(of: 10) == 7 ..< 10)
    }

    @Test func aShareOfABatchIsItsSequences() {
        let batch = SequenceBatch(steps: 2, batchSize: 3, inputs: [1, 2, 3, 4, 5, 6], targets: [11, 12, 13, 14, 15, 16], mask: [1, 1, 0, 1, 0, 0])
        let share = batch.sequences(1 ..< 3)
        #expect(share == SequenceBatch(steps: 2, batchSize: 2, inputs: [2, 3, 5, 6], targets: [12, 13, 15, 16], mask: [1, 0, 0, 0]))
        #expect(batch.sequences(0 ..< 3) == batch)
    }

    /// Each process draws the whole batch's mask and keeps its rows: the shares' masks
    /// put together are the one-process mask, and the generators end in the same state.
    @Test(arguments: [(3, 4, 5), (1, 7, 2), (6, 1, 3)])
    func sharedDropoutMasksAreTheWholeBatchsMask(outer: Int, columns: Int, batch: Int) {
        let whole = StepContext(training: true, dropoutGenerator: SeededGenerator(seed: 8))
        let full = UnsafeMutablePointer<Double>.allocate(capacity: outer * batch * columns)
        defer { full.deallocate() }
        fillDropoutMask(full, rows: outer * batch, columns: columns, batchSize: batch, rate: 0.4, context: whole)
        for size in 1 ... batch {
            for rank in 0 ..< size {
                let rows = FakeCommunicator(rank: rank, size: size).share(of: batch)
                let context = StepContext(training: true, dropoutGenerator: SeededGenerator(seed: 8))
                context.batchShare = (rows, batch)
                let part = UnsafeMutablePointer<Double>.allocate(capacity: outer * rows.count * columns)
                defer { part.deallocate() }
                fillDropoutMask(part, rows: outer * rows.count, columns: columns, batchSize: rows.count, rate: 0.4, context: context)
                for o in 0 ..< outer {
                    for (local, sequence) in rows.enumerated() {
                        for c in 0 ..< columns {
                            #expect(part[(o * rows.count + local) * columns + c] == full[(o * batch + sequence) * columns + c])
                        }
                    }
                }
                var after = SeededGenerator(seed: 8).advanced(by: outer * batch * columns)
                #expect(context.dropoutGenerator.next() == after.next())
            }
        }
    }

    /// Rank 0 joins the processes' carried state matrix by matrix, rows in rank order.
    @Test func carriedStateJoinsIntoTheOneProcessLayout() {
        let shapes = [TrainingState.StateShape(batch: 0, output: 2, cell: 1)]
        // Rank 0 holds rows a, b; rank 1 row c. Each part: h rows, then c rows.
        let rank0: [Double] = [1, 2, 3, 4, /* c */ 10, 20], rank1: [Double] = [5, 6, /* c */ 30]
        #expect(Trainer.joinRows([rank0, rank1], shapes: shapes) == [1, 2, 3, 4, 5, 6, 10, 20, 30])
        #expect(Trainer.joinRows([rank0], shapes: shapes) == rank0)
    }

    @Test func agreementOfHashes() {
        let alone = FakeCommunicator(rank: 0, size: 2)
        alone.others = { _ in }   // the other process passed the same bytes
        #expect(alone.agree(on: 0x0123_4567_89ab_cdef))
        let differing = FakeCommunicator(rank: 0, size: 2)
        let other: UInt64 = 0x0123_4567_89ab_cdee   // one bit lower: only the complement's maximum differs
        differing.others = { bytes in
            let theirs = withUnsafeBytes(of: other.bigEndian, Array.init) + withUnsafeBytes(of: (~other).bigEndian, Array.init)
            for i in bytes.indices { bytes[i] = max(bytes[i], theirs[i]) }
        }
        #expect(!differing.agree(on: 0x0123_4567_89ab_cdef))
        #expect(FakeCommunicator(rank: 1, size: 2).any(true) && !FakeCommunicator(rank: 1, size: 2).any(false))
    }

    @Test func processesWithDifferentWeightsStopTheRun() throws {
        let folder = temporaryFolder()
        let spec = try SpecLoader.parse(ResumeTests.spec("stream"), file: folder + "/spec.yaml")
        let trainer = Trainer(try Experiment(spec), directory: RunDirectory(existing: folder))
        let agreeing = FakeCommunicator(rank: 1, size: 2)
        trainer.communicator = agreeing
        try trainer.checkProcessesAgree()   // the other process holds the same weights
        let differing = FakeCommunicator(rank: 1, size: 2)
        differing.others = { bytes in for i in bytes.indices { bytes[i] = 255 } }   // a hash and its complement cannot both be all ones
        trainer.communicator = differing
        #expect(throws: RunError.dataParallel("after epoch 1 the processes hold different weights or random generators: their "
                                              + "updates were not identical, so they no longer train one model")) {
            try trainer.checkProcessesAgree()
        }
        #expect(throws: RunError.dataParallel("the processes do not start from the same model: their spec, harness build, vocabulary, "
                                              + "data files (SHA-256) or checkpoint differ; start every process with the same binary "
                                              + "and spec, on the same files")) {
            try trainer.checkProcessesAgree(atStart: true)
        }
    }
}

extension SeededGenerator {
    /// This generator after `n` draws.
    func advanced(by n: Int) -> SeededGenerator {
        var g = self
        for _ in 0 ..< n { _ = g.nextUnit() }
        return g
    }
}
