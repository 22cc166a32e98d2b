import Foundation
import Testing
import Numerics
import Models
import Pruning
import TestHelpers

/// Structured pruning of a GGUF model holds no weights (issue 26): gate/up become row views of the
/// stored tensors and down a column view, read only when asked; a GGUF save copies the kept rows'
/// blocks as they are and re-encodes down in the source's type when its rows stay whole blocks, so
/// the pruned file keeps the type and is smaller than its source. Kept counts can be aligned to the
/// type's block size (`blockAlignedRatios`, `PruneRequest.alignKept`: the language's default, which
/// `exact=true` turns off).
struct StreamingPruneTests {
    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func prunedTensorsAreViewsThatReadTheKeptValues() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let kept = [1535, 3, 700, 64]
        let p = try FFNPruning.keep(m, neurons: [7: kept])
        let gate = try #require(p.tensor(.ffnGate, block: 7)), down = try #require(p.tensor(.ffnDown, block: 7))
        guard case .gguf = gate.storage else { Issue.record("gate should stay a view of the GGUF tensor"); return }
        #expect(gate.rowOrder == kept.sorted() && gate.shape == [4, 576] && gate.typeName == "Q4_1")
        guard case .columns = down.storage else { Issue.record("down should be a column view"); return }
        #expect(down.shape == [576, 4] && down.typeName == "Q4_1")
        // The views read exactly the dense selections.
        #expect(try gate.matrix().data == (try m.matrix(.ffnGate, block: 7).rows(kept.sorted())).data)
        #expect(try down.matrix().data == (try m.matrix(.ffnDown, block: 7).columns(kept.sorted())).data)
        // Pruning a pruned model composes the selections.
        let q = try FFNPruning.keep(p, neurons: [7: [1, 3]])
        #expect(try q.matrix(.ffnUp, block: 7).data == (try m.matrix(.ffnUp, block: 7).rows([64, 1535])).data)
        #expect(try q.matrix(.ffnDown, block: 7).data == (try m.matrix(.ffnDown, block: 7).columns([64, 1535])).data)
        #expect(q.tensor(.ffnUp, block: 7)?.storedBytes == 2 * 576 / 32 * 20)
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func alignedRatiosKeepWholeBlocks() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        #expect(FFNPruning.keptMultiple(m, block: 0) == 32)
        let r = try FFNPruning.blockAlignedRatios(m, ratios: [0.2])
        #expect(r.count == 1)
        #expect(try FFNPruning.keptCount(width: 1536, ratio: r[0]) == 1216, "1229 rounds to the nearest multiple of 32")
        #expect(try FFNPruning.keptCount(width: 1536, ratio: try FFNPruning.blockAlignedRatios(m, ratios: [0.3])[0]) == 1088)
        #expect(try FFNPruning.blockAlignedRatios(m, ratios: [0]) == [0])
        #expect(try FFNPruning.blockAlignedRatios(m, ratios: [0.99]).map { try FFNPruning.keptCount(width: 1536, ratio: $0) } == [32])
        // A ratio above 0 that would round to nothing removed still removes one block.
        #expect(try FFNPruning.keptCount(width: 1536, ratio: try FFNPruning.blockAlignedRatios(m, ratios: [0.005])[0]) == 1504)
        // A model held in memory (any width keeps F32) keeps its ratios.
        var dense = m
        dense.set(.ffnDown, block: 0, to: try m.matrix(.ffnDown, block: 0))
        #expect(FFNPruning.keptMultiple(dense, block: 0) == 1)
        let perBlock = try FFNPruning.blockAlignedRatios(dense, ratios: [0.2])
        #expect(perBlock.count == 30 && perBlock[0] == 0.2 && perBlock[1] != 0.2)
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func alignKeptRoundsEveryRowMethodAndLeavesTheOthers() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        func widths(_ name: String, _ configure: (inout PruneRequest) -> Void = { _ in }) throws -> [Int] {
            var r = PruneRequest(ratio: 0.2, seed: 1)
            configure(&r)
            return try PruneMethods.prune(m, method: try PruneMethods.method(named: name), request: r).config.intermediateSizes
        }
        for name in ["random-rows", "magnitude-rows", "contribution-rows"] {
            #expect(try widths(name) == Array(repeating: 1229, count: 30), "\(name): exact by default in the library")
            #expect(try widths(name) { $0.alignKept = true } == Array(repeating: 1216, count: 30), "\(name)")
        }
        // OWL's per-block ratios are rounded block by block, after OWL has chosen them.
        let owl = try widths("random-rows") { $0.alignKept = true; $0.layerRatios = .weights }
        #expect(owl.allSatisfy { $0 % 32 == 0 } && Set(owl).count > 1)
        let owlExact = try widths("random-rows") { $0.layerRatios = .weights }
        #expect(zip(owl, owlExact).allSatisfy { abs($0 - $1) <= 16 })
        // A method that does not remove neurons ignores the flag.
        var r = PruneRequest(ratio: 0.5)
        r.alignKept = true
        let sparse = try PruneMethods.prune(m, method: try PruneMethods.method(named: "magnitude"), request: r)
        #expect(sparse.config.intermediateSizes == m.config.intermediateSizes)
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func savedPrunedModelKeepsTheTypeAndShrinks() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let kept = Dictionary(uniqueKeysWithValues: (0..<m.blockCount).map { b in (b, Array(stride(from: b % 2, to: 1536, by: 2)).prefix(768).map { $0 }) })
        let p = try FFNPruning.keep(m, neurons: kept)
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("pruned.gguf").path
        let report = try ModelWriter.save(p, to: path)
        #expect(report.rowsCopied == 60 && report.typeKept == 30 && report.fallbacks.isEmpty)
        let source = try FileManager.default.attributesOfItem(atPath: TestSupport.smolLMPath)[.size] as! Int
        #expect(report.bytes < source)
        let again = try ModelLoader.load(path)
        let gate = try #require(again.tensor(.ffnGate, block: 5)), down = try #require(again.tensor(.ffnDown, block: 5))
        #expect(gate.typeName == "Q4_1" && down.typeName == "Q4_1" && down.shape == [576, 768])
        // Rows copied block for block: the reloaded gate equals the source's kept rows exactly.
        #expect(try gate.matrix().data == (try m.matrix(.ffnGate, block: 5).rows(kept[5]!)).data)
        // Down re-encoded as Q4_1 from its kept columns: within Q4_1's rounding of them.
        let want = try m.matrix(.ffnDown, block: 5).columns(kept[5]!), got = try down.matrix()
        let err = zip(want.data, got.data).map { abs($0 - $1) }.max() ?? 0
        let scale = want.data.map(abs).max() ?? 1
        #expect(err <= scale / 10, "Q4_1 error \(err) for values up to \(scale)")
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func aWidthThatIsNotWholeBlocksFallsBackAndSaysWhy() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let p = try FFNPruning.keep(m, neurons: [0: Array(0..<1229)])
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try ModelWriter.save(p, to: dir.appendingPathComponent("p.gguf").path)
        #expect(report.fallbacks == ["blk.0.ffn_down.weight: rows of 1229 are not whole blocks of 32, written as F16 instead of Q4_1 (prune keeps a multiple of the block size unless exact=true)"])
        #expect(report.rowsCopied == 2)
    }

    /// A save's notes name the blocks of notes that differ only in the block number, once.
    @Test func saveNotesGroupBlocks() {
        var report = SaveReport(path: "p.gguf")
        let tail = ".ffn_down.weight: rows of 1229 are not whole blocks of 32, written as F16 instead of Q4_1"
        report.fallbacks = [0, 1, 2, 3, 7, 9, 10].map { "blk.\($0)\(tail)" } + ["blk.4.ffn_down.weight: rows of 1200 differ",
                                                                               "token_embd.weight: kept"]
        report.skipped = ["blk.5.extra: no role"]
        #expect(report.notes == ["blk.{0–3, 7, 9–10}\(tail)", "blk.4.ffn_down.weight: rows of 1200 differ",
                                 "token_embd.weight: kept", "blk.5.extra: no role"])
    }
}
