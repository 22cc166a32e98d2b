/// Lays out function frames and resolves every name to a slot before a cell runs.
///
/// Scoping is by function, as in Python: a name assigned anywhere in a function body (or a
/// parameter, a `for` variable, a nested `fn` name) is local to that call, unless an enclosing
/// function already has a local of that name, in which case the assignment updates that one (so
/// closures can keep counters). Names that are not local to any enclosing function are globals
/// of the session. Blocks (`if`, `for`, `while`) do not open scopes.
struct Resolver {
    private var scopes: [[String: Int]] = []

    mutating func resolve(_ program: Program) {
        for s in program.statements { statement(s) }
    }

    private func lookup(_ ref: NameRef) {
        var depth = 0
        for scope in scopes.reversed() {
            if let i = scope[ref.name] {
                ref.slot = depth == 0 ? .local(i) : .enclosing(depth: depth, index: i)
                return
            }
            depth += 1
        }
        ref.slot = .global
    }

    private mutating func function(_ decl: FunctionDecl) {
        // Defaults are evaluated where the function is defined.
        for p in decl.params { if let d = p.defaultValue { expression(d) } }
        var locals: [String: Int] = [:]
        var names: [String] = []
        func add(_ n: String) {
            if locals[n] == nil { locals[n] = names.count; names.append(n) }
        }
        for p in decl.params { add(p.name) }
        var assigned: [String] = []
        collectAssigned(decl.body, into: &assigned)
        for n in assigned where locals[n] == nil {
            if scopes.contains(where: { $0[n] != nil }) { continue }   // updates the enclosing local
            add(n)
        }
        decl.slotCount = names.count
        decl.localNames = names
        scopes.append(locals)
        for s in decl.body { statement(s) }
        scopes.removeLast()
    }

    private func collectAssigned(_ stmts: [Stmt], into out: inout [String]) {
        for s in stmts {
            switch s.kind {
            case .assign(let target, _, let value):
                if case .name(let r) = target.kind { out.append(r.name) }
                collectAssigned(in: value, into: &out)
            case .function(let r, _): out.append(r.name)
            case .forIn(let r, let iter, let body):
                out.append(r.name)
                collectAssigned(in: iter, into: &out)
                collectAssigned(body, into: &out)
            case .whileLoop(let c, let body):
                collectAssigned(in: c, into: &out)
                collectAssigned(body, into: &out)
            case .expr(let e): collectAssigned(in: e, into: &out)
            case .returnValue(let e): if let e { collectAssigned(in: e, into: &out) }
            case .help, .breakLoop, .continueLoop: break
            }
        }
    }

    /// Assignments inside `if` expressions nested in an expression belong to the same function.
    private func collectAssigned(in e: Expr, into out: inout [String]) {
        switch e.kind {
        case .ifElse(let b):
            for br in b.branches {
                collectAssigned(in: br.condition, into: &out)
                collectAssigned(br.body, into: &out)
            }
            if let eb = b.elseBody { collectAssigned(eb, into: &out) }
        case .unary(_, let x): collectAssigned(in: x, into: &out)
        case .binary(_, let l, let r), .and(let l, let r), .or(let l, let r), .range(let l, let r):
            collectAssigned(in: l, into: &out)
            collectAssigned(in: r, into: &out)
        case .call(let c, let args):
            collectAssigned(in: c, into: &out)
            for a in args { collectAssigned(in: a.value, into: &out) }
        case .list(let xs): for x in xs { collectAssigned(in: x, into: &out) }
        case .record(let fs): for f in fs { collectAssigned(in: f.value, into: &out) }
        case .member(let x, _, _): collectAssigned(in: x, into: &out)
        case .index(let x, let comps):
            collectAssigned(in: x, into: &out)
            for c in comps {
                switch c {
                case .single(let i): collectAssigned(in: i, into: &out)
                case .slice(let a, let b, let s): for x in [a, b, s] { if let x { collectAssigned(in: x, into: &out) } }
                }
            }
        case .number, .string, .bool, .none, .name, .function: break
        }
    }

    private mutating func statement(_ s: Stmt) {
        switch s.kind {
        case .expr(let e): expression(e)
        case .assign(let t, _, let v):
            expression(v)
            expression(t)
        case .function(let r, let decl):
            lookup(r)
            function(decl)
        case .forIn(let r, let iter, let body):
            expression(iter)
            lookup(r)
            for b in body { statement(b) }
        case .whileLoop(let c, let body):
            expression(c)
            for b in body { statement(b) }
        case .returnValue(let e): if let e { expression(e) }
        case .help(let e): expression(e)
        case .breakLoop, .continueLoop: break
        }
    }

    private mutating func expression(_ e: Expr) {
        switch e.kind {
        case .number, .string, .bool, .none: break
        case .name(let r): lookup(r)
        case .list(let xs): for x in xs { expression(x) }
        case .record(let fs): for f in fs { expression(f.value) }
        case .unary(_, let x): expression(x)
        case .binary(_, let l, let r), .and(let l, let r), .or(let l, let r), .range(let l, let r):
            expression(l)
            expression(r)
        case .call(let c, let args):
            expression(c)
            for a in args { expression(a.value) }
        case .member(let x, _, _): expression(x)
        case .index(let x, let comps):
            expression(x)
            for c in comps {
                switch c {
                case .single(let i): expression(i)
                case .slice(let a, let b, let st): for y in [a, b, st] { if let y { expression(y) } }
                }
            }
        case .function(let decl): function(decl)
        case .ifElse(let b):
            for br in b.branches {
                expression(br.condition)
                for s in br.body { statement(s) }
            }
            if let eb = b.elseBody { for s in eb { statement(s) } }
        }
    }
}
