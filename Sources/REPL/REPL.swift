import Foundation
import CReadline
import PruneLang
import Plots

/// The interactive PruneLang prompt on GNU readline: history in ~/.prunelang_history, tab
/// completion from the builtins registry and the session's variables, multi-line input until
/// brackets and blocks balance, Ctrl-C cancels the running cell (every variable is kept) or the
/// line being typed, Ctrl-D exits.
public final class REPL {
    /// The session.
    public let interpreter: Interpreter
    /// Where history is kept.
    public let historyPath: String

    /// A REPL over `interpreter`.
    public init(interpreter: Interpreter = Interpreter(),
                historyPath: String = (NSHomeDirectory() as NSString).appendingPathComponent(".prunelang_history")) {
        self.interpreter = interpreter
        self.historyPath = historyPath
    }

    /// Reads, evaluates and prints until end of input; returns the exit status (0).
    public func run() -> Int32 {
        REPLState.shared = self
        ConsoleProgress.install(on: interpreter)
        interpreter.inputHandler = readStandardInputLine
        signal(SIGINT) { _ in REPLState.shared?.interpreter.interrupt() }
        _ = read_history(historyPath)
        rl_attempted_completion_function = { text, start, end in REPLState.complete(text, start, end) }
        print("PruneLang — help(\"name\") or ?name for a builtin, Ctrl-D to quit.")
        var pending = ""
        while true {
            let prompt = pending.isEmpty ? "prune> " : "  ...> "
            interpreter.interruptFlag.clear()
            guard let raw = readline(prompt) else { print(""); break }
            let line = String(cString: raw)
            free(raw)
            if interpreter.interruptFlag.isSet { pending = ""; continue }   // Ctrl-C while typing
            pending += pending.isEmpty ? line : "\n" + line
            if pending.trimmingCharacters(in: .whitespaces).isEmpty { pending = ""; continue }
            if case .incomplete = interpreter.isComplete(pending) { continue }
            add_history(pending)
            _ = append_history(1, historyPath)
            let result = interpreter.run(cell: pending)
            pending = ""
            if let shown = result.display { interpreter.output(shown.text + "\n") }
            if !result.succeeded { FileHandle.standardError.write(Data((result.renderedDiagnostics + "\n").utf8)) }
        }
        _ = write_history(historyPath)
        return 0
    }
}

/// The REPL readline's C callbacks reach (they cannot capture Swift context).
enum REPLState {
    static var shared: REPL?
    static var matches: [String] = []

    /// readline's completion hook: names, members after `.`, keyword arguments.
    static func complete(_ text: UnsafePointer<CChar>?, _ start: Int32, _ end: Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        guard let repl = shared else { return nil }
        let line = String(cString: rl_line_buffer)
        let cursor = line.utf8.count >= Int(end) ? Int(end) : line.utf8.count
        let c = repl.interpreter.completions(code: line, cursor: cursor)
        matches = c.matches
        rl_attempted_completion_over = 1
        guard !matches.isEmpty else { return nil }
        return rl_completion_matches(text) { _, state in
            let i = Int(state)
            guard i < REPLState.matches.count else { return nil }
            return strdup(REPLState.matches[i])
        }
    }
}

/// Progress of long work on the terminal's standard error, updated in place.
public enum ConsoleProgress {
    /// Sends `interpreter`'s progress events to standard error as "label done/total".
    /// On a terminal the line is redrawn in place; otherwise only the finished count is written.
    public static func install(on interpreter: Interpreter) {
        let terminal = isatty(2) != 0
        interpreter.progressHandler = { e in
            let total = e.total.map { "/\($0)" } ?? ""
            let finished = e.total == e.done
            if terminal {
                FileHandle.standardError.write(Data("\r\(e.label) \(e.done)\(total)\u{1B}[K\(finished ? "\n" : "")".utf8))
            } else if finished {
                FileHandle.standardError.write(Data("\(e.label) \(e.done)\(total)\n".utf8))
            }
        }
    }
}
