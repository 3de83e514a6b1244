import Foundation
import HarnessModel
import HarnessKernels

/// Perplexities of one split: per direction and their mean (bilm-tf's biLM figure).
public struct SplitPerplexity: Codable, Equatable, Sendable {
    public var forward: Double?
    public var backward: Double?
    public var mean: Double
    /// Target tokens scored per direction (`<eos>` included).
    public var tokens: Int
}

/// `result.json`: what a finished run measured, and everything needed to compare it.
public struct RunResult: Codable, Sendable {
    public var name: String
    public var specHash: String
    public var seed: UInt64
    public var perplexity: [String: SplitPerplexity]
    public var bestEpoch: Int?
    public var epochsRun: Int
    public var stoppedEarly: Bool
    public var trainTokens: Int
    public var tokensPerSecond: Double
    public var wallSeconds: Double
    public var epochSeconds: [Double]
    public var parameters: Int
    public var parametersByComponent: [String: Int]
    public var flopsPerToken: Double
    public var vocabularySize: Int
    public var threads: Int
    public var blas: String
    public var machine: String
    /// The commit the `harness` binary was built from ("-modified": with uncommitted changes).
    public var commit: String?
    /// The CPU the binary's Swift code targets (`HARNESS_TARGET_CPU`: haswell, or the build machine's with native); `machine` is the one it ran on.
    public var builtFor: String? = nil
    public var finishedAt: String
    /// Steps whose update was skipped for a NaN or infinite loss (`on_nonfinite: skip`); nil when none.
    public var skippedSteps: Int? = nil
    /// The processes that trained the model together (`mpirun -np N`); nil for one.
    public var processes: Int? = nil
    /// The definition of the perplexities above.
    public var perplexityDefinition = Perplexity.definition
}

/// One line of `metrics.jsonl`.
public struct MetricsRecord: Codable, Sendable {
    public var kind: String         // "step" or "epoch"
    public var epoch: Int
    public var step: Int
    public var tokens: Int
    public var seconds: Double
    public var learningRate: Double
    /// Mean training loss in nats (the sampled-softmax estimate under that loss).
    public var trainLoss: Double?
    /// exp(trainLoss), only under the full softmax.
    public var trainPerplexity: Double?
    public var validPerplexity: Double?
    public var tokensPerSecond: Double?
}

/// What this process runs on and was built from, for run records.
public enum MachineInfo {
    /// Set by the `harness` executable from its build (nil in library use and tests).
    nonisolated(unsafe) public static var buildCommit: String?
    nonisolated(unsafe) public static var builtFor: String?

    public static var cpuModel: String {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }) else { return "unknown CPU" }
        return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
    }

    /// The flags of `required` that the first `flags` line of `cpuinfo` (/proc/cpuinfo's
    /// text) lacks; none when there is no such line (not x86, or an unreadable file).
    public static func missingFlags(_ required: [String], cpuinfo: String) -> [String] {
        guard let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        let present = Set(line.split(separator: ":", maxSplits: 1).last?.split(whereSeparator: \.isWhitespace).map(String.init) ?? [])
        return required.filter { !present.contains($0) }
    }

    public static var description: String {
        let cores = ProcessInfo.processInfo.activeProcessorCount, available = CPUAllocation.available
        return "\(cpuModel), \(cores) cores" + (available < cores ? " (\(available) allocated)" : "") + ", "
            + "\(ProcessInfo.processInfo.physicalMemory / (1 << 30)) GiB"
    }
}

/// JSON for run records: sorted keys, and a diverged run's infinite or NaN values
/// written as the strings "inf", "-inf" and "nan" (JSON has no such numbers).
public enum RunJSON {
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// A decoding error in words, with the key path where it happened
    /// ("missing key 'points'", "expected a number at 'perplexity.valid.mean'", "not JSON").
    public static func describe(_ error: Error) -> String {
        /// A JSON kind for a Swift type ("an object", not "Dictionary<String, Any>").
        func kind(_ type: Any.Type) -> String {
            let name = String(describing: type)
            if name.hasPrefix("Dictionary") { return "an object" }
            if name.hasPrefix("Array") { return "a list" }
            if name == "String" { return "a string" }
            if name == "Bool" { return "true or false" }
            if ["Int", "Int32", "Int64", "UInt64"].contains(name) { return "an integer" }
            if ["Double", "Float"].contains(name) { return "a number" }
            return name
        }
        func path(_ keys: [CodingKey]) -> String {
            keys.isEmpty ? "the top level" : "'" + keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") + "'"
        }
        switch error {
        case DecodingError.keyNotFound(let key, let context): return "missing key '\(key.stringValue)' in \(path(context.codingPath))"
        case DecodingError.typeMismatch(let type, let context): return "expected \(kind(type)) at \(path(context.codingPath))"
        case DecodingError.valueNotFound(let type, let context): return "expected \(kind(type)) at \(path(context.codingPath)), found null"
        case DecodingError.dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "unreadable value at \(path(context.codingPath))"
        default: return "\(error)"
        }
    }
}
