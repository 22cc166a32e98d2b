/// Turns source text into tokens. Newlines end statements except inside `(...)` and `[...]`
/// (they are kept inside `{...}`, where blocks live), after a trailing `\`, and before a line that
/// starts with `|>` or `.` (so pipelines and method chains can be broken over lines). Comments run
/// from `#` to the end of the line. Errors are collected, and lexing goes on after each.
public struct Lexer {
    /// The source being read.
    public let source: SourceText
    private let s: [Unicode.Scalar]
    private var i = 0
    private var tokens: [Token] = []
    /// Problems found (unterminated strings, stray characters, unbalanced brackets).
    public private(set) var diagnostics: [Diagnostic] = []
    /// The brackets still open at the end, innermost last, with their offsets.
    public private(set) var openBrackets: [(symbol: Symbol, offset: Int)] = []
    /// Whether the source ends inside a string literal.
    public private(set) var endsInString = false
    /// Whether the last line ends with a `\` continuation.
    public private(set) var endsWithBackslash = false

    /// A lexer over `source`.
    public init(_ source: SourceText) {
        self.source = source
        self.s = source.scalars
    }

    /// Lexes the whole source; the last token is always `.eof`.
    public mutating func tokenize() -> [Token] {
        tokens = []
        while true {
            skipSpaceAndComments()
            guard i < s.count else { break }
            let c = s[i]
            let start = i
            if c == "\n" {
                i += 1
                newline(at: start)
            } else if c == "\\" {
                // Line continuation: a backslash before the end of the line.
                var j = i + 1
                while j < s.count, s[j] == " " || s[j] == "\t" || s[j] == "\r" { j += 1 }
                if j >= s.count { endsWithBackslash = true; i = j }
                else if s[j] == "\n" { i = j + 1 }
                else { error("unexpected '\\' (a line continuation must end its line)", start, start + 1); i += 1 }
            } else if isDigit(c) {
                number()
            } else if c == "\"" {
                string()
            } else if c == "'" {
                singleQuoted()
            } else if Identifier.isStart(c) {
                identifier()
            } else {
                symbol()
            }
        }
        // Close the stream with a newline (statement end) and end of input.
        if let last = tokens.last, last.kind != .newline {
            tokens.append(Token(kind: .newline, text: "\n", start: s.count, end: s.count))
        }
        tokens.append(Token(kind: .eof, text: "", start: s.count, end: s.count))
        return tokens
    }

    private func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

    private mutating func error(_ message: String, _ start: Int, _ end: Int) {
        diagnostics.append(Diagnostic(.syntax, message, span: Span(source: source, start: start, end: end)))
    }

    private mutating func skipSpaceAndComments() {
        while i < s.count {
            let c = s[i]
            if c == " " || c == "\t" || c == "\r" || c == "\u{FEFF}" { i += 1 }
            else if c == "#" { while i < s.count, s[i] != "\n" { i += 1 } }
            else { break }
        }
    }

    /// A newline is a token only outside parentheses/brackets, not repeated, and not before a
    /// line that continues the expression with `|>` or `.`.
    private mutating func newline(at offset: Int) {
        if let top = openBrackets.last, top.symbol != .lbrace { return }
        guard let last = tokens.last, last.kind != .newline else { return }
        // Look at the next line's first token.
        var j = i
        while j < s.count {
            let c = s[j]
            if c == " " || c == "\t" || c == "\r" || c == "\n" { j += 1 }
            else if c == "#" { while j < s.count, s[j] != "\n" { j += 1 } }
            else { break }
        }
        if j + 1 < s.count, s[j] == "|", s[j + 1] == ">" { return }
        if j + 1 < s.count, s[j] == ".", s[j + 1] != "." { return }
        tokens.append(Token(kind: .newline, text: "\n", start: offset, end: offset + 1))
    }

    private mutating func number() {
        let start = i
        var digits = ""
        func scanDigits(_ lx: inout Lexer, into d: inout String) {
            while lx.i < lx.s.count, lx.isDigit(lx.s[lx.i]) || (lx.s[lx.i] == "_" && lx.i + 1 < lx.s.count && lx.isDigit(lx.s[lx.i + 1])) {
                if lx.s[lx.i] != "_" { d.unicodeScalars.append(lx.s[lx.i]) }
                lx.i += 1
            }
        }
        scanDigits(&self, into: &digits)
        // A fraction, but not the range operator `..` nor a member access like `1.e`.
        if i + 1 < s.count, s[i] == ".", isDigit(s[i + 1]) {
            digits.append(".")
            i += 1
            scanDigits(&self, into: &digits)
        }
        if i < s.count, s[i] == "e" || s[i] == "E" {
            var j = i + 1
            var exp = "e"
            if j < s.count, s[j] == "+" || s[j] == "-" { exp.unicodeScalars.append(s[j]); j += 1 }
            if j < s.count, isDigit(s[j]) {
                i = j
                var ed = ""
                scanDigits(&self, into: &ed)
                digits += exp + ed
            }
        }
        if i < s.count, Identifier.isStart(s[i]) {
            let bad = i
            while i < s.count, Identifier.isContinuation(s[i]) { i += 1 }
            error("invalid number literal '\(source.slice(start, i))'", start, i)
            _ = bad
        }
        let value = Double(digits) ?? .nan
        tokens.append(Token(kind: .number, text: source.slice(start, i), number: value, start: start, end: i))
    }

    private mutating func string() {
        let start = i
        i += 1
        var out = String.UnicodeScalarView()
        while true {
            guard i < s.count, s[i] != "\n" else {
                endsInString = i >= s.count
                error("unterminated string literal (strings end on the line they start)", start, i)
                break
            }
            let c = s[i]
            if c == "\"" { i += 1; break }
            if c == "\\" {
                let escStart = i
                i += 1
                guard i < s.count, s[i] != "\n" else { continue }
                let e = s[i]
                i += 1
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "0": out.append("\0")
                case "\"": out.append("\"")
                case "\\": out.append("\\")
                case "u":
                    guard i < s.count, s[i] == "{" else {
                        error("invalid escape: \\u must be followed by {hex digits}", escStart, i)
                        continue
                    }
                    var j = i + 1
                    var hex = ""
                    while j < s.count, s[j] != "}", s[j] != "\"", s[j] != "\n", hex.count <= 8 {
                        hex.unicodeScalars.append(s[j]); j += 1
                    }
                    if j < s.count, s[j] == "}", !hex.isEmpty, hex.count <= 6, let v = UInt32(hex, radix: 16),
                       let scalar = Unicode.Scalar(v) {
                        out.append(scalar)
                        i = j + 1
                    } else {
                        let end = (j < s.count && s[j] == "}") ? j + 1 : j
                        error("invalid unicode escape '\(source.slice(escStart, end))' (expected \\u{1F600}-style hex, at most 10FFFF)", escStart, end)
                        i = end
                    }
                default:
                    error("unknown escape '\\\(e)' (known: \\n \\t \\r \\0 \\\" \\\\ \\u{...})", escStart, i)
                }
                continue
            }
            out.append(c)
            i += 1
        }
        tokens.append(Token(kind: .string, text: String(out), start: start, end: i))
    }

    /// A Python habit: 'text'. Read as a string, with an error saying to use double quotes.
    private mutating func singleQuoted() {
        let start = i
        var j = i + 1
        while j < s.count, s[j] != "'", s[j] != "\n" { j += 1 }
        guard j < s.count, s[j] == "'" else {
            i += 1
            error("unexpected character \"'\" (strings use double quotes: \"...\")", start, start + 1)
            return
        }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: s[(i + 1)..<j])
        i = j + 1
        error("strings use double quotes: \"\(String(text))\"", start, i)
        tokens.append(Token(kind: .string, text: String(text), start: start, end: i))
    }

    private mutating func identifier() {
        let start = i
        while i < s.count, Identifier.isContinuation(s[i]) { i += 1 }
        let name = source.slice(start, i)
        if let k = Keyword(rawValue: name) {
            tokens.append(Token(kind: .keyword(k), text: name, start: start, end: i))
        } else {
            tokens.append(Token(kind: .identifier, text: name, start: start, end: i))
        }
    }

    private mutating func symbol() {
        let start = i
        let c = s[i]
        let n: Unicode.Scalar? = i + 1 < s.count ? s[i + 1] : nil
        var sym: Symbol?
        var len = 1
        switch c {
        case "(": sym = .lparen
        case ")": sym = .rparen
        case "[": sym = .lbracket
        case "]": sym = .rbracket
        case "{": sym = .lbrace
        case "}": sym = .rbrace
        case ",": sym = .comma
        case ".": if n == "." { sym = .dotdot; len = 2 } else { sym = .dot }
        case ":": sym = .colon
        case ";": sym = .semicolon
        case "=": if n == "=" { sym = .eq; len = 2 } else { sym = .assign }
        case "!": if n == "=" { sym = .ne; len = 2 }
        case "<": if n == "=" { sym = .le; len = 2 } else { sym = .lt }
        case ">": if n == "=" { sym = .ge; len = 2 } else { sym = .gt }
        case "+": if n == "=" { sym = .plusAssign; len = 2 } else { sym = .plus }
        case "-": if n == "=" { sym = .minusAssign; len = 2 } else { sym = .minus }
        case "*":
            if n == "=" { sym = .starAssign; len = 2 }
            else if n == "*" { sym = .caret; len = 2 }   // `**` is accepted as power, as in Python.
            else { sym = .star }
        case "/": if n == "=" { sym = .slashAssign; len = 2 } else { sym = .slash }
        case "%": sym = .percent
        case "^": sym = .caret
        case "@": sym = .at
        case "|": if n == ">" { sym = .pipe; len = 2 }
        case "?": sym = .question
        default: break
        }
        // Habits from other languages: read them as the PruneLang word, and say so.
        let habits: [(String, Keyword)] = [("&&", .and), ("||", .or), ("&", .and), ("|", .or), ("!", .not)]
        if sym == nil {
            for (spelling, word) in habits {
                let scalars = Array(spelling.unicodeScalars)
                if i + scalars.count <= s.count, Array(s[i..<(i + scalars.count)]) == scalars {
                    i += scalars.count
                    error("'\(spelling)' is written '\(word.rawValue)' in PruneLang", start, i)
                    tokens.append(Token(kind: .keyword(word), text: word.rawValue, start: start, end: i))
                    return
                }
            }
        }
        guard let sym else {
            i += 1
            let hint: String
            switch c {
            case "'": hint = " (strings use double quotes: \"...\")"
            case "!": hint = " (use 'not' for negation, '!=' for inequality)"
            case "&": hint = " (use 'and')"
            case "|": hint = " (use 'or'; '|>' is the pipe)"
            default: hint = ""
            }
            error("unexpected character '\(c.escaped(asASCII: false))'\(hint)", start, i)
            return
        }
        i += len
        switch sym {
        case .lparen, .lbracket, .lbrace:
            openBrackets.append((sym, start))
        case .rparen, .rbracket, .rbrace:
            let opener: Symbol = sym == .rparen ? .lparen : sym == .rbracket ? .lbracket : .lbrace
            if let top = openBrackets.last, top.symbol == opener {
                openBrackets.removeLast()
            } else if let k = openBrackets.lastIndex(where: { $0.symbol == opener }) {
                let top = openBrackets.last!
                error("'\(sym.rawValue)' closes '\(opener.rawValue)' but '\(top.symbol.rawValue)' at \(source.location(of: top.offset)) is still open", start, i)
                openBrackets.removeSubrange(k...)
            } else {
                error("unmatched '\(sym.rawValue)'", start, i)
            }
        default: break
        }
        tokens.append(Token(kind: .symbol(sym), text: sym.rawValue, start: start, end: i))
    }
}
