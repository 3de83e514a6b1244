import HarnessKernels
import HarnessModel

/// Central-difference gradient checks in Double.
///
/// Tolerance policy: an analytic derivative a passes against the numeric n when
/// |a − n| ≤ 1e-6 · max(|a|, |n|) + 1e-9, i.e. a relative error of at most 1e-6, with an
/// absolute floor of 1e-9 for derivatives that are (nearly) zero, where the central
/// difference (step 1e-5) is dominated by its own rounding (~1e-10 for losses of order 1).
public struct GradientCheck {
    public struct Failure: CustomStringConvertible {
        public var name: String, index: Int, analytic: Double, numeric: Double
        public var description: String { "\(name)[\(index)]: analytic \(analytic), numeric \(numeric)" }
    }

    public static let relativeTolerance = 1e-6
    public static let absoluteFloor = 1e-9
    public static let step = 1e-5

    /// Worst |a − n| / (tolerance) over the checked elements; ≤ 1 passes.
    public private(set) var worstRatio = 0.0
    public private(set) var failures: [Failure] = []
    public private(set) var checked = 0

    /// Checks the derivative of `loss` with respect to `count` values at `values` against
    /// `analytic`. At most `limit` elements are checked (the nonzero ones first, then a
    /// seeded sample of the rest).
    public mutating func check(_ name: String, values: UnsafeMutablePointer<Double>, analytic: [Double],
                        limit: Int = 400, loss: () -> Double) {
        var indices = analytic.indices.filter { analytic[$0] != 0 }
        let zeros = analytic.indices.filter { analytic[$0] == 0 }
        var generator = SeededGenerator(seed: fnv1a(name))
        indices = indices.count > limit ? sample(indices, limit, &generator) : indices
        indices += sample(zeros, min(zeros.count, max(limit / 4, limit - indices.count)), &generator)
        for i in indices {
            let saved = values[i]
            values[i] = saved + Self.step
            let up = loss()
            values[i] = saved - Self.step
            let down = loss()
            values[i] = saved
            let numeric = (up - down) / (2 * Self.step)
            let a = analytic[i]
            let ratio = abs(a - numeric) / (Self.relativeTolerance * max(abs(a), abs(numeric)) + Self.absoluteFloor)
            worstRatio = max(worstRatio, ratio)
            checked += 1
            if ratio > 1 { failures.append(Failure(name: name, index: i, analytic: a, numeric: numeric)) }
        }
    }

    /// Checks every parameter of `store`. `backward` must zero the gradients, run forward
    /// and backward, and leave the gradients in the store.
    public mutating func checkParameters(_ store: ParameterStore<Double>, backward: () -> Void, loss: () -> Double) {
        backward()
        let analytic = store.parameters.map { $0.gradient.array }
        for (p, gradient) in zip(store.parameters, analytic) {
            check(p.name, values: p.value.base, analytic: gradient, loss: loss)
        }
    }

    public var summary: String {
        "checked \(checked), worst ratio to tolerance \(worstRatio); failures: \(failures.prefix(5))"
    }

    public init() {}

    private func sample(_ xs: [Int], _ k: Int, _ g: inout SeededGenerator) -> [Int] {
        var xs = xs
        for i in 0..<min(k, xs.count) { xs.swapAt(i, i + Int(g.next() % UInt64(xs.count - i))) }
        return Array(xs.prefix(k))
    }
}

/// Σ y ⊙ r: the scalar loss through which a component's output is checked.
public func projected(_ y: Matrix<Double>, _ r: Matrix<Double>) -> Double {
    precondition(y.count == r.count)
    return (0..<y.count).reduce(0.0) { $0 + y.base[$1] * r.base[$1] }
}

/// A matrix in `arena` filled with U(-scale, scale).
public func randomMatrix<T: Scalar>(_ rows: Int, _ columns: Int, scale: Double = 1, seed: UInt64, in arena: Arena) -> Matrix<T> {
    var g = SeededGenerator(seed: seed)
    let m = arena.matrix(rows, columns, of: T.self)
    for i in 0..<m.count { m.base[i] = T(g.nextUniform(-scale, scale)) }
    return m
}

/// A copy of `m` in `arena` (the backward passes may write into their upstream gradient).
public func copy(_ m: Matrix<Double>, in arena: Arena) -> Matrix<Double> {
    let c = arena.matrix(m.rows, m.columns, of: Double.self)
    c.base.update(from: m.base, count: m.count)
    return c
}
