import Testing
@testable import PruneLang

/// The lexer: tokens, newline rules, literals and lexical errors.
struct LexerTests {
    func lex(_ code: String) -> ([Token], [Diagnostic]) {
        var l = Lexer(SourceText(code))
        let t = l.tokenize()
        return (t, l.diagnostics)
    }

    func kinds(_ code: String) -> [String] {
        lex(code).0.map { t in
            switch t.kind {
            case .number: return "num(\(formatNumber(t.number)))"
            case .string: return "str(\(t.text))"
            case .identifier: return "id(\(t.text))"
            case .keyword(let k): return k.rawValue
            case .symbol(let s): return s.rawValue
            case .newline: return "NL"
            case .eof: return "EOF"
            }
        }
    }

    @Test func tokensOfAStatement() {
        #expect(kinds("x = svdvals(W) |> sort") == ["id(x)", "=", "id(svdvals)", "(", "id(W)", ")", "|>", "id(sort)", "NL", "EOF"])
        #expect(kinds("a += 1; b -= 2 *= /=") == ["id(a)", "+=", "num(1)", ";", "id(b)", "-=", "num(2)", "*=", "/=", "NL", "EOF"])
        #expect(kinds("== != <= >= < > ^ ** @ % ? .") == ["==", "!=", "<=", ">=", "<", ">", "^", "^", "@", "%", "?", ".", "NL", "EOF"])
    }

    @Test func numbersAndRanges() {
        #expect(kinds("0..10") == ["num(0)", "..", "num(10)", "NL", "EOF"])
        #expect(kinds("1.5 1e-3 2E+2 1_000_000 3.") == ["num(1.5)", "num(0.001)", "num(200)", "num(1000000)", "num(3)", ".", "NL", "EOF"])
        #expect(kinds("x.T") == ["id(x)", ".", "id(T)", "NL", "EOF"])
    }

    @Test func stringEscapes() {
        let (t, d) = lex(#""a\nb\t\"q\"\\ \u{1F600}\u{E9}""#)
        #expect(d.isEmpty)
        #expect(t[0].text == "a\nb\t\"q\"\\ 😀é")
    }

    @Test func newlinesEndStatementsOutsideParenthesesOnly() {
        #expect(kinds("f(1,\n2)\nx") == ["id(f)", "(", "num(1)", ",", "num(2)", ")", "NL", "id(x)", "NL", "EOF"])
        #expect(kinds("[1,\n\n2]") == ["[", "num(1)", ",", "num(2)", "]", "NL", "EOF"])
        // Inside braces (blocks, and a function literal inside a call) newlines count again.
        #expect(kinds("f(fn() {\na\nb\n})") == ["id(f)", "(", "fn", "(", ")", "{", "NL", "id(a)", "NL", "id(b)", "NL", "}", ")", "NL", "EOF"])
        // Blank lines and comments collapse.
        #expect(kinds("a\n\n# c\n\nb") == ["id(a)", "NL", "id(b)", "NL", "EOF"])
    }

    @Test func continuationLines() {
        #expect(kinds("x\n  |> f\n  .y") == ["id(x)", "|>", "id(f)", ".", "id(y)", "NL", "EOF"])
        #expect(kinds("1 + \\\n 2") == ["num(1)", "+", "num(2)", "NL", "EOF"])
        var l = Lexer(SourceText("x = 1 \\"))
        _ = l.tokenize()
        #expect(l.endsWithBackslash)
    }

    @Test func commentsAndKeywords() {
        #expect(kinds("for x in xs { break } # done") == ["for", "id(x)", "in", "id(xs)", "{", "break", "}", "NL", "EOF"])
        #expect(kinds("not a and b or none") == ["not", "id(a)", "and", "id(b)", "or", "none", "NL", "EOF"])
        #expect(kinds("αβ_1 = 2") == ["id(αβ_1)", "=", "num(2)", "NL", "EOF"])
    }

    @Test func lexicalErrorsAreCollectedAndLexingGoesOn() {
        let (t, d) = lex("a = \"open\nb = 'x' $ c\n")
        #expect(d.count == 3)
        #expect(d[0].message.contains("unterminated string"))
        #expect(d[1].message.contains("double quotes"))
        #expect(d[2].message.contains("unexpected character '$'"))
        #expect(t.contains { $0.kind == .identifier && $0.text == "c" })
    }

    @Test func bracketBookkeeping() {
        var l = Lexer(SourceText("f([1, {a: (2"))
        _ = l.tokenize()
        #expect(l.openBrackets.map(\.symbol) == [.lparen, .lbracket, .lbrace, .lparen])
        let (_, d) = lex("(]")
        #expect(d.first?.message == "unmatched ']'")
        let (_, d2) = lex("([)]")
        #expect(d2.first?.message.contains("is still open") == true)
    }

    /// One identifier rule: what `Identifier` calls a name lexes as one identifier, is shown bare as
    /// a record field, and is the word completion replaces; anything else is not.
    @Test func oneIdentifierRuleEverywhere() {
        let names = ["x", "_", "_x1", "W2", "café", "σ_max", "層"]
        for n in names {
            #expect(Identifier.isName(n), "\(n)")
            #expect(kinds(n) == ["id(\(n))", "NL", "EOF"])
            #expect(Render.fieldName(n) == n)
            let code = "1 + " + n
            let c = Interpreter().completions(code: code, cursor: code.unicodeScalars.count)
            #expect(c.start == 4, "\(n)")
        }
        for n in ["", "1x", "x-y", "a.b", "x y", "x٣", "٣", "for", "true"] {
            #expect(!Identifier.isName(n), "\(n)")
            #expect(Render.fieldName(n) != n, "\(n)")
        }
        // a digit of another script continues no name, in the lexer as in completion
        #expect(!lex("x٣").1.isEmpty)
        let c = Interpreter().completions(code: "x٣", cursor: 2)
        #expect(c.start == 2)
    }

    @Test func locationsCountScalarsAndLines() {
        let src = SourceText("ab\ncdé\nf", name: "t", firstLine: 10)
        #expect(src.location(of: 0) == Location(line: 10, column: 1, offset: 0))
        #expect(src.location(of: 5) == Location(line: 11, column: 3, offset: 5))
        #expect(src.line(11) == "cdé")
        #expect(src.line(12) == "f")
        #expect(src.line(13) == "")
    }
}
