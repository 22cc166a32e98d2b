import Testing
@testable import PruneLang

/// The parser: precedence (observed through evaluation), statement forms, and error recovery.
struct ParserTests {
    func errors(_ code: String) -> [Diagnostic] {
        Interpreter(output: { _ in }).check(code)
    }

    @Test func precedenceAndAssociativity() {
        let s = Session()
        #expect(s.show("1 + 2 * 3") == "7")
        #expect(s.show("2 ^ 3 ^ 2") == "512")
        #expect(s.show("-2 ^ 2") == "-4")
        #expect(s.show("2 ^ -1") == "0.5")
        #expect(s.show("10 - 4 - 3") == "3")
        #expect(s.show("100 / 10 / 5") == "2")
        #expect(s.show("not 1 == 2") == "true")
        #expect(s.show("1 < 2 and 2 < 3 or false") == "true")
        #expect(s.show("1 + 1..2 + 2") == "2..4")
        #expect(s.show("([1, 2] |> len) + 1") == "3")
        #expect(s.show("1 + 2 |> str") == "\"3\"")
        #expect(s.show("3 in [1, 2] or 2 not in [1]") == "true")
        #expect(s.show("eye(2) @ eye(2) * 3") == "2×2 matrix\n[[3, 0],\n [0, 3]]")
    }

    @Test func pipesInsertTheFirstArgument() {
        let s = Session()
        s.run("fn sub(a, b) { a - b }")
        #expect(s.show("10 |> sub(3)") == "7")
        #expect(s.show("10 |> sub(b=4)") == "6")
        #expect(s.show("[3, 1] |> sort |> len") == "2")
    }

    @Test func trailingSemicolonHidesTheValue() {
        let s = Session()
        #expect(s.run("1 + 1;").display == nil)
        #expect(s.run("1 + 1;  # comment\n").display == nil)
        #expect(s.run("x = 1; x").display?.text == "1")
        #expect(s.run("x = 5").display == nil)
    }

    @Test func severalErrorsInOneCell() {
        let d = errors("a = 1 +\nb = (2\nc = [1,, 2]\nd = 4 4\nfn f( { }\ne = }")
        #expect(d.count >= 3, "several errors are reported: \(d.map(\.message))")
        #expect(d.allSatisfy { $0.kind == .syntax })
        let lines = d.map(\.line)
        #expect(lines == lines.sorted(), "in source order")
        // Errors on separate lines are each found.
        let e = errors("x = )\ny = 1 2\nz = ]\nw = 3")
        #expect(e.map(\.line) == [1, 2, 3])
    }

    @Test func recoveryResumesInsideBlocks() {
        let d = errors("""
            fn f(x) {
              a = x +* 1
              b = x 2
              a
            }
            y = (
            """)
        #expect(d.map(\.line) == [2, 3, 6])
    }

    @Test func recoveryJumpsOverWholeRecords() {
        let d = errors("r = {a 1, b: {c: 2}}\nq = 1 1")
        #expect(d.map(\.line) == [1, 2])
    }

    @Test func errorCountIsBounded() {
        let code = Array(repeating: "x = )", count: 100).joined(separator: "\n")
        #expect(errors(code).count <= 20)
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        for opener in ["(", "[", "-", "not ", "{a: ", "f("] {
            let code = String(repeating: opener, count: 5000) + "1"
            let d = errors(code)
            #expect(!d.isEmpty, "\(opener) nested 5000 deep")
        }
        let blocks = String(repeating: "if true { ", count: 1000) + "1" + String(repeating: " }", count: 1000)
        #expect(errors(blocks).first?.message.contains("nested too deeply") == true)
        let chain = Array(repeating: "1", count: 5000).joined(separator: " + ")
        #expect(errors(chain).first?.message.contains("too long") == true)
    }

    @Test func moderateNestingIsFine() {
        let s = Session()
        #expect(s.show(String(repeating: "(", count: 150) + "1" + String(repeating: ")", count: 150)) == "1")
        #expect(s.show(Array(repeating: "1", count: 1500).joined(separator: "+")) == "1500")
    }

    @Test func elseMayFollowOnTheNextLine() {
        let s = Session()
        #expect(s.show("if false {\n 1\n}\nelse if true {\n 2\n}\nelse { 3 }") == "2")
    }

    @Test func recordsAndBlocksDoNotClash() {
        let s = Session()
        #expect(s.show("if {a: 1}.a == 1 { {b: 2} } else { {} }") == "{b: 2}")
        #expect(s.show("for k in {x: 1, y: 2} { }\nk") == "\"y\"")
        #expect(s.show("f = fn() { {v: 1} }\nf().v") == "1")
    }

    @Test func keywordsAreFieldNames() {
        let s = Session()
        #expect(s.show("r = {if: 1, for: 2}\nr.if + r.for") == "3")
    }
}
