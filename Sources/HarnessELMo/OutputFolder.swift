import Foundation
import HarnessTraining

/// The folder `import-elmo` and `export-elmo` write: created, or accepted when it exists
/// and is empty, so that nothing already there is overwritten.
enum OutputFolder {
    /// Creates `path`, or accepts it empty; true when it was created (the caller removes
    /// it again when writing fails). `verb` ("import", "export") words the errors.
    static func prepare(_ path: String, verb: String) throws -> Bool {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            guard isDirectory.boolValue, contents.isEmpty else {
                throw RunError.cannotWrite(path: path, reason: isDirectory.boolValue ? "the folder is not empty; \(verb) into a new one"
                                                                                      : "a file is in the way; \(verb) into a new folder")
            }
            return false
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RunError.cannotWrite(path: path, reason: error.localizedDescription)
        }
        return true
    }
}
