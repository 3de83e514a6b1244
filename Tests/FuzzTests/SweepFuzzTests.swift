import Foundation
import HarnessReports
import HarnessSpec
import Testing

/// The sweep reader over mutated sweep files (their `base:` made absolute so that the
/// points expand): it never crashes, and every error points inside the sweep file or
/// names the point spec it comes from.
struct SweepFuzzTests {
    static func seeds() throws -> [[UInt8]] {
        let folder = packageRoot.appendingPathComponent("experiments/sweeps").path
        return try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }.sorted().map { file in
            let text = try String(contentsOfFile: "\(folder)/\(file)", encoding: .utf8)
                .replacingOccurrences(of: "base: ../", with: "base: \(packageRoot.path)/experiments/")
            return Array(text.utf8)
        }
    }

    @Test func mutatedSweepsGetLocatedErrorsOrExpand() throws {
        var expanded = 0, messages = 0
        let seeds = try Self.seeds()
        let tried = FuzzBudget.run("sweep", seeds: seeds) { bytes, input in
            let lines = SpecError.lines(of: String(decoding: bytes, as: UTF8.self)).count
            do {
                let sweep = try SweepSpec.load(file: input)
                _ = try sweep.expand()
                expanded += 1
            } catch let errors as SpecErrors {
                for error in errors.errors where error.location.file == input {
                    #expect(error.location.line >= 1 && error.location.line <= lines + 1 && error.location.column >= 1,
                            "\(error) outside the file's \(lines) lines")
                }
                messages += errors.errors.count
                _ = errors.description
            } catch {
                Issue.record("\(input): not a located spec error: \(error)")
            }
        }
        print("sweep fuzz: \(tried) inputs, \(expanded) expanded, \(messages) errors (seed \(FuzzBudget.seed), \(FuzzBudget.seconds) s)")
        #expect(tried > 20 && expanded > 0)
    }
}
