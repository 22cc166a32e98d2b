import Foundation

extension BuiltinRegistry {
    /// Registers the builtins that talk to the front end beyond `print`: standard error, reading
    /// a line from the user, and clearing a notebook cell's output.
    public func registerInputOutput() {
        register(Builtin(
            name: "eprint", params: [.variadic("values", "any")], returns: "none", category: "basics",
            doc: "Writes the values on one line to standard error, as `print` does to standard output. In a notebook the text shows in the cell's error stream (usually red); at a terminal it goes to stderr, so it stays out of redirected output.",
            example: "eprint(\"warning:\", 3, \"layers skipped\")") { a in
                a.interpreter.errorOutput(a.rest.map(Render.printed).joined(separator: " ") + "\n")
                return .none
            })
        register(Builtin(
            name: "input", params: [.optional("prompt", "string", default: .string(""), "shown before the answer")],
            returns: "string|none", category: "basics",
            doc: "Asks the user for a line of text and returns it without its newline; `none` at end of input. At the prompt and in `prunelang run` it reads standard input; in a notebook the front end shows a text box. Fails in a session that has no input (a front end that does not accept input, such as a notebook run headless with allow_stdin off, a test harness, a sandbox). An interrupt while it waits stops the cell, as anywhere else.",
            example: "fn ask_ratio() { number(input(\"ratio? \")) }") { a in
                let prompt = try a.string("prompt")
                guard let handler = a.interpreter.inputHandler else {
                    throw a.fail("this session has no input to read from", kind: .runtime)
                }
                guard let line = handler(prompt) else {
                    // The handler gives up when interrupted: stop the cell rather than return none.
                    try a.checkInterrupt()
                    return .none
                }
                return .string(line)
            })
        register(Builtin(
            name: "clear_output", params: [.optional("wait", "bool", default: .bool(false), "clear only when the next output arrives (no flicker)")],
            returns: "none", category: "basics",
            doc: "Clears what the notebook cell has shown so far, e.g. to redraw a figure in a loop. With `wait=true` the old output stays until new output replaces it. Does nothing at a terminal.",
            example: "for i in 1..3 { clear_output(wait=true); print(\"step\", i) }") { a in
                let wait = try a.bool("wait")
                a.interpreter.clearOutputHandler?(wait)
                return .none
            })
    }
}

/// Reads one line from standard input for `input(prompt)`: writes the prompt to standard output
/// first; nil at end of input.
public func readStandardInputLine(prompt: String) -> String? {
    if !prompt.isEmpty { FileHandle.standardOutput.write(Data(prompt.utf8)) }
    return readLine(strippingNewline: true)
}
