import Foundation
import Synchronization
import Numerics

/// The outcome of running one cell: the value to show (nil when there is none: the last
/// statement is not an expression, its value is `none`, or a trailing `;` hides it), its MIME
/// bundle, and the diagnostics (empty on success). Printed output went to the session's sink.
public struct CellResult {
    /// The cell's value, when it has one to show.
    public let value: Value?
    /// The value as a MIME bundle, when there is a value to show.
    public let display: MIMEBundle?
    /// Syntax errors (several per cell) or the one runtime error; empty on success.
    public let diagnostics: [Diagnostic]

    /// Whether the cell ran without error.
    public var succeeded: Bool { diagnostics.isEmpty }
    /// Whether the cell was interrupted.
    public var wasInterrupted: Bool { diagnostics.contains { $0.kind == .interrupted } }
    /// The diagnostics rendered with carets, one after another.
    public var renderedDiagnostics: String { diagnostics.map { $0.render() }.joined(separator: "\n") }
}

/// Limits that keep user code from exhausting the process: call depth, element counts of
/// vectors/matrices/ranges/strings, and (for fuzzing and sandboxes) an optional step budget.
public struct Limits: Sendable {
    /// The deepest chain of nested function calls (recursion) allowed.
    public var maxCallDepth = 1000
    /// The most elements one vector, matrix, list, range or string may have.
    public var maxElements = 1 << 27
    /// When set, the most loop iterations plus calls one cell may take.
    public var maxSteps: Int? = nil

    /// The default limits.
    public init() {}
}

/// Whether a piece of input is ready to run: complete, incomplete (brackets or blocks still
/// open, a trailing operator or `\`: keep reading lines), or invalid (will not parse whatever
/// follows).
public enum Completeness: Equatable, Sendable {
    /// Ready to run.
    case complete
    /// Needs more lines; `indent` is a suggested indentation for the next line.
    case incomplete(indent: String)
    /// A syntax error that more input cannot fix.
    case invalid
}

/// Completion candidates for the text around a cursor: the matches and the range (in Unicode
/// scalar offsets) of the text they replace.
public struct Completions: Equatable, Sendable {
    /// The candidates, sorted (keyword arguments end with `=`).
    public let matches: [String]
    /// Start of the replaced text.
    public let start: Int
    /// End of the replaced text (the cursor).
    public let end: Int
}

/// A flag set from another thread or a signal handler to stop the running cell. Lock-free.
public final class InterruptFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    /// A cleared flag.
    public init() {}

    /// Asks the running cell to stop (safe from any thread and from a signal handler).
    public func set() { flag.store(true, ordering: .relaxed) }
    /// Clears the request.
    public func clear() { flag.store(false, ordering: .relaxed) }
    /// Whether a stop was requested.
    public var isSet: Bool { flag.load(ordering: .relaxed) }
}

/// A PruneLang session: globals that persist across cells, the builtins, an output sink, and
/// the entry points the REPL and the Jupyter kernel use (run, isComplete, completions, inspect,
/// interrupt). Not thread-safe, except `interrupt()`, which any thread may call while `run` runs.
public final class Interpreter: @unchecked Sendable {
    /// The builtins this session knows.
    public let registry: BuiltinRegistry
    /// Receives everything `print` writes (each call ends with a newline). Default: stdout.
    public var output: (String) -> Void
    /// Receives values shown with `display(x)` in the middle of a cell; default: their
    /// `text/plain` form through `output`.
    public var displayHandler: ((MIMEBundle) -> Void)?
    /// Receives progress from long builtins (policy training, perplexity); nil ignores it.
    public var progressHandler: ((ProgressEvent) -> Void)?
    /// Receives everything `eprint` writes (each call ends with a newline). Default: stderr.
    public var errorOutput: (String) -> Void = { s in FileHandle.standardError.write(Data(s.utf8)) }
    /// Answers `input(prompt)`: the line the user typed (without its newline), nil at end of
    /// input. nil (the default) means the session has no input, and `input` fails saying so.
    public var inputHandler: ((String) -> String?)?
    /// Receives `clear_output(wait)`: a notebook clears the cell's output (with `wait`, when the
    /// next output arrives); nil (a terminal) ignores it.
    public var clearOutputHandler: ((Bool) -> Void)?
    /// The limits on recursion, allocation and steps.
    @exclusivity(unchecked) public var limits = Limits()
    /// The flag `interrupt()` sets; a signal handler may keep a reference and call `set()`.
    public let interruptFlag = InterruptFlag()

    /// The session's random stream, for `randn`/`rand`/`drop_rows` calls without a seed (seeded
    /// with 0 when the session starts, so a notebook run top to bottom repeats itself).
    public var random = SeededRandom(seed: 0)

    let globals = Globals()
    /// The notes `noteOnce` has written this session.
    var notesShown: Set<String> = []
    /// Every cell's source, kept for the session (spans do not retain their source).
    var sources: [SourceText] = []
    @exclusivity(unchecked) var callDepth = 0
    @exclusivity(unchecked) var steps = 0
    /// Stack size of the thread each cell runs on: deep recursion in user code must meet the
    /// interpreter's limits before it meets the end of the stack.
    static let stackSize = 512 << 20

    /// A session with `registry`'s builtins, printing to `output`.
    public init(registry: BuiltinRegistry = .standard(), output: @escaping (String) -> Void = { s in
        FileHandle.standardOutput.write(s.data(using: .utf8) ?? Data())
    }) {
        self.registry = registry
        self.output = output
        for b in registry.all { globals.set(b.name, .builtin(b)) }
        for (name, value) in Self.constants { globals.set(name, .number(value)) }
    }

    /// The constants every session starts with.
    static let constants: [(String, Double)] = [("pi", Double.pi), ("inf", Double.infinity), ("nan", Double.nan)]

    deinit {
        // Deeply nested values would exhaust a small stack as they are released.
        let g = globals
        Self.onLargeStack { g.values.removeAll() }
    }

    /// Asks the running cell to stop at the next loop iteration or call (or, inside a long builtin,
    /// at its next check); it fails with an "interrupted" diagnostic and every variable keeps the
    /// value it had.
    public func interrupt() { interruptFlag.set() }

    /// Writes `note` through `errorOutput` the first time this session meets it (a loop that
    /// prunes five seeds says it once).
    func noteOnce(_ note: String) {
        if notesShown.insert(note).inserted { errorOutput(note) }
    }

    /// The global `name` (a variable or a builtin), nil when undefined.
    public subscript(name: String) -> Value? {
        get { globals.get(name) ?? registry.lookup(name).map { .builtin($0) } }
        set {
            if let newValue { globals.set(name, newValue) } else if let i = globals.existingSlot(name) { globals.values[i] = nil }
        }
    }

    /// The names of the user's global variables (builtins excluded unless reassigned), sorted.
    public var variableNames: [String] {
        globals.definedNames.filter { n in
            if case .builtin(let b)? = globals.get(n), b.name == n, registry.lookup(n) != nil { return false }
            return true
        }.sorted()
    }

    /// Writes `text` and a newline to the output sink.
    public func write(line text: String) { output(text + "\n") }

    /// Shows a value in the middle of a cell (`display(x)`): through `displayHandler`, or as text.
    public func show(_ bundle: MIMEBundle) {
        if let displayHandler { displayHandler(bundle) } else { output(bundle.text + "\n") }
    }

    /// Runs one cell (one or more statements) and returns its value to show and diagnostics.
    /// `name` and `firstLine` say how diagnostics name the place (a script passes its path and
    /// the line the cell starts on). Variables assigned before an error or interrupt keep their
    /// values. Runs on a thread with a large stack; `output` is called from that thread.
    public func run(cell: String, name: String = "<cell>", firstLine: Int = 1) -> CellResult {
        let source = SourceText(cell, name: name, firstLine: firstLine)
        sources.append(source)
        return Self.onLargeStack { self.runOnCurrentThread(source) }
    }

    private func runOnCurrentThread(_ source: SourceText) -> CellResult {
        let (program, syntax) = Self.parse(source)
        if !syntax.isEmpty { return CellResult(value: nil, display: nil, diagnostics: syntax) }
        var resolver = Resolver()
        resolver.resolve(program)
        interruptFlag.clear()
        callDepth = 0
        steps = 0
        let code = compileBlock(program.statements)
        do {
            var last: Value?
            if case .value(let v) = try code(self, nil) { last = v }
            // An interrupt answered by a builtin that returned its partial result ends the cell as interrupted too.
            if let end = program.statements.last?.span { try checkInterrupt(at: end) }
            if program.hidesValue { last = nil }
            if let v = last, !v.isNone {
                return CellResult(value: v, display: Render.bundle(v), diagnostics: [])
            }
            return CellResult(value: nil, display: nil, diagnostics: [])
        } catch let e as LangError {
            return CellResult(value: nil, display: nil, diagnostics: [e.diagnostic])
        } catch {
            return CellResult(value: nil, display: nil, diagnostics: [Diagnostic(.runtime, "\(error)", span: nil)])
        }
    }

    /// Lexes and parses; returns the program and every syntax diagnostic, in source order.
    static func parse(_ source: SourceText) -> (Program, [Diagnostic]) {
        let (program, diagnostics, _) = parseReportingEnd(source)
        return (program, diagnostics)
    }

    /// Lexes and parses; also says whether the parser ran out of input (more lines could help).
    static func parseReportingEnd(_ source: SourceText) -> (Program, [Diagnostic], Bool) {
        var lexer = Lexer(source)
        let tokens = lexer.tokenize()
        var parser = Parser(tokens: tokens, source: source)
        let program = parser.parseProgram()
        var seen = Set<Int>()
        var all: [Diagnostic] = []
        for d in lexer.diagnostics + parser.diagnostics {
            let key = d.span?.start ?? -1
            if seen.insert(key).inserted { all.append(d) }
        }
        all.sort { ($0.span?.start ?? 0) < ($1.span?.start ?? 0) }
        return (program, Array(all.prefix(Parser.maxErrors)), parser.endedEarly)
    }

    /// The syntax diagnostics of `code` without running it (empty when it parses).
    public func check(_ code: String, name: String = "<cell>") -> [Diagnostic] {
        Self.onLargeStack { Self.parse(SourceText(code, name: name)).1 }
    }

    // MARK: Interrupts and the step budget

    /// Stops with an "interrupted" diagnostic at `span` when `interrupt()` was called (clearing
    /// the request). Long builtins call it between pieces of their work; it counts no step of the
    /// budget, which counts user code only (`tick`).
    @inline(__always)
    func checkInterrupt(at span: Span) throws {
        if interruptFlag.isSet {
            interruptFlag.clear()
            throw LangError(.interrupted, "stopped here at your request; every variable keeps its value", span)
        }
    }

    /// One step of user code, taken at each loop iteration and each call: stops when interrupted
    /// (`checkInterrupt`), and counts the step against `limits.maxSteps` when a budget is set.
    @inline(__always)
    func tick(_ span: Span) throws {
        try checkInterrupt(at: span)
        if let max = limits.maxSteps {
            steps += 1
            if steps > max { throw LangError(.runtime, "step limit exceeded (\(max) loop iterations and calls)", span) }
        }
    }

    /// Runs `body` on a fresh thread with `stackSize` bytes of stack and waits for it.
    static func onLargeStack<T>(_ body: @escaping () -> T) -> T {
        var result: T?
        let box = ThreadBody()
        box.body = { result = body() }
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        pthread_attr_setstacksize(&attr, stackSize)
        defer { pthread_attr_destroy(&attr) }
        #if os(Linux)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let context = Unmanaged.passRetained(box).toOpaque()
        let rc = pthread_create(&thread, &attr, { ctx in
            let box = Unmanaged<ThreadBody>.fromOpaque(ctx!).takeRetainedValue()
            box.body?()
            return nil
        }, context)
        if rc != 0 {
            // No thread (resource limits): run here, with whatever stack there is.
            Unmanaged<ThreadBody>.fromOpaque(context).release()
            return body()
        }
        #if os(Linux)
        pthread_join(thread, nil)
        #else
        pthread_join(thread!, nil)
        #endif
        return result!
    }
}

/// The work handed to a cell's thread.
final class ThreadBody: @unchecked Sendable {
    var body: (() -> Void)?
}
