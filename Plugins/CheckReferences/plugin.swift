import Foundation
import PackagePlugin

/// `swift package --allow-writing-to-package-directory check-references [--update] [--only a,b]`:
/// builds `harness` (release) and runs `harness check references` with the arguments.
/// A thin shim: everything happens in the executable.
@main
struct CheckReferences: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        let build = try packageManager.build(.product("harness"), parameters: .init(configuration: .release, logging: .concise))
        guard build.succeeded, let harness = build.builtArtifacts.first(where: { $0.kind == .executable && $0.url.lastPathComponent == "harness" }) else {
            Diagnostics.error("building harness failed:\n\(build.logText)")
            return
        }
        let process = Process()
        process.executableURL = harness.url
        process.arguments = ["check", context.package.directoryURL.appendingPathComponent("references").path] + arguments
        process.currentDirectoryURL = context.package.directoryURL
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            Diagnostics.error("harness check exited with \(process.terminationStatus)")
        }
    }
}
