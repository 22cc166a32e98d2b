import Numerics

/// How a statement finished: normally (with the value of an expression statement), or by
/// `break`, `continue` or `return`.
enum Flow {
    case value(Value?)
    case breakLoop
    case continueLoop
    case returned(Value)
}

/// Carries `break`/`continue`/`return` out of an `if` used inside an expression.
struct ControlSignal: Error, @unchecked Sendable {
    let flow: Flow
}

/// Moves the value out of `v`, leaving `none`, so that its storage is uniquely referenced.
@inline(__always)
func take(_ v: inout Value) -> Value {
    let old = v
    v = .none
    return old
}

/// One step of an assignment path: `.field` or `[indices]`.
enum PathStep {
    case member(String, Span)
    case index([Value], Span)
}

extension Interpreter {
    // MARK: Statements

    @inline(__always)
    func tick(_ span: Span) throws {
        if interruptFlag.isSet {
            interruptFlag.clear()
            throw LangError(.interrupted, "interrupted", span)
        }
        if let max = limits.maxSteps {
            steps += 1
            if steps > max { throw LangError(.runtime, "step limit exceeded (\(max) loop iterations and calls)", span) }
        }
    }

    // MARK: Names

    func undefined(_ ref: NameRef, _ frame: Frame?) -> LangError {
        var candidates = Set(globals.definedNames)
        candidates.formUnion(registry.names)
        var f = frame
        while let fr = f { candidates.formUnion(fr.decl?.localNames ?? []); f = fr.parent }
        if case .local = ref.slot {
            return LangError(.name, "local variable '\(ref.name)' is used before it is assigned", ref.span)
        }
        if case .enclosing = ref.slot {
            return LangError(.name, "variable '\(ref.name)' of the enclosing function is used before it is assigned", ref.span)
        }
        return LangError(.name, "name '\(ref.name)' is not defined\(didYouMean(ref.name, candidates))", ref.span)
    }

    @inline(__always)
    func load(_ ref: NameRef, _ frame: Frame?) throws -> Value {
        switch ref.slot {
        case .local(let i):
            if let v = frame!.slots[i] { return v }
        case .enclosing(let d, let i):
            if let v = frame!.ancestor(d).slots[i] { return v }
        case .global, .unresolved:
            if ref.globalIndex < 0 {
                guard let i = globals.existingSlot(ref.name) else {
                    if let b = registry.lookup(ref.name) { globals.set(ref.name, .builtin(b)); return .builtin(b) }
                    throw undefined(ref, frame)
                }
                ref.globalIndex = i
            }
            if let v = globals.values[ref.globalIndex] { return v }
        }
        throw undefined(ref, frame)
    }

    @inline(__always)
    func store(_ ref: NameRef, _ v: Value, _ frame: Frame?) throws {
        switch ref.slot {
        case .local(let i): frame!.slots[i] = v
        case .enclosing(let d, let i): frame!.ancestor(d).slots[i] = v
        case .global, .unresolved:
            if ref.globalIndex < 0 { ref.globalIndex = globals.slot(for: ref.name) }
            globals.values[ref.globalIndex] = v
        }
    }

    /// Changes the variable `ref` in place (taking it out of its slot so the change does not copy).
    func modify(_ ref: NameRef, _ frame: Frame?, _ change: (inout Value) throws -> Void) throws {
        var v = try load(ref, frame)
        // Drop the slot's reference so `v` is unique; put the (possibly unchanged) value back after.
        switch ref.slot {
        case .local(let i): frame!.slots[i] = Value.none
        case .enclosing(let d, let i): frame!.ancestor(d).slots[i] = Value.none
        case .global, .unresolved: globals.values[ref.globalIndex] = Value.none
        }
        defer { try? store(ref, v, frame) }
        try change(&v)
    }

    // MARK: Assignment

    func update(_ v: inout Value, _ path: ArraySlice<PathStep>, _ op: BinaryOp?, _ rhs: Value, _ span: Span) throws {
        guard let step = path.first else {
            try combine(&v, op, rhs, span)
            return
        }
        let rest = path.dropFirst()
        switch step {
        case .member(let name, let mspan):
            guard v.tag == .record else {
                throw LangError(.type, "cannot set field '\(name)' of a \(v.typeName) (only records have settable fields)", mspan)
            }
            guard case .record(var r) = take(&v) else { return }
            defer { v = .record(r) }
            guard let i = r.keys.firstIndex(of: name) else {
                if rest.isEmpty && op == nil { r[name] = rhs; return }
                throw LangError(.name, "record has no field '\(name)'\(didYouMean(name, r.keys))", mspan)
            }
            var child = r.takeValue(at: i)
            defer { r.setValue(at: i, child) }
            try update(&child, rest, op, rhs, span)
        case .index(let idx, let ispan):
            // Switch on the kind only, then move the payload out, so that it is uniquely referenced.
            switch v.tag {
            case .list:
                guard case .list(var xs) = take(&v) else { return }
                defer { v = .list(xs) }
                guard idx.count == 1 else { throw LangError(.type, "a list takes one index, got \(idx.count)", ispan) }
                let k = try normalizedIndex(idx[0], count: xs.count, ispan, what: "list")
                var child = xs[k]
                xs[k] = .none
                defer { xs[k] = child }
                try update(&child, rest, op, rhs, span)
            case .record:
                guard case .record(var r) = take(&v) else { return }
                defer { v = .record(r) }
                guard idx.count == 1, case .string(let key) = idx[0] else {
                    throw LangError(.type, "a record is indexed by a field name string, got \(idx.map(\.typeName).joined(separator: ", "))", ispan)
                }
                guard let i = r.keys.firstIndex(of: key) else {
                    if rest.isEmpty && op == nil { r[key] = rhs; return }
                    throw LangError(.name, "record has no field \(Render.quote(key))\(didYouMean(key, r.keys))", ispan)
                }
                var child = r.takeValue(at: i)
                defer { r.setValue(at: i, child) }
                try update(&child, rest, op, rhs, span)
            case .vector:
                guard case .vector(var xs) = take(&v) else { return }
                defer { v = .vector(xs) }
                guard idx.count == 1, rest.isEmpty else { throw LangError(.type, "a vector takes one index and its elements are numbers", ispan) }
                let k = try normalizedIndex(idx[0], count: xs.count, ispan, what: "vector")
                var element: Value = .number(xs[k])
                try update(&element, rest, op, rhs, span)
                guard case .number(let x) = element else {
                    throw LangError(.type, "a vector element must be a number, got \(element.typeName)", span)
                }
                xs[k] = x
            case .matrix:
                guard case .matrix(var m) = take(&v) else { return }
                defer { v = .matrix(m) }
                guard rest.isEmpty else { throw LangError(.type, "a matrix element is a number; it has no parts to assign", ispan) }
                if idx.count == 2 {
                    let i = try normalizedIndex(idx[0], count: m.rows, ispan, what: "matrix row")
                    let j = try normalizedIndex(idx[1], count: m.cols, ispan, what: "matrix column")
                    var element: Value = .number(widen(m[i, j]))
                    try update(&element, rest, op, rhs, span)
                    guard case .number(let x) = element else {
                        throw LangError(.type, "a matrix element must be a number, got \(element.typeName)", span)
                    }
                    m[i, j] = Float(x)
                } else if idx.count == 1 {
                    let i = try normalizedIndex(idx[0], count: m.rows, ispan, what: "matrix row")
                    var row: Value = .vector(widenAll(m.row(i)))
                    try update(&row, rest, op, rhs, span)
                    let xs: [Double]?
                    do { xs = try row.asNumbers(flattenMatrix: false, limit: limits.maxElements) } catch { xs = nil }
                    guard let xs, xs.count == m.cols else {
                        throw LangError(.type, "a matrix row must be \(m.cols) numbers, got \(row.typeName)\(row.vectorLength.map { " of \($0)" } ?? "")", span)
                    }
                    for j in 0..<m.cols { m[i, j] = Float(xs[j]) }
                } else {
                    throw LangError(.type, "a matrix takes one or two indices, got \(idx.count)", ispan)
                }
            default:
                throw LangError(.type, "cannot assign to an element of a \(v.typeName)", ispan)
            }
        }
    }

    /// Applies `op` (or plain assignment) to `v` in place; `xs += ys` on lists appends without copying.
    func combine(_ v: inout Value, _ op: BinaryOp?, _ rhs: Value, _ span: Span) throws {
        guard let op else { v = rhs; return }
        if op == .add, case .list(let ys) = rhs, v.tag == .list {
            guard case .list(var xs) = take(&v) else { return }
            defer { v = .list(xs) }
            try checkSize(xs.count + ys.count, span, "list")
            xs.append(contentsOf: ys)
            return
        }
        v = try binary(op, v, rhs, span)
    }

    // MARK: Expressions

    /// Python's truthiness for the simple types; vectors and matrices are ambiguous.
    func truthy(_ v: Value, _ span: Span) throws -> Bool {
        switch v {
        case .bool(let b): return b
        case .none: return false
        case .number(let x): return x != 0 && !x.isNaN
        case .string(let s): return !s.isEmpty
        case .list(let xs): return !xs.isEmpty
        case .record(let r): return r.count > 0
        case .range(let r): return r.count > 0
        case .function, .builtin, .object: return true
        case .vector, .matrix:
            throw LangError(.type, "the truth of a \(v.typeName) is ambiguous; use any(x) or all(x)", span)
        }
    }

    // MARK: Calls

    /// Calls a function or builtin with positional and keyword arguments (for builtins that take
    /// callbacks, such as `map`).
    public func call(_ callee: Value, _ args: [Value], span: Span) throws -> Value {
        try call(callee, args.map { ($0, span) }, [], span: span, calleeSpan: span)
    }

    func call(_ callee: Value, _ positional: [(Value, Span)], _ keywords: [(String, Value, Span)], span: Span, calleeSpan: Span) throws -> Value {
        try tick(span)
        switch callee {
        case .builtin(let b):
            let args = try bind(b, positional, keywords, span)
            callDepth += 1
            defer { callDepth -= 1 }
            if callDepth > limits.maxCallDepth {
                throw LangError(.runtime, "too many nested calls (more than \(limits.maxCallDepth)); is there runaway recursion?", span)
            }
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
        case .function(let f):
            let decl = f.decl
            let fr = Frame(slotCount: decl.slotCount, parent: f.closure, decl: decl)
            let params = decl.params
            if positional.count > params.count {
                throw LangError(.type, "\(decl.name) takes \(params.count) argument\(params.count == 1 ? "" : "s"), got \(positional.count)", span)
            }
            for (k, (v, _)) in positional.enumerated() { fr.slots[k] = v }
            for (name, v, kspan) in keywords {
                guard let k = params.firstIndex(where: { $0.name == name }) else {
                    throw LangError(.type, "\(decl.name) has no parameter '\(name)'\(didYouMean(name, params.map(\.name)))", kspan)
                }
                if fr.slots[k] != nil { throw LangError(.type, "\(decl.name): argument '\(name)' given twice", kspan) }
                fr.slots[k] = v
            }
            for k in 0..<params.count where fr.slots[k] == nil {
                guard let d = f.defaults[k] else {
                    throw LangError(.type, "\(decl.name): missing argument '\(params[k].name)'", span)
                }
                fr.slots[k] = d
            }
            return try invoke(decl, fr, span)
        default:
            throw LangError(.type, "a \(callee.typeName) is not callable", calleeSpan)
        }
    }

    /// Runs a user function's body in its prepared frame (arguments bound).
    @inline(__always)
    func invoke(_ decl: FunctionDecl, _ fr: Frame, _ span: Span) throws -> Value {
        callDepth += 1
        defer { callDepth -= 1 }
        if callDepth > limits.maxCallDepth {
            throw LangError(.runtime, "too many nested calls (more than \(limits.maxCallDepth)); is there runaway recursion?", span)
        }
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

    /// Binds call arguments to a builtin's parameters, or fails naming what is wrong.
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
                throw LangError(.type, "\(b.name) has no parameter '\(name)'\(didYouMean(name, names))" + (names.isEmpty ? "" : " (parameters: \(names.joined(separator: ", ")))"), s)
            }
            if spans[k] != nil { throw LangError(.type, "\(b.name): argument '\(name)' given twice", s) }
            values[k] = v
            spans[k] = s
        }
        for (k, param) in params.enumerated() where values[k] == nil && !param.isVariadic {
            guard let d = param.defaultValue else {
                throw LangError(.type, "\(b.name): missing argument '\(param.name)' (\(b.signature))", span)
            }
            values[k] = d
        }
        return Arguments(builtin: b, interpreter: self, callSpan: span, values: values, spans: spans,
                         rest: rest, restSpans: restSpans, extraKeywords: extra)
    }
}

extension Value {
    /// The length of a vector-like value, for messages.
    var vectorLength: Int? {
        switch self {
        case .vector(let xs): return xs.count
        case .list(let xs): return xs.count
        default: return nil
        }
    }
}
