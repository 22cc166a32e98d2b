import Foundation
import Testing
import Numerics
@testable import PruneLang

/// Every builtin called with arguments drawn from a pool of awkward values (empty, huge, negative,
/// non-finite, wrong kinds, ragged lists, zero-sized matrices, functions, plots), positionally
/// and by keyword, with a fixed seed. A builtin must answer with a value or a diagnostic that
/// names it; a Swift trap here would end a user's kernel and lose the session.
struct BuiltinArgumentFuzzTests {
    /// Builtins left out: they wait for a user (`input`), write files (`save`), or run a model
    /// for a long time when handed one; a string argument never names a real model here.
    static let skipped: Set<String> = ["input", "save"]

    /// The pool, as source text; each is bound to a variable `v<i>` once per session.
    static let pool: [String] = [
        "0", "1", "-1", "2", "2.5", "-0.5", "0.5", "7", "1e300", "-1e300", "1e-300", "3000000000", "1e18",
        "number(\"nan\")", "number(\"inf\")", "-number(\"inf\")",
        "\"\"", "\"s\"", "\"piqa\"", "\"random-rows\"", "\"prunenet\"", "\"ks\"", "\"log\"", "\"é✓\"",
        "true", "false", "none",
        "[]", "[1, 2, 3]", "[[1, 2], [3]]", "[[1, 2], [3, 4]]", "[\"a\", 1]", "[0, -1, 5]", "[[]]", "[1e300, -1e300]",
        "{}", "{a: 1}", "{x: [1, 2], y: [3, 4]}",
        "eye(3)", "zeros(0, 0)", "zeros(1, 0)", "zeros(0, 3)", "ones(2, 3)", "matrix([[1, 2], [3, 4]])",
        "randn(4, 2, seed=1)", "randn(1, 1, seed=2)", "eye(2) * number(\"nan\")", "eye(2) * 1e300",
        "range(3)", "range(0)", "0..4",
        "fn(x) { x }", "fn() { 1 }", "fn(a, b) { a + b }", "print", "len",
        "hist([1, 2, 3])", "ecdf([1, 2, 2])",
    ]

    /// The pool kinds a declared parameter type ("vector|list", "number|none") accepts.
    static func kinds(of type: String) -> Set<String> {
        var out: Set<String> = []
        for t in type.split(separator: "|").map({ String($0).trimmingCharacters(in: .whitespaces) }) {
            switch t {
            case "number", "numbers": out.insert("number")
            case "string": out.insert("string")
            case "bool": out.insert("bool")
            case "none": out.insert("none")
            case "matrix", "weight", "list of lists": out.insert("matrix")
            case "vector", "list", "range": out.formUnion(["list", "range"])
            case "record": out.insert("record")
            case "function": out.insert("function")
            case "figure": out.insert("figure")
            default: break
            }
        }
        return out
    }

    /// The kind of the pool variable `v<i>`.
    static func kind(ofPool variable: String) -> String {
        let src = pool[Int(variable.dropFirst())!]
        if src.hasPrefix("\"") { return "string" }
        if ["true", "false"].contains(src) { return "bool" }
        if src == "none" { return "none" }
        if src.hasPrefix("[") { return "list" }
        if src.hasPrefix("{") { return "record" }
        if src.hasPrefix("fn") || ["print", "len"].contains(src) { return "function" }
        if src.hasPrefix("range") || src.contains("..") { return "range" }
        if src.hasPrefix("hist") || src.hasPrefix("ecdf") { return "figure" }
        if ["eye", "zeros", "ones", "matrix", "randn"].contains(where: { src.hasPrefix($0) }) { return "matrix" }
        return "number"
    }

    @Test func everyBuiltinWithAwkwardArguments() {
        let registry = BuiltinRegistry.standard()
        let builtins = registry.all.filter { !Self.skipped.contains($0.name) }
        #expect(builtins.count > 60)
        var rng = SeededRandom(seed: 2_026_1205)
        let start = Date()
        var calls = 0, failures = 0
        let trace = ProcessInfo.processInfo.environment["PRUNELANG_FUZZ_TRACE"] != nil
        Interpreter.onLargeStack {
            for b in builtins {
                let interp = FuzzTests.session()
                interp.limits.maxElements = 20_000
                var bound: [String] = []
                for (i, src) in Self.pool.enumerated() where interp.run(cell: "v\(i) = \(src)", name: "pool").succeeded {
                    bound.append("v\(i)")
                }
                #expect(bound.count >= Self.pool.count - 2, "pool values failed to bind for \(b.name)")
                let names = b.params.map(\.name) + ["bogus"]
                for call in 0..<160 {
                    // Half the calls draw each argument from values of the parameter's declared kind, so
                    // that calls get past the type checks into the arithmetic.
                    let n = Int(rng.next() % UInt64(max(2, b.params.count + 2)))
                    var args = (0..<n).map { k -> String in
                        let kinds = call % 2 == 0 && k < b.params.count ? Self.kinds(of: b.params[k].type) : []
                        let choices = kinds.isEmpty ? bound : bound.filter { v in kinds.contains(Self.kind(ofPool: v)) }
                        let from = choices.isEmpty ? bound : choices
                        return from[Int(rng.next() % UInt64(from.count))]
                    }
                    if rng.next() % 3 == 0 {
                        let k = names[Int(rng.next() % UInt64(names.count))]
                        args.append("\(k)=" + bound[Int(rng.next() % UInt64(bound.count))])
                    }
                    let code = "\(b.name)(" + args.joined(separator: ", ") + ")"
                    // PRUNELANG_FUZZ_TRACE=1 names each call before it runs, to find the one that traps.
                    if trace { FileHandle.standardError.write(Data((code + "\n").utf8)) }
                    let r = interp.run(cell: code, name: "fuzz")
                    calls += 1
                    if !r.succeeded {
                        failures += 1
                        for d in r.diagnostics {
                            #expect(!d.message.isEmpty, "\(code)")
                            #expect(!d.render().isEmpty, "\(code)")
                        }
                    }
                }
            }
        }
        // Most random calls are wrong and must say so; some must succeed, or the pool is broken.
        #expect(failures > calls / 2 && failures < calls)
        #expect(Date().timeIntervalSince(start) < 120)
    }
}
