import Foundation
import Testing
import CQuant
import Numerics
@testable import Models

/// llama.cpp's arithmetic: 8-bit activation blocks and integer dot products over the stored
/// Q4_1 / Q8_0 / Q4_0 blocks, checked against the dequantised weights in Float64.
@Suite(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
struct LlamaCppArithmeticTests {
    /// Random activations of `rows × cols`, seeded.
    func activations(rows: Int, cols: Int, seed: UInt64) -> [Float] {
        var random = SeededRandom(seed: seed)
        return (0..<rows * cols).map { _ in Float(random.normal()) * 0.7 }
    }

    /// Quantising a block keeps its largest magnitude at ±127·d, every value within d/2 of the
    /// original, and d an fp16 value.
    @Test func activationBlocksRoundAsGgml() throws {
        let x = activations(rows: 3, cols: 96, seed: 1)
        var blocks = [plq_block_q8](repeating: plq_block_q8(), count: 9)
        x.withUnsafeBufferPointer { xp in
            blocks.withUnsafeMutableBufferPointer { b in
                for r in 0..<3 { plq_quantize_row(xp.baseAddress! + r * 96, b.baseAddress! + r * 3, 96, 1) }
            }
        }
        for (i, block) in blocks.enumerated() {
            let values = Array(x[i * 32..<(i + 1) * 32])
            let amax = values.map { abs($0) }.max()!
            let q = withUnsafeBytes(of: block.qs) { Array($0.bindMemory(to: Int8.self)) }
            #expect(q.map { abs(Int($0)) }.max() == 127)
            #expect(block.d == HalfPrecision.float(fromHalf: HalfPrecision.half(from: amax / 127)))
            for j in 0..<32 { #expect(abs(Float(q[j]) - values[j] * 127 / amax) <= 0.5001, "block \(i) element \(j)") }
            // s is ggml's fp16(d·Σq), d unrounded: both roundings together stay within 2·2⁻¹¹.
            let sum = Float(q.reduce(0) { $0 + Int($1) })
            #expect(block.s == HalfPrecision.float(fromHalf: HalfPrecision.half(from: amax / 127 * sum)))
            #expect(abs(block.s - block.d * sum) <= abs(block.d * sum) * 1e-3 + 1e-6)
        }
        var fake = x
        fake.withUnsafeMutableBufferPointer { plq_fake_quantize($0.baseAddress!, 3, 96, 1) }
        for i in 0..<9 {
            let q = withUnsafeBytes(of: blocks[i].qs) { Array($0.bindMemory(to: Int8.self)) }
            for j in 0..<32 { #expect(fake[i * 32 + j] == blocks[i].d * Float(q[j])) }
        }
    }

    /// The integer kernel equals the dequantised weight times the rounded activation (Float64
    /// reference), for SmolLM2's Q4_1 FFN gate and its Q8_0 embedding. For Q4_1 the kernel meets
    /// each block's minimum m with the block's stored fp16 sum s rather than d·Σq (as ggml does), so
    /// the reference adds Σ m·(s − d·Σq) over the blocks.
    @Test(arguments: [("ffn gate", TensorRole.ffnGate, 3), ("tied head", TensorRole.tokenEmbedding, -1)])
    func integerKernelMatchesDequantisedProduct(name: String, role: TensorRole, block: Int) throws {
        let model = try ModelLoader.load(TestSupport.smolLMPath)
        let tensor = try #require(model.tensor(role, block: block >= 0 ? block : nil))
        let linear = try #require(try LlamaCppLinear(tensor))
        #expect(linear.hasIntegerKernel)
        let w = try tensor.matrix()
        let t = 2
        let x = activations(rows: t, cols: w.cols, seed: 7)
        var out = [Float](repeating: 0, count: t * w.rows)
        x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { linear.multiply(xp.baseAddress!, rows: t, into: $0.baseAddress!, accumulate: false) } }
        var rounded = x
        linear.roundActivations(&rounded, rows: t)
        let blocks = w.cols / 32
        var quantized = [plq_block_q8](repeating: plq_block_q8(), count: t * blocks)
        x.withUnsafeBufferPointer { xp in
            quantized.withUnsafeMutableBufferPointer { b in
                for i in 0..<t { plq_quantize_row(xp.baseAddress! + i * w.cols, b.baseAddress! + i * blocks, Int64(w.cols), linear.type == .q4_1 ? 1 : 0) }
            }
        }
        var worst = 0.0, scale = 0.0
        for i in 0..<t {
            for r in stride(from: 0, to: w.rows, by: 7) {
                var dot = 0.0
                for c in 0..<w.cols { dot += Double(w.data[r * w.cols + c]) * Double(rounded[i * w.cols + c]) }
                if linear.type == .q4_1 {
                    for b in 0..<blocks {
                        let at = r * linear.rowBytes + b * 20 + 2
                        let m = HalfPrecision.float(fromHalf: UInt16(linear.packed[at]) | UInt16(linear.packed[at + 1]) << 8)
                        let block = quantized[i * blocks + b]
                        let q = withUnsafeBytes(of: block.qs) { Array($0.bindMemory(to: Int8.self)) }
                        dot += Double(m) * (Double(block.s) - Double(block.d) * Double(q.reduce(0) { $0 + Int($1) }))
                    }
                }
                worst = max(worst, abs(dot - Double(out[i * w.rows + r])))
                scale = max(scale, abs(dot))
            }
        }
        #expect(worst <= 1e-4 * scale, "\(name): integer kernel differs by \(worst) (largest output \(scale))")
    }
}
