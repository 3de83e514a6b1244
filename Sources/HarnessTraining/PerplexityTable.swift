import Foundation
import HarnessModel

/// The results table printed at the end of a run and by `harness eval`.
public func perplexityTable(_ perplexities: [String: SplitPerplexity]) -> String {
    func cell(_ x: Double?) -> String { x.map { String(format: "%9.2f", $0) } ?? String(repeating: " ", count: 8) + "-" }
    var lines = ["split      forward   backward       mean     tokens"]
    for split in ["valid", "test"] + perplexities.keys.filter({ $0 != "valid" && $0 != "test" }).sorted() {
        guard let p = perplexities[split] else { continue }
        lines.append(split.padding(toLength: 7, withPad: " ", startingAt: 0)
                     + "  \(cell(p.forward))  \(cell(p.backward))  \(cell(p.mean))  \(String(format: "%9d", p.tokens))")
    }
    lines.append("perplexity = " + Perplexity.definition)
    return lines.joined(separator: "\n")
}
