import Foundation
import Testing
import Numerics
import Models

/// Saving models where other tools load them: SmolLM2 written back as GGUF gives llama.cpp the
/// same logits as the original; MiniLM written as safetensors holds identical tensors for the
/// `safetensors` package; SmolLM2 as a Hugging Face folder carries HF's query/key row order.
struct ModelSaveTests {
    /// llama.cpp's logits (llama-cpp-python) for a fixed sentence, for each GGUF path given;
    /// prints the max |difference| between the first file's logits and each other's, and the
    /// first file's argmax per position.
    static let llamaLogits = """
        import sys, numpy as np
        from llama_cpp import Llama
        out = []
        for p in sys.argv[1:]:
            llm = Llama(model_path=p, n_ctx=64, n_batch=64, n_ubatch=64, logits_all=True, verbose=False, n_threads=2)
            toks = llm.tokenize(b"The capital of France is Paris, and the capital of Italy is", add_bos=False)
            llm.eval(toks)
            out.append(np.array(llm.scores[:len(toks)], dtype=np.float64))
        for o in out[1:]:
            print(float(np.max(np.abs(o - out[0]))))
        print(" ".join(str(int(i)) for i in out[0].argmax(1)))
        """

    @Test(.enabled(if: GGUFFixtures.hasSmolLM, "run scripts/fetch-models"))
    func smolLMWrittenBackGivesLlamaCppTheSameLogits() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("copy.gguf").path
        let model = try ModelLoader.load(GGUFFixtures.smolLMPath)
        let report = try ModelWriter.save(model, to: out)
        #expect(report.tensorCount == 272 && report.passedThrough == 272 && report.fallbacks.isEmpty)

        let a = try GGUFFile(path: GGUFFixtures.smolLMPath), b = try GGUFFile(path: out)
        #expect(a.keys == b.keys)
        for key in a.keys { #expect(a[key] == b[key], "\(key)") }
        for t in a.tensors {
            let u = try #require(b.tensor(named: t.name))
            #expect(u.type == t.type && u.dimensions == t.dimensions)
            let same = try a.rawBytes(of: t).withUnsafeBytes { x in try b.rawBytes(of: u).withUnsafeBytes { y in x.elementsEqual(y) } }
            #expect(same, "\(t.name) bytes differ")
        }
        let lines = try TestSupport.python(Self.llamaLogits, [GGUFFixtures.smolLMPath, out]).split(separator: "\n")
        #expect(Double(lines[0]) == 0, "llama.cpp logits differ by \(lines[0])")
    }

    @Test(.enabled(if: GGUFFixtures.hasSmolLM, "run scripts/fetch-models"))
    func aFileWhoseConfigDoesNotFitItsTensorsIsRefused() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var model = try ModelLoader.load(GGUFFixtures.smolLMPath)
        model.config.intermediateSizes[3] = 1024       // as the authors' exporter does: shapes and config disagree
        let out = dir.appendingPathComponent("bad.gguf").path
        try ModelWriter.save(model, to: out)
        do {
            _ = try ModelLoader.load(out)
            Issue.record("a GGUF whose FFN length disagrees with its tensors must not load")
        } catch let e as ModelError {
            #expect("\(e)".contains("blk.3.ffn_gate.weight") || "\(e)".contains("blk.3.ffn_up.weight"))
            #expect("\(e)".contains("[1024, 576]"))
        }
    }

    @Test(.enabled(if: TestSupport.haveMiniLM, "run scripts/fetch-models"))
    func miniLMWrittenAsSafetensorsHoldsIdenticalTensors() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try ModelLoader.load(TestSupport.minilmWeights.deletingLastPathComponent().path)
        let folder = dir.appendingPathComponent("minilm-copy")
        let report = try ModelWriter.save(model, to: folder.path)
        #expect(report.tensorCount == 104 && report.skipped.isEmpty)   // 103 weights + the position_ids buffer
        for f in ["config.json", "tokenizer.json", "vocab.txt", "modules.json"] {
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(f).path), "\(f) not written")
        }
        let result = try TestSupport.python("""
            import sys, numpy as np
            from safetensors.numpy import load_file
            a = load_file(sys.argv[1]); b = load_file(sys.argv[2])
            assert a.keys() == b.keys(), sorted(set(a) ^ set(b))
            bad = [k for k in a if a[k].dtype != b[k].dtype or a[k].shape != b[k].shape or not np.array_equal(a[k], b[k])]
            print(len(a), bad)
            """, [TestSupport.minilmWeights.path, folder.appendingPathComponent("model.safetensors").path])
        #expect(result.trimmingCharacters(in: .whitespacesAndNewlines) == "104 []")
        let again = try ModelLoader.load(folder.path)
        #expect(again.config == model.config && again.parameterCount == model.parameterCount)
    }

    @Test(.enabled(if: GGUFFixtures.hasSmolLM, "run scripts/fetch-models"))
    func smolLMAsAHuggingFaceFolderUsesHFRowOrder() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try ModelLoader.load(GGUFFixtures.smolLMPath)
        let folder = dir.appendingPathComponent("smollm-hf")
        let report = try ModelWriter.save(model, to: folder.path, weightType: .f16)
        #expect(report.tensorCount == 272)
        // Reloaded, the view is the same model (to fp16 rounding), q/k back in GGUF order.
        let again = try ModelLoader.load(folder.path)
        #expect(again.config == model.config)
        let q0 = try model.matrix(.attentionQuery, block: 5), q1 = try again.matrix(.attentionQuery, block: 5)
        let maxDiff = zip(q0.data, q1.data).map { abs($0 - $1) }.max() ?? 1
        #expect(maxDiff < 2e-3, "q differs by \(maxDiff) after an fp16 round trip")
        // Independently: llama.cpp's converter permutation applied to the saved HF q_proj/k_proj
        // gives back GGUF's attn_q/attn_k.
        let result = try TestSupport.python("""
            import sys, json, numpy as np, gguf
            from safetensors.numpy import load_file
            hf = load_file(sys.argv[2] + "/model.safetensors"); cfg = json.load(open(sys.argv[2] + "/config.json"))
            r = gguf.GGUFReader(sys.argv[1]); t = {x.name: x for x in r.tensors}
            def permute(w, n_head):
                return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)
            worst = 0.0
            for name, hfname, heads in [("attn_q", "q_proj", cfg["num_attention_heads"]), ("attn_k", "k_proj", cfg["num_key_value_heads"])]:
                g = gguf.quants.dequantize(t[f"blk.5.{name}.weight"].data, t[f"blk.5.{name}.weight"].tensor_type)
                h = permute(hf[f"model.layers.5.self_attn.{hfname}.weight"].astype(np.float32), heads)
                worst = max(worst, float(np.max(np.abs(g.reshape(h.shape) - h))))
            print(worst, cfg["model_type"], cfg["num_hidden_layers"], cfg["intermediate_size"], cfg["tie_word_embeddings"])
            """, [GGUFFixtures.smolLMPath, folder.path])
        let fields = result.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect((Double(fields[0]) ?? 1) < 2e-3, "permuted HF q/k differ from GGUF by \(fields[0])")
        #expect(Array(fields[1...]) == ["llama", "30", "1536", "True"])
    }

    @Test(.enabled(if: TestSupport.haveMiniLM, "run scripts/fetch-models"))
    func shardedSaveReloadsHereAndInTheSafetensorsPackage() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = try ModelLoader.load(TestSupport.minilmWeights.deletingLastPathComponent().path)
        let folder = dir.appendingPathComponent("sharded")
        let report = try ModelWriter.save(model, to: folder.path, maxShardBytes: 30 << 20)
        #expect(report.path.hasSuffix("model.safetensors.index.json"))
        let shards = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix("model-") }.sorted()
        #expect(shards.count >= 3 && shards.first == "model-00001-of-0000\(shards.count).safetensors", "\(shards)")
        let again = try ModelLoader.load(folder.path)
        #expect(again.parameterCount == model.parameterCount && again.config == model.config)
        #expect(try again.matrix(.ffnUp, block: 5) == model.matrix(.ffnUp, block: 5))
        let result = try TestSupport.python("""
            import sys, json, numpy as np
            from safetensors.numpy import load_file
            a = load_file(sys.argv[1]); idx = json.load(open(sys.argv[2] + "/model.safetensors.index.json"))
            b = {}
            for shard in sorted(set(idx["weight_map"].values())): b.update(load_file(sys.argv[2] + "/" + shard))
            print(a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a), idx["metadata"]["total_size"])
            """, [TestSupport.minilmWeights.path, folder.path])
        #expect(result.hasPrefix("True "))
    }
}
