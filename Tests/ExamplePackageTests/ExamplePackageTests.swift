import Foundation
import Testing

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The plug-in promise, from outside: `Examples/layer-norm-lstm`, its own package, depends
/// on this one by URL and version (a tagged clone of the committed HEAD, through a SwiftPM
/// mirror: `tools/test-example`), adds a recurrent component without touching the
/// harness's sources, and passes its own tests (gradient checks written with
/// `HarnessTestSupport`). SwiftPM refuses unsafe build flags in a versioned dependency,
/// so this also proves the libraries carry none.
struct ExamplePackageTests {
    @Test(.timeLimit(.minutes(30)))
    func layerNormLSTMExampleBuildsAgainstATaggedCloneAndPassesItsTests() throws {
        let process = Process()
        process.executableURL = packageRoot.appendingPathComponent("tools/test-example")
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "HARNESS_TARGET_CPU")
        process.environment = environment
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "tools/test-example failed:\n\(text.suffix(6000))")
        #expect(text.contains("example: lm-harness "), "\(text.suffix(2000))")
        // Swift Testing's summary of the example's own suite: four tests, none failed.
        #expect(text.contains("Test run with 4 tests") && text.contains("passed"), "\(text.suffix(3000))")
    }
}
