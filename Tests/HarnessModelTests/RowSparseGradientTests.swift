import HarnessKernels
@testable import HarnessModel
import Testing

/// Row-sparse gradients (issue #20): a store that zeroes, sums, clips and updates only
/// the gradient blocks a step wrote must give bit-identical results to the dense store,
/// and a model makes a parameter row-sparse only when every component holding it writes
/// it by touched rows.
struct RowSparseGradientTests {
    /// A dense (3, 5), a (2000, 16) table and a dense (1, 7): the table spans many blocks
    /// of 1024 and shares its first and last block with the dense parameters.
    private func store(sparse: Bool) -> ParameterStore<Float> {
        var g = SeededGenerator(seed: 4)
        let store = ParameterStore([Parameter<Float>("a", rows: 3, columns: 5, initializer: .uniform(scale: 1)),
                                    Parameter<Float>("table", rows: 2000, columns: 16, initializer: .uniform(scale: 1)),
                                    Parameter<Float>("b", rows: 1, columns: 7, initializer: .uniform(scale: 1))], generator: &g)
        if sparse { store.makeRowSparse(store.parameter(named: "table")!) }
        return store
    }

    /// Writes a step's gradients: every dense value, and the rows `rows` of the table.
    private func writeStep(_ store: ParameterStore<Float>, rows: [Int], seed: UInt64) {
        var g = SeededGenerator(seed: seed)
        for name in ["a", "b"] {
            let p = store.parameter(named: name)!
            for i in 0 ..< p.count { p.gradient.base[i] += Float(g.nextUniform(-1, 1)) }
        }
        let table = store.parameter(named: "table")!
        for row in rows {
            table.touchRow(row)
            for c in 0 ..< 16 { table.gradient[row, c] += Float(g.nextUniform(-3, 3)) }
        }
    }

    @Test(arguments: ["sgd", "adagrad", "adam", "sgd-momentum"])
    func sparseStepsAreBitIdenticalToDense(optimizer: String) {
        func make() -> any Optimizer {
            switch optimizer {
            case "sgd": SGD(learningRate: 0.5)
            case "sgd-momentum": SGD(learningRate: 0.5, momentum: 0.9)
            case "adagrad": Adagrad(learningRate: 0.2)
            default: Adam(Adam.Hyperparameters(learningRate: 0.01))
            }
        }
        let dense = store(sparse: false), sparse = store(sparse: true)
        let denseOptimizer = make(), sparseOptimizer = make()
        #expect(sparse.parameter(named: "table")!.isRowSparse && !dense.parameter(named: "table")!.isRowSparse)
        let steps: [[Int]] = [[0, 5, 5, 1999], [64, 65, 1000], [], [1999, 3, 700, 701, 702]]
        for (k, rows) in steps.enumerated() {
            for s in [dense, sparse] {
                s.zeroGradients()
                writeStep(s, rows: rows, seed: UInt64(k))
            }
            #expect(Array(sparse.gradients) == Array(dense.gradients), "step \(k): the untouched rows are zero")
            // The sparse store works on the blocks written: the dense ones' and the touched rows'.
            var covered = 0
            sparse.forEachGradientRange { covered += $0.count }
            #expect(covered <= (2 + rows.count) * 1024 && covered < sparse.count / 3, "step \(k): \(covered) of \(sparse.count)")
            let clip = GlobalNormClipping(maximum: 4)
            #expect(clip.apply(to: sparse) == clip.apply(to: dense), "step \(k): the norm over the written blocks")
            ValueClipping(limit: 0.5).apply(to: sparse); ValueClipping(limit: 0.5).apply(to: dense)
            sparseOptimizer.step(sparse); denseOptimizer.step(dense)
            #expect(Array(sparse.values) == Array(dense.values), "step \(k) with \(optimizer)")
        }
        sparse.zeroGradients()
        #expect(sparse.gradients.allSatisfy { $0 == 0 })
    }

    @Test func onlyTablesWrittenByTouchedRowsAreRowSparse() {
        func sparseNames(_ encoder: any TokenEncoderComponent, _ output: any OutputComponent) -> Set<String> {
            var g = SeededGenerator(seed: 1)
            let model = BiLM<Float>(BiLMConfiguration(vocabularySize: 50, direction: .forward, encoder: encoder,
                                                      recurrent: LSTMComponent(layers: 1, hiddenSize: 8, projectionSize: 4),
                                                      output: output, dropout: [], initScale: 0.1),
                                    generator: &g)
            return Set(model.store.parameters.filter(\.isRowSparse).map(\.name))
        }
        let word = WordEncoderComponent(size: 4)
        #expect(sparseNames(word, SampledSoftmaxComponent(samples: 8)) == ["encoder.embedding", "output.weight", "output.bias"])
        #expect(sparseNames(word, SampledSoftmaxComponent(samples: 8, tieWeights: true)) == ["encoder.embedding", "output.bias"])
        // The full softmax writes every row of the table it is tied to: dense.
        #expect(sparseNames(word, SoftmaxComponent(tieWeights: true)) == [])
        #expect(sparseNames(word, SoftmaxComponent()) == ["encoder.embedding"])
    }
}
