import HarnessKernels

/// Which language models a `BiLM` trains.
public enum Direction: String, Sendable, CaseIterable {
    case forward, backward, bidirectional

    /// The per-direction batches the model takes, in order.
    public var count: Int { self == .bidirectional ? 2 : 1 }
}

/// Everything that fixes a model's shape.
public struct BiLMConfiguration: Sendable, Equatable {
    public var vocabularySize: Int
    public var direction: Direction
    public var encoder: any TokenEncoderComponent
    public var recurrent: any RecurrentComponent
    public var output: any OutputComponent
    public var dropout: [any DropoutComponent]
    /// Uniform initialisation range of the weight matrices.
    public var initScale: Double

    public init(vocabularySize: Int, direction: Direction, encoder: any TokenEncoderComponent,
                recurrent: any RecurrentComponent, output: any OutputComponent = SoftmaxComponent(),
                dropout: [any DropoutComponent] = [], initScale: Double = 0.1) {
        self.vocabularySize = vocabularySize
        self.direction = direction
        self.encoder = encoder
        self.recurrent = recurrent
        self.output = output
        self.dropout = dropout
        self.initScale = initScale
    }

    public static func == (a: BiLMConfiguration, b: BiLMConfiguration) -> Bool {
        a.vocabularySize == b.vocabularySize && a.direction == b.direction && a.encoder.isEqual(to: b.encoder)
            && a.recurrent.isEqual(to: b.recurrent) && a.output.isEqual(to: b.output)
            && a.dropout.isEqual(to: b.dropout) && a.initScale == b.initScale
    }
}

/// The loss of one direction over one step or pass.
public struct DirectionLoss: Sendable, Equatable {
    /// Σ NLL in nats over the real targets.
    public var nll: Double
    public var tokens: Int

    public init(nll: Double = 0, tokens: Int = 0) { self.nll = nll; self.tokens = tokens }

    public static func += (a: inout DirectionLoss, b: DirectionLoss) { a.nll += b.nll; a.tokens += b.tokens }
}

/// The losses of a step's directions (one or two), held inline so that a training step
/// allocates nothing on the heap.
public struct DirectionLosses: RandomAccessCollection, Sendable, Equatable {
    private var forward = DirectionLoss(), backward = DirectionLoss()
    public let endIndex: Int
    public var startIndex: Int { 0 }

    public init(count: Int) {
        precondition(count == 1 || count == 2, "a step has one or two directions, not \(count)")
        endIndex = count
    }

    public subscript(index: Int) -> DirectionLoss {
        get { index == 0 ? forward : backward }
        set { if index == 0 { forward = newValue } else { backward = newValue } }
    }
}

/// A forward, backward or bidirectional LSTM language model (Peters et al. 2018, ELMo's
/// biLM): one token encoder and one output layer shared by the directions, one
/// recurrent stack per direction. The directions are independent until the loss.
///
/// A step takes one `SequenceBatch` per direction (forward first). Their token ids are
/// encoded in one call, the stacks run separately, and their outputs are scored in one
/// call of the output layer: rows [0, N) forward, [N, 2N) backward.
///
/// The training objective is the mean NLL per real target over all directions
/// (times `lossScale`, e.g. T for Zaremba's time-summed loss).
///
/// A bidirectional model runs its two stacks at once, each on one core with one BLAS
/// thread, when BLAS has two threads or more: their per-timestep products are too small
/// for threaded BLAS, and the directions are independent. Each direction has its own
/// arena and dropout stream (drawn from the step's), so the result is the same either way.
public final class BiLM<T: Scalar> {
    public let configuration: BiLMConfiguration
    public let encoder: any TokenEncoder<T>
    public let tokenDropout: TokenDropout<T>
    public let stacks: [RecurrentStack<T>]
    public let output: any OutputLayer<T>
    public let store: ParameterStore<T>
    /// Per-direction scratch and dropout streams of a bidirectional model's stacks.
    private let directionContexts: [StepContext]
    /// The pass `directionPair` runs, one direction per core.
    private var pendingPass: Pass?
    private var directionPair: PairedClosure?

    /// - Parameters:
    ///   - characters: the vocabulary's character ids; required by the char-CNN encoder.
    ///   - generator: the run's "init" stream; parameters are drawn from it in order.
    public init(_ configuration: BiLMConfiguration, characters: CharacterTable? = nil, generator: inout SeededGenerator) {
        self.configuration = configuration
        let parts = Parts(configuration, characters: characters)
        encoder = parts.encoder
        tokenDropout = TokenDropout(dropout: configuration.dropout)
        stacks = parts.stacks
        output = parts.output
        store = ParameterStore(parts.parameters, generator: &generator)
        for parameter in parts.rowSparse { store.makeRowSparse(parameter) }
        directionContexts = stacks.count == 2 ? stacks.map { _ in StepContext(training: true) } : []
    }

    /// How many values the model's parameters hold, from its components' declared
    /// shapes, without allocating them: what `harness run` checks against the machine's
    /// memory before building a model.
    public static func parameterCount(_ configuration: BiLMConfiguration, characters: CharacterTable? = nil) -> Int {
        ParameterStore<T>.count(of: Parts(configuration, characters: characters).parameters)
    }

    /// The components of a model, their parameters declared but not yet bound to a store.
    private struct Parts {
        let encoder: any TokenEncoder<T>
        let stacks: [RecurrentStack<T>]
        let output: any OutputLayer<T>
        /// Encoder, stacks, output; a tied table appears twice (the store binds it once).
        let parameters: [Parameter<T>]
        /// The parameters the store may treat as row-sparse (`ParameterStore.makeRowSparse`).
        let rowSparse: [Parameter<T>]

        init(_ configuration: BiLMConfiguration, characters: CharacterTable?) {
            let v = configuration.vocabularySize, scale = configuration.initScale
            encoder = configuration.encoder.makeEncoder(vocabularySize: v, characters: characters, initScale: scale)
            var tiedTable: Parameter<T>?
            if configuration.output.tieWeights {
                guard let table = encoder.embeddingTable else {
                    preconditionFailure("tie_weights needs an encoder with an embedding table, not \(configuration.encoder.type)")
                }
                tiedTable = table
            }
            let embeddingSize = encoder.outputSize
            let names: [String] = switch configuration.direction {
            case .forward: ["forward"]
            case .backward: ["backward"]
            case .bidirectional: ["forward", "backward"]
            }
            stacks = names.map {
                RecurrentStack<T>($0, inputSize: embeddingSize, component: configuration.recurrent,
                                  dropout: configuration.dropout, initScale: scale)
            }
            output = configuration.output.makeLayer(vocabularySize: v, inputSize: configuration.recurrent.outputSize,
                                                    tiedTo: tiedTable, initScale: scale)
            parameters = encoder.parameters + stacks.flatMap(\.parameters) + output.parameters
            // Row-sparse only where every component holding the parameter writes it by
            // touched rows (a table tied to a full softmax is written whole).
            let holders: [(all: [Parameter<T>], sparse: [Parameter<T>])] = [(encoder.parameters, encoder.rowSparseParameters)]
                + stacks.map { ($0.parameters, []) } + [(output.parameters, output.rowSparseParameters)]
            var seen = Set<ObjectIdentifier>()
            rowSparse = (encoder.rowSparseParameters + output.rowSparseParameters).filter { candidate in
                seen.insert(ObjectIdentifier(candidate)).inserted && holders.allSatisfy { holder in
                    !holder.all.contains { $0 === candidate } || holder.sparse.contains { $0 === candidate }
                }
            }
        }
    }

    /// Forgets the carried recurrent states (stream mode: at the start of an epoch or an evaluation).
    public func resetState() { stacks.forEach { $0.resetState() } }

    /// Readies the recurrent layers for forward passes only (`RecurrentLayer.prepareForInference`:
    /// weights laid out once for `variant`'s kernels, plain values released). The model
    /// can then neither train nor be saved or exported.
    public func prepareForInference(variant: KernelVariant = .selected) {
        for stack in stacks { for layer in stack.layers { layer.prepareForInference(variant: variant) } }
    }

    /// A copy of every stack's carried state.
    public func saveState() -> [[RecurrentState<T>]] { stacks.map { $0.saveState() } }

    public func restoreState(_ saved: [[RecurrentState<T>]]) {
        for (stack, state) in zip(stacks, saved) { stack.restoreState(state) }
    }

    /// The training step's loss and gradients (accumulated into `store.gradients`; zero
    /// them first), with the output layer's training loss (e.g. sampled).
    /// - Parameter targetCount: the targets the loss is a mean over; nil: those of `batches`.
    ///   A process of a data-parallel job (`Communicator`) gives the whole batch's, so that
    ///   the processes' gradients sum to the whole batch's.
    /// - Returns: the objective (mean NLL per target × `lossScale`) and each direction's loss.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @discardableResult
    public func trainingStep(_ batches: [SequenceBatch], carryState: Bool, lossScale: Double = 1, targetCount: Int? = nil,
                             context: StepContext, sampling: inout SeededGenerator) -> (objective: Double, directions: DirectionLosses) {
        run(batches, carryState: carryState, lossScale: lossScale, targetCount: targetCount, gradients: true, context: context,
            sampling: &sampling)
    }

    /// Each direction's loss under the full softmax, without gradients or dropout.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func evaluate(_ batches: [SequenceBatch], carryState: Bool, context: StepContext) -> DirectionLosses {
        var unused = SeededGenerator(seed: 0)
        return run(batches, carryState: carryState, lossScale: 1, targetCount: nil, gradients: false, context: context,
                   sampling: &unused).directions
    }

    /// What ELMo reads from a biLM: the token representations (rows = directions × N,
    /// forward batch first) and, per direction, the output of every layer (N, P) after
    /// its residual connection. Evaluation mode: no dropout; each call starts from a
    /// zero state unless `carryState`. The directions run at once on two threads, as in
    /// training. Views into `context.arena` and the directions' arenas, valid until the
    /// next call.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func representations(_ batches: [SequenceBatch], carryState: Bool = false,
                                context: StepContext) -> (tokens: Matrix<T>, layers: [[Matrix<T>]]) {
        precondition(batches.count == stacks.count, "\(configuration.direction) model takes \(stacks.count) batches, got \(batches.count)")
        let steps = batches[0].steps, b = batches[0].batchSize, n = steps * b
        let ids = context.arena.allocate(n * batches.count, of: Int32.self)
        for (d, batch) in batches.enumerated() { (ids + d * n).update(from: batch.inputs, count: n) }
        let tokens = encoder.forward(ids: ids, count: n * batches.count, context: context)
        let hidden = context.arena.matrix(n * batches.count, configuration.recurrent.outputSize, of: T.self)
        prepareDirectionContexts(from: context)
        forEachDirection(.forward(tokens: tokens, hidden: hidden, steps: steps, batchSize: b, carryState: carryState,
                                  context: context))
        return (tokens, stacks.map(\.layerOutputs))
    }

    private func run(_ batches: [SequenceBatch], carryState: Bool, lossScale: Double, targetCount: Int?, gradients: Bool,
                     context: StepContext, sampling: inout SeededGenerator) -> (objective: Double, directions: DirectionLosses) {
        precondition(batches.count == stacks.count, "\(configuration.direction) model takes \(stacks.count) batches, got \(batches.count)")
        let steps = batches[0].steps, b = batches[0].batchSize, n = steps * b
        precondition(batches.allSatisfy { $0.steps == steps && $0.batchSize == b }, "the directions' batches differ in shape")
        let arena = context.arena
        let rows = n * batches.count
        let ids = arena.allocate(rows, of: Int32.self)
        let targets = arena.allocate(rows, of: Int32.self)
        let weights = arena.allocate(rows, of: T.self)
        for (d, batch) in batches.enumerated() {
            (ids + d * n).update(from: batch.inputs, count: n)
            (targets + d * n).update(from: batch.targets, count: n)
            for i in 0..<n { weights[d * n + i] = batch.mask.map { T($0[i]) } ?? 1 }
        }
        context.profile?.start()
        // Encoder, once for every direction's tokens.
        let encoded = encoder.forward(ids: ids, count: rows, context: context)
        let tokens = tokenDropout.forward(encoded, ids: ids, vocabularySize: configuration.vocabularySize, context: context)
        context.profile?.charge(.encoder)
        // One stack per direction, outputs side by side.
        let p = configuration.recurrent.outputSize
        let hidden = arena.matrix(rows, p, of: T.self)
        prepareDirectionContexts(from: context)
        forEachDirection(.forward(tokens: tokens, hidden: hidden, steps: steps, batchSize: b, carryState: carryState,
                                  context: context))
        context.profile?.charge(.recurrent)
        // Loss.
        let rowLosses = arena.allocate(rows, of: T.self)
        let targetCount = targetCount ?? batches.reduce(0) { $0 + $1.targetCount }
        let scale = T(lossScale / Double(max(targetCount, 1)))
        let dHidden = output.loss(hidden, segments: batches.count, targets: targets, weights: weights,
                                  gradientScale: gradients ? scale : nil, rowLosses: rowLosses, context: context,
                                  sampling: &sampling).dh
        var directions = DirectionLosses(count: batches.count)
        for d in batches.indices {
            directions[d] = DirectionLoss(nll: (0..<n).reduce(0.0) { $0 + Double(weights[d * n + $1]) * Double(rowLosses[d * n + $1]) },
                                          tokens: batches[d].targetCount)
        }
        let objective = lossScale * directions.reduce(0) { $0 + $1.nll } / Double(max(targetCount, 1))
        context.profile?.charge(.output)
        guard let dHidden else { return (objective, directions) }
        // Backward.
        let dTokens = arena.matrix(rows, tokens.columns, of: T.self)
        forEachDirection(.backward(dHidden: dHidden, dTokens: dTokens, context: context))
        context.profile?.charge(.recurrent)
        encoder.backward(tokenDropout.backward(dTokens, context: context), context: context)
        context.profile?.charge(.encoder)
        return (objective, directions)
    }

    /// A bidirectional step's direction contexts: arenas reset, each direction's dropout
    /// stream seeded from the step's own.
    private func prepareDirectionContexts(from context: StepContext) {
        guard !directionContexts.isEmpty else { return }
        let step = SeededGenerator(seed: context.dropoutGenerator.next())
        for (d, directionContext) in directionContexts.enumerated() {
            directionContext.arena.reset()
            directionContext.training = context.training
            directionContext.batchInvariant = context.batchInvariant
            directionContext.liveRows = context.liveRows
            directionContext.batchShare = context.batchShare
            directionContext.dropoutGenerator = step.stream(d == 0 ? "forward" : "backward")
        }
    }

    /// One pass of the recurrent stacks, for every direction: direction d reads and
    /// writes rows d·N ..< (d+1)·N of the matrices.
    private enum Pass {
        case forward(tokens: Matrix<T>, hidden: Matrix<T>, steps: Int, batchSize: Int, carryState: Bool, context: StepContext)
        case backward(dHidden: Matrix<T>, dTokens: Matrix<T>, context: StepContext)
    }

    /// `pass` for every direction: both at once (one BLAS thread each, through
    /// `PairedWorker`) for a bidirectional model when BLAS has two threads or more, else
    /// in turn.
    private func forEachDirection(_ pass: Pass) {
        guard directionContexts.count == 2 else { return runDirection(0, pass) }
        let threads = BLAS.threads
        guard threads >= 2, PairedWorker.shared.acquire() else {
            runDirection(0, pass)
            runDirection(1, pass)
            return
        }
        // Made on first use, here: made in the generic initializer, the closure ran unspecialized.
        let directionPair = self.directionPair ?? PairedClosure { [unowned self] d in runDirection(d, pendingPass!) }
        self.directionPair = directionPair
        BLAS.threads = 1
        pendingPass = pass
        PairedWorker.shared.run(directionPair)
        pendingPass = nil
        BLAS.threads = threads
    }

    /// Direction d's part of `pass`, in its own context (the step's for a one-direction model).
    private func runDirection(_ d: Int, _ pass: Pass) {
        switch pass {
        case let .forward(tokens, hidden, steps, b, carryState, context):
            let n = steps * b
            let y = stacks[d].forward(tokens.rows(d * n ..< (d + 1) * n), steps: steps, batchSize: b,
                                      carryState: carryState, context: directionContexts.isEmpty ? context : directionContexts[d])
            hidden.row(d * n).update(from: y.base, count: y.count)
        case let .backward(dHidden, dTokens, context):
            let n = dHidden.rows / stacks.count
            let dx = stacks[d].backward(dHidden.rows(d * n ..< (d + 1) * n),
                                        context: directionContexts.isEmpty ? context : directionContexts[d])
            dTokens.row(d * n).update(from: dx.base, count: dx.count)
        }
    }
}
