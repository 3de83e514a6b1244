/// Scratch memory for one training or evaluation step: a bump allocator that hands out
/// views and is `reset()` when the step's activations are no longer needed.
///
/// The first steps grow it (new chunks as requests arrive); a reset that finds more than
/// one chunk merges them into a single chunk of the total size. From then on a step with
/// shapes no larger than those already seen allocates nothing.
public final class Arena {
    private struct Chunk {
        let base: UnsafeMutableRawPointer
        let capacity: Int
    }

    private static let alignment = 64
    private var chunks: [Chunk] = []
    private var current = 0
    private var used = 0

    /// Bytes allocated from the system so far (all chunks).
    public private(set) var capacity = 0

    public init(initialCapacity: Int = 1 << 20) {
        addChunk(bytes: initialCapacity)
    }

    deinit {
        for chunk in chunks { chunk.base.deallocate() }
    }

    /// Forgets every view handed out since the last reset.
    public func reset() {
        if chunks.count > 1 {
            let total = capacity
            for chunk in chunks { chunk.base.deallocate() }
            chunks.removeAll(keepingCapacity: true)
            capacity = 0
            addChunk(bytes: total)
        }
        current = 0
        used = 0
    }

    /// Uninitialised room for `count` values of `E`, 64-byte aligned.
    public func allocate<E>(_ count: Int, of _: E.Type = E.self) -> UnsafeMutablePointer<E> {
        let bytes = max(count * MemoryLayout<E>.stride, 1)
        let rounded = (bytes + Self.alignment - 1) / Self.alignment * Self.alignment
        while used + rounded > chunks[current].capacity {
            if current + 1 < chunks.count {
                current += 1
            } else {
                addChunk(bytes: max(rounded, capacity))
                current = chunks.count - 1
            }
            used = 0
        }
        let pointer = chunks[current].base + used
        used += rounded
        return pointer.bindMemory(to: E.self, capacity: count)
    }

    /// A (rows, columns) matrix; zero-filled when `zeroed`.
    public func matrix<T: Scalar>(_ rows: Int, _ columns: Int, zeroed: Bool = false, of _: T.Type = T.self) -> Matrix<T> {
        let pointer = allocate(rows * columns, of: T.self)
        if zeroed { pointer.initialize(repeating: 0, count: rows * columns) }
        return Matrix(base: pointer, rows: rows, columns: columns)
    }

    private func addChunk(bytes: Int) {
        let size = max(bytes, Self.alignment)
        chunks.append(Chunk(base: .allocate(byteCount: size, alignment: Self.alignment), capacity: size))
        capacity += size
    }
}
