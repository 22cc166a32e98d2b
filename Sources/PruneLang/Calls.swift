import Numerics

/// Calling: user function values, how arguments bind to parameters (for user functions and for
/// builtins), the limit on nested calls, and the errors of a call that does not fit. Each of these
/// rules is written here once; the evaluator's compiled calls (Evaluator.swift) use them.

/// A user function value: its definition and the frame it closes over (nil at top level).
public final class Function {
    let decl: FunctionDecl
    let closure: Frame?
    /// The source the function was written in, kept alive for its spans.
    let source: SourceText
    /// Default values of the parameters, evaluated where the function was defined.
    let defaults: [Value?]

    init(decl: FunctionDecl, closure: Frame?, defaults: [Value?]) {
        self.decl = decl
        self.closure = closure
        self.defaults = defaults
        self.source = decl.span.source
    }

    /// The function's name (`<fn>` for a literal).
    public var name: String { decl.name }
    /// The parameter names, in order.
    public var parameterNames: [String] { decl.params.map(\.name) }
    /// `name(a, b=1)`, with defaults as written.
    public var signature: String {
        "\(decl.name)(" + decl.params.map { p in
            if let d = p.defaultValue { return "\(p.name)=\(d.span.text)" }
            return p.name
        }.joined(separator: ", ") + ")"
    }
}

extension Frame {
    /// A fresh frame for a call of `f`: its slots all unset, its parent the frame `f` closes over.
    convenience init(calling f: Function) {
        self.init(slotCount: f.decl.slotCount, parent: f.closure, decl: f.decl)
    }
}

extension Interpreter {
    // MARK: Calling a value

    /// Calls a function or builtin with positional arguments (for builtins that take callbacks,
    /// such as `map`).
    public func call(_ callee: Value, _ args: [Value], span: Span) throws -> Value {
        try call(callee, args.map { ($0, span) }, [], span: span, calleeSpan: span)
    }

    /// Calls `callee` with evaluated arguments: one step of the budget, then binding, then the body.
    func call(_ callee: Value, _ positional: [(Value, Span)], _ keywords: [(String, Value, Span)], span: Span, calleeSpan: Span) throws -> Value {
        try tick(span)
        switch callee {
        case .builtin(let b):
            return try callBuiltin(b, bind(b, positional, keywords, span), span)
        case .function(let f):
            return try invoke(f.decl, try bind(f, positional, keywords, span), span)
        default:
            throw LangError(.type, "a \(callee.typeName) is not callable", calleeSpan)
        }
    }

    // MARK: Nesting

    /// Enters one more nested call, failing past `limits.maxCallDepth` (runaway recursion, through
    /// user functions or builtins that call back). Pair with `leaveCall()` in a `defer`.
    @inline(__always)
    func enterCall(_ span: Span) throws {
        callDepth += 1
        if callDepth > limits.maxCallDepth {
            callDepth -= 1
            throw LangError(.runtime, "too many nested calls (more than \(limits.maxCallDepth)); is there runaway recursion?", span)
        }
    }

    /// Leaves the call entered by `enterCall`.
    @inline(__always)
    func leaveCall() { callDepth -= 1 }

    // MARK: User functions

    /// Binds a call's arguments to a user function's parameters in a new frame: positional
    /// arguments in order, then keywords by name, then defaults (`bindDefaults`).
    func bind(_ f: Function, _ positional: [(Value, Span)], _ keywords: [(String, Value, Span)], _ span: Span) throws -> Frame {
        let decl = f.decl
        let params = decl.params
        if positional.count > params.count {
            throw LangError(.type, "\(decl.name) takes \(params.count) argument\(params.count == 1 ? "" : "s"), got \(positional.count)", span)
        }
        let fr = Frame(calling: f)
        for (k, (v, _)) in positional.enumerated() { fr.slots[k] = v }
        for (name, v, kspan) in keywords {
            guard let k = params.firstIndex(where: { $0.name == name }) else {
                throw noParameter(decl.name, name, params.map(\.name), kspan)
            }
            if fr.slots[k] != nil { throw givenTwice(decl.name, name, kspan) }
            fr.slots[k] = v
        }
        try bindDefaults(f, fr, from: 0, span)
        return fr
    }

    /// Gives each parameter from `first` on that no argument set its default, or fails naming the
    /// first one without a default. (The compiled call with up to three positional arguments binds
    /// those straight into the frame, then calls this for the rest.)
    @inline(__always)
    func bindDefaults(_ f: Function, _ fr: Frame, from first: Int, _ span: Span) throws {
        let params = f.decl.params
        var k = first
        while k < params.count {
            if fr.slots[k] == nil {
                guard let d = f.defaults[k] else { throw missingArgument(f.decl.name, params[k].name, span) }
                fr.slots[k] = d
            }
            k += 1
        }
    }

    /// Runs a user function's body in its bound frame; its value is what it returned, or the value
    /// of its last statement.
    @inline(__always)
    func invoke(_ decl: FunctionDecl, _ fr: Frame, _ span: Span) throws -> Value {
        try enterCall(span)
        defer { leaveCall() }
        do {
            switch try body(of: decl).code(self, fr) {
            case .returned(let v): return v
            case .value(let v): return v ?? .none
            default: return .none
            }
        } catch var e as LangError {
            if e.trace.count < 100_000 { e.trace.append(span) }
            throw e
        }
    }

    // MARK: Builtins

    /// Binds call arguments to a builtin's parameters (a variadic parameter collects the extra
    /// positional ones; extra keywords go to builtins that accept them), or fails naming what is wrong.
    func bind(_ b: Builtin, _ positional: [(Value, Span)], _ keywords: [(String, Value, Span)], _ span: Span) throws -> Arguments {
        let params = b.params
        var values = [Value?](repeating: nil, count: params.count)
        var spans = [Span?](repeating: nil, count: params.count)
        var rest: [Value] = []
        var restSpans: [Span] = []
        var extra: [(name: String, value: Value, span: Span)] = []
        var p = 0
        for (v, s) in positional {
            while p < params.count, params[p].isVariadic == false, spans[p] != nil { p += 1 }
            guard p < params.count else {
                let fixed = params.filter { !$0.isVariadic }.count
                throw LangError(.type, "\(b.name) takes \(fixed == 0 ? "no" : "at most \(fixed)") positional argument\(fixed == 1 ? "" : "s"), got \(positional.count)", s)
            }
            if params[p].isVariadic {
                rest.append(v)
                restSpans.append(s)
            } else {
                values[p] = v
                spans[p] = s
                p += 1
            }
        }
        for (name, v, s) in keywords {
            guard let k = params.firstIndex(where: { $0.name == name && !$0.isVariadic }) else {
                if b.acceptsExtraKeywords { extra.append((name, v, s)); continue }
                let names = params.filter { !$0.isVariadic }.map(\.name)
                throw noParameter(b.name, name, names, s, listing: true)
            }
            if spans[k] != nil { throw givenTwice(b.name, name, s) }
            values[k] = v
            spans[k] = s
        }
        for (k, param) in params.enumerated() where values[k] == nil && !param.isVariadic {
            guard let d = param.defaultValue else { throw missingArgument(b.name, param.name, span, signature: b.signature) }
            values[k] = d
        }
        return Arguments(builtin: b, interpreter: self, callSpan: span, values: values, spans: spans,
                         rest: rest, restSpans: restSpans, extraKeywords: extra)
    }

    /// Runs a builtin on its bound arguments; errors without a place get the call's, and errors
    /// of library code become user errors naming the builtin.
    private func callBuiltin(_ b: Builtin, _ args: Arguments, _ span: Span) throws -> Value {
        try enterCall(span)
        defer { leaveCall() }
        do {
            return try b.body(args)
        } catch var e as LangError {
            if e.span == nil { e.span = span }
            throw e
        } catch let c as ControlSignal {
            throw c
        } catch {
            throw hostError(error, b.name, span)
        }
    }

    /// Converts an error from library code (Numerics, Models, ...) into a user error naming the builtin.
    func hostError(_ error: Error, _ name: String, _ span: Span) -> LangError {
        switch error {
        case let e as LangError: return e
        case let e as LimitError: return LangError(.value, "\(name): \(e.message)", span)
        case let e as NumericsError: return LangError(.value, "\(name): \(e.description)", span)
        default:
            let text = String(describing: error)
            return LangError(.runtime, "\(name): \(text)", span)
        }
    }

    // MARK: Arguments that do not fit (user functions and builtins alike)

    /// `f: missing argument 'x'`; builtins add their signature.
    private func missingArgument(_ callee: String, _ param: String, _ span: Span, signature: String? = nil) -> LangError {
        LangError(.type, "\(callee): missing argument '\(param)'" + (signature.map { " (\($0))" } ?? ""), span)
    }

    /// `f: argument 'x' given twice`.
    private func givenTwice(_ callee: String, _ param: String, _ span: Span) -> LangError {
        LangError(.type, "\(callee): argument '\(param)' given twice", span)
    }

    /// `f has no parameter 'x'`, with a suggestion; `listing` adds the parameter names (builtins).
    private func noParameter(_ callee: String, _ name: String, _ params: [String], _ span: Span, listing: Bool = false) -> LangError {
        LangError(.type, "\(callee) has no parameter '\(name)'\(didYouMean(name, params))"
                    + (listing && !params.isEmpty ? " (parameters: \(params.joined(separator: ", ")))" : ""), span)
    }
}
