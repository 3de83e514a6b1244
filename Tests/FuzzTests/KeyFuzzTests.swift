import Foundation
import HarnessReports
import HarnessSpec
import Testing

/// Every key of every shipped spec, and every dotted path of every shipped sweep,
/// misspelt one at a time: each must be refused as an unknown key, never dropped
/// (section-level keys once were: `training.max_token` trained without a budget).
struct KeyFuzzTests {
    @Test func everyMisspeltSpecKeyIsAnError() throws {
        var variants = 0
        for seed in ["experiments/char-2layer.yaml", "experiments/smoke.yaml", "references/base.yaml", "references/sentences.yaml"] {
            let spec = try SpecLoader.load(file: packageRoot.appendingPathComponent(seed).path)
            let lines = spec.resolved.yaml().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for (index, line) in lines.enumerated() {
                guard let match = line.firstMatch(of: try Regex(#"^(\s*)([a-z_0-9]+):"#)),
                      let key = match.output[2].substring.map(String.init) else { continue }
                var edited = lines
                edited[index] = line.replacingOccurrences(of: key + ":", with: key + "x:")
                variants += 1
                do {
                    _ = try SpecLoader.parse(edited.joined(separator: "\n"), file: "s.yaml")
                    Issue.record("\(seed): \(key)x accepted")
                } catch let errors as SpecErrors {
                    #expect(errors.errors.contains { $0.message.hasPrefix("unknown key '\(key)x' in '") }, "\(seed) \(key)x: \(errors)")
                }
            }
        }
        #expect(variants > 150)
    }

    @Test func everyMisspeltSweepPathIsAnError() throws {
        let folder = packageRoot.appendingPathComponent("experiments/sweeps").path
        var variants = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: folder).filter({ $0.hasSuffix(".yaml") }).sorted() {
            let path = "\(folder)/\(file)"
            let sweep = try SweepSpec.load(file: path)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            for axis in sweep.set + sweep.grid + sweep.zip where axis.path.contains(".") {
                let segments = axis.path.split(separator: ".").map(String.init)
                for i in segments.indices {
                    var misspelt = segments
                    misspelt[i] += "x"
                    let edited = text.replacingOccurrences(of: axis.path + ":", with: misspelt.joined(separator: ".") + ":")
                    let parsed = try SweepSpec.parse(edited, file: path)
                    variants += 1
                    do {
                        _ = try parsed.expand()
                        Issue.record("\(file): \(misspelt.joined(separator: ".")) accepted")
                    } catch let errors as SpecErrors {
                        #expect(errors.errors.contains { $0.message.hasPrefix("unknown key '\(misspelt[i])' in '") && $0.location.file == path },
                                "\(file): \(errors)")
                    }
                }
            }
        }
        #expect(variants >= 5)
    }
}
