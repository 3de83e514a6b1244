import Foundation
import HarnessSpec
import Testing

/// The spec loader over mutated specs: it never crashes, every error points inside the
/// file, and every spec it accepts reads back from its resolved form with the same id.
struct SpecFuzzTests {
    static func seeds() throws -> [[UInt8]] {
        var files: [String] = []
        for folder in ["experiments", "experiments/sweeps", "references", "docs/examples"] {
            let path = packageRoot.appendingPathComponent(folder).path
            files += try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".yaml") }.map { "\(path)/\($0)" }
        }
        return try files.sorted().map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0))) }
    }

    @Test func mutatedSpecsGetLocatedErrorsOrRoundTrip() throws {
        var accepted = 0, messages = 0
        let tried = try FuzzBudget.run("spec", seeds: try Self.seeds()) { bytes, input in
            let lines = SpecError.lines(of: String(decoding: bytes, as: UTF8.self)).count
            do {
                let spec = try SpecLoader.load(file: input)
                accepted += 1
                let again = try SpecLoader.parse(spec.resolved.yaml(), file: "resolved.yaml")
                #expect(again.hash == spec.hash, "resolved form of \(input) reads back differently")
            } catch let errors as SpecErrors {
                for error in errors.errors {
                    #expect(error.location.line >= 1 && error.location.line <= lines + 1 && error.location.column >= 1,
                            "\(error) outside the file's \(lines) lines")
                }
                messages += errors.errors.count
                _ = errors.description
            }
        }
        print("spec fuzz: \(tried) inputs, \(accepted) accepted, \(messages) errors located (seed \(FuzzBudget.seed), \(FuzzBudget.seconds) s)")
        #expect(tried > 100 && accepted > 0)
    }
}
