import ArgumentParser
import Foundation
import PruneLang
import REPL

/// `prunelang run FILE.prune [ARGS...]`: runs a script. Lines starting with `#%%` split it into
/// cells (as in a notebook); each cell's value is shown like at the prompt. Exits non-zero at
/// the first error, after printing it with its file, line and column.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a PruneLang script.")

    /// The script.
    @Argument(help: "The .prune script to run.")
    var file: String

    /// Values the script sees as `args`.
    @Argument(help: "Arguments, available to the script as the list `args`.")
    var arguments: [String] = []

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            FileHandle.standardError.write(Data("prunelang: cannot read \(file)\n".utf8))
            throw ExitCode(2)
        }
        let text = String(decoding: data, as: UTF8.self)
        var cells: [(String, Int)] = []
        var current: [Substring] = [], start = 1
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("#%%") {
                if !current.isEmpty { cells.append((current.joined(separator: "\n"), start)) }
                current = []; start = i + 2
            } else {
                current.append(line)
            }
        }
        if !current.isEmpty { cells.append((current.joined(separator: "\n"), start)) }
        throw ExitCode(ScriptRunner.run(cells: cells, name: file, showAll: true, arguments: arguments))
    }
}

/// Runs cells in one session, showing values and errors as the REPL does.
enum ScriptRunner {
    /// Runs `cells` (text, first line) in order; returns the exit status (1 at the first error).
    static func run(cells: [(String, Int)], name: String, showAll: Bool, arguments: [String] = []) -> Int32 {
        let interpreter = Interpreter()
        interpreter["args"] = .list(arguments.map { .string($0) })
        ConsoleProgress.install(on: interpreter)
        signal(SIGINT) { _ in ScriptState.interpreter?.interrupt() }
        ScriptState.interpreter = interpreter
        for (code, line) in cells {
            let result = interpreter.run(cell: code, name: name, firstLine: line)
            if showAll, let shown = result.display { interpreter.output(shown.text + "\n") }
            if !result.succeeded {
                FileHandle.standardError.write(Data((result.renderedDiagnostics + "\n").utf8))
                return 1
            }
        }
        return 0
    }
}

/// The session a script's SIGINT handler interrupts.
enum ScriptState {
    nonisolated(unsafe) static var interpreter: Interpreter?
}
