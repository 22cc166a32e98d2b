import Foundation
import Testing
import Numerics
import Models
import Pruning
import TestHelpers

/// The structured FFN pruning primitive on both real models: kept neurons select gate/up rows,
/// up-bias entries and down columns; the pruned model saves, reloads with its new widths, and
/// loads in llama.cpp (one FFN width for all blocks, and a different width per block).
struct FFNPruningTests {
    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func keptNeuronsSelectRowsAndColumns() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let kept = [5, 1, 1535, 700]
        let p = try FFNPruning.keep(m, neurons: [4: kept])
        #expect(p.config.intermediateSizes[4] == 4 && p.config.intermediateSizes[3] == 1536)
        let up = try m.matrix(.ffnUp, block: 4), down = try m.matrix(.ffnDown, block: 4)
        let pu = try p.matrix(.ffnUp, block: 4), pd = try p.matrix(.ffnDown, block: 4)
        let sorted = kept.sorted()
        #expect(pu.rows == 4 && pu.cols == 576 && pd.rows == 576 && pd.cols == 4)
        for (i, r) in sorted.enumerated() {
            #expect(Array(pu.data[i * 576..<(i + 1) * 576]) == Array(up.data[r * 576..<(r + 1) * 576]))
            #expect((0..<576).allSatisfy { pd.data[$0 * 4 + i] == down.data[$0 * 1536 + r] })
        }
        #expect(try ModelShapes.check(p) == ())
        #expect(p.parameterCount == m.parameterCount - 3 * 576 * (1536 - 4))
    }

    @Test func badArgumentsAreClearErrors() throws {
        #expect(throws: PruningError("ratio must be in [0, 1), got 1.5")) { try FFNPruning.keptCount(width: 1536, ratio: 1.5) }
        #expect(try FFNPruning.keptCount(width: 1536, ratio: 0.2) == 1229)
        #expect(try FFNPruning.keptCount(width: 10, ratio: 0.99) == 1)
        guard TestSupport.haveSmolLM else { return }
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        #expect(throws: PruningError("block 2: neuron index 1536 is outside 0..<1536")) { try FFNPruning.keep(m, neurons: [2: [0, 1536]]) }
        #expect(throws: PruningError("block 30 does not exist (the model has 30 blocks)")) { try FFNPruning.keep(m, neurons: [30: [0]]) }
        #expect(throws: PruningError("block 0: a neuron index is given twice")) { try FFNPruning.keep(m, neurons: [0: [3, 3]]) }
    }

    /// Prunes SmolLM2 to `widths` (first neurons kept), saves it as GGUF, and returns what the
    /// `gguf` package reads as the FFN length and llama.cpp's top token per position.
    static func prunedThroughLlamaCpp(widths: [Int]) throws -> (ffnLength: String, report: SaveReport, argmax: String) {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        var kept = [Int: [Int]]()
        for (b, w) in widths.enumerated() { kept[b] = Array(0..<w) }
        let p = try FFNPruning.keep(m, neurons: kept)
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("pruned.gguf").path
        let report = try ModelWriter.save(p, to: path)
        let again = try ModelLoader.load(path)
        #expect(again.config.intermediateSizes == widths)
        let out = try TestSupport.python("""
            import sys, numpy as np, gguf
            from llama_cpp import Llama
            r = gguf.GGUFReader(sys.argv[1])
            arch = bytes(r.get_field("general.architecture").parts[-1]).decode()
            f = r.get_field(arch + ".feed_forward_length")
            print(arch, [int(f.parts[i][0]) for i in f.data])
            llm = Llama(model_path=sys.argv[1], n_ctx=64, n_batch=64, logits_all=True, verbose=False, n_threads=2)
            toks = llm.tokenize(b"The capital of France is", add_bos=False)
            llm.eval(toks)
            s = np.array(llm.scores[:len(toks)])
            assert np.isfinite(s).all()
            print(" ".join(str(int(i)) for i in s.argmax(1)))
            """, [path])
        let lines = out.split(separator: "\n").map(String.init)
        return (lines[0], report, lines.count > 1 ? lines[1] : "")
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func uniformlyPrunedModelLoadsInLlamaCpp() throws {
        let r = try Self.prunedThroughLlamaCpp(widths: Array(repeating: 1216, count: 30))
        #expect(r.ffnLength == "llama [1216]")
        #expect(r.report.fallbacks.isEmpty)
        #expect(!r.argmax.isEmpty)
    }

    /// llama.cpp's `llama` architecture reads a per-layer FFN length but builds every block with
    /// block 0's width; its `deci` architecture (the llama graph, per-layer widths) loads it.
    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func perBlockWidthsAreAnArrayThatLlamaCppLoads() throws {
        let widths = (0..<30).map { $0 % 3 == 0 ? 1536 : ($0 % 3 == 1 ? 1229 : 768) }
        let r = try Self.prunedThroughLlamaCpp(widths: widths)
        #expect(r.ffnLength == "deci \(widths)", "per-block widths are written as llama.cpp's deci architecture")
        #expect(r.report.fallbacks.count == 10, "1229-wide down projections cannot be Q8_0: \(r.report.fallbacks)")
        #expect(!r.argmax.isEmpty)
    }

    @Test(.enabled(if: TestSupport.haveMiniLM, "run scripts/fetch-models"))
    func miniLMPrunedKeepsBiasesAndSavesAsSafetensors() throws {
        let folder = TestSupport.minilmWeights.deletingLastPathComponent().path
        let m = try ModelLoader.load(folder)
        let kept = Array(stride(from: 0, to: 1536, by: 2))
        let p = try FFNPruning.keep(m, neurons: [2: kept])
        #expect(p.tensor(.ffnUp, .bias, block: 2)?.shape == [768])
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("pruned")
        try ModelWriter.save(p, to: out.path)
        let result = try TestSupport.python("""
            import sys, json, numpy as np
            from safetensors.numpy import load_file
            a = load_file(sys.argv[1]); b = load_file(sys.argv[2] + "/model.safetensors")
            k = np.arange(0, 1536, 2); pre = "encoder.layer.2."
            ok = (np.array_equal(b[pre + "intermediate.dense.weight"], a[pre + "intermediate.dense.weight"][k])
                  and np.array_equal(b[pre + "intermediate.dense.bias"], a[pre + "intermediate.dense.bias"][k])
                  and np.array_equal(b[pre + "output.dense.weight"], a[pre + "output.dense.weight"][:, k])
                  and np.array_equal(b[pre + "output.dense.bias"], a[pre + "output.dense.bias"]))
            print(ok, json.load(open(sys.argv[2] + "/config.json"))["intermediate_size"][2])
            """, [TestSupport.minilmWeights.path, out.path])
        #expect(result.trimmingCharacters(in: .whitespacesAndNewlines) == "True 768")
    }
}
