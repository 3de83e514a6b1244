import PackedKernels

/// Elementwise and row-wise kernels on raw buffers. Each is a direct loop over SIMD
/// vectors with a scalar tail, so that it vectorises whatever the element type.

/// y ← y + alpha · x  (n elements).
@inlinable
@inline(__always)
public func axpy<T: Scalar>(_ n: Int, _ alpha: T, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>) {
    let x = UnsafeMutablePointer(mutating: x)
    let w = T.Vector.scalarCount
    var i = 0
    while i + w <= n {
        y.setVector(y.vector(at: i) + alpha * x.vector(at: i), at: i)
        i += w
    }
    while i < n { y[i] += alpha * x[i]; i += 1 }
}

/// x ← alpha · x.
@inlinable
@inline(__always)
public func scale<T: Scalar>(_ n: Int, _ alpha: T, _ x: UnsafeMutablePointer<T>) {
    let w = T.Vector.scalarCount
    var i = 0
    while i + w <= n { x.setVector(alpha * x.vector(at: i), at: i); i += w }
    while i < n { x[i] *= alpha; i += 1 }
}

/// z ← x ⊙ y (z may alias x or y).
@inlinable
@inline(__always)
public func multiply<T: Scalar>(_ n: Int, _ x: UnsafePointer<T>, _ y: UnsafePointer<T>, into z: UnsafeMutablePointer<T>) {
    let x = UnsafeMutablePointer(mutating: x), y = UnsafeMutablePointer(mutating: y)
    let w = T.Vector.scalarCount
    var i = 0
    while i + w <= n { z.setVector(x.vector(at: i) * y.vector(at: i), at: i); i += w }
    while i < n { z[i] = x[i] * y[i]; i += 1 }
}

/// Every row of `m` gets `vector` (length m.columns) added.
@inlinable
public func addRowVector<T: Scalar>(_ vector: UnsafePointer<T>, to m: Matrix<T>) {
    for r in 0..<m.rows { axpy(m.columns, 1, vector, m.row(r)) }
}

/// `sums` (length m.columns) += the sum of the rows of `m` (a bias gradient).
@inlinable
public func accumulateColumnSums<T: Scalar>(of m: Matrix<T>, into sums: UnsafeMutablePointer<T>) {
    for r in 0..<m.rows { axpy(m.columns, 1, m.row(r), sums) }
}

/// x ← clamp(x, -limit, limit).
@inlinable
@inline(__always)
public func clamp<T: Scalar>(_ n: Int, _ x: UnsafeMutablePointer<T>, limit: T) {
    let w = T.Vector.scalarCount
    var i = 0
    while i + w <= n { x.setVector(T.clamp(x.vector(at: i), limit: limit), at: i); i += w }
    while i < n { x[i] = min(max(x[i], -limit), limit); i += 1 }
}

/// dx ← dx where |x| ≤ limit, else 0: the gradient of `clamp` (zero where it clamped).
@inlinable
@inline(__always)
public func maskClamped<T: Scalar>(_ n: Int, gradient dx: UnsafeMutablePointer<T>, unclamped x: UnsafePointer<T>, limit: T) {
    let x = UnsafeMutablePointer(mutating: x)
    let w = T.Vector.scalarCount
    var i = 0
    while i + w <= n {
        dx.setVector(T.zeroWhereClamped(dx.vector(at: i), input: x.vector(at: i), limit: limit), at: i)
        i += w
    }
    while i < n { if x[i] > limit || x[i] < -limit { dx[i] = 0 }; i += 1 }
}

/// In place x ← σ(x): the C kernels of `variant` (default `KernelVariant.selected`) for
/// `Float`, Swift SIMD otherwise (the same bits).
@inlinable
@inline(__always)
public func sigmoidInPlace<T: Scalar>(_ n: Int, _ x: UnsafeMutablePointer<T>, variant: KernelVariant? = nil) {
    if T.self == Float.self { harness_sigmoid_f32((variant ?? .selected).c, n, floats(x)); return }
    let w = T.Vector.scalarCount
    var i = 0
    while i + w <= n { x.setVector(T.sigmoid(x.vector(at: i)), at: i); i += w }
    if i < n { x.setPartialVector(T.sigmoid(x.partialVector(at: i, count: n - i)), at: i, count: n - i) }
}

/// In place x ← tanh(x), as `sigmoidInPlace` chooses its kernels.
@inlinable
@inline(__always)
public func tanhInPlace<T: Scalar>(_ n: Int, _ x: UnsafeMutablePointer<T>, variant: KernelVariant? = nil) {
    if T.self == Float.self { harness_tanh_f32((variant ?? .selected).c, n, floats(x)); return }
    let w = T.Vector.scalarCount
    var i = 0
    while i + w <= n { x.setVector(T.tanh(x.vector(at: i)), at: i); i += w }
    if i < n { x.setPartialVector(T.tanh(x.partialVector(at: i, count: n - i)), at: i, count: n - i) }
}
