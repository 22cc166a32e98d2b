import ArgumentParser
import Foundation
import PruneLang
import REPL

/// `prunelang run FILE.prune [ARGS...]`: runs a script. Lines starting with `#%%` split it into
/// cells as in a notebook (the rule is `ScriptCells`'; markdown cells are not run); each code
/// cell's value is shown like at the prompt. A Jupyter notebook
/// (`.ipynb`) runs its code cells in order the same way. Exits non-zero at the first error, after
/// printing it with its file, line and column (a notebook's cells are named `FILE[cell N]`).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a PruneLang script.")

    /// The script.
    @Argument(help: "The .prune script or .ipynb notebook to run.")
    var file: String

    /// Values the script sees as `args`.
    @Argument(help: "Arguments, available to the script as the list `args`.")
    var arguments: [String] = []

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            FileHandle.standardError.write(Data("prunelang: cannot read \(file)\n".utf8))
            throw ExitCode(2)
        }
        if file.hasSuffix(".ipynb") {
            let cells: [(String, Int)]
            do { cells = try NotebookCells.codeCells(data) } catch {
                FileHandle.standardError.write(Data("prunelang: \(file): \(error)\n".utf8))
                throw ExitCode(2)
            }
            throw ExitCode(ScriptRunner.run(cells: cells.map { ($0.0, 1) }, names: cells.map { "\(file)[cell \($0.1)]" },
                                            showAll: true, arguments: arguments))
        }
        let text = String(decoding: data, as: UTF8.self)
        let cells = ScriptCells.split(text).filter { $0.kind == .code }.map { ($0.source, $0.line) }
        throw ExitCode(ScriptRunner.run(cells: cells, name: file, showAll: true, arguments: arguments))
    }
}

/// Runs cells in one session, showing values and errors as the REPL does.
enum ScriptRunner {
    /// Runs `cells` (text, first line) in order; returns the exit status (1 at the first error).
    static func run(cells: [(String, Int)], name: String, showAll: Bool, arguments: [String] = [],
                    fullNumbers: Bool = false) -> Int32 {
        run(cells: cells, names: cells.map { _ in name }, showAll: showAll, arguments: arguments, fullNumbers: fullNumbers)
    }

    /// Runs `cells` in order, naming each in diagnostics by `names` (one per cell).
    /// With `fullNumbers`, a cell whose value is a number shows it in full (round-trip) precision
    /// rather than displayed digits: `prunelang -e` is how scripts read a number back.
    static func run(cells: [(String, Int)], names: [String], showAll: Bool, arguments: [String],
                    fullNumbers: Bool = false) -> Int32 {
        let interpreter = Interpreter()
        interpreter["args"] = .list(arguments.map { .string($0) })
        ConsoleProgress.install(on: interpreter)
        interpreter.inputHandler = readStandardInputLine
        signal(SIGINT) { _ in ScriptState.interpreter?.interrupt() }
        ScriptState.interpreter = interpreter
        for ((code, line), name) in zip(cells, names) {
            let result = interpreter.run(cell: code, name: name, firstLine: line)
            ConsoleProgress.endLine()
            if showAll, fullNumbers, case .number(let x)? = result.value {
                interpreter.output(formatNumber(x) + "\n")
            } else if showAll, let shown = result.display {
                interpreter.output(shown.text + "\n")
            }
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

/// Reads a Jupyter notebook's code cells.
enum NotebookCells {
    /// The code cells' sources in order, each with its 1-based position among all cells.
    static func codeCells(_ data: Data) throws -> [(String, Int)] {
        guard let nb = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let cells = nb["cells"] as? [[String: Any]] else {
            throw NotebookError("not a Jupyter notebook (expected a JSON object with a cells list)")
        }
        var out: [(String, Int)] = []
        for (i, cell) in cells.enumerated() where cell["cell_type"] as? String == "code" {
            // nbformat stores a source as one string or as a list of lines.
            if let s = cell["source"] as? String { out.append((s, i + 1)) }
            else if let lines = cell["source"] as? [String] { out.append((lines.joined(), i + 1)) }
            else { throw NotebookError("cell \(i + 1) has no source") }
        }
        return out
    }
}

/// A notebook that cannot be read, with the reason.
struct NotebookError: Error, CustomStringConvertible {
    /// What is wrong with it.
    let description: String
    init(_ d: String) { description = d }
}

/// `prunelang cells FILE.prune`: the script's `#%%` cells as JSON, one object per cell with its
/// `kind` ("code" or "markdown"), `source` and first `line`, split by `ScriptCells` as `run` splits
/// them. scripts/prune-to-ipynb makes a notebook from this, so both follow one rule.
struct CellsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cells", abstract: "Print a script's #%% cells as JSON (what scripts/prune-to-ipynb reads).")

    /// The script.
    @Argument(help: "The .prune script to split.")
    var file: String

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            FileHandle.standardError.write(Data("prunelang: cannot read \(file)\n".utf8))
            throw ExitCode(2)
        }
        let cells = ScriptCells.split(String(decoding: data, as: UTF8.self)).map { cell -> [String: Any] in
            ["kind": cell.kind.rawValue, "source": cell.source, "line": cell.line]
        }
        let json = try JSONSerialization.data(withJSONObject: cells, options: [.prettyPrinted, .sortedKeys])
        FileHandle.standardOutput.write(json + Data("\n".utf8))
    }
}
