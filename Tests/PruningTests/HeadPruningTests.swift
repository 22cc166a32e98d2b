import Foundation
import Models
import Numerics
import Pruning
import TestHelpers
import Training
import XCTest

/// Attention-head pruning (issue 24 part 5): the primitive keeps the right rows and columns and
/// grouped-query structure; the choice of heads follows the scores by unit and scope; a pruned
/// model's forward pass equals the dense model with the removed heads' output columns zeroed; the
/// gradient score is the derivative of the loss in a head mask; and a head-pruned SmolLM2 saved as
/// GGUF (per-layer head counts, llama.cpp's deci architecture) scores the same perplexity in
/// llama.cpp within 1%, and as safetensors reloads in PruneLang. The model tests run in a release
/// build (`swift test -c release -Xswiftc -enable-testing --filter HeadPruningTests`).
final class HeadPruningTests: XCTestCase {
    /// A llama config of 4 blocks with SmolLM2's head layout (9 query heads in 3 groups of 64).
    static let config = ModelConfig(architecture: .llama, hiddenSize: 576, intermediateSizes: [8, 8, 8, 8], heads: 9, kvHeads: 3,
                                    vocabSize: 10, contextLength: 64, normEpsilon: 1e-5, tiedOutputHead: true, activation: .swiglu)

    func testGroupsOfSmolLMLayout() {
        XCTAssertEqual(HeadPruning.groups(Self.config, block: 0), [[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    }

    func testLayerScopeRemovesTheWeakestHeadOfEveryGroup() throws {
        // Block b's scores: head h scores 10·b + h except that the middle head of group 1 is weakest there.
        var scores = (0..<4).map { b in (0..<9).map { Double(10 * b + $0) } }
        scores[2][4] = -1
        let kept = try HeadPruning.keptHeads(Self.config, scores: scores, ratio: 1.0 / 3, unit: .heads, scope: .layer)
        XCTAssertEqual(kept[0], [1, 2, 4, 5, 7, 8])
        XCTAssertEqual(kept[2], [1, 2, 3, 5, 7, 8])
        XCTAssertEqual(kept.count, 4)
        // Two thirds would leave no head in a group: one head per group always stays.
        let most = try HeadPruning.keptHeads(Self.config, scores: scores, ratio: 0.9, unit: .heads, scope: .layer)
        XCTAssertEqual(most[1], [2, 5, 8])
    }

    func testGroupUnitRemovesWholeGroupsByTheirSummedScore() throws {
        var scores = (0..<4).map { _ in [Double](repeating: 1, count: 9) }
        scores[1][6] = 0; scores[1][7] = 0   // group 2 of block 1 sums lowest
        let kept = try HeadPruning.keptHeads(Self.config, scores: scores, ratio: 1.0 / 3, unit: .groups, scope: .layer)
        XCTAssertEqual(kept[1], [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(kept[0], [3, 4, 5, 6, 7, 8], "ties go to the lower group")
    }

    func testGlobalScopeTakesTheCheapestLevelsAnywhere() throws {
        // Block 3's heads are cheap, the others dear: a ninth of all 36 heads (4) rounds to one level of 3 heads, in block 3.
        var scores = (0..<4).map { _ in [Double](repeating: 5, count: 9) }
        scores[3] = [0, 1, 2, 0, 1, 2, 0, 1, 2]
        let kept = try HeadPruning.keptHeads(Self.config, scores: scores, ratio: 1.0 / 9, unit: .heads, scope: .global)
        XCTAssertEqual(kept, [3: [1, 2, 4, 5, 7, 8]])
        // A third of 36 = 12 heads = four levels: both of block 3's possible levels (it keeps one head per group), then two elsewhere.
        let third = try HeadPruning.keptHeads(Self.config, scores: scores, ratio: 1.0 / 3, unit: .heads, scope: .global)
        XCTAssertEqual(third[3], [2, 5, 8])
        XCTAssertEqual(third.values.reduce(0) { $0 + 9 - $1.count }, 12)
        let groups = try HeadPruning.keptHeads(Self.config, scores: scores, ratio: 1.0 / 3, unit: .groups, scope: .global)
        XCTAssertEqual(groups[3], [6, 7, 8], "block 3 keeps one group (its groups tie, so the lower ones go first); the other removals land elsewhere")
        XCTAssertEqual(groups.values.reduce(0) { $0 + 9 - $1.count }, 12)
        XCTAssertThrowsError(try HeadPruning.keptHeads(Self.config, scores: scores, ratio: 1.5, unit: .heads, scope: .layer))
    }

    func testConfigCarriesPerBlockHeadsThroughGGUFAndHuggingFaceKeys() throws {
        var c = Self.config
        c.setBlockHeads(query: [9, 6, 6, 3], keyValue: [3, 3, 2, 1])
        XCTAssertEqual(c.blockHeads, [9, 6, 6, 3])
        XCTAssertEqual(c.blockKVHeads, [3, 3, 2, 1])
        XCTAssertEqual(c.headDimension, 64, "the head dimension does not follow the pruned counts")
        XCTAssertNoThrow(try c.validate())
        XCTAssertEqual(c.ggufArchitectureName, "deci")
        let meta = Dictionary(c.ggufMetadata().map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(meta["deci.attention.head_count"], .array(.uint32([9, 6, 6, 3])))
        XCTAssertEqual(meta["deci.attention.key_length"], .uint32(64))
        let json = try JSONSerialization.data(withJSONObject: c.huggingFaceJSON())
        XCTAssertEqual(try ModelConfig.fromHuggingFace(json: json), c)
        var uniform = Self.config
        uniform.setBlockHeads(query: [6, 6, 6, 6], keyValue: [3, 3, 3, 3])
        XCTAssertEqual(uniform.ggufArchitectureName, "llama", "equal counts in every block stay llama")
        XCTAssertNil(uniform.blockKVHeads)
        var bad = Self.config
        bad.setBlockHeads(query: [9, 5, 6, 6], keyValue: [3, 3, 3, 3])
        XCTAssertThrowsError(try bad.validate(), "5 query heads cannot share 3 key/value heads")
    }

    // MARK: SmolLM2

    func testKeepSelectsHeadRowsAndColumnsAndKeepsGroupsEqual() throws {
        try XCTSkipUnless(TestSupport.haveSmolLM, "SmolLM2 is not in models/ (run scripts/fetch-models)")
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let p = try HeadPruning.keep(m, heads: [2: [0, 2, 3, 5, 6, 8], 5: [3, 4, 5]])
        XCTAssertEqual(p.config.heads(inBlock: 2), 6)
        XCTAssertEqual(p.config.kvHeads(inBlock: 2), 3)
        XCTAssertEqual(p.config.heads(inBlock: 5), 3)
        XCTAssertEqual(p.config.kvHeads(inBlock: 5), 1)
        XCTAssertEqual(p.config.heads(inBlock: 0), 9)
        XCTAssertNoThrow(try ModelShapes.check(p))
        let q = try m.matrix(.attentionQuery, block: 2), pq = try p.matrix(.attentionQuery, block: 2)
        XCTAssertEqual(pq.rows, 384)
        XCTAssertEqual(Array(pq.data[64 * 576..<128 * 576]), Array(q.data[128 * 576..<192 * 576]), "kept head 1 is old head 2")
        let o = try m.matrix(.attentionOutput, block: 5), po = try p.matrix(.attentionOutput, block: 5)
        XCTAssertEqual(po.cols, 192)
        var same = true
        for r in 0..<576 { for j in 0..<192 where po.data[r * 192 + j] != o.data[r * 576 + 192 + j] { same = false } }
        XCTAssertTrue(same, "kept heads 3, 4, 5 are o's columns 192..<384")
        let k = try m.matrix(.attentionKey, block: 5), pk = try p.matrix(.attentionKey, block: 5)
        XCTAssertEqual(Array(pk.data), Array(k.data[64 * 576..<128 * 576]), "group 1's key head stays, the others go")
        XCTAssertEqual(p.parameterCount, m.parameterCount - 3 * 2 * 64 * 576 - (6 * 2 * 64 * 576 + 2 * 2 * 64 * 576))
        XCTAssertThrowsError(try HeadPruning.keep(m, heads: [0: [0, 1, 3]])) { e in
            XCTAssertEqual((e as? PruningError)?.message, "block 0: the kept heads leave groups of [2, 1] query heads; every kept key/value group must keep as many")
        }
        XCTAssertThrowsError(try HeadPruning.keep(m, heads: [0: [9]]))
        XCTAssertThrowsError(try HeadPruning.keep(m, heads: [0: []]))
    }

    /// The dense model with the removed heads' columns of W_O zeroed computes what the pruned model computes.
    func testPrunedForwardEqualsTheDenseModelWithHeadsMasked() throws {
        #if DEBUG
        throw XCTSkip("release only: several perplexity passes")
        #endif
        try XCTSkipUnless(TestSupport.haveSmolLM, "SmolLM2 is not in models/ (run scripts/fetch-models)")
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let kept: [Int: [Int]] = [0: [0, 1, 3, 4, 6, 7], 7: [3, 4, 5], 29: [0, 2, 6, 8]]
        let p = try HeadPruning.keep(m, heads: kept)
        var masked = m
        for (b, heads) in kept {
            var o = try m.matrix(.attentionOutput, block: b)
            for h in 0..<9 where !heads.contains(h) { for r in 0..<o.rows { for j in 0..<64 { o.data[r * o.cols + h * 64 + j] = 0 } } }
            masked.set(.attentionOutput, block: b, to: o)
        }
        let tokens = try BPETokenizer(model: m).encode(try DataCatalog.text(of: "wikitext2"))
        let a = try Perplexity.evaluate(LlamaForward(weights: LlamaWeights(p)), tokens: tokens, context: 128, windows: 2).perplexity
        let b = try Perplexity.evaluate(LlamaForward(weights: LlamaWeights(masked)), tokens: tokens, context: 128, windows: 2).perplexity
        let dense = try Perplexity.evaluate(LlamaForward(weights: LlamaWeights(m)), tokens: tokens, context: 128, windows: 2).perplexity
        print(String(format: "heads removed: pruned %.4f, dense with the heads masked %.4f, dense %.4f", a, b, dense))
        XCTAssertEqual(a, b, accuracy: 1e-3 * b)
        XCTAssertNotEqual(a, dense, "removing heads changes the model")
    }

    /// ∂L/∂ξ_h from the gradient of W_O matches a central difference of the loss in a scale on head h's output.
    func testMaskGradientIsTheLossDerivative() throws {
        #if DEBUG
        throw XCTSkip("release only: backward passes of SmolLM2")
        #endif
        try XCTSkipUnless(TestSupport.haveSmolLM, "SmolLM2 is not in models/ (run scripts/fetch-models)")
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let window = Array(try BPETokenizer(model: m).encode(try DataCatalog.text(of: "wikitext2"))[1000..<1065])
        let g = try HeadMaskImportance.signedMaskGradients(m, samples: [window])
        XCTAssertEqual(g.count, 30)
        XCTAssertEqual(g[0].count, 9)
        for (b, h) in [(3, 4), (20, 0)] {
            func loss(_ xi: Float) throws -> Double {
                var scaled = m
                var o = try m.matrix(.attentionOutput, block: b)
                for r in 0..<o.rows { for j in 0..<64 { o.data[r * o.cols + h * 64 + j] *= xi } }
                scaled.set(.attentionOutput, block: b, to: o)
                return try LlamaTrainingModel(LlamaWeights(scaled)).loss([window])
            }
            let eps: Float = 0.05
            let fd = (try loss(1 + eps) - loss(1 - eps)) / Double(2 * eps)
            print(String(format: "block %d head %d: ∂L/∂ξ %.6f, central difference %.6f", b, h, g[b][h][0], fd))
            XCTAssertEqual(g[b][h][0], fd, accuracy: 0.05 * abs(fd) + 1e-4)
        }
    }

    /// Rewrites the GGUF at argv[1] as argv[2] under architecture argv[3] (keys renamed, tensors
    /// as they are), then tries to load it in llama.cpp and prints "loaded" or the loader's complaint.
    static let rewriteAndLoad = """
        # Rewrites a GGUF under another general.architecture (keys "<old>.*" renamed), tensors unchanged.
        import sys, gguf
        src, dst, arch = sys.argv[1], sys.argv[2], sys.argv[3]
        r = gguf.GGUFReader(src)
        old = bytes(r.get_field("general.architecture").parts[-1]).decode()
        w = gguf.GGUFWriter(dst, arch=arch)
        T = gguf.GGUFValueType
        for f in r.fields.values():
            name = f.name
            if name.startswith("GGUF.") or name in ("general.architecture", "general.alignment"):
                continue
            key = arch + name[len(old):] if name.startswith(old + ".") else name
            vt = f.types[0]
            if vt == T.ARRAY:
                sub = f.types[-1]
                if sub == T.STRING:
                    val = [bytes(f.parts[i]).decode("utf-8", errors="surrogateescape") for i in f.data]
                else:
                    val = [f.parts[i][0].item() for i in f.data]
                w.add_key_value(key, val, vt, sub_type=sub)
            elif vt == T.STRING:
                w.add_key_value(key, bytes(f.parts[f.data[0]]).decode("utf-8"), vt)
            else:
                w.add_key_value(key, f.parts[f.data[0]][0].item(), vt)
        for t in r.tensors:
            w.add_tensor(t.name, t.data, raw_dtype=t.tensor_type)
        w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
        from llama_cpp import Llama
        try:
            Llama(model_path=dst, n_ctx=64, verbose=False)
            print("loaded")
        except Exception as e:
            print("failed:", e)
        """

    /// llama.cpp's perplexity of the windows of ids in a JSON file (argv[2]) of the GGUF at argv[1].
    static let llamaPerplexity = HealingTests.llamaPerplexity

    /// Head-pruned SmolLM2 (a query head of every group in every block, and per-layer counts)
    /// saved as GGUF: it reloads with the same heads, and llama.cpp scores it as PruneLang's
    /// llamacpp arithmetic does within 1% (float32 within 2%); saved as safetensors it
    /// reloads with the same perplexity.
    func testHeadPrunedSmolLMLoadsInLlamaCppAtTheSamePerplexity() throws {
        #if DEBUG
        throw XCTSkip("release only: perplexity passes and llama.cpp")
        #endif
        try XCTSkipUnless(TestSupport.haveSmolLM, "SmolLM2 is not in models/ (run scripts/fetch-models)")
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let tokens = try BPETokenizer(model: m).encode(try DataCatalog.text(of: "wikitext2"))
        let ctx = 256, windows = 4
        func perplexity(_ m: Model, _ arithmetic: ForwardArithmetic = .float32) throws -> Double {
            try Perplexity.evaluate(LlamaForward(weights: LlamaWeights(m, arithmetic: arithmetic)), tokens: tokens, context: ctx,
                                    windows: windows).perplexity
        }
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ids = (0..<windows).map { w in tokens[(w * ctx)..<((w + 1) * ctx)].map { Int($0) } }
        let json = dir.appendingPathComponent("windows.json")
        try JSONSerialization.data(withJSONObject: ids).write(to: json)

        // One query head per group in every block (uniform counts, written as llama), and in a few
        // blocks whole groups or a head per group (per-layer counts, written as deci). At the
        // perplexities in the thousands that a third of the heads by norm gives, the two
        // arithmetics drift apart by several percent although both load the same shapes.
        let uniform = try HeadPruning.keep(m, heads: Dictionary(uniqueKeysWithValues: (0..<30).map { ($0, [0, 1, 3, 4, 6, 7]) }))
        let perLayer = try HeadPruning.keep(m, heads: [3: [0, 1, 2, 3, 4, 5], 10: [3, 4, 5, 6, 7, 8], 17: [0, 1, 3, 4, 6, 7],
                                                      21: [6, 7, 8], 26: [1, 2, 4, 5, 7, 8]])
        XCTAssertEqual(uniform.config.blockHeads, Array(repeating: 6, count: 30))
        XCTAssertNil(uniform.config.blockKVHeads)
        XCTAssertEqual(perLayer.config.blockKVHeads?[21], 1)
        XCTAssertEqual(perLayer.config.blockHeads?[17], 6)
        for (name, pruned, arch) in [("uniform", uniform, "llama"), ("per-layer", perLayer, "deci")] {
            let path = dir.appendingPathComponent("\(name).gguf").path
            _ = try ModelWriter.save(pruned, to: path)
            let again = try ModelLoader.load(path)
            XCTAssertEqual(again.config, pruned.config, "\(name): the head counts survive the GGUF")
            XCTAssertEqual(again.config.ggufArchitectureName, arch)
            let before = try perplexity(pruned), ours = try perplexity(again), oursAsLlama = try perplexity(again, .llamaCpp)
            let out = try TestSupport.python(Self.llamaPerplexity, [path, json.path])
            let llama = try XCTUnwrap(Double(out.trimmingCharacters(in: .whitespacesAndNewlines)), out)
            print(String(format: "%@ heads (%@): ppl pruned %.3f, saved GGUF (Q8_0) ours %.3f (float32) %.4f (llamacpp), llama.cpp %.4f (%.2f%%, %.4f%% apart)",
                         name, arch, before, ours, oursAsLlama, llama, 100 * abs(ours - llama) / llama, 100 * abs(oursAsLlama - llama) / llama))
            XCTAssertEqual(ours, before, accuracy: 0.01 * before, "\(name): Q8_0 re-encoding keeps the perplexity")
            // The same file in llama.cpp's arithmetic (activations rounded to Q8_0, an fp16 cache)
            // is held to the 1%: 0.16% (uniform) and 0.57% (per-layer) apart on an AVX2-only
            // machine, where llama.cpp's kernels are not the AVX-512 ones that arithmetic follows bit
            // for bit. Float32 against llama.cpp is looser: 1.04–1.20% apart across those machines,
            // so it is held to 2%.
            XCTAssertEqual(llama, oursAsLlama, accuracy: 0.01 * oursAsLlama, "\(name): llama.cpp agrees with the llamacpp arithmetic within 1%")
            XCTAssertEqual(llama, ours, accuracy: 0.02 * ours, "\(name): llama.cpp agrees with float32 within 2%")
        }
        // Why not llama: llama.cpp's llama architecture reads per-layer head counts but makes every
        // block's q/k/v/o with block 0's (src/llama-model.cpp, LLM_ARCH_LLAMA in load_tensors:
        // {n_embd, n_embd_head_k * n_head} with n_head = hparams.n_head(), layer 0), so the file refuses to load.
        let asLlama = try TestSupport.python(Self.rewriteAndLoad, [dir.appendingPathComponent("per-layer.gguf").path,
                                                                   dir.appendingPathComponent("as-llama.gguf").path, "llama"])
        XCTAssertTrue(asLlama.contains("failed"), asLlama)
        let asDeci = try TestSupport.python(Self.rewriteAndLoad, [dir.appendingPathComponent("per-layer.gguf").path,
                                                                  dir.appendingPathComponent("as-deci.gguf").path, "deci"])
        XCTAssertEqual(asDeci.trimmingCharacters(in: .whitespacesAndNewlines), "loaded", "the rewrite itself keeps a loadable file")
        let folder = dir.appendingPathComponent("per-layer-st").path
        _ = try ModelWriter.save(perLayer, to: folder)
        let st = try ModelLoader.load(folder)
        XCTAssertEqual(st.config, perLayer.config)
        let reloaded = try perplexity(st), original = try perplexity(perLayer)
        print(String(format: "per-layer heads saved as safetensors: ppl %.4f, before saving %.4f", reloaded, original))
        XCTAssertEqual(reloaded, original, accuracy: 0.005 * original)
    }

    /// MiniLM (BERT, 12 heads of 32 per block, each its own key/value head): a third of every
    /// block's heads by norm leaves q/k/v rows and biases and o columns of the kept heads; the
    /// encoder still embeds a sentence close to the dense one (and closer than removing the heads
    /// the score ranks highest); saved as safetensors it reloads with its head counts.
    func testMiniLMHeadsByNormKeepTheEmbedding() throws {
        try XCTSkipUnless(TestSupport.haveMiniLM, "MiniLM is not in models/ (run scripts/fetch-models)")
        let folder = TestSupport.minilmWeights.deletingLastPathComponent().path
        let m = try ModelLoader.load(folder)
        var options = HeadPruningOptions()
        options.score = .norm
        let p = try HeadPruning.prune(m, ratio: 1.0 / 3, options: options)
        XCTAssertEqual(p.config.blockHeads, Array(repeating: 8, count: 6))
        XCTAssertEqual(try p.matrix(.attentionQuery, block: 0).rows, 256)
        XCTAssertEqual(p.tensor(.attentionKey, .bias, block: 0)?.elementCount, 256)
        XCTAssertEqual(try p.matrix(.attentionOutput, block: 0).cols, 256)
        // The opposite choice: keep the eight heads of lowest score in each block.
        let scores = try HeadPruning.normScores(m)
        var top = [Int: [Int]]()
        for b in 0..<6 { top[b] = Array(RowRanking.order(scores[b]).prefix(8)) }
        let worst = try HeadPruning.keep(m, heads: top)
        let text = "A man is playing a guitar on the street."
        let dense = try SentenceEmbedder(model: m).embed(text)
        let kept = try SentenceEmbedding.cosineSimilarity(try SentenceEmbedder(model: p, folder: folder).embed(text), dense)
        let flipped = try SentenceEmbedding.cosineSimilarity(try SentenceEmbedder(model: worst, folder: folder).embed(text), dense)
        print(String(format: "MiniLM, a third of the heads removed by norm: cosine to the dense embedding %.4f (removing the highest-norm heads instead: %.4f)", kept, flipped))
        XCTAssertGreaterThan(kept, 0.5)
        XCTAssertGreaterThan(kept, flipped)
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try ModelWriter.save(p, to: dir.appendingPathComponent("minilm-heads").path)
        let again = try ModelLoader.load(dir.appendingPathComponent("minilm-heads").path)
        XCTAssertEqual(again.config, p.config)
        let reloaded = try SentenceEmbedder(model: again, folder: folder).embed(text)
        XCTAssertEqual(try SentenceEmbedding.cosineSimilarity(reloaded, try SentenceEmbedder(model: p, folder: folder).embed(text)), 1, accuracy: 1e-5)
    }

    /// Heads in ascending score order.
    enum RowRanking {
        static func order(_ s: [Double]) -> [Int] { s.indices.sorted { (s[$0], $0) < (s[$1], $1) } }
    }
}
