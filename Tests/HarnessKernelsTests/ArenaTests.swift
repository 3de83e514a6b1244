import HarnessKernels
import Testing

struct ArenaTests {
    @Test func stopsGrowingAfterWarmUp() {
        let arena = Arena(initialCapacity: 1024)
        func step() {
            arena.reset()
            for size in [100, 5000, 70, 20000] { _ = arena.matrix(size, 3, of: Float.self) }
        }
        step()
        step()
        let settled = arena.capacity
        for _ in 0..<10 { step() }
        #expect(arena.capacity == settled)
    }

    @Test func viewsAreAlignedAndDisjoint() {
        let arena = Arena(initialCapacity: 256)
        let a = arena.matrix(3, 5, of: Double.self), b = arena.matrix(40, 40, of: Double.self)
        #expect(Int(bitPattern: a.base) % 64 == 0 && Int(bitPattern: b.base) % 64 == 0)
        a.base.update(repeating: 1, count: a.count)
        b.base.update(repeating: 2, count: b.count)
        #expect(a.array.allSatisfy { $0 == 1 })
    }
}
