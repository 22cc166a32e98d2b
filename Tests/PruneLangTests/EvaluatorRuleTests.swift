import Testing
@testable import PruneLang

/// The evaluator's rules hold whichever compiled path a program takes: calls with up to three
/// positional arguments (bound straight into the frame) and the general call, plain and in-place
/// assignment of names, truthiness in every construct that tests it, and the step budget, which
/// counts loop iterations and calls but not the interrupt checks of long builtins.
struct EvaluatorRuleTests {
    private func message(_ s: Session, _ code: String) -> String? { s.run(code).diagnostics.first?.message }

    @Test func bothCallPathsBindAndReportAlike() {
        let s = Session()
        s.run("fn f(a, b, c=3, d=4) { [a, b, c, d] }")
        // Positional only (the direct path) and with keywords (the general path).
        #expect(s.show("f(1, 2)") == "[1, 2, 3, 4]")
        #expect(s.show("f(1, b=2)") == "[1, 2, 3, 4]")
        #expect(s.show("f(1, 2, 5)") == "[1, 2, 5, 4]")
        #expect(s.show("f(1, 2, 5, 6)") == "[1, 2, 5, 6]")
        #expect(s.show("f(1, 2, d=6)") == "[1, 2, 3, 6]")
        for code in ["f(1)", "f(a=1)", "f(1, c=0)", "f(c=0, a=1)"] {
            #expect(message(s, code) == "f: missing argument 'b'", "\(code)")
        }
        #expect(message(s, "f()") == "f: missing argument 'a'")
        #expect(message(s, "f(1, 2, 3, 4, 5)") == "f takes 4 arguments, got 5")
        #expect(message(s, "f(1, a=2)") == "f: argument 'a' given twice")
        #expect(message(s, "f(1, 2, e=2)") == "f has no parameter 'e'; did you mean 'a'?")
        // Builtins share the wording, with their signature or parameter list added.
        #expect(message(s, "drop_rows(eye(2), 0.5, ratio=0.5)") == "drop_rows: argument 'ratio' given twice")
        #expect(message(s, "drop_rows(eye(2))") == "drop_rows: missing argument 'ratio' (drop_rows(W, ratio, seed=none, mode=\"random\"))")
        // A callee that is not a function, on either path.
        #expect(message(s, "x = 1\nx(2)") == "a number is not callable")
        #expect(message(s, "x = 1\nx(k=2)") == "a number is not callable")
    }

    @Test func namesReadAndChangeByOneRule() {
        let s = Session()
        #expect(message(s, "nowhere += 1") == "name 'nowhere' is not defined")
        #expect(message(s, "nowhere[0] = 1") == "name 'nowhere' is not defined")
        #expect(message(s, "fn h() { y += 1 }\nh()") == "local variable 'y' is used before it is assigned")
        #expect(message(s, "fn k() { z = 0; fn() { w = z; z = w + q } }\nk()()")?.hasPrefix("name 'q' is not defined") == true)
        // A change that fails puts the variable back as it was.
        s.run("xs = [1, 2]\nn = 1")
        #expect(!s.run("xs[5] = 0").succeeded)
        #expect(!s.run("n += \"a\"").succeeded)
        #expect(s.show("[xs, n]") == "[[1, 2], 1]")
        // Globals defined after a function reads them, and builtins through a global name.
        s.run("fn later_reader() { later + len([1, 2]) }")
        #expect(message(s, "later_reader()")?.hasPrefix("name 'later' is not defined") == true)
        s.run("later = 40")
        #expect(s.show("later_reader()") == "42")
        // A function moved to another session reads that session's globals.
        let other = Session()
        other.interp["later_reader"] = s.interp["later_reader"]
        other.run("later = 1")
        #expect(other.show("later_reader()") == "3")
        #expect(s.show("later_reader()") == "42")
    }

    @Test func truthinessIsTheSameEverywhere() {
        let s = Session()
        let ambiguous = "the truth of a vector is ambiguous; use any(x) or all(x)"
        for code in ["if vector([1]) { 1 }", "if false { 1 } else if vector([1]) { 2 }", "while vector([1]) { }",
                     "vector([1]) and 1", "vector([1]) or 1", "not vector([1])", "filter([vector([1])], fn(x) { x })"] {
            #expect(message(s, code) == ambiguous, "\(code)")
        }
        #expect(s.show("[if nan { 1 } else { 0 }, if 0.5 { 1 } else { 0 }, if \"\" { 1 } else { 0 }, if [0] { 1 } else { 0 }]") == "[0, 1, 0, 1]")
        #expect(s.show("i = 0\nwhile [] { i += 1 }\ni") == "0")
        #expect(s.show("[0 or \"x\", 2 and [], none or 5]") == "[\"x\", [], 5]")
    }

    @Test func theStepBudgetCountsUserCodeNotInterruptChecks() {
        let registry = BuiltinRegistry.standard()
        registry.register(Builtin(name: "busy", params: [], returns: "number", category: "test",
                                  doc: "Checks for an interrupt 100 times.", example: "busy()") { a in
            for _ in 0..<100 { try a.checkInterrupt() }
            return .number(1)
        })
        let s = Session(registry: registry)
        s.interp.limits.maxSteps = 3
        // Three calls are three steps, however often the builtin checks for an interrupt.
        #expect(s.run("busy() + busy() + busy()").succeeded)
        #expect(message(s, "busy() + busy() + busy() + busy()") == "step limit exceeded (3 loop iterations and calls)")
        #expect(message(s, "for i in 0..4 { }") == "step limit exceeded (3 loop iterations and calls)")
        // An interrupt asked for before a builtin's check stops it there, once, and counts no step.
        s.interp.limits.maxSteps = 1000
        s.interp.interrupt()
        let source = SourceText("x", name: "<test>")
        let span = Span(source: source, start: 0, end: 1)
        let steps = s.interp.steps
        #expect(throws: LangError.self) { try s.interp.checkInterrupt(at: span) }
        #expect(!s.interp.interruptFlag.isSet)
        #expect(throws: Never.self) { try s.interp.checkInterrupt(at: span) }
        #expect(s.interp.steps == steps)
        withExtendedLifetime(source) {}
    }
}
