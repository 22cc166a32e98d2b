import Foundation
import Testing
import Numerics
import Models
import Pruning
import TestHelpers

/// A model pruned by a PruneNet policy exports where llama.cpp loads it and scores the same there:
/// WikiText-2 perplexity over 2 windows of 512 tokens, PruneLang on the reloaded GGUF against
/// llama-cpp-python on the same file and the same token ids, within 1%.
struct PruneNetExportTests {
    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func policyPrunedGGUFHasTheSamePerplexityInLlamaCpp() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let policy = PruneNetTests.smolPolicy(m)
        let pruned = try policy.apply(to: m, ratios: [0.2], seed: 5)
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("pn20.gguf").path
        // F32 for the changed matrices: llama.cpp then multiplies them without quantising activations,
        // so the comparison measures the export, not Q8_0 rounding amplified by a damaged model.
        _ = try ModelWriter.save(pruned, to: path, weightType: .f32)
        let again = try ModelLoader.load(path)
        #expect(again.config.intermediateSizes == Array(repeating: 1229, count: 30))
        let text = try DataCatalog.text(of: "wikitext2", in: TestSupport.data.path)
        let tokens = Array(try BPETokenizer(model: again).encode(text).prefix(1024))
        let ours = try Perplexity.evaluate(LlamaForward(weights: try LlamaWeights(again)), tokens: tokens, context: 512, windows: 2).perplexity
        let ids = dir.appendingPathComponent("ids.json")
        try JSONSerialization.data(withJSONObject: tokens.map(Int.init)).write(to: ids)
        let out = try TestSupport.python("""
            import sys, json, numpy as np
            from llama_cpp import Llama
            ids = json.load(open(sys.argv[2]))
            llm = Llama(model_path=sys.argv[1], n_ctx=512, n_batch=512, logits_all=True, verbose=False, n_threads=2)
            nll, n = 0.0, 0
            for w in range(2):
                win = ids[w * 512:(w + 1) * 512]
                llm.reset()
                llm.eval(win)
                s = np.array(llm.scores[:len(win)], dtype=np.float64)
                for t in range(1, len(win)):
                    row = s[t - 1]
                    m = row.max()
                    nll += m + np.log(np.exp(row - m).sum()) - row[win[t]]
                    n += 1
            print(float(np.exp(nll / n)))
            """, [path, ids.path])
        let theirs = Double(out.trimmingCharacters(in: .whitespacesAndNewlines))!
        #expect(abs(ours / theirs - 1) < 0.01, "PruneLang \(ours), llama.cpp \(theirs)")
        #expect(ours > 10 && ours < 10_000)
    }
}
