/// A row-major, contiguous block of scalars that some owner (an `Arena`, a
/// `ParameterStore`, a test) keeps alive. A view: copying it never copies the data.
///
/// Shapes in doc comments use the fixed letters B (batch), T (timesteps), N (rows = T·B),
/// D (input), H (LSTM cell), P (projection), V (vocabulary), K (characters per token).
public struct Matrix<T: Scalar> {
    public let base: UnsafeMutablePointer<T>
    public let rows: Int
    public let columns: Int

    @inlinable
    @inline(__always)
    public init(base: UnsafeMutablePointer<T>, rows: Int, columns: Int) {
        precondition(rows >= 0 && columns >= 0, "negative matrix shape (\(rows), \(columns))")
        self.base = base
        self.rows = rows
        self.columns = columns
    }

    @inlinable @inline(__always) public var count: Int { rows * columns }

    /// Pointer to the first element of row `r`.
    @inlinable
    @inline(__always)
    public func row(_ r: Int) -> UnsafeMutablePointer<T> { base + r * columns }

    /// Rows `range` as a matrix view.
    @inlinable
    @inline(__always)
    public func rows(_ range: Range<Int>) -> Matrix<T> {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows,
                     "rows \(range) out of (\(rows), \(columns))")
        return Matrix(base: base + range.lowerBound * columns, rows: range.count, columns: columns)
    }

    @inlinable
    @inline(__always)
    public subscript(r: Int, c: Int) -> T {
        get { base[r * columns + c] }
        nonmutating set { base[r * columns + c] = newValue }
    }

    @inlinable
    public var buffer: UnsafeMutableBufferPointer<T> { UnsafeMutableBufferPointer(start: base, count: count) }

    /// The elements as an array (tests and reports; allocates).
    @inlinable
    public var array: [T] { Array(buffer) }
}
