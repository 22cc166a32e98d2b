import Numerics

/// The evaluator: it gives each statement and expression its meaning, by compiling it to a Swift
/// closure that runs it. The rules it relies on live beside it, each in one place: where names
/// live and how they are read and written (Environment.swift), how calls bind arguments and
/// report the ones that do not fit (Calls.swift), assignment into parts of values
/// (Assignment.swift), operators (Operators.swift), indexing and members (Indexing.swift), and
/// interrupts and the step budget (`tick`, Interpreter.swift).

/// An expression compiled to a closure: given the session and the current call's frame (nil at
/// top level), its value.
typealias ExprCode = (Interpreter, Frame?) throws -> Value
/// A statement compiled to a closure: given the session and the frame, how it finished.
typealias StmtCode = (Interpreter, Frame?) throws -> Flow

/// How a statement finished: normally (with the value of an expression statement), or by
/// `break`, `continue` or `return`.
enum Flow {
    case value(Value?)
    case breakLoop
    case continueLoop
    case returned(Value)

    /// What a loop does after its body finished with this flow: nil to go on (the body ended, or
    /// `continue`), or the flow that ends the loop (`break` ends it normally; `return` leaves the
    /// function).
    @inline(__always)
    var endingLoop: Flow? {
        switch self {
        case .breakLoop: return .value(nil)
        case .returned(let r): return .returned(r)
        case .value, .continueLoop: return nil
        }
    }
}

/// Carries `break`/`continue`/`return` out of an `if` used inside an expression.
struct ControlSignal: Error, @unchecked Sendable {
    let flow: Flow
}

/// A function body compiled for one session (a class, so the closure is stored as it is).
final class CompiledBody {
    let code: StmtCode
    let owner: ObjectIdentifier

    init(code: @escaping StmtCode, owner: ObjectIdentifier) {
        self.code = code
        self.owner = owner
    }
}

/// Each cell (and each function body, on its first call) is turned once into a tree of Swift
/// closures, one per node, with names already resolved to slots and the common number-on-number
/// operations inlined; running the cell calls the root closure. This avoids re-dispatching on the
/// syntax tree at every step, which is what makes a tree walker slow. The closures take the
/// session as an argument rather than capturing it (the session owns them, through its
/// functions); `body(of:)` recompiles a function met in another session, since global slots differ
/// between sessions.
extension Interpreter {
    // MARK: Entry points

    /// The compiled body of a user function, compiled on first use in this session.
    func body(of decl: FunctionDecl) -> CompiledBody {
        let me = ObjectIdentifier(self)
        if let compiled = decl.compiled, compiled.owner == me { return compiled }
        let compiled = CompiledBody(code: compileBlock(decl.body), owner: me)
        decl.compiled = compiled
        return compiled
    }

    // MARK: Statements

    /// A block: its statements in order; its flow is the last statement's (its value, for `if`
    /// expressions and function results), or the first break/continue/return.
    func compileBlock(_ stmts: [Stmt]) -> StmtCode {
        // (Closures are never kept in arrays or optionals on the hot paths: those store them in a
        // generic representation, and every call then goes through a conversion thunk.)
        guard let lastStmt = stmts.last else { return { _, _ in .value(nil) } }
        var chain = compileStatement(lastStmt)
        // Chain from the end: each link runs its statement, then the rest unless control left or
        // an interrupt arrived meanwhile (a builtin that keeps a partial result, such as
        // train_policy, returns normally and leaves the interrupt to stop the cell here).
        for (stmt, next) in zip(stmts.dropLast(), stmts.dropFirst()).reversed() {
            let code = compileStatement(stmt)
            let rest = chain
            let nextSpan = next.span
            chain = { ip, f in
                switch try code(ip, f) {
                case .value:
                    try ip.checkInterrupt(at: nextSpan)
                    return try rest(ip, f)
                case let other: return other
                }
            }
        }
        return chain
    }

    func compileStatement(_ s: Stmt) -> StmtCode {
        let span = s.span
        switch s.kind {
        case .expr(let e):
            if case .ifElse(let b) = e.kind { return compileIf(b) }
            let c = compile(e)
            return { ip, f in
                do { return .value(try c(ip, f)) } catch let sig as ControlSignal { return sig.flow }
            }
        case .assign(let target, let op, let valueExpr):
            return compileAssignment(target, op, valueExpr, span)
        case .function(let ref, let decl):
            let make = compileFunction(decl)
            let st = storer(ref)
            return { ip, f in
                st(ip, try make(ip, f), f)
                return .value(nil)
            }
        case .forIn(let ref, let iterExpr, let body):
            return compileFor(ref, compile(iterExpr), iterExpr.span, compileBlock(body), span)
        case .whileLoop(let cond, let bodyStmts):
            let c = compile(cond), body = compileBlock(bodyStmts), cspan = cond.span
            return { ip, f in
                while true {
                    try ip.tick(span)
                    let v: Value
                    do { v = try c(ip, f) } catch let sig as ControlSignal { return sig.flow }
                    guard try ip.truthy(v, cspan) else { break }
                    if let end = try body(ip, f).endingLoop { return end }
                }
                return .value(nil)
            }
        case .breakLoop: return { _, _ in .breakLoop }
        case .continueLoop: return { _, _ in .continueLoop }
        case .returnValue(let e):
            guard let e else { return { _, _ in .returned(.none) } }
            let c = compile(e)
            return { ip, f in
                do { return .returned(try c(ip, f)) } catch let sig as ControlSignal { return sig.flow }
            }
        case .help(let e):
            if case .none = e.kind {
                return { ip, _ in
                    ip.write(line: ip.overviewHelp())
                    return .value(nil)
                }
            }
            let c = compile(e), written = e.span.text
            return { ip, f in
                let v: Value
                do { v = try c(ip, f) } catch let sig as ControlSignal { return sig.flow }
                ip.show(ip.helpBundle(for: v, written: written))
                return .value(nil)
            }
        }
    }

    private func compileIf(_ b: IfBranches) -> StmtCode {
        if b.branches.count == 1 {
            // `if c { } else { }`, the common shape, without iterating over branches.
            let cond = compile(b.branches[0].condition), cspan = b.branches[0].condition.span
            let body = compileBlock(b.branches[0].body)
            let elseBody: StmtCode
            if let eb = b.elseBody { elseBody = compileBlock(eb) } else { elseBody = { _, _ in .value(nil) } }
            return { ip, f in
                let v: Value
                do { v = try cond(ip, f) } catch let sig as ControlSignal { return sig.flow }
                return try ip.truthy(v, cspan) ? try body(ip, f) : try elseBody(ip, f)
            }
        }
        let branches = b.branches.map { (compile($0.condition), $0.condition.span, compileBlock($0.body)) }
        let elseBody = b.elseBody.map { compileBlock($0) }
        return { ip, f in
            for (cond, cspan, body) in branches {
                let v: Value
                do { v = try cond(ip, f) } catch let sig as ControlSignal { return sig.flow }
                if try ip.truthy(v, cspan) { return try body(ip, f) }
            }
            if let elseBody { return try elseBody(ip, f) }
            return .value(nil)
        }
    }

    private func compileFor(_ ref: NameRef, _ iter: @escaping ExprCode, _ iterSpan: Span, _ body: @escaping StmtCode, _ span: Span) -> StmtCode {
        let st = storer(ref)
        return { ip, f in
            let iterable: Value
            do { iterable = try iter(ip, f) } catch let sig as ControlSignal { return sig.flow }
            // Runs the body once with the loop variable set; the flow that ends the loop, if any.
            @inline(__always)
            func step(_ v: Value) throws -> Flow? {
                try ip.tick(span)
                st(ip, v, f)
                return try body(ip, f).endingLoop
            }
            switch iterable {
            case .range(let r):
                var k = 0
                while k < r.count {
                    if let fl = try step(.number(r.start + Double(k) * r.step)) { return fl }
                    k += 1
                }
            case .list(let xs):
                for x in xs { if let fl = try step(x) { return fl } }
            case .vector(let xs):
                for x in xs { if let fl = try step(.number(x)) { return fl } }
            case .matrix(let m):
                for i in 0..<m.rows { if let fl = try step(.vector(widenAll(m.row(i)))) { return fl } }
            case .string(let s):
                for ch in s { if let fl = try step(.string(String(ch))) { return fl } }
            case .record(let r):
                for k in r.keys { if let fl = try step(.string(k)) { return fl } }
            case .object(let o) where o.length != nil:
                for i in 0..<o.length! {
                    let el: Value
                    do { el = try o.element(at: i) } catch { throw ip.hostError(error, "for", iterSpan) }
                    if let fl = try step(el) { return fl }
                }
            default:
                throw LangError(.type, "cannot loop over a \(iterable.typeName) (loops take a list, range, vector, matrix rows, string, record keys)", iterSpan)
            }
            return .value(nil)
        }
    }

    // MARK: Assignment

    private func compileAssignment(_ target: Expr, _ op: BinaryOp?, _ valueExpr: Expr, _ span: Span) -> StmtCode {
        if op == nil, case .name(let ref) = target.kind, let append = compileAppendInPlace(ref, valueExpr, span) { return append }
        let value = compile(valueExpr)
        if case .name(let ref) = target.kind {
            if op == nil {
                let st = storer(ref)
                return { ip, f in
                    do { st(ip, try value(ip, f), f) } catch let sig as ControlSignal { return sig.flow }
                    return .value(nil)
                }
            }
            let modify = modifier(ref)
            return { ip, f in
                do {
                    let rhs = try value(ip, f)
                    try modify(ip, f) { v in try ip.combine(&v, op, rhs, span) }
                } catch let sig as ControlSignal { return sig.flow }
                return .value(nil)
            }
        }
        // `a.b[i] = v`: walk down to the variable, keeping the steps (indices compiled).
        enum Step { case member(String, Span); case index([ExprCode], Span) }
        var steps: [Step] = []
        var e = target
        var base: NameRef?
        loop: while true {
            switch e.kind {
            case .index(let b, let comps):
                var codes: [ExprCode] = []
                for c in comps {
                    guard case .single(let x) = c else { return { _, _ in throw LangError(.syntax, "cannot assign to a slice", target.span) } }
                    codes.append(compile(x))
                }
                steps.append(.index(codes, e.span))
                e = b
            case .member(let b, let name, let nspan):
                steps.append(.member(name, nspan))
                e = b
            case .name(let ref):
                base = ref
                break loop
            default:
                let where_ = e.span
                return { _, _ in throw LangError(.syntax, "cannot assign into the result of an expression; assign it to a name first", where_) }
            }
        }
        steps.reverse()
        let modify = modifier(base!)
        return { ip, f in
            do {
                let rhs = try value(ip, f)
                var path: [PathStep] = []
                path.reserveCapacity(steps.count)
                for st in steps {
                    switch st {
                    case .member(let n, let sp): path.append(.member(n, sp))
                    case .index(let codes, let sp): path.append(.index(try codes.map { try $0(ip, f) }, sp))
                    }
                }
                try modify(ip, f) { v in try ip.update(&v, path[...], op, rhs, span) }
            } catch let sig as ControlSignal { return sig.flow }
            return .value(nil)
        }
    }

    /// `xs = append(xs, item)` appends in place instead of copying the list, when `append` is the
    /// builtin and `xs` holds a list at run time; nil when the statement has another shape.
    private func compileAppendInPlace(_ ref: NameRef, _ valueExpr: Expr, _ span: Span) -> StmtCode? {
        guard case .call(let calleeExpr, let args) = valueExpr.kind, args.count == 2,
              case .name(let cref) = calleeExpr.kind, cref.name == "append",
              case .name(let aref) = args[0].value.kind, aref.name == ref.name, args[0].name == nil, args[1].name == nil
        else { return nil }
        let callee = compile(calleeExpr), item = compile(args[1].value), general = compile(valueExpr)
        let list = loader(ref), st = storer(ref), modify = modifier(ref)
        return { ip, f in
            do {
                if case .builtin(let b) = try callee(ip, f), b === ip.registry.lookup("append"), try list(ip, f).tag == .list {
                    let x = try item(ip, f)
                    try ip.tick(span)
                    try modify(ip, f) { v in
                        guard case .list(var xs) = take(&v) else { return }
                        defer { v = .list(xs) }
                        try ip.checkSize(xs.count + 1, span, "list")
                        xs.append(x)
                    }
                } else {
                    st(ip, try general(ip, f), f)
                }
            } catch let sig as ControlSignal { return sig.flow }
            return .value(nil)
        }
    }

    // MARK: Expressions

    func compile(_ e: Expr) -> ExprCode {
        let span = e.span
        switch e.kind {
        case .number(let x):
            let v = Value.number(x)
            return { _, _ in v }
        case .string(let s):
            let v = Value.string(s)
            return { _, _ in v }
        case .bool(let b):
            let v = Value.bool(b)
            return { _, _ in v }
        case .none:
            return { _, _ in .none }
        case .name(let ref):
            return loader(ref)
        case .binary(let op, let l, let r):
            return compileBinary(op, compile(l), compile(r), span)
        case .and(let l, let r):
            let a = compile(l), b = compile(r), lspan = l.span
            return { ip, f in
                let x = try a(ip, f)
                guard try ip.truthy(x, lspan) else { return x }
                return try b(ip, f)
            }
        case .or(let l, let r):
            let a = compile(l), b = compile(r), lspan = l.span
            return { ip, f in
                let x = try a(ip, f)
                if try ip.truthy(x, lspan) { return x }
                return try b(ip, f)
            }
        case .unary(let op, let x):
            let c = compile(x)
            if op == .neg {
                return { ip, f in
                    let v = try c(ip, f)
                    if case .number(let n) = v { return .number(-n) }
                    return try ip.unary(op, v, span)
                }
            }
            return { ip, f in try ip.unary(op, try c(ip, f), span) }
        case .list(let items):
            let codes = items.map { compile($0) }
            return { ip, f in
                var out: [Value] = []
                out.reserveCapacity(codes.count)
                for c in codes { out.append(try c(ip, f)) }
                return .list(out)
            }
        case .record(let fields):
            let codes = fields.map { ($0.key, compile($0.value)) }
            return { ip, f in
                var r = Record()
                for (k, c) in codes { r[k] = try c(ip, f) }
                return .record(r)
            }
        case .range(let l, let r):
            let a = compile(l), b = compile(r), lspan = l.span, rspan = r.span
            return { ip, f in
                let x = try a(ip, f), y = try b(ip, f)
                guard case .number(let lo) = x else { throw LangError(.type, "a range needs numbers, got \(x.typeName) before '..'", lspan) }
                guard case .number(let hi) = y else { throw LangError(.type, "a range needs numbers, got \(y.typeName) after '..'", rspan) }
                switch RangeValue.make(lo, hi, 1, limit: ip.limits.maxElements) {
                case .success(let rv): return .range(rv)
                case .failure(let err): throw LangError(.value, err.message, span)
                }
            }
        case .call(let calleeExpr, let args):
            return compileCall(calleeExpr, args, span)
        case .member(let base, let name, let nspan):
            let b = compile(base)
            return { ip, f in try ip.member(try b(ip, f), name, nspan, span) }
        case .index(let base, let comps):
            let b = compile(base)
            enum Part { case single(ExprCode, Span); case slice(ExprCode?, ExprCode?, ExprCode?) }
            let parts: [Part] = comps.map { c in
                switch c {
                case .single(let x): return .single(compile(x), x.span)
                case .slice(let a, let z, let st): return .slice(a.map { compile($0) }, z.map { compile($0) }, st.map { compile($0) })
                }
            }
            if parts.count == 1, case .single(let ic, let ispan) = parts[0] {
                // The common case `xs[i]`, without building an array of parts for lists and vectors.
                return { ip, f in
                    let v = try b(ip, f), i = try ic(ip, f)
                    switch v {
                    case .list(let xs): return xs[try ip.normalizedIndex(i, count: xs.count, ispan, what: "list")]
                    case .vector(let xs): return .number(xs[try ip.normalizedIndex(i, count: xs.count, ispan, what: "vector")])
                    default: return try ip.index(v, [.single(i, ispan)], span)
                    }
                }
            }
            return { ip, f in
                let v = try b(ip, f)
                var evaluated: [IndexPart] = []
                for p in parts {
                    switch p {
                    case .single(let c, let s): evaluated.append(.single(try c(ip, f), s))
                    case .slice(let a, let z, let st): evaluated.append(.slice(try a?(ip, f), try z?(ip, f), try st?(ip, f)))
                    }
                }
                return try ip.index(v, evaluated, span)
            }
        case .function(let decl):
            return compileFunction(decl)
        case .ifElse(let b):
            let code = compileIf(b)
            return { ip, f in
                switch try code(ip, f) {
                case .value(let v): return v ?? .none
                case let flow: throw ControlSignal(flow: flow)
                }
            }
        }
    }

    /// A function literal or definition: evaluates the defaults where it is defined.
    private func compileFunction(_ decl: FunctionDecl) -> ExprCode {
        let defaults = decl.params.map { p in p.defaultValue.map { compile($0) } }
        return { ip, f in
            var values: [Value?] = []
            values.reserveCapacity(defaults.count)
            for d in defaults { values.append(try d?(ip, f)) }
            return .function(Function(decl: decl, closure: f, defaults: values))
        }
    }

    private func compileCall(_ calleeExpr: Expr, _ args: [CallArgument], _ span: Span) -> ExprCode {
        let callee = compile(calleeExpr), calleeSpan = calleeExpr.span
        if args.count <= 3 && args.allSatisfy({ $0.name == nil }) {
            // User functions called with up to three positional arguments: bind straight into the
            // new frame (the common case in loops and recursion), then complete it as every call
            // does (`bindDefaults`, Calls.swift). Each argument is compiled once, into its own
            // variable (an array would store the closures in a generic form).
            let n = args.count
            let none: ExprCode = { _, _ in .none }
            let a0: ExprCode, a1: ExprCode, a2: ExprCode
            if n > 0 { a0 = compile(args[0].value) } else { a0 = none }
            if n > 1 { a1 = compile(args[1].value) } else { a1 = none }
            if n > 2 { a2 = compile(args[2].value) } else { a2 = none }
            let spans = args.map(\.span)
            return { ip, f in
                let fn = try callee(ip, f)
                guard case .function(let fun) = fn, n <= fun.decl.params.count else {
                    var pos: [(Value, Span)] = []
                    if n > 0 { pos.append((try a0(ip, f), spans[0])) }
                    if n > 1 { pos.append((try a1(ip, f), spans[1])) }
                    if n > 2 { pos.append((try a2(ip, f), spans[2])) }
                    return try ip.call(fn, pos, [], span: span, calleeSpan: calleeSpan)
                }
                let fr = Frame(calling: fun)
                if n > 0 { fr.slots[0] = try a0(ip, f) }
                if n > 1 { fr.slots[1] = try a1(ip, f) }
                if n > 2 { fr.slots[2] = try a2(ip, f) }
                try ip.tick(span)
                try ip.bindDefaults(fun, fr, from: n, span)
                return try ip.invoke(fun.decl, fr, span)
            }
        }
        let positional = args.filter { $0.name == nil }.map { (compile($0.value), $0.span) }
        let keywords = args.compactMap { a in a.name.map { ($0, compile(a.value), a.span) } }
        return { ip, f in
            let fn = try callee(ip, f)
            var pos: [(Value, Span)] = []
            pos.reserveCapacity(positional.count)
            for (c, s) in positional { pos.append((try c(ip, f), s)) }
            var kw: [(String, Value, Span)] = []
            if !keywords.isEmpty {
                kw.reserveCapacity(keywords.count)
                for (n, c, s) in keywords { kw.append((n, try c(ip, f), s)) }
            }
            return try ip.call(fn, pos, kw, span: span, calleeSpan: calleeSpan)
        }
    }

    /// A binary operation, with the number-on-number case of the arithmetic and comparison
    /// operators inlined (the operators that cannot fail on two numbers; each gives what
    /// `binary`, Operators.swift, gives, which handles every other case).
    private func compileBinary(_ op: BinaryOp, _ a: @escaping ExprCode, _ b: @escaping ExprCode, _ span: Span) -> ExprCode {
        func numeric(_ f: @escaping (Double, Double) -> Value) -> ExprCode {
            return { ip, fr in
                let x = try a(ip, fr), y = try b(ip, fr)
                if case .number(let p) = x, case .number(let q) = y { return f(p, q) }
                return try ip.binary(op, x, y, span)
            }
        }
        switch op {
        case .add: return numeric { .number($0 + $1) }
        case .sub: return numeric { .number($0 - $1) }
        case .mul: return numeric { .number($0 * $1) }
        case .lt: return numeric { .bool($0 < $1) }
        case .le: return numeric { .bool($0 <= $1) }
        case .gt: return numeric { .bool($0 > $1) }
        case .ge: return numeric { .bool($0 >= $1) }
        case .eq: return numeric { .bool($0 == $1) }
        case .ne: return numeric { .bool($0 != $1) }
        default:
            return { ip, fr in
                let x = try a(ip, fr), y = try b(ip, fr)
                return try ip.binary(op, x, y, span)
            }
        }
    }

    // MARK: Truth

    /// Python's truthiness for the simple types; vectors and matrices are ambiguous.
    @inline(__always)
    func truthy(_ v: Value, _ span: Span) throws -> Bool {
        if case .bool(let b) = v { return b }
        return try truthOfOther(v, span)
    }

    private func truthOfOther(_ v: Value, _ span: Span) throws -> Bool {
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
}
