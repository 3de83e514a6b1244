import Foundation

/// What a sweep shows while its points run. On a terminal: a block of one line per
/// running point (its latest progress line), redrawn in place at most 10 times a second,
/// with messages (a point finished, failed…) printed above it. Elsewhere (a Slurm `.out`
/// file, a log): every line a point prints, prefixed with its id, and the messages.
public final class SweepDisplay: @unchecked Sendable {
    private let isTerminal: Bool
    private let write: (String) -> Void
    private let lock = NSLock()
    /// Running points in start order, with their latest line.
    private var running: [(id: String, line: String)] = []
    private var drawnLines = 0
    private var lastDraw = 0.0

    public init(isTerminal: Bool = isatty(STDERR_FILENO) == 1,
                write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.isTerminal = isTerminal
        self.write = write
    }

    public func started(_ id: String) {
        locked {
            running.append((id, "starting"))
            if isTerminal { redraw(force: true) } else { write("[\(id)] started\n") }
        }
    }

    /// A line the point printed (its progress on standard output).
    public func output(_ id: String, _ line: String) {
        locked {
            guard let index = running.firstIndex(where: { $0.id == id }) else { return }
            running[index].line = line
            if isTerminal { redraw(force: false) } else { write("[\(id)] \(line)\n") }
        }
    }

    public func ended(_ id: String) {
        locked {
            running.removeAll { $0.id == id }
            if isTerminal { redraw(force: true) }
        }
    }

    /// A message of its own, kept in the scrollback above the running points.
    public func message(_ text: String) {
        locked {
            if isTerminal {
                clear()
                write(text + "\n")
                redraw(force: true)
            } else {
                write(text + "\n")
            }
        }
    }

    private func locked(_ body: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        body()
    }

    /// Moves to the block's first line and clears to the end of the screen.
    private func clear() {
        if drawnLines > 0 { write("\r\u{1B}[\(drawnLines)A\u{1B}[J") }
        drawnLines = 0
    }

    private func redraw(force: Bool) {
        let now = Date().timeIntervalSinceReferenceDate
        guard force || now - lastDraw >= 0.1 else { return }
        lastDraw = now
        clear()
        let width = max(40, Self.terminalColumns - 1)   // a wrapped line would break the block's line count
        for (id, line) in running {
            write(String("\(id)  \(line)".prefix(width)) + "\n")
        }
        drawnLines = running.count
    }

    private static var terminalColumns: Int {
        var size = winsize()
        return ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 100
    }
}
