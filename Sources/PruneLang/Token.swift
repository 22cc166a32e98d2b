/// The kinds of token the lexer produces.
public enum TokenKind: Equatable, Sendable {
    /// A number literal; the value is in `Token.number`.
    case number
    /// A string literal with escapes decoded; the value is in `Token.text`.
    case string
    /// A name; the name is in `Token.text`.
    case identifier
    /// A reserved word (`fn`, `if`, `and`, ...).
    case keyword(Keyword)
    /// An operator or punctuation mark.
    case symbol(Symbol)
    /// The end of a statement: a newline outside parentheses and brackets.
    case newline
    /// The end of the source.
    case eof
}

/// The rule for names, in one place: a name starts with a letter (any alphabetic Unicode scalar)
/// or `_`, and goes on with letters, `_` and the digits 0–9. The lexer, completion, inspection,
/// the display of record field names and the kernel's `?name` help all read it from here.
public enum Identifier {
    /// Whether `c` can start a name.
    public static func isStart(_ c: Unicode.Scalar) -> Bool {
        c == "_" || (c.isASCII ? (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") : c.properties.isAlphabetic)
    }

    /// Whether `c` can continue a name.
    public static func isContinuation(_ c: Unicode.Scalar) -> Bool { isStart(c) || (c >= "0" && c <= "9") }

    /// Whether `text` is a name that is not a reserved word (so it can be written bare).
    public static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, isStart(first),
              text.unicodeScalars.allSatisfy(isContinuation) else { return false }
        return Keyword(rawValue: text) == nil
    }
}

/// The reserved words of PruneLang.
public enum Keyword: String, CaseIterable, Sendable {
    /// `fn`: a function definition or literal.
    case fn
    /// `if`.
    case `if`
    /// `else`.
    case `else`
    /// `for`.
    case `for`
    /// `in`: in a `for` loop, and the membership operator.
    case `in`
    /// `while`.
    case `while`
    /// `break`.
    case `break`
    /// `continue`.
    case `continue`
    /// `return`.
    case `return`
    /// `true`.
    case `true`
    /// `false`.
    case `false`
    /// `none`.
    case none
    /// `and` (short-circuit).
    case and
    /// `or` (short-circuit).
    case or
    /// `not`.
    case not
}

/// Operators and punctuation.
public enum Symbol: String, CaseIterable, Sendable {
    /// `(`
    case lparen = "("
    /// `)`
    case rparen = ")"
    /// `[`
    case lbracket = "["
    /// `]`
    case rbracket = "]"
    /// `{`
    case lbrace = "{"
    /// `}`
    case rbrace = "}"
    /// `,`
    case comma = ","
    /// `.`
    case dot = "."
    /// `..` (range)
    case dotdot = ".."
    /// `:`
    case colon = ":"
    /// `;`
    case semicolon = ";"
    /// `=`
    case assign = "="
    /// `+=`
    case plusAssign = "+="
    /// `-=`
    case minusAssign = "-="
    /// `*=`
    case starAssign = "*="
    /// `/=`
    case slashAssign = "/="
    /// `==`
    case eq = "=="
    /// `!=`
    case ne = "!="
    /// `<`
    case lt = "<"
    /// `<=`
    case le = "<="
    /// `>`
    case gt = ">"
    /// `>=`
    case ge = ">="
    /// `+`
    case plus = "+"
    /// `-`
    case minus = "-"
    /// `*`
    case star = "*"
    /// `/`
    case slash = "/"
    /// `%`
    case percent = "%"
    /// `^` (power)
    case caret = "^"
    /// `@` (matrix product)
    case at = "@"
    /// `|>` (pipe)
    case pipe = "|>"
    /// `?` (help)
    case question = "?"
}

/// One token: its kind, its decoded text or number, and where it is (scalar offsets).
public struct Token: Sendable {
    /// What kind of token.
    public let kind: TokenKind
    /// The name for identifiers, the decoded value for strings, the spelling otherwise.
    public let text: String
    /// The value of a number literal (0 otherwise).
    public let number: Double
    /// The first scalar offset of the token.
    public let start: Int
    /// One past the last scalar offset.
    public let end: Int

    /// A token from its parts.
    public init(kind: TokenKind, text: String, number: Double = 0, start: Int, end: Int) {
        self.kind = kind
        self.text = text
        self.number = number
        self.start = start
        self.end = end
    }

    /// Whether the token is the symbol `s`.
    func `is`(_ s: Symbol) -> Bool { kind == .symbol(s) }
    /// Whether the token is the keyword `k`.
    func `is`(_ k: Keyword) -> Bool { kind == .keyword(k) }

    /// How the token reads in an error message: `'foo'`, `end of input`, `newline`.
    var described: String {
        switch kind {
        case .eof: return "end of input"
        case .newline: return "newline"
        case .string: return "string literal"
        case .number: return "number \(text)"
        case .identifier: return "name '\(text)'"
        case .keyword(let k): return "'\(k.rawValue)'"
        case .symbol(let s): return "'\(s.rawValue)'"
        }
    }
}
