import Foundation
import Testing
import Models
import PruneLang
import TestHelpers

/// The model builtins on the real models, through the interpreter as a user types them: loading
/// by name, walking layers to a weight and its spectrum, parameter counts, the summary table,
/// tokenising, perplexity on two windows, saving, and the errors a user meets.
@Suite(.enabled(if: TestSupport.haveSmolLM && TestSupport.haveMiniLM, "run scripts/fetch-models"))
struct ModelBuiltinsTests {
    /// Runs `code` in a fresh interpreter with the test models folder; returns the shown text
    /// and rendered diagnostics.
    static func run(_ code: String, _ interpreter: Interpreter = Interpreter()) -> (text: String, errors: String) {
        setenv("PRUNELANG_MODELS", TestSupport.models.path, 1)
        setenv("PRUNELANG_DATA", TestSupport.data.path, 1)
        let r = interpreter.run(cell: code)
        return (r.display?.text ?? "", r.renderedDiagnostics)
    }

    @Test func loadWalkAndCount() {
        let i = Interpreter()
        #expect(Self.run("m = load(\"smollm2-135m\");", i).errors == "")
        #expect(Self.run("params(m)", i).text == "134515008")
        #expect(Self.run("len(m.layers)", i).text == "30")
        #expect(Self.run("shape(m.layers[12].ffn.up)", i).text == "[1536, 576]")
        #expect(Self.run("m.layers[12].ffn.up.type", i).text == "\"Q4_1\"" || Self.run("m.layers[12].ffn.up.type", i).text == "Q4_1")
        #expect(Self.run("len(svdvals(m.layers[3].ffn.down))", i).text == "576")
        let summary = Self.run("m", i)
        #expect(summary.text.contains("ffnUp") && summary.text.contains("134,515,008") && summary.text.contains("134.52M params"))
        #expect(Self.run("b = load(\"minilm-l6\"); params(b)", i).text == "22713216")
        #expect(Self.run("shape(b.layers[0].ffn.up_bias)", i).text == "[1, 1536]" || Self.run("shape(b.layers[0].ffn.up_bias)", i).text == "[1536]")
    }

    @Test func tokensAndPerplexity() {
        let i = Interpreter()
        _ = Self.run("m = load(\"smollm2-135m\");", i)
        #expect(Self.run("tokenize(m, \"The capital of France is\")", i).text == "[504, 3575, 282, 4649, 314]")
        #expect(Self.run("detokenize(m, [504, 3575])", i).text.contains("The capital"))
        let p = Double(Self.run("ppl(m, ctx=512, windows=2)", i).text) ?? 0
        #expect(p > 20 && p < 40, "ppl over two windows: \(p)")
    }

    @Test func errorsSayWhatToDo() {
        let e1 = Self.run("load(\"smolm2\")").errors
        #expect(e1.contains("smollm2-135m") && e1.contains("^"))
        let e2 = Self.run("ppl(load(\"minilm-l6\"))").errors
        #expect(e2.contains("causal"))
        let e3 = Self.run("ppl(load(\"smollm2-135m\"), ctx=1)").errors
        #expect(e3.contains("ctx"))
        let e4 = Self.run("save(load(\"minilm-l6\"), \"/tmp/x.gguf\")").errors
        #expect(e4.contains("safetensors"))
    }

    @Test func sentenceEmbeddings() {
        let i = Interpreter()
        _ = Self.run("b = load(\"minilm-l6\");", i)
        #expect(Self.run("len(embed(b, \"A man is eating food.\"))", i).text == "384")
        let s = Double(Self.run("similarity(embed(b, \"A man is eating food.\"), embed(b, \"A man is eating a piece of bread.\"))", i).text) ?? 0
        #expect(s > 0.6 && s < 0.9, "similarity \(s)")
        #expect(Self.run("shape(embed(b, [\"one\", \"two\", \"three\"]))", i).text == "[3, 384]")
        #expect(Self.run("embed(load(\"smollm2-135m\"), \"x\")", i).errors.contains("BERT"))
    }
}
