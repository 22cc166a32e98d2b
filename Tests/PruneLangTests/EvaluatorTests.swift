import Foundation
import Testing
import Numerics
@testable import PruneLang

/// The evaluator: values, scoping, assignment paths, limits and robustness.
struct EvaluatorTests {
    @Test func valuesComeBackTyped() throws {
        let s = Session()
        guard case .number(let x)? = s.run("1 + 2").value else { Issue.record("number"); return }
        #expect(x == 3)
        guard case .vector(let v)? = s.run("svdvals(matrix([[3, 0], [0, 4]]))").value else { Issue.record("vector"); return }
        #expect(v == [4, 3])
        guard case .matrix(let m)? = s.run("eye(2) * 2").value else { Issue.record("matrix"); return }
        #expect(m.data == [2, 0, 0, 2])
        guard case .record(let r)? = s.run("{a: 1, b: \"x\"}").value else { Issue.record("record"); return }
        #expect(r.keys == ["a", "b"])
    }

    @Test func globalsPersistAcrossCellsAndCanBeSetFromSwift() {
        let s = Session()
        s.run("x = 41")
        #expect(s.show("x + 1") == "42")
        s.interp["y"] = .matrix(Matrix.identity(2))
        #expect(s.show("shape(y)") == "[2, 2]")
        #expect(s.interp.variableNames.contains("x"))
        #expect(!s.interp.variableNames.contains("svdvals"))
        s.interp["x"] = nil
        #expect(s.show("x").contains("not defined"))
    }

    @Test func valueSemanticsForContainers() {
        let s = Session()
        #expect(s.show("a = [1, [2]]\nb = a\nb[1][0] = 9\n[a, b]") == "[[1, [2]], [1, [9]]]")
        #expect(s.show("m = eye(2)\nn = m\nn[0, 0] = 5\n[m[0, 0], n[0, 0]]") == "[1, 5]")
        #expect(s.show("r = {x: 1}\nq = r\nq.x = 2\n[r.x, q.x]") == "[1, 2]")
    }

    @Test func inPlaceUpdatesStayLinear() {
        // 100,000 element updates and appends would take minutes if each copied the container.
        let s = Session()
        let start = Date()
        #expect(s.show("v = vector(0..100000)\nfor i in 0..100000 { v[i] = 1 }\nsum(v)") == "100000")
        #expect(s.show("xs = []\nfor i in 0..100000 { xs += [i] }\nlen(xs)") == "100000")
        #expect(s.show("ys = []\nfor i in 0..100000 { ys = append(ys, i) }\nlen(ys)") == "100000")
        #expect(s.show("r = {l: []}\nfor i in 0..50000 { r.l += [i] }\nlen(r.l)") == "50000")
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func scopingRules() {
        let s = Session()
        // Function-local variables do not leak.
        #expect(s.show("fn f() { inner = 1; inner }\nf()\ninner").contains("name 'inner' is not defined"))
        // Assignment in a function makes a local even when a global has the name.
        #expect(s.show("g = 1\nfn h() { g = 2; g }\n[h(), g]") == "[2, 1]")
        // Closures update the enclosing function's variables.
        #expect(s.show("fn mk() { n = 0; fn() { n += 1; n } }\nc = mk()\nc(); c()") == "2")
        // Nested closures three levels deep.
        #expect(s.show("fn a() { x = 1; fn b() { fn c() { x += 10; x }; c() }; b() }\na()") == "11")
        // Loop variables are ordinary variables of the function.
        #expect(s.show("fn lv() { for i in 0..3 { }; i }\nlv()") == "2")
    }

    @Test func recursionIsLimitedNotFatal() {
        let s = Session()
        let r = s.run("fn f(n) { f(n + 1) }\nf(0)")
        #expect(r.diagnostics.first?.message.contains("too many nested calls") == true)
        // Mutual recursion too, and the session survives.
        let r2 = s.run("fn a(n) { b(n) }\nfn b(n) { a(n) }\na(1)")
        #expect(r2.diagnostics.first?.kind == .runtime)
        #expect(s.show("1 + 1") == "2")
        // Within the limit works.
        #expect(s.show("fn d(n) { if n == 0 { 0 } else { 1 + d(n - 1) } }\nd(990)") == "990")
    }

    @Test func limitsOnAllocationAndSteps() {
        let s = Session()
        s.interp.limits.maxElements = 1000
        #expect(s.run("zeros(100, 100)").diagnostics.first?.message.contains("limit") == true)
        #expect(s.run("0..5000").diagnostics.first?.message.contains("limit") == true)
        #expect(s.run("\"x\" * 2000").diagnostics.first?.message.contains("limit") == true)
        #expect(s.run("[1] + list(0..999) + [2]").diagnostics.first?.message.contains("limit") == true)
        s.interp.limits.maxSteps = 100
        let r = s.run("while true { }")
        #expect(r.diagnostics.first?.message.contains("step limit") == true)
    }

    @Test func integerConversionsNeverTrap() {
        let s = Session()
        for code in ["[1][nan]", "[1][inf]", "[1][-inf]", "[1][1e300]", "[1][-1e300]", "randn(nan, 1)", "randn(1e300, 1)",
                     "range(0, inf)", "range(0, 10, nan)", "eye(inf)", "round(1, nan)", "reshape([1], 1e20, 1e-20)",
                     "\"a\" * -1", "\"a\" * nan", "[1, 2][0:nan]", "[1, 2][0:inf]", "[1, 2][-inf:1e300]", "linspace(0, 1, 1e30)",
                     "drop_rows(eye(3), nan)", "rows(eye(3), [inf])", "std([1, 2], ddof=1e300)", "0..1e300", "number(\"1e999\") * 0"] {
            let r = s.run(code)
            #expect(r.value != nil || !r.diagnostics.isEmpty, "\(code) gives a value or an error")
        }
        #expect(s.show("[1, 2, 3][0:inf]") == "[1, 2, 3]")
    }

    @Test func interruptStopsALoopAndKeepsVariables() throws {
        let s = Session()
        s.run("count = 0")
        let interp = s.interp
        let done = DispatchSemaphore(value: 0)
        final class Holder: @unchecked Sendable { var result: CellResult? }
        let holder = Holder()
        Thread.detachNewThread {
            holder.result = interp.run(cell: "for i in 0..100000000 { count += 1 }")
            done.signal()
        }
        // Let the loop run a little, then interrupt it.
        var waited = 0.0
        while waited < 10 {
            Thread.sleep(forTimeInterval: 0.05)
            waited += 0.05
            interp.interrupt()
            if done.wait(timeout: .now()) == .success { break }
        }
        let r = try #require(holder.result)
        #expect(r.wasInterrupted)
        #expect(r.diagnostics.first?.render().contains("interrupted") == true)
        guard case .number(let n)? = s.run("count").value else { Issue.record("count kept"); return }
        #expect(n > 0 && n < 100_000_000)
        // The next cell runs normally.
        #expect(s.show("count >= 0") == "true")
    }

    @Test func interruptReachesBuiltinsThatCallBack() {
        let s = Session()
        let interp = s.interp
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.2)
            interp.interrupt()
        }
        let r = s.run("map(0..10000000, fn(x) { x })")
        #expect(r.wasInterrupted)
    }

    @Test func printGoesToTheSinkAndDisplayToItsHandler() {
        let s = Session()
        var shown: [MIMEBundle] = []
        s.interp.displayHandler = { shown.append($0) }
        s.run("print(\"a\", 1)\ndisplay(eye(1))\nprint(\"b\")")
        #expect(s.printed == "a 1\nb\n")
        #expect(shown.map(\.text) == ["1×1 matrix\n[[1]]"])
    }

    @Test func hostObjectsTakePart() {
        let s = Session()
        s.interp["w"] = .object(FakeWeight())
        #expect(s.show("type(w)") == "\"weight\"")
        #expect(s.show("w.name") == "\"up\"")
        #expect(s.show("svdvals(w)") == "[2, 1]")
        #expect(s.show("shape(w)") == "[2, 2]")
        #expect(s.show("(w * 2)[0, 0]") == "4")
        #expect(s.show("w.scale(3)") == "6")
        #expect(s.show("w") == "weight up 2×2")
        #expect(s.run("w").display?["text/html"] == "<b>up</b>")
        #expect(s.show("w.nmae").contains("did you mean 'name'?"))
        #expect(s.show("[w == w, w == 1]") == "[true, false]")
        #expect(s.interp.completions(code: "w.s", cursor: 3).matches == ["scale"])
    }

    @Test func progressReachesTheHook() {
        let registry = BuiltinRegistry.standard()
        registry.register(Builtin(name: "work", params: [.required("n", "number")], returns: "none", category: "test",
                                  doc: "Reports progress.", example: "work(3)") { a in
            let n = try a.int("n", 0...100)
            for i in 0..<n { try a.progress("steps", done: i + 1, total: n) }
            return .none
        })
        let s = Session(registry: registry)
        var events: [ProgressEvent] = []
        s.interp.progressHandler = { events.append($0) }
        s.run("work(3)")
        #expect(events.map(\.done) == [1, 2, 3])
        #expect(events.allSatisfy { $0.total == 3 && $0.stage == "steps" })
    }

    @Test func builtinArgumentHelpersNameTheArgument() {
        let registry = BuiltinRegistry.standard()
        registry.register(Builtin(name: "prune_demo",
                                  params: [.required("W", "matrix"), .optional("ratio", "number", default: .number(0.5)),
                                           .optional("method", "string", default: .string("magnitude"))],
                                  returns: "number", category: "test", doc: "Checks its arguments.", example: "prune_demo(eye(2))") { a in
            _ = try a.matrix("W")
            let r = try a.fraction("ratio")
            _ = try a.choice("method", ["magnitude", "wanda"])
            return .number(r)
        })
        let s = Session(registry: registry)
        #expect(s.show("prune_demo(eye(2), ratio=0.25)") == "0.25")
        #expect(s.run("prune_demo(\"x\")").diagnostics.first?.message == "prune_demo: argument W must be a matrix, got string")
        #expect(s.run("prune_demo(eye(2), ratio=1.5)").diagnostics.first?.message == "prune_demo: ratio must be in [0, 1), got 1.5")
        let d = s.run("prune_demo(eye(2), method=\"wandda\")").diagnostics.first
        #expect(d?.message == "prune_demo: method must be one of \"magnitude\", \"wanda\", got \"wandda\"; did you mean 'wanda'?")
        #expect(d?.kind == .value)
        #expect(d?.render().contains("^~~~~~~~~~~~~~~") == true)
    }

    @Test func diagnosticsRenderWithCaret() {
        let s = Session()
        let r = s.run("x = 1\ns = svdvals(\"up\")", )
        let d = try! #require(r.diagnostics.first)
        #expect(d.kind == .type)
        #expect((d.line, d.column, d.length) == (2, 13, 4))
        #expect(d.render() == "<cell>:2:13: error: svdvals: argument W must be a matrix, got string\ns = svdvals(\"up\")\n            ^~~~")
        let n = s.run("svdval(x)").diagnostics.first
        #expect(n?.kind == .name)
        #expect(n?.message == "name 'svdval' is not defined; did you mean 'svdvals'?")
    }

    @Test func cellsKeepTheirNameAndFirstLine() {
        let s = Session()
        let r = s.interp.run(cell: "a = 1\nb = a / 0", name: "script.prune", firstLine: 40)
        #expect(r.diagnostics.first?.render().hasPrefix("script.prune:41:5: error: division by zero") == true)
    }
}

/// A stand-in for a weight view from a later layer.
final class FakeWeight: HostObject {
    var typeName: String { "weight" }
    var memberNames: [String] { ["name", "scale"] }
    func member(_ name: String) throws -> Value? {
        switch name {
        case "name": return .string("up")
        case "scale":
            return .builtin(Builtin(name: "scale", params: [.required("k", "number")], returns: "number", category: "weight",
                                    doc: "Scales the first element.", example: "") { a in .number(2 * (try a.number("k"))) })
        default: return nil
        }
    }
    func display() -> MIMEBundle { MIMEBundle(text: "weight up 2×2", html: "<b>up</b>") }
    func matrixValue() throws -> Matrix? { try Matrix([[2, 0], [0, 1]]) }
}
