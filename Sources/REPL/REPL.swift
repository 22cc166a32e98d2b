import Foundation
import CReadline
import Numerics
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
                historyPath: String = REPL.defaultHistoryPath) {
        self.interpreter = interpreter
        self.historyPath = historyPath
    }

    /// `~/.prunelang_history`, with `~` taken from `$HOME` as shells do (the password database's
    /// home only when HOME is unset).
    public static var defaultHistoryPath: String {
        let home = ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".prunelang_history")
    }

    /// Reads, evaluates and prints until end of input; returns the exit status (0).
    public func run() -> Int32 {
        REPLState.shared = self
        ConsoleProgress.install(on: interpreter)
        interpreter.inputHandler = readStandardInputLine
        REPLState.installInterruptHandler()
        if !FileManager.default.fileExists(atPath: historyPath) {   // append_history needs the file
            FileManager.default.createFile(atPath: historyPath, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        _ = read_history(historyPath)
        rl_attempted_completion_function = { text, start, end in REPLState.complete(text, start, end) }
        print("PruneLang — help(\"name\") or ?name for a builtin; exit, quit or Ctrl-D to leave.")
        var pending = ""
        var inputCount = 0
        while true {
            let prompt = pending.isEmpty ? "prune> " : "  ...> "
            interpreter.interruptFlag.clear()
            guard let raw = readline(prompt) else { print(""); break }
            let line = String(cString: raw)
            free(raw)
            if interpreter.interruptFlag.isSet {   // Ctrl-C while typing: drop the line and any pending ones
                pending = ""
                print("^C")
                continue
            }
            pending += pending.isEmpty ? line : "\n" + line
            if pending.trimmingCharacters(in: .whitespaces).isEmpty { pending = ""; continue }
            if Self.isExitRequest(pending) { break }
            if case .incomplete = interpreter.isComplete(pending) { continue }
            add_history(pending)
            _ = append_history(1, historyPath)
            inputCount += 1
            let result = interpreter.run(cell: pending, name: "<input \(inputCount)>")
            pending = ""
            ConsoleProgress.endLine()
            if let shown = result.display { interpreter.output(shown.text + "\n") }
            if !result.succeeded { FileHandle.standardError.write(Data((result.renderedDiagnostics + "\n").utf8)) }
        }
        _ = write_history(historyPath)
        _ = history_truncate_file(historyPath, 10_000)
        return 0
    }
}

extension REPL {
    /// Whether a line asks to leave the prompt, as Python's does: `exit`, `quit`, `exit()`, `quit()`.
    static func isExitRequest(_ line: String) -> Bool {
        ["exit", "quit", "exit()", "quit()"].contains(line.trimmingCharacters(in: .whitespaces))
    }
}

/// The REPL readline's C callbacks reach (they cannot capture Swift context).
enum REPLState {
    static var shared: REPL?
    static var matches: [String] = []

    /// readline's completion hook: names, members after `.`, keyword arguments, paths in strings.
    /// readline replaces the word from `start` (its own word breaks, a byte offset); the
    /// interpreter's candidates replace from their own start (a scalar offset), so each candidate
    /// is re-based onto readline's word.
    static func complete(_ text: UnsafePointer<CChar>?, _ start: Int32, _ end: Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        rl_attempted_completion_over = 1
        rl_completion_append_character = 0
        guard let repl = shared else { return nil }
        let bytes: [UInt8] = Array(String(cString: rl_line_buffer).utf8)
        let endByte: Int = min(Int(end), bytes.count)
        let startByte: Int = min(Int(start), endByte)
        let beforeCursor: String = String(decoding: bytes[..<endByte], as: UTF8.self)
        let cursor: Int = beforeCursor.unicodeScalars.count
        let c = repl.interpreter.completions(code: beforeCursor, cursor: cursor)
        let word: [Unicode.Scalar] = Array(String(decoding: bytes[startByte..<endByte], as: UTF8.self).unicodeScalars)
        let replaced: Int = cursor - c.start
        matches = c.matches.compactMap { (m: String) -> String? in rebase(m, readlineWord: word, replacing: replaced) }
        guard !matches.isEmpty else { return nil }
        return rl_completion_matches(text) { _, state in
            let i = Int(state)
            guard i < REPLState.matches.count else { return nil }
            return strdup(REPLState.matches[i])
        }
    }

    /// `match`, which replaces the last `count` scalars before the cursor, re-based to replace
    /// `readlineWord` instead (nil when it cannot be).
    static func rebase(_ match: String, readlineWord: [Unicode.Scalar], replacing count: Int) -> String? {
        var out = String.UnicodeScalarView()
        if count <= readlineWord.count {   // readline's word is longer: keep its head
            out.append(contentsOf: readlineWord[0..<(readlineWord.count - count)])
            out.append(contentsOf: match.unicodeScalars)
            return String(out)
        }
        let extra: Int = count - readlineWord.count   // ours reaches further back: drop that much
        let scalars: [Unicode.Scalar] = Array(match.unicodeScalars)
        guard scalars.count >= extra else { return nil }
        out.append(contentsOf: scalars[extra...])
        return String(out)
    }

    /// Ctrl-C sets the interpreter's interrupt flag: a running cell stops at its next step; at the
    /// prompt, `readByte` sees the interrupted read and discards the line being typed. readline's
    /// own signal handling is off and the handler is installed without SA_RESTART, so a read
    /// blocked at the prompt returns EINTR instead of resuming silently.
    static func installInterruptHandler() {
        rl_catch_signals = 0
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in REPLState.shared?.interpreter.interruptFlag.set() }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
        rl_getc_function = { stream in REPLState.readByte(stream) }
    }

    /// readline's input function: one byte from `stream`; when Ctrl-C interrupts the read, the
    /// line is emptied and accepted (the REPL then drops it and any pending continuation lines).
    static func readByte(_ stream: UnsafeMutablePointer<FILE>?) -> Int32 {
        let fd: Int32 = stream.map { fileno($0) } ?? 0
        var byte: UInt8 = 0
        while true {
            let n = read(fd, &byte, 1)
            if n == 1 { return Int32(byte) }
            if n == 0 { return EOF }
            guard errno == EINTR else { return EOF }
            if shared?.interpreter.interruptFlag.isSet == true {
                rl_replace_line("", 0)
                return 10   // newline: accept the now-empty line
            }
        }
    }
}

/// Progress of long work on the terminal's standard error, updated in place.
public enum ConsoleProgress {
    /// Whether a progress line is drawn on the terminal and not yet ended.
    nonisolated(unsafe) private static var lineOpen = false

    /// Ends a progress line left open (a cell interrupted or failed mid-way), so what is printed
    /// next starts on a line of its own.
    public static func endLine() {
        guard lineOpen else { return }
        lineOpen = false
        FileHandle.standardError.write(Data("\n".utf8))
    }

    /// When the stage now reported began and when a line about it was last written (not a terminal).
    nonisolated(unsafe) private static var stageClock: (stage: String, start: Double, written: Double)?
    /// Seconds between the lines written about an unfinished stage when standard error is not a
    /// terminal (a log, a pipe, a batch job).
    public static let heartbeatSeconds = 10.0

    /// Sends `interpreter`'s progress events to standard error as "stage · detail done/total".
    /// On a terminal the line is redrawn in place. Otherwise (a log) the finished count is written,
    /// and for long work a line at most every `heartbeatSeconds` with the seconds since the stage
    /// began ("stage · detail 5/32 [38.2 s]"), so a log shows that it moves and how fast.
    public static func install(on interpreter: Interpreter) {
        let terminal = isatty(2) != 0
        interpreter.progressHandler = { e in
            let label = e.detail.map { "\(e.stage) · \($0)" } ?? e.stage
            let total = e.total.map { "/\($0)" } ?? ""
            let finished = e.total == e.done
            if terminal {
                FileHandle.standardError.write(Data("\r\(label) \(e.done)\(total)\u{1B}[K\(finished ? "\n" : "")".utf8))
                lineOpen = !finished
                return
            }
            let now = Date().timeIntervalSinceReferenceDate
            if stageClock?.stage != e.stage { stageClock = (e.stage, now, now) }
            if finished {
                FileHandle.standardError.write(Data("\(label) \(e.done)\(total)\n".utf8))
                stageClock = nil
            } else if let clock = stageClock, now - clock.written >= heartbeatSeconds {
                FileHandle.standardError.write(Data("\(label) \(e.done)\(total) [\(String(format: "%.1f", now - clock.start)) s]\n".utf8))
                stageClock?.written = now
            }
        }
    }
}
