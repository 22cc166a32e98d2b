import Foundation
import Pruning

extension Interpreter {
    // MARK: Help

    /// The help overview: the builtins by category and how to ask for more.
    public func overviewHelp() -> String {
        var out = "PruneLang builtins by category (help(name) or ?name for one of them):"
        for c in registry.categories {
            let names = registry.all.filter { $0.category == c }.map(\.name).sorted()
            out += "\n  \(c): " + names.joined(separator: ", ")
        }
        out += "\nLanguage reference: docs/LANGUAGE.md."
        return out
    }

    /// Help for a value: a builtin's signature, doc and example; a function's signature; an
    /// object's help and members; otherwise its type and value. A string naming a builtin or a
    /// variable gives that one's help.
    public func helpText(for v: Value, written: String? = nil) -> String {
        switch v {
        case .builtin(let b): return b.helpText
        case .function(let f):
            return "fn \(f.signature)\n\nA function defined at \(f.decl.span.source.name):\(f.decl.span.location)."
        case .object(let o):
            var out = o.helpText ?? o.typeName
            let names = o.memberNames
            if !names.isEmpty { out += "\n\nMembers: " + names.joined(separator: ", ") }
            return out
        case .string(let s) where registry.lookup(s) != nil || (globals.get(s) != nil && written?.hasPrefix("\"") == true):
            if let b = registry.lookup(s), case .builtin(let cur)? = globals.get(s), cur.name == b.name { return b.helpText }
            if let b = registry.lookup(s), globals.get(s) == nil { return b.helpText }
            if let g = globals.get(s) { return helpText(for: g) }
            return registry.lookup(s)!.helpText
        default:
            var out = "\(v.typeName): \(Render.inline(v, depth: 1))"
            let members = memberNames(of: v)
            if !members.isEmpty { out += "\n\nMembers: " + members.joined(separator: ", ") }
            return out
        }
    }

    /// Help as shown by `help(x)`, `?x` and the kernel's inspect: the text wrapped for a terminal,
    /// and for a builtin the same help as Markdown (a notebook renders that one). A string naming
    /// a pruning method gives the method's own help.
    public func helpBundle(for v: Value, written: String? = nil) -> MIMEBundle {
        if case .string(let s) = v, registry.lookup(s) == nil, globals.get(s) == nil, let m = PruneMethods.named(s) {
            return MIMEBundle(text: TextWrapping.wrap(BuiltinRegistry.methodHelp(m)))
        }
        let text = TextWrapping.wrap(helpText(for: v, written: written))
        switch v {
        case .builtin(let b): return MIMEBundle(text: text, markdown: LanguageDocs.markdown(for: b))
        case .string(let s):
            if let b = registry.lookup(s), globals.get(s) == nil { return MIMEBundle(text: text, markdown: LanguageDocs.markdown(for: b)) }
            if case .builtin(let b)? = globals.get(s) { return MIMEBundle(text: text, markdown: LanguageDocs.markdown(for: b)) }
            return MIMEBundle(text: text)
        default: return MIMEBundle(text: text)
        }
    }

    /// Help for a name: a variable's or builtin's help, nil when the name is unknown.
    public func help(for name: String) -> String? {
        if let v = self[name] { return helpText(for: v) }
        if let k = Keyword(rawValue: name) { return Self.keywordHelp[k] }
        return nil
    }

    static let keywordHelp: [Keyword: String] = [
        .fn: "fn name(a, b=1) { body }: defines a function; the value of its last expression (or of `return x`) is its result. fn(x) { ... } is a function literal.",
        .if: "if cond { ... } else if cond { ... } else { ... }: runs the first branch whose condition holds; as an expression its value is the branch's last value.",
        .else: "else: the branch of an if taken when no condition holds.",
        .for: "for x in xs { ... }: runs the body for each element of a list, range, vector, matrix (rows), string (characters) or record (field names).",
        .in: "in: the loop variable's source in `for x in xs`, and membership: `3 in xs`, `\"a\" in record`.",
        .while: "while cond { ... }: runs the body as long as the condition holds.",
        .break: "break: leaves the innermost loop.",
        .continue: "continue: goes on with the next iteration of the innermost loop.",
        .return: "return x: ends the function with value x (none without x).",
        .true: "true: the boolean true.", .false: "false: the boolean false.",
        .none: "none: the absence of a value.",
        .and: "a and b: b when a holds, otherwise a (b is not evaluated).",
        .or: "a or b: a when it holds, otherwise b (b is not evaluated).",
        .not: "not a: true when a does not hold.",
    ]

    // MARK: Completeness

    /// Whether `code` is ready to run: `.incomplete` while brackets or blocks are open, after a
    /// trailing `\` or operator, or when the parser ran out of input; `.invalid` when more lines
    /// cannot help; `.complete` otherwise (including empty input).
    public func isComplete(_ code: String) -> Completeness {
        Self.onLargeStack { Self.completeness(code) }
    }

    static func completeness(_ code: String) -> Completeness {
        if code.allSatisfy({ $0.isWhitespace }) { return .complete }
        let source = SourceText(code)
        var lexer = Lexer(source)
        let tokens = lexer.tokenize()
        let open = lexer.openBrackets.count
        let indent = String(repeating: "    ", count: max(1, open))
        let mismatched = lexer.diagnostics.contains { $0.message.contains("closes") || $0.message.hasPrefix("unmatched") }
        if mismatched { return .invalid }
        if lexer.endsInString { return .invalid }
        if !lexer.diagnostics.isEmpty { return .invalid }
        if lexer.endsWithBackslash { return .incomplete(indent: open > 0 ? indent : "") }
        if open > 0 { return .incomplete(indent: indent) }
        // A trailing binary operator, comma or `=` continues on the next line.
        let significant = tokens.filter { $0.kind != .newline && $0.kind != .eof }
        if let last = significant.last {
            switch last.kind {
            case .symbol(let s) where [.plus, .minus, .star, .slash, .percent, .caret, .at, .pipe, .comma, .dot, .dotdot,
                                        .assign, .plusAssign, .minusAssign, .starAssign, .slashAssign, .eq, .ne, .lt,
                                        .le, .gt, .ge].contains(s):
                return .incomplete(indent: "")
            case .keyword(let k) where [.and, .or, .not, .in, .else].contains(k):
                return .incomplete(indent: "")
            default: break
            }
        }
        let (_, diagnostics, endedEarly) = parseReportingEnd(source)
        if diagnostics.isEmpty { return .complete }
        return endedEarly && diagnostics.count == 1 ? .incomplete(indent: "") : .invalid
    }

    // MARK: Completion

    /// Completion candidates at `cursor` (a Unicode scalar offset into `code`): members after
    /// `.`, keyword arguments (`name=`) inside a call's parentheses followed by names (variables,
    /// builtins, keywords), and file paths inside a string literal.
    public func completions(code: String, cursor: Int) -> Completions {
        Self.onLargeStack { self.completionsOnCurrentThread(code: code, cursor: cursor) }
    }

    private func completionsOnCurrentThread(code: String, cursor: Int) -> Completions {
        let scalars = Array(code.unicodeScalars)
        let cur = max(0, min(cursor, scalars.count))
        var start = cur
        while start > 0, Identifier.isContinuation(scalars[start - 1]) { start -= 1 }
        let word = String(String.UnicodeScalarView(scalars[start..<cur]))
        let prefixText = String(String.UnicodeScalarView(scalars[0..<cur]))

        // Inside a string: complete a file path.
        var lexer = Lexer(SourceText(prefixText))
        _ = lexer.tokenize()
        if lexer.endsInString || Self.insideString(scalars, cur) {
            var s = cur
            while s > 0, scalars[s - 1] != "\"" { s -= 1 }
            let partial = String(String.UnicodeScalarView(scalars[s..<cur]))
            return Completions(matches: Self.pathCompletions(partial), start: s, end: cur)
        }

        // After a dot: members of the value before it.
        if start > 0, scalars[start - 1] == ".", !(start > 1 && scalars[start - 2] == ".") {
            let chainEnd = start - 1
            let chain = Self.chainBefore(scalars, chainEnd)
            var names: [String] = []
            if let v = safeEvaluate(chain) { names = memberNames(of: v) }
            return Completions(matches: names.filter { $0.hasPrefix(word) }.sorted(), start: start, end: cur)
        }

        var matches: [String] = []
        // Keyword arguments of the innermost open call.
        if let open = lexer.openBrackets.last, open.symbol == .lparen {
            let callee = Self.chainBefore(scalars, open.offset)
            if !callee.isEmpty, let v = safeEvaluate(callee) {
                var params: [String] = []
                if case .builtin(let b) = v { params = b.params.filter { !$0.isVariadic }.map(\.name) }
                if case .function(let f) = v { params = f.parameterNames }
                matches += params.filter { $0.hasPrefix(word) }.map { $0 + "=" }
            }
        }
        var names = Set(globals.definedNames)
        names.formUnion(registry.names)
        names.formUnion(Keyword.allCases.map(\.rawValue))
        matches += names.filter { $0.hasPrefix(word) }.sorted()
        return Completions(matches: matches, start: start, end: cur)
    }

    /// Whether the cursor sits inside a string literal on its line (an odd number of unescaped quotes before it).
    static func insideString(_ s: [Unicode.Scalar], _ cur: Int) -> Bool {
        var lineStart = cur
        while lineStart > 0, s[lineStart - 1] != "\n" { lineStart -= 1 }
        var inside = false
        var i = lineStart
        while i < cur {
            if s[i] == "#" && !inside { return false }
            if s[i] == "\\" && inside { i += 2; continue }
            if s[i] == "\"" { inside.toggle() }
            i += 1
        }
        return inside
    }

    /// The text of the name/member/index chain ending at `end` (`m.layers[3].ffn`), or "".
    static func chainBefore(_ s: [Unicode.Scalar], _ end: Int) -> String {
        var i = end
        while i > 0 {
            let c = s[i - 1]
            if Identifier.isContinuation(c) || c == "." { i -= 1; continue }
            if c == "]" {
                var depth = 0
                var j = i - 1
                while j >= 0 {
                    if s[j] == "]" { depth += 1 }
                    if s[j] == "[" { depth -= 1; if depth == 0 { break } }
                    j -= 1
                }
                if j < 0 { break }
                i = j
                continue
            }
            break
        }
        return String(String.UnicodeScalarView(s[i..<end]))
    }

    /// Evaluates a name/member/index chain without calling anything (completion must not run
    /// code); nil when the chain has anything else or fails.
    func safeEvaluate(_ code: String) -> Value? {
        guard !code.isEmpty else { return nil }
        let source = SourceText(code)
        var lexer = Lexer(source)
        let tokens = lexer.tokenize()
        guard lexer.diagnostics.isEmpty else { return nil }
        var parser = Parser(tokens: tokens, source: source)
        guard let e = try? parser.expression(), parser.diagnostics.isEmpty else { return nil }
        func walk(_ e: Expr) -> Value? {
            switch e.kind {
            case .name(let r): return self[r.name]
            case .number(let x): return .number(x)
            case .string(let s): return .string(s)
            case .member(let base, let name, let span):
                guard let b = walk(base) else { return nil }
                return try? member(b, name, span, span)
            case .index(let base, let comps):
                guard let b = walk(base) else { return nil }
                var parts: [IndexPart] = []
                for c in comps {
                    guard case .single(let x) = c, let v = walk(x) else { return nil }
                    parts.append(.single(v, x.span))
                }
                return try? index(b, parts, e.span)
            default: return nil
            }
        }
        return walk(e)
    }

    /// Files and folders whose path starts with `partial` (folders end with `/`).
    static func pathCompletions(_ partial: String) -> [String] {
        let expanded = partial.hasPrefix("~/") ? NSHomeDirectory() + partial.dropFirst() : partial
        let dir: String, stem: String
        if let slash = expanded.lastIndex(of: "/") {
            dir = String(expanded[...slash])
            stem = String(expanded[expanded.index(after: slash)...])
        } else {
            dir = ""
            stem = expanded
        }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir.isEmpty ? "." : dir) else { return [] }
        let shownDir = partial.hasPrefix("~/") ? "~/" + dir.dropFirst(NSHomeDirectory().count + 1) : dir
        return entries.filter { $0.hasPrefix(stem) && (!$0.hasPrefix(".") || stem.hasPrefix(".")) }.sorted().map { name in
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: dir + name, isDirectory: &isDir)
            return shownDir + name + (isDir.boolValue ? "/" : "")
        }
    }

    // MARK: Inspection

    /// What the kernel's inspect request shows for the name (or member chain) at `cursor`: its
    /// help as a MIME bundle, nil when there is nothing there. Runs no code.
    public func inspect(code: String, cursor: Int) -> MIMEBundle? {
        Self.onLargeStack { self.inspectOnCurrentThread(code: code, cursor: cursor) }
    }

    private func inspectOnCurrentThread(code: String, cursor: Int) -> MIMEBundle? {
        let scalars = Array(code.unicodeScalars)
        var end = max(0, min(cursor, scalars.count))
        while end < scalars.count, Identifier.isContinuation(scalars[end]) { end += 1 }
        // With the cursor just after `f(`, inspect `f`.
        var chain = Self.chainBefore(scalars, end)
        if chain.isEmpty, end > 0, scalars[end - 1] == "(" { chain = Self.chainBefore(scalars, end - 1) }
        guard !chain.isEmpty else { return nil }
        if let k = Keyword(rawValue: chain), let text = Self.keywordHelp[k] { return MIMEBundle(text: text) }
        guard let v = safeEvaluate(chain) else { return nil }
        return helpBundle(for: v)
    }
}
