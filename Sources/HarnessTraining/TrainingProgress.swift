import Foundation

/// Training progress on standard error: a bar redrawn in place on a terminal, plain
/// periodic lines otherwise (logs, CI).
public final class TrainingProgress {
    public let isTerminal: Bool
    private var lastDraw = 0.0
    public var quiet = false

    public init(isTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.isTerminal = isTerminal
    }

    /// One step's state; drawn at most 10 times a second on a terminal, every `logEvery`
    /// steps otherwise (the caller decides).
    /// - Parameter sampledLoss: the loss is the sampled softmax's estimate, not an NLL
    ///   whose exponential is a perplexity; it is labelled so.
    public func step(epoch: Int, epochs: Int, done: Int, total: Int, loss: Double, sampledLoss: Bool, tokensPerSecond: Double,
                     elapsed: Double, force: Bool) {
        guard !quiet, force || isTerminal else { return }
        if isTerminal {
            let now = Date().timeIntervalSinceReferenceDate
            guard force || now - lastDraw >= 0.1 else { return }
            lastDraw = now
        }
        // Formatted only when drawn: this runs after every training step.
        let fraction = total > 0 ? Double(done) / Double(total) : 0
        let remaining = fraction > 0 ? elapsed / fraction * (1 - fraction) : 0
        let lossText = sampledLoss ? String(format: "sampled loss %.3f", loss)
            : String(format: "loss %.3f  ppl %.1f", loss, Foundation.exp(loss))
        let stats = String(format: "%@  %.0f tok/s  ETA %@", lossText, tokensPerSecond, Self.duration(remaining))
        if isTerminal {
            let width = 28, filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\u{1B}[2Kepoch \(epoch)/\(epochs) \(bar) \(done)/\(total)  \(stats)".utf8))
        } else {
            FileHandle.standardError.write(Data("epoch \(epoch)/\(epochs) step \(done)/\(total)  \(stats)\n".utf8))
        }
    }

    /// A line of its own (ends any bar).
    public func line(_ text: String) {
        guard !quiet else { return }
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[2K" : "") + text + "\n").utf8))
    }

    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s / 60 % 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
