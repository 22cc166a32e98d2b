import Foundation
import Testing
import PruneLang
import TestHelpers

/// Impossible arguments to the model builtins on the real models: each call must fail at once with a
/// diagnostic that names the builtin, and leave the session usable (a Swift trap would end the
/// kernel and lose every variable).
@Suite(.enabled(if: TestSupport.haveSmolLM && TestSupport.haveMiniLM, "run scripts/fetch-models"))
struct ModelArgumentErrorTests {
    static let calls: [String] = [
        // prune
        "prune(m, \"random-rows\", ratio=-0.1)", "prune(m, \"random-rows\", ratio=1)", "prune(m, \"random-rows\", ratio=1.5)",
        "prune(m, \"random-rows\", ratio=nan)", "prune(m, \"random-rows\", ratio=[0.1, 0.2])",
        "prune(m, \"random-rows\", ratio=map(range(30), fn(l) { nan }))", "prune(m, \"random-rows\", ratio=0.2, seed=-1)",
        "prune(m, \"random-rows\", ratio=0.2, seed=1e300)", "prune(m, \"bogus\", ratio=0.2)", "prune(b, \"prunenet\", ratio=0.2, seed=nan)",
        "prune(m, p, ratio=2)", "prune(b, p, ratio=0.2)", "prune(m, \"magnitude\", ratio=0.5, pattern=\"3:2\")",
        "prune(m, \"magnitude\", ratio=0.5, pattern=\"0:4\")", "prune(m, \"magnitude\", ratio=0.5, pattern=\"x\")",
        "prune(m, \"wanda\", ratio=0.5, calib=0)", "prune(m, \"wanda\", ratio=0.5, calib=-3)", "prune(m, \"slicegpt\", ratio=1)",
        "prune(m, \"shortgpt\", ratio=1)", "prune(m, \"random-rows\", ratio=0.2, scope=\"bogus\")",
        "prune(m, \"random-rows\", ratio=0.2, scope=\"layer\")", "prune(m, p, ratio=0.2, calib=4)",
        "prune(m, \"magnitude\", ratio=0.2, calib=4)", "prune(m, \"prunenet\", ratio=0.2, pattern=\"2:4\")",
        // train_policy
        "train_policy(m, ratio=0.2, episodes=-1)", "train_policy(m, ratio=0.2, episodes=1e300)", "train_policy(m, ratio=-1)",
        "train_policy(m, ratio=1)", "train_policy(m, ratio=0.2, lr=-1)", "train_policy(m, ratio=0.2, lr=nan)",
        "train_policy(m, ratio=0.2, gamma=2)", "train_policy(m, ratio=0.2, gamma=nan)", "train_policy(m, ratio=0.2, reward=\"bogus\")",
        "train_policy(m, ratio=0.2, variant=\"bogus\")", "train_policy(m, ratio=0.2, temperature=0)",
        "train_policy(m, ratio=0.2, temperature=-1)", "train_policy(m, ratio=0.2, init_scale=nan)",
        // evaluation
        "ppl(m, ctx=0)", "ppl(m, ctx=-5)", "ppl(m, ctx=1e9, windows=1)", "ppl(m, windows=0)", "ppl(m, windows=-1)",
        "ppl(m, data=\"bogus\", windows=1)", "ppl(m, arithmetic=\"bogus\", windows=1)", "ppl(b, windows=1)",
        "zeroshot(m, task=\"bogus\")", "zeroshot(m, task=\"piqa\", limit=-1)", "zeroshot(m, task=\"piqa\", limit=nan)",
        "zeroshot(b, task=\"piqa\", limit=1)",
        "generate(m, \"a\", tokens=-1)", "generate(m, \"a\", tokens=1e300)", "generate(m, \"a\", temperature=-1)",
        "generate(m, \"a\", temperature=nan)", "generate(m, \"a\", top_k=0)", "generate(m, \"a\", top_k=-2)", "generate(b, \"a\")",
        "throughput(m, prompt=0)", "throughput(m, prompt=-1)", "throughput(m, prompt=1e9)", "throughput(m, tokens=-1)",
        // tokens, embeddings
        "detokenize(m, [-1])", "detokenize(m, [1e9])", "detokenize(m, [0.5])", "detokenize(m, [nan])",
        "detokenize(m, [\"a\"])", "embed(m, \"a\")", "embed(b, 5)", "similarity([1, 2], [1, 2, 3])", "similarity([], [])",
        // structure and accounting
        "m.layers[30]", "m.layers[-31]", "m.layers[nan]", "m.layers[0].ffn.bogus", "flops(m, ctx=-1)", "flops(m, ctx=nan)",
        "sparsity(m, b)", "penalties(m, b)", "penalties(m, m, reward=\"bogus\")", "ecdf_before_after(m, m, layer=30)",
        "ecdf_before_after(m, m, layer=-1)", "ecdf_before_after(m, m, layer=nan)", "penalty_by_layer(m, b)",
        "drop_rows(m.layers[0].ffn.up, 2)", "drop_rows(m.layers[0].ffn.up, nan)",
        "save(m, \"/nonexistent-dir/x.gguf\")", "save(m, \"/etc/hostname/x.safetensors\")", "save(m, \"/tmp/x.bogus\")", "save(m, \"/tmp/prunelang-x.gguf\", type=\"bogus\")",
        "load(\"/nonexistent.gguf\")", "load(\"bogus-model\")", "load_policy(\"/nonexistent.safetensors\")",
    ]

    @Test func impossibleArgumentsFailCleanly() {
        setenv("PRUNELANG_MODELS", TestSupport.models.path, 1)
        setenv("PRUNELANG_DATA", TestSupport.data.path, 1)
        let interp = Interpreter(output: { _ in })
        interp.displayHandler = { _ in }
        let setup = interp.run(cell: """
            m = load("smollm2-135m")
            b = load("minilm-l6")
            nan = number("nan")
            p = train_policy(m, ratio=0.2, episodes=1)
            """)
        #expect(setup.succeeded, "\(setup.renderedDiagnostics)")
        for code in Self.calls {
            let start = Date()
            let r = interp.run(cell: code, name: "probe")
            let text = r.renderedDiagnostics
            #expect(!r.succeeded, "\(code) succeeded")
            // Located, and naming the builtin (an index or field error names the list or record).
            #expect(text.hasPrefix("probe:1:"), "\(code): \(text)")
            let name = String(code.prefix { $0 != "(" && $0 != "." })
            #expect(text.contains("error: \(name): ") || code.hasPrefix("m."), "\(code): \(text)")
            // No raw Foundation error dumps.
            #expect(!text.contains("Error Domain") && !text.contains("UserInfo"), "\(code): \(text)")
            #expect(Date().timeIntervalSince(start) < 5, "\(code) took too long to fail")
        }
        #expect(interp.run(cell: "params(m)").display?.text == "134515008")
    }

    /// `prune`'s method options are refused, with the methods that do read them, by every method that
    /// would ignore them; `pattern=none` is no pattern and passes.
    @Test func methodOptionsAreRefusedWhereIgnored() {
        setenv("PRUNELANG_MODELS", TestSupport.models.path, 1)
        setenv("PRUNELANG_DATA", TestSupport.data.path, 1)
        let interp = Interpreter(output: { _ in })
        interp.displayHandler = { _ in }
        #expect(interp.run(cell: "m = load(\"smollm2-135m\")\np = train_policy(m, ratio=0.2, episodes=1)").succeeded)
        let readers = [("pattern=\"2:4\"", ["magnitude", "wanda", "sparsegpt"], "pattern applies to magnitude, wanda and sparsegpt, not "),
                       ("scope=\"global\"", ["magnitude", "heads"], "scope applies to magnitude and heads, not "),
                       ("calib=2", ["wanda", "sparsegpt", "heads", "slicegpt", "shortgpt", "laco"], "calib applies to wanda, sparsegpt, heads, slicegpt, shortgpt and laco, not ")]
        let methods = ["\"prunenet\"", "\"random-rows\"", "\"magnitude-rows\"", "p", "\"magnitude\"", "\"wanda\"",
                       "\"sparsegpt\"", "\"slicegpt\"", "\"shortgpt\"", "\"laco\""]
        var refused = 0
        for (option, reading, message) in readers {
            for method in methods {
                let name = method == "p" ? "a policy" : method.trimmingCharacters(in: ["\""])
                if reading.contains(name) { continue }
                let r = interp.run(cell: "prune(m, \(method), ratio=0.2, \(option))", name: "probe")
                #expect(r.renderedDiagnostics.contains("error: prune: \(message)\(name)"), "\(method) \(option): \(r.renderedDiagnostics)")
                refused += 1
            }
        }
        #expect(refused == 7 + 9 + 5)
        #expect(interp.run(cell: "params(prune(m, \"random-rows\", ratio=0.2, pattern=none)) < params(m)").display?.text == "true")
    }
}
