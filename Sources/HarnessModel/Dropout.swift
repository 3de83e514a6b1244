import HarnessKernels

/// Where a dropout acts in the network.
public enum DropoutSite: Sendable, Equatable {
    /// The input of every recurrent layer and the stack's output (one dropout per model).
    case layerInputs
    /// The token representations, by row.
    case tokens
    /// The recurrent weights W_h (implemented by the recurrent component, `supportsWeightDrop`).
    case recurrentWeights
}

/// One entry of a model's dropout list (`model.dropout: [{type: …, rate: …}]`): standard,
/// variational, word, embedding, weight-drop, or a researcher's own at one of the sites.
///
/// | type | site | mask |
/// |---|---|---|
/// | `standard` | inputs of every layer and the stack output | one value per element |
/// | `variational` | the same places (Gal & Ghahramani 2016; locked dropout) | one per (sequence, channel), shared over time |
/// | `word` | token representations | one per token position: drops whole timesteps |
/// | `embedding` | token representations, by word type (Merity et al. 2017, `dropoute`) | one per vocabulary entry |
/// | `weight-drop` | recurrent weights W_h (DropConnect, Wan et al. 2013) | one per weight, per step |
///
/// Kept units are scaled by 1/(1 − rate) ("inverted" dropout), so evaluation, which
/// applies no dropout at all, needs no rescaling. Masks come from the step's dropout stream.
public protocol DropoutComponent: SpecComponent {
    /// The probability of dropping, in [0, 1).
    var rate: Double { get }
    var site: DropoutSite { get }
    /// `.layerInputs`: whether the first recurrent layer's input (the token
    /// representations) is dropped too, or only the inputs of the layers above it and the
    /// stack's output. Default true.
    var dropsFirstLayerInput: Bool { get }
    /// `.layerInputs`: mask values for x (`rows` = T·B time-major, `columns`) with `batchSize`
    /// sequences: whole rows of `columns` values, row o·B + b for sequence b (R·columns for
    /// R = T·B per-position rows, or B·columns for one row per sequence), as
    /// `fillDropoutMask(_:rows:columns:batchSize:rate:context:)` draws them.
    func maskCount(rows: Int, columns: Int, batchSize: Int) -> Int
    /// `.layerInputs`: y = x with `mask` applied (the gradient goes through the same call).
    func apply<T: Scalar>(_ mask: UnsafePointer<T>, to x: Matrix<T>, into y: Matrix<T>, batchSize: Int)
    /// `.tokens`: multiplies each row's scale by this dropout's factor for token `ids[r]`,
    /// drawing its masks from `context.dropoutGenerator` (a mask over positions with
    /// `fillDropoutMask(_:rows:columns:batchSize:rate:context:)`, so that data-parallel
    /// processes draw the whole batch's).
    func scaleRows<T: Scalar>(_ scales: UnsafeMutablePointer<T>, ids: UnsafePointer<Int32>, count: Int, vocabularySize: Int,
                              context: StepContext)
    /// Value equality across conforming types (specs and configurations compare them).
    func isEqual(to other: any DropoutComponent) -> Bool
}

extension DropoutComponent {
    public var dropsFirstLayerInput: Bool { true }
    public func maskCount(rows: Int, columns: Int, batchSize: Int) -> Int { rows * columns }
    public func apply<T: Scalar>(_ mask: UnsafePointer<T>, to x: Matrix<T>, into y: Matrix<T>, batchSize: Int) {
        preconditionFailure("\(type) dropout does not act on layer inputs")
    }
    public func scaleRows<T: Scalar>(_ scales: UnsafeMutablePointer<T>, ids: UnsafePointer<Int32>, count: Int, vocabularySize: Int,
                                     context: StepContext) {
        preconditionFailure("\(type) dropout does not act on token representations")
    }
}

extension DropoutComponent where Self: Equatable {
    public func isEqual(to other: any DropoutComponent) -> Bool { (other as? Self) == self }
}

extension Array where Element == any DropoutComponent {
    /// The entry acting at `site`, if any (the spec allows one per site but for tokens).
    public func first(at site: DropoutSite) -> (any DropoutComponent)? { first { $0.site == site } }

    /// Element-wise value equality.
    public func isEqual(to other: [any DropoutComponent]) -> Bool {
        count == other.count && zip(self, other).allSatisfy { $0.isEqual(to: $1) }
    }
}

/// `standard`: one mask value per element of every layer's input and the stack's output.
/// With `dropsFirstLayerInput` false, not the first layer's input: Kim et al. 2016
/// (yoonkim/lstm-char-cnn, LSTMTDNN.lua) and PyTorch's `nn.LSTM(dropout:)` drop only
/// between layers (and Kim before the softmax); Zaremba et al. 2014 drop the embedding too.
public struct StandardDropout: DropoutComponent, Equatable {
    public var rate: Double
    public var dropsFirstLayerInput: Bool
    public init(rate: Double, dropsFirstLayerInput: Bool = true) {
        precondition(rate >= 0 && rate < 1, "dropout rate \(rate) outside [0, 1)")
        self.rate = rate
        self.dropsFirstLayerInput = dropsFirstLayerInput
    }
    public var type: String { "standard" }
    public var site: DropoutSite { .layerInputs }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func apply<T: Scalar>(_ mask: UnsafePointer<T>, to x: Matrix<T>, into y: Matrix<T>, batchSize: Int) {
        multiply(x.count, x.base, mask, into: y.base)
    }
}

/// `variational`: at the same places, one mask per (sequence, channel) shared over time
/// (Gal & Ghahramani 2016).
public struct VariationalDropout: DropoutComponent, Equatable {
    public var rate: Double
    public var dropsFirstLayerInput: Bool
    public init(rate: Double, dropsFirstLayerInput: Bool = true) {
        precondition(rate >= 0 && rate < 1, "dropout rate \(rate) outside [0, 1)")
        self.rate = rate
        self.dropsFirstLayerInput = dropsFirstLayerInput
    }
    public var type: String { "variational" }
    public var site: DropoutSite { .layerInputs }
    public func maskCount(rows: Int, columns: Int, batchSize: Int) -> Int { batchSize * columns }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func apply<T: Scalar>(_ mask: UnsafePointer<T>, to x: Matrix<T>, into y: Matrix<T>, batchSize: Int) {
        let d = x.columns
        for r in 0..<x.rows { multiply(d, x.row(r), mask + (r % batchSize) * d, into: y.row(r)) }
    }
}

/// `word`: whole token positions of the token representations.
public struct WordDropout: DropoutComponent, Equatable {
    public var rate: Double
    public init(rate: Double) { precondition(rate >= 0 && rate < 1, "dropout rate \(rate) outside [0, 1)"); self.rate = rate }
    public var type: String { "word" }
    public var site: DropoutSite { .tokens }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func scaleRows<T: Scalar>(_ scales: UnsafeMutablePointer<T>, ids: UnsafePointer<Int32>, count n: Int, vocabularySize: Int,
                                     context: StepContext) {
        let positionMask = context.arena.allocate(n, of: T.self)
        fillDropoutMask(positionMask, rows: n, columns: 1, batchSize: context.batchShare?.rows.count ?? n, rate: rate, context: context)
        multiply(n, scales, positionMask, into: scales)
    }
}

/// `embedding`: whole word types of the token representations: every occurrence of a
/// dropped type in the step is zeroed (Merity et al. 2017, AWD-LSTM's `dropoute`).
public struct EmbeddingDropout: DropoutComponent, Equatable {
    public var rate: Double
    public init(rate: Double) { precondition(rate >= 0 && rate < 1, "dropout rate \(rate) outside [0, 1)"); self.rate = rate }
    public var type: String { "embedding" }
    public var site: DropoutSite { .tokens }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func scaleRows<T: Scalar>(_ scales: UnsafeMutablePointer<T>, ids: UnsafePointer<Int32>, count n: Int, vocabularySize: Int,
                                     context: StepContext) {
        let typeMask = context.arena.allocate(vocabularySize, of: T.self)
        fillDropoutMask(typeMask, count: vocabularySize, rate: rate, generator: &context.dropoutGenerator)
        for r in 0..<n { scales[r] *= typeMask[Int(ids[r])] }
    }
}

/// `weight-drop`: DropConnect on the recurrent weights W_h (Wan et al. 2013; AWD-LSTM),
/// applied by recurrent components that support it.
public struct WeightDrop: DropoutComponent, Equatable {
    public var rate: Double
    public init(rate: Double) { precondition(rate >= 0 && rate < 1, "dropout rate \(rate) outside [0, 1)"); self.rate = rate }
    public var type: String { "weight-drop" }
    public var site: DropoutSite { .recurrentWeights }
}

/// Fills `mask` with 0 (probability `rate`) or 1/(1 − rate).
public func fillDropoutMask<T: Scalar>(_ mask: UnsafeMutablePointer<T>, count: Int, rate: Double,
                                       generator: inout SeededGenerator) {
    let keep = T(1 / (1 - rate))
    for i in 0..<count { mask[i] = generator.nextUnit() < rate ? 0 : keep }
}

/// `fillDropoutMask` for a mask of batch rows — row o·B + b of `columns` values for
/// sequence b, B = `batchSize`, as time-major activations (o a timestep) or a variational
/// mask (one row per sequence) have them. Under `context.batchShare` it draws the whole
/// batch's mask, in the order one process draws it, and keeps this process's rows.
public func fillDropoutMask<T: Scalar>(_ mask: UnsafeMutablePointer<T>, rows: Int, columns: Int, batchSize: Int, rate: Double,
                                       context: StepContext) {
    guard let share = context.batchShare, share.batchSize != batchSize else {
        fillDropoutMask(mask, count: rows * columns, rate: rate, generator: &context.dropoutGenerator)
        return
    }
    precondition(share.rows.count == batchSize && rows % batchSize == 0, "a batch share of \(share.rows) does not match \(rows) rows of \(batchSize)")
    let keep = T(1 / (1 - rate))
    for outer in 0 ..< rows / batchSize {
        for sequence in 0 ..< share.batchSize {
            let local = sequence - share.rows.lowerBound
            let row = share.rows.contains(sequence) ? mask + (outer * batchSize + local) * columns : nil
            for c in 0 ..< columns {
                let drop = context.dropoutGenerator.nextUnit() < rate
                row?[c] = drop ? 0 : keep
            }
        }
    }
}

/// The layer-input dropout of a recurrent stack at one place (time-major activations,
/// N = T·B rows, row t·B + b). Off outside training.
public final class ActivationDropout<T: Scalar> {
    public let component: any DropoutComponent
    private var mask: UnsafeMutablePointer<T>?
    private var batchSize = 1

    public init(_ component: any DropoutComponent) {
        precondition(component.site == .layerInputs, "\(component.type) dropout does not act on activations")
        self.component = component
    }

    /// x (N, D) with B sequences → dropped copy, or x itself when inactive.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func forward(_ x: Matrix<T>, batchSize: Int, context: StepContext) -> Matrix<T> {
        guard context.training, component.rate > 0 else { mask = nil; return x }
        self.batchSize = batchSize
        let maskCount = component.maskCount(rows: x.rows, columns: x.columns, batchSize: batchSize)
        precondition(maskCount % max(x.columns, 1) == 0 && (maskCount / max(x.columns, 1)) % batchSize == 0,
                     "\(component.type) dropout's mask of \(maskCount) values is not whole rows of \(x.columns) for \(batchSize) sequences")
        let m = context.arena.allocate(maskCount, of: T.self)
        fillDropoutMask(m, rows: maskCount / x.columns, columns: x.columns, batchSize: batchSize, rate: component.rate, context: context)
        mask = m
        return apply(m, to: x, context: context)
    }

    /// dy → dx: the same mask applied to the gradient.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func backward(_ dy: Matrix<T>, context: StepContext) -> Matrix<T> {
        guard let mask else { return dy }
        return apply(mask, to: dy, context: context)
    }

    private func apply(_ m: UnsafeMutablePointer<T>, to x: Matrix<T>, context: StepContext) -> Matrix<T> {
        let y = context.arena.matrix(x.rows, x.columns, of: T.self)
        component.apply(UnsafePointer(m), to: x, into: y, batchSize: batchSize)
        return y
    }
}
