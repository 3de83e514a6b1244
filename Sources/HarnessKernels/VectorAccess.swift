/// Unaligned SIMD loads and stores on scalar pointers, and the partial forms for the
/// tail of a row that is not a whole number of vectors.
extension UnsafeMutablePointer where Pointee: Scalar {
    @inlinable
    @inline(__always)
    public func vector(at offset: Int) -> Pointee.Vector {
        UnsafeRawPointer(self + offset).loadUnaligned(as: Pointee.Vector.self)
    }

    @inlinable
    @inline(__always)
    public func setVector(_ value: Pointee.Vector, at offset: Int) {
        UnsafeMutableRawPointer(self + offset).storeBytes(of: value, as: Pointee.Vector.self)
    }

    /// Lanes `0..<count` from memory, the rest `fill`.
    @inlinable
    @inline(__always)
    public func partialVector(at offset: Int, count: Int, fill: Pointee = 0) -> Pointee.Vector {
        var v = Pointee.Vector(repeating: fill)
        for lane in 0..<count { v[lane] = self[offset + lane] }
        return v
    }

    /// Stores lanes `0..<count` of `value`.
    @inlinable
    @inline(__always)
    public func setPartialVector(_ value: Pointee.Vector, at offset: Int, count: Int) {
        for lane in 0..<count { self[offset + lane] = value[lane] }
    }

    /// A whole vector when `lanes` is the vector width, else the partial form: the load
    /// of a row's SIMD loop whose last vector may be short.
    @inlinable
    @inline(__always)
    public func vector(at offset: Int, lanes: Int) -> Pointee.Vector {
        lanes == Pointee.Vector.scalarCount ? vector(at: offset) : partialVector(at: offset, count: lanes)
    }

    /// The store matching `vector(at:lanes:)`.
    @inlinable
    @inline(__always)
    public func setVector(_ value: Pointee.Vector, at offset: Int, lanes: Int) {
        if lanes == Pointee.Vector.scalarCount { setVector(value, at: offset) } else { setPartialVector(value, at: offset, count: lanes) }
    }
}

/// `p` as a Float pointer, for the C kernels, where the caller has checked that T is Float.
@inlinable
@inline(__always)
func floats<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> { UnsafeRawPointer(p).assumingMemoryBound(to: Float.self) }

@inlinable
@inline(__always)
func floats<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
}
