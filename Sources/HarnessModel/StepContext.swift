import HarnessKernels

/// What one forward/backward pass needs besides its inputs: scratch memory, whether
/// this is training (dropout on, sampled softmax allowed) and the dropout generator.
public final class StepContext {
    /// Activations and gradients of the current step; reset at the start of each step.
    public let arena: Arena
    public var training: Bool
    public var dropoutGenerator: SeededGenerator
    /// When set, the model charges its encoder, recurrent and output time to it.
    public var profile: ComponentProfile?
    /// Whether the LSTM's per-timestep products run on packed weights (`PackedMatrix`);
    /// nil: where OpenBLAS runs single-threaded (`BLAS.threads` ≤ 2). Tests set both.
    public var packsWeights: Bool?
    /// The packed products' kernel variant; nil: `KernelVariant.selected`. Tests set it to
    /// run every variant the CPU supports.
    public var kernelVariant: KernelVariant?
    /// Whether every row of every product gets the same bits whatever else is in the
    /// batch (`gemm(…, batchInvariant:)`): inference that promises a sentence's vectors
    /// do not depend on its batch (`harness embed`). Slower; off in training.
    public var batchInvariant = false
    /// Set for a forward pass that no backward pass follows, over sentences sorted longest
    /// first (`harness embed`; `SequenceBatch.liveRows`): at step t only rows
    /// 0 ..< `liveRows[t]` hold tokens, the others pad sentences that have ended. A
    /// recurrent layer may then skip the padding rows (leaving zeros in its output there)
    /// and keep only what the next timestep needs instead of every step's activations;
    /// a carried state is then defined for the rows live at the last step only.
    /// Layers that ignore it compute the padding too, which changes no real row. nil in
    /// training and evaluation.
    public var liveRows: [Int]?

    /// Data parallelism (`Communicator`): this process computes rows `rows` of every batch
    /// of `batchSize` rows, and draws each dropout mask for the whole batch, keeping its
    /// rows, so that N processes drop what one would. nil: the batch is the whole batch.
    public var batchShare: (rows: Range<Int>, batchSize: Int)?

    public init(training: Bool, dropoutGenerator: SeededGenerator = SeededGenerator(seed: 0), arena: Arena = Arena()) {
        self.training = training
        self.dropoutGenerator = dropoutGenerator
        self.arena = arena
    }
}
