/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast, seedable generator whose
/// sequence is fixed by its seed on every platform. Streams for different purposes are
/// derived by hashing the purpose's name, so that drawing dropout masks never moves the
/// initial weights, and so on.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    @inline(__always)
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [low, high).
    @inline(__always)
    public mutating func nextUniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * nextUnit()
    }

    /// An independent generator for `purpose`, fixed by this generator's seed state.
    public func stream(_ purpose: String) -> SeededGenerator {
        var mixer = SeededGenerator(seed: state ^ fnv1a(purpose))
        return SeededGenerator(seed: mixer.next())
    }
}

/// The run's generators, one per purpose, all derived from the run seed.
public struct RandomStreams: Sendable {
    public var initialization: SeededGenerator
    public var dropout: SeededGenerator
    public var data: SeededGenerator
    public var sampling: SeededGenerator

    public init(seed: UInt64) {
        let root = SeededGenerator(seed: seed)
        initialization = root.stream("init")
        dropout = root.stream("dropout")
        data = root.stream("data")
        sampling = root.stream("sampling")
    }
}

/// 64-bit FNV-1a of the UTF-8 bytes: a stable hash (unlike `hashValue`, which is seeded
/// per process). The one implementation: spec ids, random-stream names, checkpoint sums.
public func fnv1a(_ text: String) -> UInt64 { fnv1a(text.utf8) }

/// 64-bit FNV-1a of `bytes`.
public func fnv1a<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
    var hash = FNV1a()
    hash.combine(bytes)
    return hash.value
}

/// 64-bit FNV-1a fed in parts (a checkpoint read a block at a time): `value` after
/// combining a, then b equals `fnv1a(a + b)`.
public struct FNV1a {
    @usableFromInline var state: UInt64 = 0xCBF2_9CE4_8422_2325
    public var value: UInt64 { state }

    public init() {}

    @inlinable
    public mutating func combine<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        var hash = state
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01B3
        }
        state = hash
    }
}
