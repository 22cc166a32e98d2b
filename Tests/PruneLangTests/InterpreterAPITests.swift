import Foundation
import Testing
@testable import PruneLang

/// The entry points the REPL and the kernel use: isComplete, completions, inspect, help.
struct InterpreterAPITests {
    let interp = Interpreter(output: { _ in })

    @Test func completeness() {
        let complete = ["", "   ", "1 + 2", "x = 1\ny = 2", "fn f(x) { x }", "if a { 1 } else { 2 }", "# just a comment", "f(1)\n"]
        for c in complete { #expect(interp.isComplete(c) == .complete, "\(c.debugDescription) is complete") }
        let incomplete = ["fn f(x) {", "f(1,", "[1, 2", "{a: 1,", "x = 1 +", "if x > 1 {\n  print(x)", "x = \\",
                          "if x", "for i in xs", "x |>", "a and", "fn f(", "if a { 1 } else", "while true {\n  if x {\n"]
        for c in incomplete {
            if case .incomplete = interp.isComplete(c) { continue }
            Issue.record("\(c.debugDescription) should be incomplete, got \(interp.isComplete(c))")
        }
        let invalid = ["x = )", "1 +* 2", "f(1]", "\"open", "x = 1 2", "}", "if x: y", "x = )\nif y"]
        for c in invalid { #expect(interp.isComplete(c) == .invalid, "\(c.debugDescription) is invalid") }
        #expect(interp.isComplete("f([1,\n{a: 2,") == .incomplete(indent: String(repeating: " ", count: 12)))
    }

    @Test func completesNamesKeywordsAndVariables() {
        interp.run(cell: "svd_result = 1\nmy_matrix = eye(2)")
        let c = interp.completions(code: "x = svd", cursor: 7)
        #expect(c.matches == ["svd", "svd_result", "svdvals"])
        #expect((c.start, c.end) == (4, 7))
        #expect(interp.completions(code: "my_", cursor: 3).matches == ["my_matrix"])
        #expect(interp.completions(code: "whi", cursor: 3).matches == ["while"])
        #expect(interp.completions(code: "", cursor: 0).matches.count > 60)
    }

    @Test func completesMembersAfterADot() {
        interp.run(cell: "r = {alpha: 1, beta: {gamma: eye(2)}}\nlayers = [{ffn: {up: eye(3)}}]")
        #expect(interp.completions(code: "r.", cursor: 2).matches == ["alpha", "beta"])
        #expect(interp.completions(code: "r.be", cursor: 4).matches == ["beta"])
        #expect(interp.completions(code: "r.beta.gamma.", cursor: 13).matches == ["T", "cols", "rows", "shape"])
        #expect(interp.completions(code: "layers[0].ffn.", cursor: 14).matches == ["up"])
        let c = interp.completions(code: "print(r.al", cursor: 10)
        #expect(c.matches == ["alpha"])
        #expect((c.start, c.end) == (8, 10))
        // Completion never calls anything.
        interp.run(cell: "calls = 0\nfn side() { calls += 1; {x: 1} }")
        _ = interp.completions(code: "side().", cursor: 7)
        #expect(interp["calls"].map { Render.text($0) } == "0")
    }

    @Test func completesKeywordArgumentsInsideACall() {
        let c = interp.completions(code: "drop_rows(W, 0.3, s", cursor: 19)
        #expect(c.matches.first == "seed=")
        #expect(c.matches.contains("sort"))
        #expect(interp.completions(code: "drop_rows(W, 0.3, ", cursor: 18).matches.prefix(4) == ["W=", "ratio=", "seed=", "mode="])
        interp.run(cell: "fn area(width, height=2) { width * height }")
        #expect(interp.completions(code: "area(1, he", cursor: 10).matches.first == "height=")
        #expect(interp.completions(code: "randn(2, 3, se", cursor: 14).matches == ["seed="])
    }

    @Test func completesFilePathsInStrings() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prunelang-complete-\(getpid())")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("models"), withIntermediateDirectories: true)
        try Data().write(to: dir.appendingPathComponent("model.gguf"))
        defer { try? FileManager.default.removeItem(at: dir) }
        let code = "load(\"\(dir.path)/mod"
        let c = interp.completions(code: code, cursor: code.unicodeScalars.count)
        #expect(c.matches == ["\(dir.path)/model.gguf", "\(dir.path)/models/"])
        #expect(c.start == 6)
    }

    @Test func inspectShowsHelpWithoutRunningCode() throws {
        let b = try #require(interp.inspect(code: "s = svdvals(W)", cursor: 6))
        #expect(b.text.hasPrefix("svdvals(W, spectrum=\"exact\") -> vector"))
        #expect(b["text/markdown"]?.contains("#### svdvals") == true)
        #expect(interp.inspect(code: "drop_rows(", cursor: 10)?.text.hasPrefix("drop_rows(") == true)
        #expect(interp.inspect(code: "for", cursor: 1)?.text.hasPrefix("for x in xs") == true)
        #expect(interp.inspect(code: "   ", cursor: 1) == nil)
        #expect(interp.inspect(code: "nosuch", cursor: 2) == nil)
        interp.run(cell: "fn area(w, h=2) { w * h }")
        #expect(interp.inspect(code: "area", cursor: 4)?.text.hasPrefix("fn area(w, h=2)") == true)
    }

    @Test func helpForNames() {
        #expect(interp.help(for: "ks")?.hasPrefix("ks(a, b) -> record") == true)
        #expect(interp.help(for: "while")?.hasPrefix("while cond") == true)
        #expect(interp.help(for: "nothing_here") == nil)
        #expect(interp.overviewHelp().contains("spectra: ad, analyze, cols, drop_rows"))
    }

    @Test func helpStatementForms() {
        var out = ""
        let i = Interpreter(output: { out += $0 })
        for form in ["?svdvals", "svdvals?", "help(svdvals)", "help(\"svdvals\")"] {
            out = ""
            let r = i.run(cell: form)
            #expect(r.succeeded && r.display == nil)
            #expect(out.hasPrefix("svdvals(W, spectrum=\"exact\") -> vector\n\nThe singular values"), "\(form)")
            #expect(out.contains("Example:\n  svdvals(matrix([[3, 0], [0, 4]]))"))
        }
    }

    @Test func checkReportsSyntaxErrorsWithoutRunning() {
        interp.run(cell: "n = 0")
        #expect(interp.check("n = 1\nx = )").count == 1)
        #expect(interp["n"].map { Render.text($0) } == "0")
    }

    @Test func mimeBundles() {
        let b = MIMEBundle(text: "t", html: "<p>", svg: "<svg/>", markdown: "# m")
        #expect(b.data.count == 4 && b.text == "t" && b["image/svg+xml"] == "<svg/>")
        #expect(interp.run(cell: "eye(2)").display?.data.keys.sorted() == ["text/plain"])
    }

    @Test func numberFormatting() {
        #expect(formatNumber(3) == "3")
        #expect(formatNumber(-0.0) == "0")
        #expect(formatNumber(2.5) == "2.5")
        #expect(formatNumber(1e-5) == "0.00001")
        #expect(formatNumber(-1.5e-7) == "-0.00000015")
        #expect(formatNumber(1e-9) == "1e-09")
        #expect(formatNumber(1e16) == "1e+16")
        #expect(formatNumber(123456789) == "123456789")
        #expect(formatNumber(.nan) == "nan")
        #expect(formatNumber(-.infinity) == "-inf")
        #expect(formatShort(0.1 as Double) == "0.1")
        #expect(formatShort(Double(Float(0.1))) == "0.1")
        #expect(formatShort(1.0 / 3) == "0.333333")
    }
}
