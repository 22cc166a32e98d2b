import Foundation
import Testing
import CQuant
import Numerics
@testable import Models

/// PLQ_Q4_0_X8: Q4_0 products summed as llama.cpp sums the Q4_0 tensors it repacks (rows a multiple
/// of 8), one fused multiply-add per block of the exact integer block sum. The portable kernel is
/// the definition; the AVX2 and VNNI kernels (direct for a few activation rows, on packed panels
/// for more) must give its bits. Test_llamacpp_q4_0.py checks the order against llama.cpp itself.
struct Q4_0RowsOf8Tests {
    /// Weights and activations of the given shape, the activations quantised with the integer sum.
    static func operands(rows: Int, cols: Int, count: Int, seed: UInt64) throws -> (bytes: [UInt8], x: [Float], q: [plq_block_q8]) {
        let w = QuantizedProductTests.values(rows * cols, seed: seed, scale: 0.02)
        let x = QuantizedProductTests.values(count * cols, seed: seed + 1, scale: 0.8)
        let blocks = cols / 32
        var q = [plq_block_q8](repeating: plq_block_q8(), count: count * blocks)
        x.withUnsafeBufferPointer { xp in
            q.withUnsafeMutableBufferPointer { b in
                for i in 0..<count { plq_quantize_row(xp.baseAddress! + i * cols, b.baseAddress! + i * blocks, Int64(cols), 3) }
            }
        }
        return ([UInt8](try GGMLQuantizer.encode(w, as: .q4_0)), x, q)
    }

    /// out (count × rows) on `kernel` (0 portable, 1 AVX2, 2 VNNI), or nil when the CPU lacks it.
    static func product(kernel: Int32, _ bytes: [UInt8], _ q: [plq_block_q8], rows: Int, cols: Int, count: Int,
                        start: [Float]? = nil) -> [Float]? {
        var out = start ?? [Float](repeating: .nan, count: count * rows)
        let status = bytes.withUnsafeBufferPointer { w in
            q.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { o in
                    plq_q4_0_rows8_with(kernel, w.baseAddress!, Int64(cols / 32 * 18), 0, Int64(rows), Int64(cols),
                                        x.baseAddress!, Int64(count), o.baseAddress!, Int64(rows), start == nil ? 0 : 1)
                }
            }
        }
        return status == 0 ? out : nil
    }

    /// Every kernel gives the portable kernel's bits: 576 columns (18 blocks: one panel chunk) and
    /// 4,096 (128 blocks: two chunks); 1 and 3 activation rows (the direct kernel), 4, 7 and 133
    /// (panels: groups of four, single rows left over, and a second chunk of activation rows).
    @Test(arguments: [(64, 576), (16, 4096)])
    func everyKernelGivesThePortableBits(rows: Int, cols: Int) throws {
        for count in [1, 3, 4, 7, 133] {
            let (bytes, _, q) = try Self.operands(rows: rows, cols: cols, count: count, seed: UInt64(count))
            let portable = try #require(Self.product(kernel: 0, bytes, q, rows: rows, cols: cols, count: count))
            #expect(!portable.contains { $0.isNaN })
            for kernel: Int32 in [1, 2] {
                guard let ours = Self.product(kernel: kernel, bytes, q, rows: rows, cols: cols, count: count) else { continue }
                let differing = zip(ours, portable).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(differing == 0, "kernel \(kernel), \(rows)×\(cols), \(count) rows: \(differing) outputs differ")
            }
        }
    }

    /// A row's result is the same alone (the direct kernel) as inside a batch of 133 (packed panels),
    /// and `accumulate` adds it to what is there.
    @Test func aRowIsTheSameInAnyBatch() throws {
        let rows = 32, cols = 1024, count = 133
        let (bytes, _, q) = try Self.operands(rows: rows, cols: cols, count: count, seed: 9)
        let batch = try #require(Self.product(kernel: 2, bytes, q, rows: rows, cols: cols, count: count)
                                 ?? Self.product(kernel: 1, bytes, q, rows: rows, cols: cols, count: count)
                                 ?? Self.product(kernel: 0, bytes, q, rows: rows, cols: cols, count: count))
        let blocks = cols / 32
        for i in [0, 5, 127, 132] {
            let single = try #require(plqProduct(bytes, Array(q[i * blocks..<(i + 1) * blocks]), rows: rows, cols: cols))
            #expect(single.map(\.bitPattern) == batch[i * rows..<(i + 1) * rows].map(\.bitPattern), "row \(i)")
        }
        let start = [Float](repeating: 1.5, count: count * rows)
        let summed = try #require(Self.product(kernel: 0, bytes, q, rows: rows, cols: cols, count: count, start: start))
        let alone = try #require(Self.product(kernel: 0, bytes, q, rows: rows, cols: cols, count: count))
        #expect(zip(summed, alone).allSatisfy { $0 == $1 + 1.5 })
    }

    /// The product through plq_matmul (the kernel this CPU picks) for one activation row.
    func plqProduct(_ bytes: [UInt8], _ q: [plq_block_q8], rows: Int, cols: Int) -> [Float]? {
        var out = [Float](repeating: .nan, count: rows)
        let status = bytes.withUnsafeBufferPointer { w in
            q.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { o in
                    plq_matmul(Int32(PLQ_Q4_0_X8), w.baseAddress!, Int64(cols / 32 * 18), 0, Int64(rows), Int64(cols),
                               x.baseAddress!, 1, o.baseAddress!, Int64(rows), 0)
                }
            }
        }
        return status == 0 ? out : nil
    }

    /// Against Float64 products of the dequantised weight and the activations as quantised: only
    /// Float rounding, |Δ| ≤ 2e-5 · Σ|w||x| per output.
    @Test func matchesTheDequantisedProduct() throws {
        let rows = 24, cols = 768, count = 6
        let (bytes, x, q) = try Self.operands(rows: rows, cols: cols, count: count, seed: 21)
        let ours = try #require(Self.product(kernel: 2, bytes, q, rows: rows, cols: cols, count: count)
                                ?? Self.product(kernel: 0, bytes, q, rows: rows, cols: cols, count: count))
        let w = QuantizedMatrix(type: .q4_0, rows: rows, cols: cols, bytes: bytes).dequantized()
        var rounded = x
        rounded.withUnsafeMutableBufferPointer { plq_fake_quantize($0.baseAddress!, Int64(count), Int64(cols), 0) }
        for i in 0..<count {
            for r in 0..<rows {
                var dot = 0.0, size = 0.0
                for c in 0..<cols {
                    let a = Double(w.data[r * cols + c]), b = Double(rounded[i * cols + c])
                    dot += a * b
                    size += abs(a * b)
                }
                #expect(abs(dot - Double(ours[i * rows + r])) <= 2e-5 * size, "row \(r), activation \(i)")
            }
        }
    }

    /// Refusals: rows not in whole groups of eight; a kernel number that does not exist.
    @Test func refusesRowsNotInGroupsOfEight() throws {
        let (bytes, _, q) = try Self.operands(rows: 16, cols: 64, count: 1, seed: 3)
        var out = [Float](repeating: 0, count: 16)
        bytes.withUnsafeBufferPointer { w in
            q.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { o in
                    #expect(plq_q4_0_rows8_with(0, w.baseAddress!, 36, 0, 12, 64, x.baseAddress!, 1, o.baseAddress!, 16, 0) == -1)
                    #expect(plq_q4_0_rows8_with(0, w.baseAddress!, 36, 4, 16, 64, x.baseAddress!, 1, o.baseAddress!, 16, 0) == -1)
                    #expect(plq_q4_0_rows8_with(3, w.baseAddress!, 36, 0, 16, 64, x.baseAddress!, 1, o.baseAddress!, 16, 0) == -1)
                }
            }
        }
    }

    /// Which weights take the eight-row order: Q4_0 in whole groups of eight rows, as llama.cpp
    /// repacks them; a pruned width that is not (7,706 rows) and every other type keep ggml's order.
    @Test func theOrderFollowsLlamaCppsRepackingRule() {
        #expect(LlamaCppArithmetic.kernelCode(.q4_0, rows: 4096) == Int32(PLQ_Q4_0_X8))
        #expect(LlamaCppArithmetic.kernelCode(.q4_0, rows: 7706) == Int32(PLQ_Q4_0))
        #expect(LlamaCppArithmetic.kernelCode(.q4_1, rows: 4096) == Int32(PLQ_Q4_1))
        #expect(LlamaCppArithmetic.kernelCode(.q8_0, rows: 4096) == Int32(PLQ_Q8_0))
        #expect(plq_activation_sum(Int32(PLQ_Q4_0_X8)) == 3)
    }
}
