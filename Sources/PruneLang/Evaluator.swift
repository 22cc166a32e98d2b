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

    func execBlock(_ stmts: [Stmt], _ frame: Frame?) throws -> Flow {
        var last: Value? = nil
        for s in stmts {
            switch try exec(s, frame) {
            case .value(let v): last = v
            case let other: return other
            }
        }
        return .value(last)
    }

    func exec(_ s: Stmt, _ frame: Frame?) throws -> Flow {
        switch s.kind {
        case .expr(let e):
            if case .ifElse(let b) = e.kind { return try execIf(b, frame) }
            do {
                return .value(try eval(e, frame))
            } catch let c as ControlSignal {
                return c.flow
            }
        case .assign(let target, let op, let valueExpr):
            if op == nil, case .name(let ref) = target.kind {
                if case .call(let calleeExpr, let args) = valueExpr.kind, args.count == 2,
                   case .name(let cref) = calleeExpr.kind, cref.name == "append",
                   case .name(let aref) = args[0].value.kind, aref.name == ref.name, args[0].name == nil, args[1].name == nil {
                    // `xs = append(xs, item)` appends in place instead of copying the list.
                    do {
                        if try appendInPlace(ref, calleeExpr, args[1].value, frame, valueExpr.span) { return .value(nil) }
                    } catch let c as ControlSignal { return c.flow }
                }
                // The common case, kept short: `x = expr`.
                do { try store(ref, try eval(valueExpr, frame), frame) } catch let c as ControlSignal { return c.flow }
                return .value(nil)
            }
            do {
                let rhs = try eval(valueExpr, frame)
                try assign(target, op, rhs, frame, stmtSpan: s.span)
            } catch let c as ControlSignal {
                return c.flow
            }
            return .value(nil)
        case .function(let ref, let decl):
            let f = try makeFunction(decl, frame)
            try store(ref, f, frame)
            return .value(nil)
        case .forIn(let ref, let iterExpr, let body):
            let iterable: Value
            do { iterable = try eval(iterExpr, frame) } catch let c as ControlSignal { return c.flow }
            return try execFor(ref, iterable, iterExpr.span, body, frame, s.span)
        case .whileLoop(let cond, let body):
            while true {
                try tick(s.span)
                let c: Value
                do { c = try eval(cond, frame) } catch let sig as ControlSignal { return sig.flow }
                guard try truthy(c, cond.span) else { break }
                switch try execBlock(body, frame) {
                case .breakLoop: return .value(nil)
                case .returned(let v): return .returned(v)
                default: continue
                }
            }
            return .value(nil)
        case .breakLoop: return .breakLoop
        case .continueLoop: return .continueLoop
        case .returnValue(let e):
            guard let e else { return .returned(.none) }
            do { return .returned(try eval(e, frame)) } catch let c as ControlSignal { return c.flow }
        case .help(let e):
            if case .none = e.kind {
                write(line: overviewHelp())
                return .value(nil)
            }
            let v: Value
            do { v = try eval(e, frame) } catch let c as ControlSignal { return c.flow }
            write(line: helpText(for: v, written: e.span.text))
            return .value(nil)
        }
    }

    private func execIf(_ b: IfBranches, _ frame: Frame?) throws -> Flow {
        for br in b.branches {
            let c: Value
            do { c = try eval(br.condition, frame) } catch let sig as ControlSignal { return sig.flow }
            if try truthy(c, br.condition.span) { return try execBlock(br.body, frame) }
        }
        if let eb = b.elseBody { return try execBlock(eb, frame) }
        return .value(nil)
    }

    private func execFor(_ ref: NameRef, _ iterable: Value, _ iterSpan: Span, _ body: [Stmt], _ frame: Frame?, _ span: Span) throws -> Flow {
        // Runs the body once with the loop variable set; returns the flow that ends the loop, if any.
        func step(_ v: Value) throws -> Flow? {
            try tick(span)
            try store(ref, v, frame)
            switch try execBlock(body, frame) {
            case .breakLoop: return .value(nil)
            case .returned(let r): return .returned(r)
            default: return nil
            }
        }
        switch iterable {
        case .range(let r):
            // The common case, without the closure.
            var k = 0
            while k < r.count {
                try tick(span)
                try store(ref, .number(r.start + Double(k) * r.step), frame)
                switch try execBlock(body, frame) {
                case .breakLoop: return .value(nil)
                case .returned(let v): return .returned(v)
                default: break
                }
                k += 1
            }
        case .list(let xs):
            for x in xs { if let f = try step(x) { return f } }
        case .vector(let xs):
            for x in xs { if let f = try step(.number(x)) { return f } }
        case .matrix(let m):
            for i in 0..<m.rows { if let f = try step(.vector(widenAll(m.row(i)))) { return f } }
        case .string(let s):
            for ch in s { if let f = try step(.string(String(ch))) { return f } }
        case .record(let r):
            for k in r.keys { if let f = try step(.string(k)) { return f } }
        case .object(let o) where o.length != nil:
            let n = o.length!
            for i in 0..<n {
                let el: Value
                do { el = try o.element(at: i) } catch { throw hostError(error, "for", iterSpan) }
                if let f = try step(el) { return f }
            }
        default:
            throw LangError(.type, "cannot loop over a \(iterable.typeName) (loops take a list, range, vector, matrix rows, string, record keys)", iterSpan)
        }
        return .value(nil)
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

    /// `xs = append(xs, item)` without copying `xs`, when `append` is the builtin and `xs` a list;
    /// false (nothing done) otherwise.
    private func appendInPlace(_ ref: NameRef, _ callee: Expr, _ itemExpr: Expr, _ frame: Frame?, _ span: Span) throws -> Bool {
        guard case .builtin(let b) = try eval(callee, frame), b === registry.lookup("append"),
              try load(ref, frame).tag == .list else { return false }
        let item = try eval(itemExpr, frame)
        try tick(span)
        try modify(ref, frame) { v in
            guard case .list(var xs) = take(&v) else { return }
            defer { v = .list(xs) }
            try self.checkSize(xs.count + 1, span, "list")
            xs.append(item)
        }
        return true
    }

    /// Changes the variable `ref` in place (taking it out of its slot so the change does not copy).
    private func modify(_ ref: NameRef, _ frame: Frame?, _ change: (inout Value) throws -> Void) throws {
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

    private func assign(_ target: Expr, _ op: BinaryOp?, _ rhs: Value, _ frame: Frame?, stmtSpan: Span) throws {
        if case .name(let ref) = target.kind {
            if let op {
                try modify(ref, frame) { v in try self.combine(&v, op, rhs, stmtSpan) }
            } else {
                try store(ref, rhs, frame)
            }
            return
        }
        // Walk down to the variable, evaluating indices, then change it in place along the path.
        var path: [PathStep] = []
        var e = target
        while true {
            switch e.kind {
            case .index(let base, let comps):
                var idx: [Value] = []
                for c in comps {
                    guard case .single(let x) = c else { throw LangError(.syntax, "cannot assign to a slice", e.span) }
                    idx.append(try eval(x, frame))
                }
                path.append(.index(idx, e.span))
                e = base
                continue
            case .member(let base, let name, let span):
                path.append(.member(name, span))
                e = base
                continue
            case .name(let ref):
                path.reverse()
                try modify(ref, frame) { v in try self.update(&v, path[...], op, rhs, stmtSpan) }
                return
            default:
                throw LangError(.syntax, "cannot assign into the result of an expression; assign it to a name first", e.span)
            }
        }
    }

    private func update(_ v: inout Value, _ path: ArraySlice<PathStep>, _ op: BinaryOp?, _ rhs: Value, _ span: Span) throws {
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

    func eval(_ e: Expr, _ frame: Frame?) throws -> Value {
        switch e.kind {
        case .number(let x): return .number(x)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .none: return .none
        case .name(let ref): return try load(ref, frame)
        case .binary(let op, let l, let r):
            let a = try eval(l, frame)
            let b = try eval(r, frame)
            return try binary(op, a, b, e.span)
        case .and(let l, let r):
            let a = try eval(l, frame)
            guard try truthy(a, l.span) else { return a }
            return try eval(r, frame)
        case .or(let l, let r):
            let a = try eval(l, frame)
            if try truthy(a, l.span) { return a }
            return try eval(r, frame)
        case .unary(let op, let x):
            return try unary(op, try eval(x, frame), e.span)
        case .list(let items):
            var out: [Value] = []
            out.reserveCapacity(items.count)
            for x in items { out.append(try eval(x, frame)) }
            return .list(out)
        case .record(let fields):
            var r = Record()
            for f in fields { r[f.key] = try eval(f.value, frame) }
            return .record(r)
        case .range(let l, let r):
            let a = try eval(l, frame), b = try eval(r, frame)
            guard case .number(let x) = a else { throw LangError(.type, "a range needs numbers, got \(a.typeName) before '..'", l.span) }
            guard case .number(let y) = b else { throw LangError(.type, "a range needs numbers, got \(b.typeName) after '..'", r.span) }
            switch RangeValue.make(x, y, 1, limit: limits.maxElements) {
            case .success(let rv): return .range(rv)
            case .failure(let err): throw LangError(.value, err.message, e.span)
            }
        case .call(let calleeExpr, let argExprs):
            let callee = try eval(calleeExpr, frame)
            var positional: [(Value, Span)] = []
            var keywords: [(String, Value, Span)] = []
            positional.reserveCapacity(argExprs.count)
            for a in argExprs {
                let v = try eval(a.value, frame)
                if let n = a.name { keywords.append((n, v, a.span)) } else { positional.append((v, a.span)) }
            }
            return try call(callee, positional, keywords, span: e.span, calleeSpan: calleeExpr.span)
        case .member(let base, let name, let nspan):
            return try member(try eval(base, frame), name, nspan, e.span)
        case .index(let base, let comps):
            let b = try eval(base, frame)
            var parts: [IndexPart] = []
            for c in comps {
                switch c {
                case .single(let x): parts.append(.single(try eval(x, frame), x.span))
                case .slice(let a, let z, let st):
                    parts.append(.slice(try a.map { try eval($0, frame) }, try z.map { try eval($0, frame) },
                                        try st.map { try eval($0, frame) }))
                }
            }
            return try index(b, parts, e.span)
        case .function(let decl):
            return try makeFunction(decl, frame)
        case .ifElse(let b):
            switch try execIf(b, frame) {
            case .value(let v): return v ?? .none
            case let flow: throw ControlSignal(flow: flow)
            }
        }
    }

    private func makeFunction(_ decl: FunctionDecl, _ frame: Frame?) throws -> Value {
        var defaults: [Value?] = []
        for p in decl.params { defaults.append(try p.defaultValue.map { try eval($0, frame) }) }
        return .function(Function(decl: decl, closure: frame, defaults: defaults))
    }

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
            callDepth += 1
            defer { callDepth -= 1 }
            if callDepth > limits.maxCallDepth {
                throw LangError(.runtime, "too many nested calls (more than \(limits.maxCallDepth)); is there runaway recursion?", span)
            }
            do {
                switch try execBlock(decl.body, fr) {
                case .returned(let v): return v
                case .value(let v): return v ?? .none
                default: return .none
                }
            } catch var e as LangError {
                if e.trace.count < 100_000 { e.trace.append(span) }
                throw e
            }
        default:
            throw LangError(.type, "a \(callee.typeName) is not callable", calleeSpan)
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
