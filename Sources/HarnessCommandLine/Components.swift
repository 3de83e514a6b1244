import ArgumentParser
import Foundation
import HarnessSpec

struct Components: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List every component a spec can choose, with its keys and defaults.")

    @Flag(help: "Markdown tables instead of plain text.")
    var markdown = false

    func run() {
        for kind in Registries.catalog {
            print(markdown ? "## \(kind.kind) (`\(kind.where)`)\n" : "\(kind.kind)  (\(kind.where))")
            for entry in kind.entries {
                guard case .mapping(let keys) = entry.defaults else { continue }
                let fields = keys.filter { $0.key != "type" }
                if markdown {
                    print("### `\(entry.type)`\n\n\(entry.summary)\n")
                    if !fields.isEmpty {
                        print("| key | default | meaning |\n|---|---|---|")
                        for f in fields { print("| `\(f.key)` | `\(f.value.flow)` | \(f.doc.replacingOccurrences(of: "|", with: "\\|")) |") }
                    }
                    print("")
                } else {
                    print("  \(entry.type.padding(toLength: 16, withPad: " ", startingAt: 0)) \(entry.summary)")
                    for f in fields {
                        print("      \(f.key.padding(toLength: 20, withPad: " ", startingAt: 0)) \(f.value.flow.padding(toLength: 14, withPad: " ", startingAt: 0)) \(f.doc)")
                    }
                }
            }
            print("")
        }
    }
}
