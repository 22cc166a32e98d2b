import Foundation
import Models
import Numerics
import TestHelpers
import XCTest
@testable import Training

/// Finite-difference checks of each llama op's backward on tiny random inputs, and of the whole
/// model's (tied and untied head, a removed block, a SliceGPT-sliced stream).
///
/// Each check takes L = Σ probe ⊙ op(x) (summed in Float64 over the Float32 outputs) and compares
/// the analytic gradient with central differences (L(x + ε) − L(x − ε)) / 2ε at ε = 1e-2, entry
/// by entry, to 2e-3 of the largest analytic entry. In Float32 a smaller ε drowns in rounding
/// (values ~1 carry ~6e-8 error each, divided by 2ε) and a larger one in curvature (O(ε²)); at
/// 1e-2 both stay below ~1e-4 of the scale, so 2e-3 passes a right gradient and fails a wrong term.
final class LlamaFiniteDifferenceTests: XCTestCase {
    static let epsilon: Float = 1e-2
    static let tolerance = 2e-3

    func random(_ n: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<n).map { _ in Float(rng.normal()) * scale }
    }

    /// Σ probe ⊙ y in Float64.
    func dot(_ y: [Float], _ probe: [Float]) -> Double { zip(y, probe).reduce(0) { $0 + Double($1.0) * Double($1.1) } }

    /// Compares `analytic` with central differences of `f` at every entry of `x` (or `indices`).
    func check(_ label: String, _ x: [Float], _ analytic: [Float], indices: [Int]? = nil,
               file: StaticString = #filePath, line: UInt = #line, _ f: ([Float]) -> Double) {
        XCTAssertEqual(x.count, analytic.count, label, file: file, line: line)
        let scale = Double(analytic.map { abs($0) }.max() ?? 0)
        XCTAssertGreaterThan(scale, 0, "\(label): zero gradient, the check would be empty", file: file, line: line)
        var worst = 0.0
        for i in indices ?? Array(x.indices) {
            var plus = x, minus = x
            plus[i] += Self.epsilon
            minus[i] -= Self.epsilon
            let numeric = (f(plus) - f(minus)) / (2 * Double(Self.epsilon))
            worst = max(worst, abs(numeric - Double(analytic[i])))
        }
        XCTAssertLessThanOrEqual(worst, Self.tolerance * scale, "\(label): worst error \(worst), scale \(scale)", file: file, line: line)
    }

    func testLinear() throws {
        let t = 5, n = 4, k = 6
        let w = try Matrix(rows: n, cols: k, data: random(n * k, seed: 1))
        let x = random(t * k, seed: 2), probe = random(t * n, seed: 3)
        var dW = Matrix(rows: n, cols: k)
        let dx = Linear(w).backward(probe, input: x, rows: t, weightGradient: &dW)
        check("dx", x, dx) { dot(Linear(w).apply($0, rows: t), probe) }
        check("dW", w.data, dW.data) { dot(Linear(try! Matrix(rows: n, cols: k, data: $0)).apply(x, rows: t), probe) }
    }

    func testRMSNorm() {
        let t = 4, d = 8
        let x = random(t * d, seed: 4), w = random(d, seed: 5), probe = random(t * d, seed: 6)
        var dw = [Float](repeating: 0, count: d)
        let dx = dw.withUnsafeMutableBufferPointer { RMSNorm.backward(probe, x: x, rows: t, weight: w, epsilon: 1e-5, meanOver: 10, weightGradient: $0.baseAddress) }
        check("dx", x, dx) { dot(RMSNorm.forward($0, rows: t, weight: w, epsilon: 1e-5, meanOver: 10), probe) }
        check("dw", w, dw) { dot(RMSNorm.forward(x, rows: t, weight: $0, epsilon: 1e-5, meanOver: 10), probe) }
    }

    func testRotary() {
        let t = 6, heads = 2, hd = 8
        let x = random(t * heads * hd, seed: 7), probe = random(x.count, seed: 8)
        let positions = [0, 1, 2, 5, 9, 30]
        var dx = probe
        Rotary.backward(&dx, rows: t, heads: heads, headDim: hd, ropeDims: 6, base: 100, positions: positions)
        check("dx", x, dx) { v in
            var y = v
            Rotary.forward(&y, rows: t, heads: heads, headDim: hd, ropeDims: 6, base: 100, positions: positions)
            return dot(y, probe)
        }
    }

    func testCausalAttention() {
        let shape = CausalAttention.Shape(sequences: 2, length: 5, heads: 4, kvHeads: 2, headDim: 3)
        let q = random(10 * 12, seed: 9), k = random(10 * 6, seed: 10), v = random(10 * 6, seed: 11)
        let probe = random(10 * 12, seed: 12)
        var p: [Float] = []
        _ = CausalAttention.forward(q: q, k: k, v: v, shape: shape, probabilities: &p)
        let (dq, dk, dv) = CausalAttention.backward(probe, q: q, k: k, v: v, probabilities: p, shape: shape)
        func f(_ q: [Float], _ k: [Float], _ v: [Float]) -> Double {
            var p: [Float] = []
            return dot(CausalAttention.forward(q: q, k: k, v: v, shape: shape, probabilities: &p), probe)
        }
        check("dq", q, dq) { f($0, k, v) }
        check("dk", k, dk) { f(q, $0, v) }
        check("dv", v, dv) { f(q, k, $0) }
        // The mask: a query's output does not depend on later keys.
        var later = k
        for j in 6..<12 { later[4 * 6 + j % 6] += 1 }   // sequence 0's last row
        var p2: [Float] = []
        let a = CausalAttention.forward(q: q, k: k, v: v, shape: shape, probabilities: &p)
        let b = CausalAttention.forward(q: q, k: later, v: v, shape: shape, probabilities: &p2)
        XCTAssertEqual(Array(a[0..<4 * 12]), Array(b[0..<4 * 12]), "rows before the changed key are untouched")
        XCTAssertNotEqual(Array(a[4 * 12..<5 * 12]), Array(b[4 * 12..<5 * 12]))
    }

    func testSwiGLU() {
        let g = random(12, seed: 13, scale: 2), u = random(12, seed: 14), probe = random(12, seed: 15)
        let (dg, du) = SwiGLU.backward(probe, gate: g, up: u)
        check("dgate", g, dg) { dot(SwiGLU.forward(gate: $0, up: u), probe) }
        check("dup", u, du) { dot(SwiGLU.forward(gate: g, up: $0), probe) }
    }

    func testNextTokenCrossEntropy() {
        let rows = 3, vocab = 7
        let logits = random(rows * vocab, seed: 16, scale: 2), targets: [Int32] = [2, 6, 0]
        var grad = logits
        let loss = NextTokenCrossEntropy.lossAndGradient(logits: &grad, rows: rows, vocab: vocab, targets: targets)
        XCTAssertEqual(loss, NextTokenCrossEntropy.forward(logits: logits, rows: rows, vocab: vocab, targets: targets))
        check("dlogits", logits, grad) { NextTokenCrossEntropy.forward(logits: $0, rows: rows, vocab: vocab, targets: targets) }
    }

    func testEmbedding() throws {
        let table = try Matrix(rows: 5, cols: 3, data: random(15, seed: 17))
        let ids: [Int32] = [4, 1, 4, 0]
        let probe = random(12, seed: 18)
        var g = Matrix(rows: 5, cols: 3)
        Embedding.backward(probe, ids: ids, into: &g)
        check("dtable", table.data, g.data) { dot(Embedding.forward(ids, table: try! Matrix(rows: 5, cols: 3, data: $0)), probe) }
        XCTAssertEqual(Array(g.data[6..<9]), [0, 0, 0], "an unseen row gets no gradient")
    }

    func testLoRA() throws {
        let t = 4, n = 5, k = 6
        var rng = SeededRandom(seed: 19)
        var adapter = LoRAAdapter(inputs: k, outputs: n, rank: 2, alpha: 3, rng: &rng)
        adapter.b.data = random(n * 2, seed: 20)
        let x = random(t * k, seed: 21), probe = random(t * n, seed: 22)
        var dA = Matrix(rows: 2, cols: k), dB = Matrix(rows: n, cols: 2), dx = [Float](repeating: 0, count: t * k)
        adapter.backward(probe, input: x, hidden: adapter.down(x, rows: t), rows: t, gradientA: &dA, gradientB: &dB, addingTo: &dx)
        func f(_ a: LoRAAdapter, _ x: [Float]) -> Double {
            var y = [Float](repeating: 0, count: t * n)
            a.up(a.down(x, rows: t), rows: t, addingTo: &y)
            return dot(y, probe)
        }
        check("dx", x, dx) { f(adapter, $0) }
        check("dA", adapter.a.data, dA.data) { var a = adapter; a.a.data = $0; return f(a, x) }
        check("dB", adapter.b.data, dB.data) { var a = adapter; a.b.data = $0; return f(a, x) }
        // delta() is what the adapter adds: x·deltaᵀ equals up(down(x)).
        var y = [Float](repeating: 0, count: t * n)
        adapter.up(adapter.down(x, rows: t), rows: t, addingTo: &y)
        let viaDelta = Linear(adapter.delta()).apply(x, rows: t)
        for (a, b) in zip(y, viaDelta) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    // MARK: Whole model

    static let batch: [[Int32]] = [[3, 17, 42, 99, 5, 64, 7], [120, 1, 1, 33, 8, 77, 2]]

    static func tinyConfig(tied: Bool) -> ModelConfig {
        LlamaFixtures.config(vocab: 128, d: 32, heads: 4, kvHeads: 2, ffn: [24, 16, 20], epsilon: 1e-5, ropeBase: 10000, tied: tied)
    }

    /// FD of the model's loss on a few entries of each listed parameter: the largest analytic ones
    /// and some hashed others.
    func checkModel(_ model: LlamaTrainingModel, names: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let grads = try model.lossAndGradients(Self.batch)
        for name in names {
            let analytic = try XCTUnwrap(grads[name], name, file: file, line: line)
            let values = try XCTUnwrap(model.parameter(named: name), file: file, line: line)
            let top = analytic.indices.sorted { abs(analytic[$0]) > abs(analytic[$1]) }.prefix(4)
            let others = LlamaFixtures.hashed(LlamaFixtures.seed(of: name), 4).map { Int(($0 + 1) / 2 * Float(values.count)) }
            check(name, values, analytic, indices: Array(top) + others, file: file, line: line) { v in
                var m = model
                try! m.setParameter(named: name, to: v)
                return try! m.loss(Self.batch)
            }
        }
    }

    func testWholeModelTiedHead() throws {
        let model = try LlamaTrainingModel(LlamaFixtures.tinyWeights(Self.tinyConfig(tied: true)))
        XCTAssertFalse(model.parameters.contains { $0.name == "output.weight" })
        try checkModel(model, names: ["token_embd.weight", "blk.0.attn_q.weight", "blk.1.attn_k.weight", "blk.2.ffn_down.weight",
                                      "blk.1.attn_norm.weight", "blk.2.ffn_norm.weight", "output_norm.weight"])
    }

    func testWholeModelUntiedHeadAndRemovedBlock() throws {
        var weights = try LlamaFixtures.tinyWeights(Self.tinyConfig(tied: false))
        weights.blocks.remove(at: 1)
        weights.config.intermediateSizes.remove(at: 1)
        let model = try LlamaTrainingModel(weights)
        XCTAssertEqual(model.parameters.last?.name, "output.weight")
        try checkModel(model, names: ["output.weight", "token_embd.weight", "blk.1.ffn_gate.weight", "blk.0.attn_v.weight"])
    }

    /// A SliceGPT-sliced stream (residual width 24 < hidden 32, shortcut matrices on both
    /// residual connections, norms averaging over the hidden size): the training forward equals
    /// `LlamaForward`'s, and its gradients pass finite differences (the shortcuts held fixed).
    func testWholeModelSliced() throws {
        var config = Self.tinyConfig(tied: true)
        config.residualSize = 24
        var w = try LlamaFixtures.tinyWeights(Self.tinyConfig(tied: true))
        w.config = config
        let r = 24
        func cols(_ m: Matrix) -> Matrix { Matrix(rows: m.rows, cols: r) { i, j in m[i, j] } }
        func rows(_ m: Matrix) -> Matrix { Matrix(rows: r, cols: m.cols) { i, j in m[i, j] } }
        w.embedding = cols(w.embedding)
        w.head = Linear(w.embedding)
        w.outputNorm = Array(w.outputNorm.prefix(r))
        for b in w.blocks.indices {
            w.blocks[b].attentionNorm = Array(w.blocks[b].attentionNorm.prefix(r))
            w.blocks[b].ffnNorm = Array(w.blocks[b].ffnNorm.prefix(r))
            for p in [TensorRole.attentionQuery, .attentionKey, .attentionValue, .ffnGate, .ffnUp] { w.blocks[b][p] = Linear(cols(w.blocks[b][p].weight)) }
            w.blocks[b].output = Linear(rows(w.blocks[b].output.weight))
            w.blocks[b].down = Linear(rows(w.blocks[b].down.weight))
            w.blocks[b].attentionShortcut = try Matrix(rows: r, cols: r, data: random(r * r, seed: 30 + UInt64(b), scale: 0.2))
            w.blocks[b].ffnShortcut = try Matrix(rows: r, cols: r, data: random(r * r, seed: 40 + UInt64(b), scale: 0.2))
        }
        try assertForwardMatchesInference(w, sequences: Self.batch.map { Array($0.dropLast()) })
        let model = try LlamaTrainingModel(w)
        try checkModel(model, names: ["token_embd.weight", "blk.0.attn_q.weight", "blk.1.attn_output.weight", "blk.2.ffn_up.weight",
                                      "blk.0.ffn_norm.weight", "output_norm.weight"])
    }

    func testWholeModelLoRA() throws {
        var model = try LlamaTrainingModel(LlamaFixtures.tinyWeights(Self.tinyConfig(tied: true)),
                                           lora: LoRASettings(rank: 2, alpha: 4, targets: [.attentionValue, .ffnDown, .attentionOutput], seed: 3))
        for b in model.adapters.indices {
            for p in model.adapters[b].indices where model.adapters[b][p] != nil {
                model.adapters[b][p]!.b.data = random(model.adapters[b][p]!.b.count, seed: UInt64(50 + 7 * b + p), scale: 0.3)
            }
        }
        XCTAssertEqual(model.parameters.count, 3 * 3 * 2, "only the adapters train")
        try checkModel(model, names: ["blk.0.attn_v.weight.lora_a", "blk.1.ffn_down.weight.lora_b", "blk.2.attn_output.weight.lora_a"])
    }
}
