import Numerics

/// One parameter of a builtin: its name, the type it expects (as the docs say it), its default
/// (nil: required), whether it collects the remaining positional arguments, and a short note.
public struct Param {
    /// The name, usable as a keyword argument.
    public let name: String
    /// The expected type as the docs show it: "matrix", "number", "vector|list", "any".
    public let type: String
    /// The default value; nil when the argument is required.
    public let defaultValue: Value?
    /// Whether this parameter takes all remaining positional arguments (`print(values...)`).
    public let isVariadic: Bool
    /// A few words on the parameter for the docs (may be empty).
    public let note: String

    /// A required parameter.
    public static func required(_ name: String, _ type: String, _ note: String = "") -> Param {
        Param(name: name, type: type, defaultValue: nil, isVariadic: false, note: note)
    }

    /// An optional parameter with its default.
    public static func optional(_ name: String, _ type: String, default value: Value, _ note: String = "") -> Param {
        Param(name: name, type: type, defaultValue: value, isVariadic: false, note: note)
    }

    /// A parameter collecting all remaining positional arguments (zero or more).
    public static func variadic(_ name: String, _ type: String, _ note: String = "") -> Param {
        Param(name: name, type: type, defaultValue: nil, isVariadic: true, note: note)
    }

    /// How the parameter reads in a signature: `W`, `seed=0`, `values...`.
    public var signatureText: String {
        if isVariadic { return "\(name)..." }
        if let d = defaultValue { return "\(name)=\(Render.inline(d, depth: 1))" }
        return name
    }
}

/// A builtin function with everything `help`, completion, the kernel's inspect request and
/// docs/LANGUAGE.md show: name, parameters, result type, category, a one-paragraph doc and an
/// example, next to its implementation. (A class, so that values holding it stay small.)
public final class Builtin {
    /// The name it is called by.
    public let name: String
    /// Its parameters in order.
    public let params: [Param]
    /// What it returns, as the docs say it ("matrix", "vector", "none"...).
    public let returns: String
    /// The docs section it belongs to ("basics", "spectra", "models"...).
    public let category: String
    /// One paragraph saying what it does, its errors and edge cases.
    public let doc: String
    /// A short example (one or more lines of PruneLang) that runs in a fresh session.
    public let example: String
    /// Whether keyword arguments beyond `params` are accepted (they land in `Arguments.extraKeywords`).
    public let acceptsExtraKeywords: Bool
    /// The implementation: bound arguments in, a value out; throws user errors through `Arguments`.
    public let body: (Arguments) throws -> Value

    /// Declares a builtin; register it with `BuiltinRegistry.register`.
    public init(name: String, params: [Param], returns: String, category: String, doc: String, example: String,
                acceptsExtraKeywords: Bool = false, body: @escaping (Arguments) throws -> Value) {
        self.name = name
        self.params = params
        self.returns = returns
        self.category = category
        self.doc = doc
        self.example = example
        self.acceptsExtraKeywords = acceptsExtraKeywords
        self.body = body
    }

    /// `name(a, b=1, rest...)`.
    public var signature: String {
        "\(name)(" + params.map(\.signatureText).joined(separator: ", ") + (acceptsExtraKeywords ? (params.isEmpty ? "" : ", ") + "key=value..." : "") + ")"
    }

    /// `name(a, b=1) -> type`.
    public var fullSignature: String { "\(signature) -> \(returns)" }

    /// The help text: signature, doc, parameters, example.
    public var helpText: String {
        var out = fullSignature + "\n\n" + doc
        let notes = params.filter { !$0.note.isEmpty }
        if !notes.isEmpty {
            out += "\n\nParameters:"
            for p in params {
                out += "\n  \(p.name) (\(p.type))" + (p.note.isEmpty ? "" : ": \(p.note)")
            }
        }
        if !example.isEmpty {
            out += "\n\nExample:\n" + example.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
        }
        return out
    }
}

/// All builtins by name: the one place `help`, `?name`, completion, inspect and the docs read.
/// Each file of builtins adds its own with `register` (see `BuiltinRegistry.standard()`):
///
///     extension BuiltinRegistry {
///         public func registerThings() {
///             register(Builtin(
///                 name: "scale", params: [.required("W", "matrix"), .optional("k", "number", default: .number(2))],
///                 returns: "matrix", category: "things",
///                 doc: "W with every element multiplied by k.", example: "scale(eye(2), k=3)") { a in
///                     let w = try a.matrix("W")          // "scale: argument W must be a matrix, got string"
///                     let k = try a.finiteNumber("k")
///                     return .matrix(w.map { $0 * Float(k) })
///                 })
///         }
///     }
///
/// then call `registerThings()` from `standard()`, add a call to the corpus, and regenerate
/// docs/LANGUAGE.md and the golden files (`PRUNELANG_UPDATE_GOLDEN=1`).
public final class BuiltinRegistry {
    private var table: [String: Builtin] = [:]
    private var order: [String] = []

    /// An empty registry.
    public init() {}

    /// The registry with every builtin of the language.
    public static func standard() -> BuiltinRegistry {
        let r = BuiltinRegistry()
        r.registerBasics()
        r.registerInputOutput()
        r.registerText()
        r.registerCollections()
        r.registerSpectra()
        r.registerPlots()
        r.registerModels()
        r.registerPruning()
        r.registerCalibration()
        r.registerEmbeddings()
        r.registerEvaluation()
        r.registerNetworks()
        r.registerTraining()
        r.registerStudies()
        r.registerCompression()
        return r
    }

    /// Adds `builtin`, replacing any builtin of the same name.
    public func register(_ builtin: Builtin) {
        if table[builtin.name] == nil { order.append(builtin.name) }
        table[builtin.name] = builtin
    }

    /// The builtin called `name`, if any.
    public func lookup(_ name: String) -> Builtin? { table[name] }

    /// Every builtin name, sorted.
    public var names: [String] { order.sorted() }

    /// Every builtin in registration order.
    public var all: [Builtin] { order.compactMap { table[$0] } }

    /// The categories in first-registration order.
    public var categories: [String] {
        var seen: [String] = []
        for b in all where !seen.contains(b.category) { seen.append(b.category) }
        return seen
    }
}

/// The arguments of one builtin call, bound to its parameters, with typed accessors whose errors
/// name the builtin and the argument ("svdvals: argument W must be a matrix, got string") and
/// point at the argument in the source.
public struct Arguments {
    /// The builtin being called.
    public let builtin: Builtin
    /// The session (for output, progress, interrupts and calling functions).
    public let interpreter: Interpreter
    /// Where the call is.
    public let callSpan: Span
    private let values: [Value?]
    private let spans: [Span?]
    /// The values collected by the variadic parameter, in order.
    public let rest: [Value]
    /// Where each of `rest` is.
    public let restSpans: [Span]
    /// Keyword arguments beyond the parameters (only when the builtin accepts them).
    public let extraKeywords: [(name: String, value: Value, span: Span)]

    init(builtin: Builtin, interpreter: Interpreter, callSpan: Span, values: [Value?], spans: [Span?],
         rest: [Value], restSpans: [Span], extraKeywords: [(name: String, value: Value, span: Span)]) {
        self.builtin = builtin
        self.interpreter = interpreter
        self.callSpan = callSpan
        self.values = values
        self.spans = spans
        self.rest = rest
        self.restSpans = restSpans
        self.extraKeywords = extraKeywords
    }

    private func index(_ name: String) -> Int {
        guard let i = builtin.params.firstIndex(where: { $0.name == name }) else {
            preconditionFailure("builtin \(builtin.name) has no parameter \(name)")
        }
        return i
    }

    /// Where argument `name` is in the source (the call when it was not given).
    public func span(_ name: String) -> Span { spans[index(name)] ?? callSpan }

    /// Whether argument `name` was given (or has a non-none default).
    public func has(_ name: String) -> Bool {
        guard let v = values[index(name)] else { return false }
        return !v.isNone
    }

    /// Whether argument `name` was written in the call (not left to its default).
    public func given(_ name: String) -> Bool { spans[index(name)] != nil }

    /// Argument `name` as it is (none when absent).
    public func value(_ name: String) -> Value { values[index(name)] ?? .none }

    /// A user error about the call as a whole: "name: message".
    public func fail(_ message: String, kind: Diagnostic.Kind = .value) -> Error {
        LangError(kind, "\(builtin.name): \(message)", callSpan)
    }

    /// A user error about argument `name`, pointing at it: "name: message".
    public func fail(argument name: String, _ message: String, kind: Diagnostic.Kind = .value) -> Error {
        LangError(kind, "\(builtin.name): \(message)", span(name))
    }

    /// "fn: argument x must be a T, got U" at the argument.
    public func typeError(_ name: String, expected: String) -> Error {
        fail(argument: name, "argument \(name) must be \(expected), got \(value(name).typeName)", kind: .type)
    }

    /// Argument `name` as a number (bools count as 0/1 nowhere: a number is required).
    public func number(_ name: String) throws -> Double {
        if case .number(let x) = value(name) { return x }
        throw typeError(name, expected: "a number")
    }

    /// Argument `name` as a finite number.
    public func finiteNumber(_ name: String) throws -> Double {
        let x = try number(name)
        guard x.isFinite else { throw fail(argument: name, "\(name) must be finite, got \(formatNumber(x))") }
        return x
    }

    /// Argument `name` as a number checked by `valid`; `expected` completes "name must be ...".
    public func number(_ name: String, _ expected: String, _ valid: (Double) -> Bool) throws -> Double {
        let x = try number(name)
        guard valid(x) else { throw fail(argument: name, "\(name) must be \(expected), got \(formatNumber(x))") }
        return x
    }

    /// Argument `name` as a fraction in [0, 1) ("ratio must be in [0, 1), got 1.5").
    public func fraction(_ name: String) throws -> Double {
        try number(name, "in [0, 1)") { $0 >= 0 && $0 < 1 }
    }

    /// Argument `name` as an integer in `range` (errors for 1.5, NaN, infinity, out of range).
    public func int(_ name: String, _ range: ClosedRange<Int> = -(1 << 53)...(1 << 53)) throws -> Int {
        let x = try number(name)
        guard let i = exactInt(x) else { throw fail(argument: name, "\(name) must be an integer, got \(formatNumber(x))") }
        guard range.contains(i) else {
            let lo = range.lowerBound <= -(1 << 53) ? nil : range.lowerBound
            let hi = range.upperBound >= (1 << 53) ? nil : range.upperBound
            let expected: String
            switch (lo, hi) {
            case let (l?, h?): expected = "between \(l) and \(h)"
            case let (l?, nil): expected = "at least \(l)"
            case let (nil, h?): expected = "at most \(h)"
            default: expected = "an integer"
            }
            throw fail(argument: name, "\(name) must be \(expected), got \(i)")
        }
        return i
    }

    /// Argument `name` as a seed: a non-negative integer below 2⁵³.
    public func seed(_ name: String = "seed") throws -> UInt64 {
        UInt64(try int(name, 0...(1 << 53)))
    }

    /// Argument `name` as a string.
    public func string(_ name: String) throws -> String {
        if case .string(let s) = value(name) { return s }
        throw typeError(name, expected: "a string")
    }

    /// Argument `name` as one of `choices` ("mode must be one of "a", "b", got "c"").
    public func choice(_ name: String, _ choices: [String]) throws -> String {
        let s = try string(name)
        guard choices.contains(s) else {
            throw fail(argument: name, "\(name) must be one of \(choices.map { Render.quote($0) }.joined(separator: ", ")), got \(Render.quote(s))\(didYouMean(s, choices))")
        }
        return s
    }

    /// Argument `name` as a bool.
    public func bool(_ name: String) throws -> Bool {
        if case .bool(let b) = value(name) { return b }
        throw typeError(name, expected: "true or false")
    }

    /// Argument `name` as a matrix: a matrix, a list of equal-length lists of numbers, or an object
    /// that stands for one (a weight view). With `finite`, a NaN or infinity is an error naming
    /// the argument and the element.
    public func matrix(_ name: String, finite: Bool = false) throws -> Matrix {
        let m: Matrix?
        do { m = try value(name).asMatrix(limit: interpreter.limits.maxElements) } catch let e as LimitError {
            throw fail(argument: name, "argument \(name): \(e.message)")
        }
        guard let m else { throw typeError(name, expected: "a matrix") }
        if finite {
            let c = m.cols
            if let k = m.data.firstIndex(where: { !$0.isFinite }) {
                throw fail(argument: name, "\(name) has a non-finite value (\(formatNumber(Double(m.data[k])))) at row \(k / c), column \(k % c)")
            }
        }
        return m
    }

    /// Argument `name` as numbers: a vector, a range, a list of numbers, and (when
    /// `flattenMatrix`) a matrix's elements.
    public func numbers(_ name: String, flattenMatrix: Bool = false) throws -> [Double] {
        let xs: [Double]?
        do { xs = try value(name).asNumbers(flattenMatrix: flattenMatrix, limit: interpreter.limits.maxElements) } catch let e as LimitError {
            throw fail(argument: name, "argument \(name): \(e.message)", kind: .type)
        }
        if let xs { return xs }
        throw typeError(name, expected: flattenMatrix ? "numbers (a vector, list, range or matrix)" : "numbers (a vector, list or range)")
    }

    /// Argument `name` as non-empty finite numbers.
    public func sample(_ name: String, flattenMatrix: Bool = true) throws -> [Double] {
        let xs = try numbers(name, flattenMatrix: flattenMatrix)
        guard !xs.isEmpty else { throw fail(argument: name, "\(name) is empty") }
        if let i = xs.firstIndex(where: { !$0.isFinite }) {
            throw fail(argument: name, "\(name) has a non-finite value (\(formatNumber(xs[i]))) at index \(i)")
        }
        return xs
    }

    /// Argument `name` as a list of integer indices into a dimension of `count`, negatives counting
    /// from the end; accepts a list, vector or range.
    public func indices(_ name: String, count: Int, what: String = "index") throws -> [Int] {
        let xs = try numbers(name)
        return try xs.enumerated().map { k, x in
            guard let i = exactInt(x) else { throw fail(argument: name, "\(name) must hold integers, got \(formatNumber(x)) at position \(k)") }
            let j = i < 0 ? i + count : i
            guard j >= 0, j < count else { throw fail(argument: name, "\(what) \(i) (position \(k)) is out of range for \(count)") }
            return j
        }
    }

    /// Argument `name` as something callable (a user function or a builtin).
    public func callable(_ name: String) throws -> Value {
        switch value(name) {
        case .function, .builtin: return value(name)
        default: throw typeError(name, expected: "a function")
        }
    }

    /// Reports progress through the session's hook, and stops with "interrupted" when asked to.
    public func progress(_ stage: String, done: Int, total: Int?) throws {
        try reporter().report(stage, done: done, total: total)
    }

    /// The session as a `ProgressReporter` for library work: events go to the session's progress
    /// hook (their stage replaced by `stage` when given), and both reporting and checking stop the
    /// work with "interrupted" at this call when the session is asked to. The one adapter between
    /// the library's progress and the language's.
    /// With `subject` (a model's name), each stage says what it works on ("pruning blocks of
    /// smollm2-135m"), so two runs in one cell show as two bars.
    public func reporter(_ stage: String? = nil, of subject: String? = nil) -> ProgressReporter {
        let interpreter = self.interpreter, span = callSpan
        return ProgressReporter(report: { event in
            try interpreter.checkInterrupt(at: span)
            var event = event
            if let stage { event.stage = stage }
            if let subject { event.stage += " of \(subject)" }
            interpreter.progressHandler?(event)
        }, check: { try interpreter.checkInterrupt(at: span) })
    }

    /// Stops with "interrupted" when the session has been asked to (call it in long loops).
    public func checkInterrupt() throws {
        try interpreter.checkInterrupt(at: callSpan)
    }
}

/// `x` as an Int when it is an integer of magnitude at most 2⁵³ (nil for 1.5, NaN, infinity, 1e300).
public func exactInt(_ x: Double) -> Int? {
    guard x.isFinite, x == x.rounded(), abs(x) <= 9_007_199_254_740_992 else { return nil }
    return Int(x)
}
