import PackedKernels
import RealModule

/// Fused log-softmax + cross-entropy over the rows of a logits matrix.
///
/// For row r with logits z (length V) and target y:
///   loss_r = log Σ_j e^{z_j} − z_y            (nats)
/// and, when `gradientScale` is given, the row is overwritten in place by
///   ∂(scale_r · loss_r)/∂z = scale_r · (softmax(z) − onehot(y)).
/// Rows whose scale is 0 (padding) get loss 0 and a zero gradient.
///
/// - Parameters:
///   - logits: (N, V); replaced by the gradient when `gradientScale` is non-nil,
///     left holding e^{z - max} otherwise.
///   - targets: (N) class indices in 0..<V.
///   - weights: (N) 1 for a real target, 0 for padding; nil means all real.
///   - gradientScale: multiplier of each row's gradient (e.g. 1/number of targets).
///   - rowLosses: (N) receives loss_r (0 for padding rows).
///   - variant: the C kernels' variant for `Float` (default `KernelVariant.selected`).
/// - Returns: Σ_r weight_r · loss_r, summed in Double.
@discardableResult
@inlinable
public func softmaxCrossEntropy<T: Scalar>(
    logits: Matrix<T>, targets: UnsafePointer<Int32>, weights: UnsafePointer<T>?,
    gradientScale: T?, rowLosses: UnsafeMutablePointer<T>? = nil, variant: KernelVariant? = nil
) -> Double {
    /// m = max z and z ← e^{z − m} in place; (m, Σ e^{z − m}).
    func exponentiate(_ v: Int, _ z: UnsafeMutablePointer<T>) -> (T, T) {
        guard T.self == Float.self else { return softmaxExponentials(v, z) }
        var m: Float = 0
        let s = harness_softmax_exp_f32((variant ?? .selected).c, v, floats(z), &m)
        return (T(m), T(s))
    }

    let v = logits.columns
    var total = 0.0
    for r in 0..<logits.rows {
        let z = logits.row(r)
        let weight = weights?[r] ?? 1
        if weight == 0 {
            rowLosses?[r] = 0
            if gradientScale != nil { z.update(repeating: 0, count: v) }
            continue
        }
        let y = Int(targets[r])
        precondition(y >= 0 && y < v, "target \(y) outside the \(v) classes")
        let target = z[y]
        let (m, s) = exponentiate(v, z)
        let loss = T.log(s) + m - target
        rowLosses?[r] = loss
        total += Double(weight) * Double(loss)
        if let gradientScale {
            let rowScale = gradientScale * weight
            scale(v, rowScale / s, z)
            z[y] -= rowScale
        }
    }
    return total
}

/// One row of `softmaxCrossEntropy` in Swift SIMD: m = max z and z ← e^{z − m} in place;
/// returns (m, Σ e^{z − m}): 16-lane (Float) or 8-lane (Double) partial sums, then their
/// lanes in order, then the tail's. `harness_softmax_exp_f32` gives the same bits.
@inlinable
public func softmaxExponentials<T: Scalar>(_ v: Int, _ z: UnsafeMutablePointer<T>) -> (max: T, sum: T) {
    let w = T.Vector.scalarCount
    var maxVector = T.Vector(repeating: -T.greatestFiniteMagnitude)
    var j = 0
    while j + w <= v {
        maxVector = T.maximum(maxVector, z.vector(at: j))
        j += w
    }
    var m = maxVector.max()
    while j < v { m = max(m, z[j]); j += 1 }
    let shift = T.Vector(repeating: m)
    var sumVector = T.Vector(repeating: 0)
    j = 0
    while j + w <= v {
        let e = T.exp(z.vector(at: j) - shift)
        z.setVector(e, at: j)
        sumVector += e
        j += w
    }
    var s = sumVector.sum()
    if j < v {
        let e = T.exp(z.partialVector(at: j, count: v - j) - shift)
        z.setPartialVector(e, at: j, count: v - j)
        for lane in 0..<(v - j) { s += e[lane] }
    }
    return (m, s)
}
