import Foundation
import Testing
import CQuant
import Models
import Numerics

/// A decode step's attention on the thread pool (attention_rows.c): the Float32 kernel split over
/// kv heads and spans of positions against a Float64 softmax, and the llama.cpp-order form against
/// plq_attend_row bit for bit. (The forward pass's decode steps against its batched window:
/// LlamaForwardTests and QuantizedForwardTests.)
struct DecodeAttentionTests {
    /// Random queries and a cache for `rows` rows at `start` (heads·hd wide queries, kvHeads·hd
    /// wide cache rows), seeded.
    struct Case {
        let start, rows, heads, group, hd: Int
        var kvWidth: Int { heads / group * hd }
        var total: Int { start + rows }
        let q: [Float], keys: [Float], values: [Float]

        init(start: Int, rows: Int, heads: Int, group: Int, hd: Int, seed: UInt64) {
            self.start = start; self.rows = rows; self.heads = heads; self.group = group; self.hd = hd
            var rng = SeededRandom(seed: seed)
            let kvWidth = heads / group * hd
            // Scores of a few units (scale 1/√hd), so the softmax is neither flat nor one-hot.
            q = (0..<rows * heads * hd).map { _ in Float(rng.normal()) * 2 }
            keys = (0..<(start + rows) * kvWidth).map { _ in Float(rng.normal()) }
            values = (0..<(start + rows) * kvWidth).map { _ in Float(rng.normal()) }
        }

        /// Causal attention in Float64 from the same inputs (row i sees positions 0...start+i).
        func reference() -> [Double] {
            var out = [Double](repeating: 0, count: rows * heads * hd)
            let scale = 1 / Double(hd).squareRoot()
            for i in 0..<rows {
                for h in 0..<heads {
                    let kv = (h / group) * hd, n = start + i + 1
                    var s = (0..<n).map { j in (0..<hd).reduce(0.0) { $0 + Double(q[(i * heads + h) * hd + $1]) * Double(keys[j * kvWidth + kv + $1]) } * scale }
                    let m = s.max()!
                    s = s.map { Foundation.exp($0 - m) }
                    let total = s.reduce(0, +)
                    for d in 0..<hd {
                        out[(i * heads + h) * hd + d] = (0..<n).reduce(0.0) { $0 + s[$1] * Double(values[$1 * kvWidth + kv + d]) } / total
                    }
                }
            }
            return out
        }

        func f32(keys: [Float]? = nil, values: [Float]? = nil) -> [Float] {
            var out = [Float](repeating: 0, count: rows * heads * hd)
            var scratch = [Float](repeating: .nan, count: Int(plq_attend_rows_f32_scratch(Int64(start), Int64(rows), Int64(heads), Int64(group), Int64(hd))))
            plq_attend_rows_f32(q, keys ?? self.keys, values ?? self.values, Int64(kvWidth), Int64(start), Int64(rows), Int64(heads), Int64(group),
                                Int64(hd), 1 / Float(hd).squareRoot(), &scratch, &out)
            return out
        }
    }

    static let cases: [(start: Int, rows: Int, heads: Int, group: Int, hd: Int)] = [
        (0, 1, 9, 3, 64),      // SmolLM2's heads, the first position
        (511, 1, 9, 3, 64),    // a decode step after a 512-token prompt: 8 spans
        (700, 3, 9, 3, 64),    // a few rows at once, spans of unequal length
        (130, 2, 4, 1, 32),    // no grouping
        (300, 1, 6, 2, 20),    // a head width of 20: the portable kernel
        (90, 4, 8, 8, 128),    // one kv head for eight query heads
    ]

    @Test(arguments: cases.indices)
    func float32KernelMatchesAFloat64Softmax(_ index: Int) {
        let c = Self.cases[index]
        let x = Case(start: c.start, rows: c.rows, heads: c.heads, group: c.group, hd: c.hd, seed: UInt64(index))
        let got = x.f32(), want = x.reference()
        let worst = zip(got, want).map { abs(Double($0) - $1) }.max()!
        #expect(worst <= 2e-5, "case \(c): max |Δ| \(worst) against Float64")
        // The portable kernel (one span) agrees with the same reference.
        if c.rows == 1 {
            let n = c.start + 1
            var scores = [Float](repeating: 0, count: n + 16), out = [Float](repeating: 0, count: c.hd)
            plq_attend_f32_portable(x.q, x.keys, x.values, Int64(x.kvWidth), Int64(n), Int64(c.hd), 1 / Float(c.hd).squareRoot(), &scores, &out)
            let portable = zip(out, want.prefix(c.hd)).map { abs(Double($0) - $1) }.max()!
            #expect(portable <= 2e-5, "case \(c): portable head 0 max |Δ| \(portable)")
        }
    }

    @Test func llamaOrderRowsAreAttendRowBitForBit() {
        let x = Case(start: 200, rows: 3, heads: 9, group: 3, hd: 64, seed: 7)
        var rounded = (x.q, x.keys, x.values)
        plq_round_half(&rounded.1, Int64(rounded.1.count))
        plq_round_half(&rounded.2, Int64(rounded.2.count))
        let scale = 1 / Float(8)
        var out = [Float](repeating: 0, count: 3 * 9 * 64)
        var scratch = [Float](repeating: 0, count: 3 * 9 * ((203 + 15) / 16 * 16))
        plq_attend_rows(rounded.0, rounded.1, rounded.2, Int64(x.kvWidth), 200, 3, 9, 3, 64, scale, &scratch, &out)
        for i in 0..<3 {
            for h in 0..<9 {
                var scores = [Float](repeating: 0, count: (200 + i + 1 + 15) / 16 * 16), one = [Float](repeating: 0, count: 64)
                rounded.0.withUnsafeBufferPointer { q in
                    rounded.1.withUnsafeBufferPointer { k in
                        rounded.2.withUnsafeBufferPointer { v in
                            plq_attend_row(q.baseAddress! + (i * 9 + h) * 64, k.baseAddress! + (h / 3) * 64, v.baseAddress! + (h / 3) * 64,
                                           Int64(x.kvWidth), Int64(200 + i + 1), 64, scale, &scores, &one)
                        }
                    }
                }
                #expect(Array(out[(i * 9 + h) * 64..<(i * 9 + h + 1) * 64]) == one, "row \(i) head \(h)")
            }
        }
    }
}
