/// Reductions, accumulated in `Double` whatever the element type so that sums over
/// millions of values (losses, gradient norms) do not drift with the order of addition.

/// Σ x².
@inlinable
public func sumOfSquares<T: Scalar>(_ n: Int, _ x: UnsafePointer<T>) -> Double {
    var total = 0.0
    accumulateSumOfSquares(n, x, into: &total)
    return total
}

/// `total` += Σ x², block by block as `sumOfSquares` adds them: runs that start at
/// multiples of 1024 from one buffer's start, accumulated in order into one total, give
/// exactly `sumOfSquares` of the whole buffer when the values outside them are zero
/// (`ParameterStore.gradientNorm` over the gradient blocks a step wrote).
@inlinable
public func accumulateSumOfSquares<T: Scalar>(_ n: Int, _ x: UnsafePointer<T>, into total: inout Double) {
    let x = UnsafeMutablePointer(mutating: x)
    let w = T.Vector.scalarCount
    var i = 0
    // Vector partial sums in T over blocks of 1024, then into the Double total.
    while i < n {
        let end = min(i + 1024, n)
        var acc = T.Vector(repeating: 0)
        while i + w <= end { let v = x.vector(at: i); acc += v * v; i += w }
        var block = Double(acc.sum())
        while i < end { block += Double(x[i]) * Double(x[i]); i += 1 }
        total += block
    }
}

/// Σ x·y.
@inlinable
@inline(__always)
public func dot<T: Scalar>(_ n: Int, _ x: UnsafePointer<T>, _ y: UnsafePointer<T>) -> T {
    let x = UnsafeMutablePointer(mutating: x), y = UnsafeMutablePointer(mutating: y)
    let w = T.Vector.scalarCount
    var acc = T.Vector(repeating: 0)
    var i = 0
    while i + w <= n { acc += x.vector(at: i) * y.vector(at: i); i += w }
    var total = acc.sum()
    while i < n { total += x[i] * y[i]; i += 1 }
    return total
}
