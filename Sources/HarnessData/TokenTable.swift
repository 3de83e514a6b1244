import Foundation

/// Token bytes → dense ids in order of first appearance, with a count per id: the one
/// structure the first pass over a corpus builds (`CorpusScanner`).
///
/// An open-addressing hash table over the tokens' UTF-8 bytes (FNV-1a, linear probing),
/// so that a token costs one hash and, mostly, one cache line: a slot holds the first 8
/// bytes, the length and part of the hash, so a token of at most 8 bytes (most words)
/// is matched in its slot; a longer one is then compared in full. Making a `String` per
/// token held the first pass to ~25 MB/s; keeping only the entry index in the slot cost
/// three dependent cache misses per token. Tokens compare by bytes, as `TokenKey` does.
struct TokenTable {
    private struct Slot {
        /// The token's first 8 bytes, little-endian, zero-padded.
        var prefix: UInt64 = 0
        /// Entry index + 1; 0 for an empty slot.
        var entry: UInt32 = 0
        /// The length (saturated at 255) in the low byte, hash bits above.
        var check: UInt32 = 0
        /// The entry's count, kept here for the cache line the lookup already holds.
        var count: Int = 0
    }

    /// Every entry's bytes, back to back; entry i is `bytes[starts[i] ..< starts[i + 1]]`.
    private var bytes: [UInt8] = []
    private var starts: [Int] = [0]
    private var hashes: [UInt64] = []
    private(set) var count = 0
    /// A power-of-two count, at most half full: a buffer of `storage`, for access without
    /// the checks of an array's (the hot loop) and without a class's dynamic exclusivity checks.
    private var storage = SlotStorage(count: 1 << 16)
    private var slots: UnsafeMutableBufferPointer<Slot>

    init() { slots = storage.slots }

    /// Owns the slots' memory.
    private final class SlotStorage {
        let slots: UnsafeMutableBufferPointer<Slot>

        init(count: Int) {
            slots = .allocate(capacity: count)
            slots.initialize(repeating: Slot())
        }

        deinit { slots.deallocate() }
    }

    /// How often each entry was looked up, by entry.
    var counts: [Int] {
        var counts = [Int](repeating: 0, count: count)
        for slot in slots where slot.entry != 0 { counts[Int(slot.entry) - 1] = slot.count }
        return counts
    }

    /// The bytes of entry `id` as a `String`.
    func token(_ id: Int) -> String {
        bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[starts[id] ..< starts[id + 1]]), as: UTF8.self) }
    }

    /// The id of the token `token` (added with count 0 if new), its count raised by one.
    @inline(__always)
    mutating func countOccurrence(_ token: UnsafeBufferPointer<UInt8>) -> Int32 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325, prefix: UInt64 = 0
        for (i, byte) in token.enumerated() {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            if i < 8 { prefix |= UInt64(byte) << (8 * UInt64(i)) }
        }
        let check = UInt32(truncatingIfNeeded: hash >> 32) << 8 | UInt32(min(token.count, 255))
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
        while slots[slot].entry != 0 {
            if slots[slot].check == check && slots[slot].prefix == prefix {
                let entry = Int(slots[slot].entry) - 1
                if token.count <= 8 || matches(entry, token) {
                    slots[slot].count += 1
                    return Int32(entry)
                }
            }
            slot = (slot + 1) & mask
        }
        let id = count
        slots[slot] = Slot(prefix: prefix, entry: UInt32(id + 1), check: check, count: 1)
        bytes.append(contentsOf: token)
        starts.append(bytes.count)
        hashes.append(hash)
        count += 1
        if count * 2 > slots.count { grow() }
        return Int32(id)
    }

    @inline(__always)
    private func matches(_ entry: Int, _ token: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = starts[entry], length = starts[entry + 1] - start
        guard length == token.count else { return false }
        return bytes.withUnsafeBufferPointer { stored in memcmp(stored.baseAddress! + start, token.baseAddress!, length) == 0 }
    }

    private mutating func grow() {
        let old = storage
        storage = SlotStorage(count: old.slots.count * 2)
        slots = storage.slots
        let mask = slots.count - 1
        withExtendedLifetime(old) {
            for entry in old.slots where entry.entry != 0 {
                let hash = hashes[Int(entry.entry) - 1]
                var slot = Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
                while slots[slot].entry != 0 { slot = (slot + 1) & mask }
                slots[slot] = entry
            }
        }
    }
}
