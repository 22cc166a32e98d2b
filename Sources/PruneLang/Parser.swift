/// A recursive-descent parser from tokens to statements. On an error it records a diagnostic and
/// skips to the next statement boundary (a newline or `;` at the same block level, or the `}`
/// closing the block), so one cell reports several errors; it stops after `maxErrors`.
struct Parser {
    struct Failure: Error { let diagnostic: Diagnostic }
    struct Fatal: Error {}

    let source: SourceText
    private let tokens: [Token]
    private var p = 0
    private(set) var diagnostics: [Diagnostic] = []
    private var depth = 0
    private var loopDepth = 0
    private var functionDepth = 0

    /// Deepest nesting of expressions/blocks the parser accepts (deeper input would exhaust the stack).
    static let maxDepth = 200
    /// Longest chain of operators (`1+1+...`) or postfixes in one expression.
    static let maxHeight = 2000
    static let maxErrors = 20

    /// For each opening bracket's token index, the index of its closing bracket.
    private var matching: [Int: Int] = [:]
    /// Whether an error was found at the end of the input (more input might fix it).
    private(set) var endedEarly = false

    init(tokens: [Token], source: SourceText) {
        self.tokens = tokens
        self.source = source
        var stack: [Int] = []
        for (i, t) in tokens.enumerated() {
            if t.is(.lparen) || t.is(.lbracket) || t.is(.lbrace) { stack.append(i); continue }
            let opener: Symbol
            if t.is(.rparen) { opener = .lparen } else if t.is(.rbracket) { opener = .lbracket } else if t.is(.rbrace) { opener = .lbrace } else { continue }
            if let k = stack.lastIndex(where: { tokens[$0].is(opener) }) {
                matching[stack[k]] = i
                stack.removeSubrange(k...)
            }
        }
    }

    /// Whether only newlines follow token `i` (an error there is an error at the end of input).
    private func atEndOfInput(_ i: Int) -> Bool {
        var k = i
        while k < tokens.count {
            if tokens[k].kind != .newline && tokens[k].kind != .eof { return false }
            k += 1
        }
        return true
    }

    // MARK: Token helpers

    private var peek: Token { tokens[p] }
    private func peek(_ k: Int) -> Token { tokens[min(p + k, tokens.count - 1)] }
    private var atEnd: Bool { peek.kind == .eof }

    @discardableResult
    private mutating func advance() -> Token {
        let t = tokens[p]
        if p < tokens.count - 1 { p += 1 }
        return t
    }

    private mutating func match(_ s: Symbol) -> Bool {
        if peek.is(s) { advance(); return true }
        return false
    }

    private mutating func match(_ k: Keyword) -> Bool {
        if peek.is(k) { advance(); return true }
        return false
    }

    private func span(_ t: Token) -> Span { Span(source: source, start: t.start, end: t.end) }
    private func span(from start: Int) -> Span {
        let prevEnd = p > 0 ? tokens[p - 1].end : start
        return Span(source: source, start: start, end: max(start, prevEnd))
    }

    private mutating func failure(_ message: String, at t: Token) -> Failure {
        // At the end of the input, point just past the last token rather than at an empty line.
        if let i = tokens.firstIndex(where: { $0.start == t.start && $0.kind == t.kind }), atEndOfInput(i) {
            endedEarly = true
            let last = tokens[..<i].last(where: { $0.kind != .newline })
            let at = last?.end ?? t.start
            return Failure(diagnostic: Diagnostic(.syntax, message.replacingOccurrences(of: "got newline", with: "got end of input"),
                                                  span: Span(source: source, start: at, end: at + 1)))
        }
        return Failure(diagnostic: Diagnostic(.syntax, message, span: span(t)))
    }

    @discardableResult
    private mutating func expect(_ s: Symbol, _ context: String) throws -> Token {
        if peek.is(s) { return advance() }
        throw failure("expected '\(s.rawValue)' \(context), got \(peek.described)", at: peek)
    }

    private mutating func skipNewlines() {
        while peek.kind == .newline { advance() }
    }

    private mutating func enter(_ t: Token) throws {
        depth += 1
        if depth > Self.maxDepth {
            diagnostics.append(Diagnostic(.syntax, "code nested too deeply (more than \(Self.maxDepth) levels)", span: span(t)))
            throw Fatal()
        }
    }

    private mutating func make(_ kind: ExprKind, _ span: Span, height: Int) throws -> Expr {
        if height > Self.maxHeight {
            diagnostics.append(Diagnostic(.syntax, "expression too long or deeply nested (more than \(Self.maxHeight) operations in one chain)", span: span))
            throw Fatal()
        }
        let e = Expr(kind, span)
        e.height = height
        return e
    }

    private func height(_ e: Expr) -> Int { e.height }

    // MARK: Program and statements

    /// Parses the whole cell; the diagnostics say whether it is valid.
    mutating func parseProgram() -> Program {
        var statements: [Stmt] = []
        var hides = false
        do {
            statements = try statementSequence(topLevel: true, hides: &hides)
        } catch {
            // Fatal: nesting too deep; the diagnostic is recorded.
        }
        return Program(statements: statements, hidesValue: hides, source: source)
    }

    /// Statements up to `}` (inside a block) or the end of input (top level).
    private mutating func statementSequence(topLevel: Bool, hides: inout Bool) throws -> [Stmt] {
        var out: [Stmt] = []
        while true {
            while peek.kind == .newline || peek.is(.semicolon) { advance() }
            if atEnd { break }
            if peek.is(.rbrace) {
                if !topLevel { break }
                // The lexer reports a `}` without its `{`; one that closes a record or block whose
                // statement failed was skipped with it.
                advance()
                continue
            }
            if diagnostics.count >= Self.maxErrors { throw Fatal() }
            let statementStart = p
            do {
                let stmt = try statement()
                out.append(stmt)
                // A statement ends at a newline, `;`, `}` or the end.
                if peek.is(.semicolon) {
                    hides = true
                } else if peek.kind == .newline || peek.kind == .eof || peek.is(.rbrace) {
                    hides = false
                } else {
                    throw failure("expected a newline or ';' after the statement, got \(peek.described)", at: peek)
                }
            } catch let f as Failure {
                record(f)
                synchronize(from: statementStart)
            }
        }
        return out
    }

    private mutating func record(_ f: Failure) {
        // One error per place: the lexer may already have reported this token.
        if !diagnostics.contains(where: { $0.span?.start == f.diagnostic.span?.start }) {
            diagnostics.append(f.diagnostic)
        }
    }

    /// Skips the failed statement: from its first token to the next newline or `;` outside
    /// brackets, jumping over whole bracketed groups (a record, a block, an argument list), and
    /// stopping before a `}` that closes the enclosing block.
    private mutating func synchronize(from start: Int) {
        var i = start
        while i < tokens.count - 1 {
            let t = tokens[i]
            if t.kind == .newline || t.is(.semicolon) || t.is(.rbrace) { break }
            if t.is(.lparen) || t.is(.lbracket) || t.is(.lbrace), let m = matching[i] {
                i = m + 1
                continue
            }
            i += 1
        }
        p = i
    }

    private mutating func statement() throws -> Stmt {
        let t = peek
        try enter(t)
        defer { depth -= 1 }
        switch t.kind {
        case .keyword(.fn) where peek(1).kind == .identifier:
            advance()
            let nameTok = advance()
            let decl = try functionRest(name: nameTok.text, start: t.start)
            return Stmt(.function(NameRef(nameTok.text, span(nameTok)), decl), span(from: t.start))
        case .keyword(.for):
            advance()
            guard peek.kind == .identifier else {
                throw failure("expected a loop variable name after 'for', got \(peek.described)", at: peek)
            }
            let nameTok = advance()
            guard match(.in) else { throw failure("expected 'in' after 'for \(nameTok.text)', got \(peek.described)", at: peek) }
            let iterable = try expression()
            loopDepth += 1
            defer { loopDepth -= 1 }
            let body = try block("for loop")
            return Stmt(.forIn(NameRef(nameTok.text, span(nameTok)), iterable, body), span(from: t.start))
        case .keyword(.while):
            advance()
            let cond = try expression()
            loopDepth += 1
            defer { loopDepth -= 1 }
            let body = try block("while condition")
            return Stmt(.whileLoop(cond, body), span(from: t.start))
        case .keyword(.break), .keyword(.continue):
            advance()
            if loopDepth == 0 { throw failure("'\(t.text)' outside a loop", at: t) }
            return Stmt(t.is(.break) ? .breakLoop : .continueLoop, span(t))
        case .keyword(.return):
            advance()
            if functionDepth == 0 { throw failure("'return' outside a function", at: t) }
            if peek.kind == .newline || peek.kind == .eof || peek.is(.semicolon) || peek.is(.rbrace) {
                return Stmt(.returnValue(nil), span(t))
            }
            let value = try expression()
            return Stmt(.returnValue(value), span(from: t.start))
        case .symbol(.question):
            advance()
            if peek.kind == .newline || peek.kind == .eof || peek.is(.semicolon) {
                return Stmt(.help(Expr(.none, span(t))), span(t))
            }
            let target = try expression()
            return Stmt(.help(target), span(from: t.start))
        default:
            let e = try expression()
            // `name?` is help too, as in IPython.
            if peek.is(.question) {
                advance()
                return Stmt(.help(e), span(from: t.start))
            }
            let opTok = peek
            var op: BinaryOp?
            switch opTok.kind {
            case .symbol(.assign): op = nil
            case .symbol(.plusAssign): op = .add
            case .symbol(.minusAssign): op = .sub
            case .symbol(.starAssign): op = .mul
            case .symbol(.slashAssign): op = .div
            default: return Stmt(.expr(e), e.span)
            }
            try checkTarget(e, opTok)
            advance()
            skipNewlines()
            let value = try expression()
            // `name = fn(...) { ... }` names the function, for messages.
            if op == nil, case .name(let ref) = e.kind, case .function(let decl) = value.kind, decl.name == "<fn>" {
                decl.name = ref.name
            }
            return Stmt(.assign(e, op, value), span(from: t.start))
        }
    }

    private func checkTarget(_ e: Expr, _ opTok: Token) throws {
        switch e.kind {
        case .name, .member: return
        case .index(_, let comps):
            for c in comps { if case .slice = c { throw Failure(diagnostic: Diagnostic(.syntax, "cannot assign to a slice; assign element by element", span: e.span)) } }
            return
        default:
            let hint = opTok.is(.assign) ? " (use '==' to compare)" : ""
            throw Failure(diagnostic: Diagnostic(.syntax, "cannot assign to this expression; the left of '\(opTok.text)' must be a name, an index a[i] or a field r.x\(hint)", span: e.span))
        }
    }

    /// `{ statements }`, possibly after newlines.
    private mutating func block(_ after: String) throws -> [Stmt] {
        skipNewlines()
        guard peek.is(.lbrace) else {
            let hint = peek.is(.colon) ? " (blocks use braces: `if x { ... }`, not a colon)" : ""
            throw failure("expected '{' after \(after), got \(peek.described)\(hint)", at: peek)
        }
        let open = advance()
        var ignored = false
        let body = try statementSequence(topLevel: false, hides: &ignored)
        guard peek.is(.rbrace) else {
            throw Failure(diagnostic: Diagnostic(.syntax, "expected '}' to close the block opened at \(source.location(of: open.start)), got \(peek.described)", span: span(peek)))
        }
        advance()
        return body
    }

    /// `(params) { body }` after `fn` or `fn name`.
    private mutating func functionRest(name: String, start: Int) throws -> FunctionDecl {
        try expect(.lparen, "after 'fn\(name == "<fn>" ? "" : " " + name)'")
        var params: [ParamDecl] = []
        var seenDefault = false
        if !peek.is(.rparen) {
            repeat {
                if peek.is(.rparen) { break }
                guard peek.kind == .identifier else { throw failure("expected a parameter name, got \(peek.described)", at: peek) }
                let pt = advance()
                var def: Expr?
                if match(.assign) {
                    def = try expression()
                    seenDefault = true
                } else if seenDefault {
                    throw failure("parameter '\(pt.text)' needs a default: it follows a parameter with one", at: pt)
                }
                if params.contains(where: { $0.name == pt.text }) { throw failure("duplicate parameter '\(pt.text)'", at: pt) }
                params.append(ParamDecl(name: pt.text, defaultValue: def, span: span(pt)))
            } while match(.comma)
        }
        try expect(.rparen, "after the parameters")
        let savedLoops = loopDepth
        loopDepth = 0
        functionDepth += 1
        defer { loopDepth = savedLoops; functionDepth -= 1 }
        let body = try block("the parameters of '\(name)'")
        return FunctionDecl(name: name, params: params, body: body, span: span(from: start))
    }

    // MARK: Expressions, lowest precedence first

    mutating func expression() throws -> Expr {
        try enter(peek)
        defer { depth -= 1 }
        return try pipe()
    }

    private mutating func pipe() throws -> Expr {
        var lhs = try orExpr()
        while peek.is(.pipe) {
            advance()
            skipNewlines()
            let rhs = try unary()
            let whole = lhs.span.to(rhs.span)
            let h = max(height(lhs), height(rhs)) + 1
            if case .call(let callee, let args) = rhs.kind {
                lhs = try make(.call(callee, [CallArgument(name: nil, value: lhs, span: lhs.span)] + args), whole, height: h)
            } else {
                lhs = try make(.call(rhs, [CallArgument(name: nil, value: lhs, span: lhs.span)]), whole, height: h)
            }
        }
        return lhs
    }

    private mutating func orExpr() throws -> Expr {
        var lhs = try andExpr()
        while peek.is(.or) {
            advance(); skipNewlines()
            let rhs = try andExpr()
            lhs = try make(.or(lhs, rhs), lhs.span.to(rhs.span), height: max(height(lhs), height(rhs)) + 1)
        }
        return lhs
    }

    private mutating func andExpr() throws -> Expr {
        var lhs = try notExpr()
        while peek.is(.and) {
            advance(); skipNewlines()
            let rhs = try notExpr()
            lhs = try make(.and(lhs, rhs), lhs.span.to(rhs.span), height: max(height(lhs), height(rhs)) + 1)
        }
        return lhs
    }

    private mutating func notExpr() throws -> Expr {
        if peek.is(.not) {
            let t = advance()
            try enter(t)
            defer { depth -= 1 }
            let operand = try notExpr()
            return try make(.unary(.not, operand), span(t).to(operand.span), height: height(operand) + 1)
        }
        return try comparison()
    }

    private mutating func comparison() throws -> Expr {
        var lhs = try rangeExpr()
        while true {
            var op: BinaryOp?
            switch peek.kind {
            case .symbol(.eq): op = .eq
            case .symbol(.ne): op = .ne
            case .symbol(.lt): op = .lt
            case .symbol(.le): op = .le
            case .symbol(.gt): op = .gt
            case .symbol(.ge): op = .ge
            case .keyword(.in): op = .in
            case .keyword(.not) where peek(1).is(.in): op = .notIn
            default: break
            }
            guard let op else { return lhs }
            if op == .notIn { advance() }
            advance(); skipNewlines()
            let rhs = try rangeExpr()
            lhs = try make(.binary(op, lhs, rhs), lhs.span.to(rhs.span), height: max(height(lhs), height(rhs)) + 1)
        }
    }

    private mutating func rangeExpr() throws -> Expr {
        let lhs = try additive()
        if peek.is(.dotdot) {
            advance(); skipNewlines()
            let rhs = try additive()
            return try make(.range(lhs, rhs), lhs.span.to(rhs.span), height: max(height(lhs), height(rhs)) + 1)
        }
        return lhs
    }

    private mutating func additive() throws -> Expr {
        var lhs = try term()
        while peek.is(.plus) || peek.is(.minus) {
            let op: BinaryOp = advance().is(.plus) ? .add : .sub
            skipNewlines()
            let rhs = try term()
            lhs = try make(.binary(op, lhs, rhs), lhs.span.to(rhs.span), height: max(height(lhs), height(rhs)) + 1)
        }
        return lhs
    }

    private mutating func term() throws -> Expr {
        var lhs = try unary()
        while true {
            let op: BinaryOp
            switch peek.kind {
            case .symbol(.star): op = .mul
            case .symbol(.slash): op = .div
            case .symbol(.percent): op = .mod
            case .symbol(.at): op = .matmul
            default: return lhs
            }
            advance(); skipNewlines()
            let rhs = try unary()
            lhs = try make(.binary(op, lhs, rhs), lhs.span.to(rhs.span), height: max(height(lhs), height(rhs)) + 1)
        }
    }

    private mutating func unary() throws -> Expr {
        if peek.is(.minus) || peek.is(.plus) {
            let t = advance()
            try enter(t)
            defer { depth -= 1 }
            let operand = try unary()
            // Fold `-3` into a literal so that it displays and indexes as the number it is.
            if t.is(.minus), case .number(let v) = operand.kind {
                return try make(.number(-v), span(t).to(operand.span), height: 1)
            }
            return try make(.unary(t.is(.minus) ? .neg : .plus, operand), span(t).to(operand.span), height: height(operand) + 1)
        }
        return try power()
    }

    private mutating func power() throws -> Expr {
        let base = try postfix()
        if peek.is(.caret) {
            let t = advance()
            try enter(t)
            defer { depth -= 1 }
            skipNewlines()
            let exponent = try unary()   // right-associative; `2^-1` allowed
            return try make(.binary(.pow, base, exponent), base.span.to(exponent.span), height: max(height(base), height(exponent)) + 1)
        }
        return base
    }

    private mutating func postfix() throws -> Expr {
        var e = try primary()
        while true {
            if peek.is(.lparen) {
                advance()
                var args: [CallArgument] = []
                var sawKeyword = false
                while !peek.is(.rparen) {
                    let start = peek.start
                    if peek.kind == .identifier, peek(1).is(.assign) {
                        let nameTok = advance()
                        advance()
                        let v = try expression()
                        if args.contains(where: { $0.name == nameTok.text }) {
                            throw failure("keyword argument '\(nameTok.text)' given twice", at: nameTok)
                        }
                        args.append(CallArgument(name: nameTok.text, value: v, span: span(from: start)))
                        sawKeyword = true
                    } else {
                        let v = try expression()
                        if sawKeyword {
                            throw Failure(diagnostic: Diagnostic(.syntax, "positional argument after a keyword argument", span: v.span))
                        }
                        args.append(CallArgument(name: nil, value: v, span: v.span))
                    }
                    if !match(.comma) { break }
                }
                try expect(.rparen, "to close the argument list")
                let h = args.map { height($0.value) }.max() ?? 0
                e = try make(.call(e, args), span(from: e.span.start), height: max(height(e), h) + 1)
            } else if peek.is(.lbracket) {
                advance()
                var comps: [IndexComponent] = []
                repeat {
                    if peek.is(.rbracket) && !comps.isEmpty { break }
                    comps.append(try indexComponent())
                } while match(.comma)
                try expect(.rbracket, "to close the index")
                e = try make(.index(e, comps), span(from: e.span.start), height: height(e) + 1)
            } else if peek.is(.dot) {
                advance()
                let t = peek
                guard t.kind == .identifier || { if case .keyword = t.kind { return true }; return false }() else {
                    throw failure("expected a member name after '.', got \(t.described)", at: t)
                }
                advance()
                e = try make(.member(e, t.text, span(t)), span(from: e.span.start), height: height(e) + 1)
            } else {
                return e
            }
        }
    }

    private mutating func indexComponent() throws -> IndexComponent {
        func atBoundary(_ t: Token) -> Bool { t.is(.colon) || t.is(.comma) || t.is(.rbracket) }
        if peek.is(.rbracket) { throw failure("expected an index inside '[ ]'", at: peek) }
        let first: Expr? = atBoundary(peek) ? nil : try expression()
        guard match(.colon) else {
            guard let first else { throw failure("expected an index, got \(peek.described)", at: peek) }
            return .single(first)
        }
        let stop: Expr? = atBoundary(peek) ? nil : try expression()
        var step: Expr?
        if match(.colon) { step = atBoundary(peek) ? nil : try expression() }
        return .slice(first, stop, step)
    }

    private mutating func primary() throws -> Expr {
        let t = peek
        switch t.kind {
        case .number:
            advance()
            return try make(.number(t.number), span(t), height: 1)
        case .string:
            advance()
            return try make(.string(t.text), span(t), height: 1)
        case .identifier:
            advance()
            return try make(.name(NameRef(t.text, span(t))), span(t), height: 1)
        case .keyword(.true), .keyword(.false):
            advance()
            return try make(.bool(t.is(.true)), span(t), height: 1)
        case .keyword(.none):
            advance()
            return try make(.none, span(t), height: 1)
        case .keyword(.fn):
            advance()
            let decl = try functionRest(name: "<fn>", start: t.start)
            return try make(.function(decl), decl.span, height: 1)
        case .keyword(.if):
            return try ifExpression()
        case .symbol(.lparen):
            advance()
            if peek.is(.rparen) { throw failure("empty parentheses: expected an expression", at: peek) }
            let inner = try expression()
            try expect(.rparen, "to close '(' at \(source.location(of: t.start))")
            return try make(inner.kind, span(from: t.start), height: height(inner))
        case .symbol(.lbracket):
            advance()
            var items: [Expr] = []
            while !peek.is(.rbracket) {
                items.append(try expression())
                if !match(.comma) { break }
            }
            try expect(.rbracket, "to close the list started at \(source.location(of: t.start))")
            return try make(.list(items), span(from: t.start), height: (items.map(height).max() ?? 0) + 1)
        case .symbol(.lbrace):
            return try recordLiteral()
        default:
            var hint = ""
            if case .keyword(let k) = t.kind { hint = " ('\(k.rawValue)' is a reserved word)" }
            if t.is(.rbrace) || t.is(.rparen) || t.is(.rbracket) { hint = "" }
            throw failure("expected an expression, got \(t.described)\(hint)", at: t)
        }
    }

    /// `{key: value, "other key": value}`; newlines are allowed between entries.
    private mutating func recordLiteral() throws -> Expr {
        let open = advance()
        var fields: [(key: String, value: Expr)] = []
        skipNewlines()
        while !peek.is(.rbrace) {
            let k = peek
            var key: String
            switch k.kind {
            case .identifier, .string: key = k.text
            case .keyword(let kw): key = kw.rawValue
            default:
                throw failure("expected a field name (a name or a string) in the record, got \(k.described)", at: k)
            }
            advance()
            guard match(.colon) else {
                throw failure("expected ':' after field name '\(key)' (records are written {name: value, ...})", at: peek)
            }
            skipNewlines()
            let v = try expression()
            if fields.contains(where: { $0.key == key }) { throw failure("field '\(key)' appears twice in the record", at: k) }
            fields.append((key, v))
            skipNewlines()
            if !match(.comma) { break }
            skipNewlines()
            key = ""
        }
        skipNewlines()
        try expect(.rbrace, "to close the record started at \(source.location(of: open.start))")
        let h = fields.map { height($0.value) }.max() ?? 0
        return try make(.record(fields), span(from: open.start), height: h + 1)
    }

    /// `if c { } else if c { } else { }`; `else` may be on the line after `}`.
    private mutating func ifExpression() throws -> Expr {
        let start = advance()
        var branches: [(condition: Expr, body: [Stmt])] = []
        var elseBody: [Stmt]?
        var cond = try expression()
        var body = try block("the if condition")
        branches.append((cond, body))
        while true {
            var k = 0
            while peek(k).kind == .newline { k += 1 }
            guard peek(k).is(.else) else { break }
            for _ in 0..<k { advance() }
            advance()
            if match(.if) {
                cond = try expression()
                body = try block("the else-if condition")
                branches.append((cond, body))
            } else {
                elseBody = try block("'else'")
                break
            }
        }
        return try make(.ifElse(IfBranches(branches: branches, elseBody: elseBody)), span(from: start.start), height: 1)
    }
}
