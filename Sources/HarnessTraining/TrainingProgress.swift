import Foundation

/// Training progress: a bar redrawn in place on a terminal, plain periodic lines otherwise
/// (logs, CI, Slurm `.out` files, a sweep reading its points).
public final class TrainingProgress {
    public let isTerminal: Bool
    private let output: FileHandle
    private var lastDraw = 0.0
    public var quiet = false

    /// - Parameter output: standard error by default; `harness sweep` has its points write
    ///   progress to standard output, which it reads, and keeps their standard error for errors.
    public init(output: FileHandle = .standardError, isTerminal: Bool? = nil) {
        self.output = output
        self.isTerminal = isTerminal ?? (isatty(output.fileDescriptor) == 1)
    }

    /// Where a run stands against its whole budget, for the bar and the ETA.
    public struct Position {
        public var epoch: Int, epochs: Int
        /// Batches done in this epoch, of `batches`.
        public var batch: Int, batches: Int
        /// Training tokens so far and the run's budget: `max_tokens`, or the epochs' tokens if fewer.
        public var tokens: Int, budgetTokens: Int
        /// Seconds until the budget is spent: training at the measured rate plus the
        /// validations still due (each at the last one's measured duration).
        public var remainingSeconds: Double

        public init(epoch: Int, epochs: Int, batch: Int, batches: Int, tokens: Int, budgetTokens: Int, remainingSeconds: Double) {
            self.epoch = epoch; self.epochs = epochs; self.batch = batch; self.batches = batches
            self.tokens = tokens; self.budgetTokens = budgetTokens; self.remainingSeconds = remainingSeconds
        }
    }

    /// One step's state; drawn at most 10 times a second on a terminal, every `logEvery`
    /// steps otherwise (the caller decides).
    /// - Parameter sampledLoss: the loss is the sampled softmax's estimate, not an NLL
    ///   whose exponential is a perplexity; it is labelled so.
    public func step(_ position: Position, loss: Double, sampledLoss: Bool, tokensPerSecond: Double, force: Bool) {
        guard !quiet, force || isTerminal else { return }
        if isTerminal {
            let now = Date().timeIntervalSinceReferenceDate
            guard force || now - lastDraw >= 0.1 else { return }
            lastDraw = now
        }
        // Formatted only when drawn: this runs after every training step.
        let fraction = position.budgetTokens > 0 ? min(1, Double(position.tokens) / Double(position.budgetTokens)) : 0
        let lossText = sampledLoss ? String(format: "sampled loss %.3f", loss)
            : String(format: "loss %.3f  ppl %.1f", loss, Foundation.exp(loss))
        let stats = String(format: "%@  %.0f tok/s  ETA %@", lossText, tokensPerSecond, Self.duration(position.remainingSeconds))
        let budget = String(format: "%3.0f%% of %@ tokens", fraction * 100, Self.count(position.budgetTokens))
        if isTerminal {
            let width = 24, filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            write("\r\u{1B}[2Kepoch \(position.epoch)/\(position.epochs) \(bar) \(budget)  \(stats)")
        } else {
            write("epoch \(position.epoch)/\(position.epochs) batch \(position.batch)/\(position.batches)  \(budget)  \(stats)\n")
        }
    }

    /// A line of its own (ends any bar).
    public func line(_ text: String) {
        guard !quiet else { return }
        write((isTerminal ? "\r\u{1B}[2K" : "") + text + "\n")
    }

    /// A closed pipe (a sweep that was killed while its point runs on) is not an error:
    /// the run goes on without progress output.
    private func write(_ text: String) { try? output.write(contentsOf: Data(text.utf8)) }

    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s / 60 % 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }

    /// 950, 12.3k, 4.20M.
    static func count(_ n: Int) -> String {
        n >= 1_000_000 ? String(format: "%.2fM", Double(n) / 1e6) : n >= 10_000 ? String(format: "%.1fk", Double(n) / 1e3) : String(n)
    }
}
