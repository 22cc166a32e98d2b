import Foundation
import Testing
import CQuant
import Numerics

/// The ggml-order kernels of llama.cpp's arithmetic (activations.c, attention.c): their AVX2 forms
/// give the portable forms' bits, and ggml's exponential is an exponential. That the order is
/// llama.cpp's is checked end to end: LlamaForwardTests compares the logits bit for bit.
struct GgmlKernelTests {
    @Test func exponentialIsWithinTwoUlpsOfExp() {
        var worst: Float = 0
        for i in 0...20_000 {
            let x = -87 + Float(i) * (175 / 20_000)
            let got = plq_ggml_expf(x), want = Float(Foundation.exp(Double(x)))
            worst = max(worst, abs(got - want) / want.ulp)
        }
        #expect(worst <= 2, "ggml expf is \(worst) ulps from exp")
        #expect(plq_ggml_expf(0) == 1)
        #expect(plq_ggml_expf(-.infinity) == 0)
        #expect(plq_ggml_expf(-200) == 0 && plq_ggml_expf(200) == .infinity)
        #expect(plq_ggml_expf(.nan).isNaN)
    }

    @Test func reduce16IsTheHalvingTree() {
        // 1e8 + 1 − 1e8 … in lanes where only the halving order keeps the ones.
        var v = [Float](repeating: 0, count: 16)
        v[0] = 1e8; v[8] = -1e8; v[1] = 1; v[9] = 1
        #expect(plq_reduce16(v) == 2)
        v = (0..<16).map { Float($0) * 0.1 }
        let t8 = (0..<8).map { v[$0] + v[$0 + 8] }, t4 = (0..<4).map { t8[$0] + t8[$0 + 4] }
        #expect(plq_reduce16(v) == (t4[0] + t4[2]) + (t4[1] + t4[3]))
    }

    @Test(arguments: [16, 1536, 1000, 7])
    func swigluVectorFormMatchesPortable(width: Int) {
        var random = SeededRandom(seed: UInt64(width))
        let rows = 3
        // Gate values over the whole range ggml's exponential treats specially (|x| > 87, subnormal results).
        var gate = (0..<rows * width).map { _ in Float(random.normal()) * 40 }
        gate[0] = 0; gate[min(1, gate.count - 1)] = -110; gate[min(2, gate.count - 1)] = 95
        let up = (0..<rows * width).map { _ in Float(random.normal()) }
        var vector = gate, portable = gate
        plq_ggml_swiglu(&vector, up, Int64(rows), Int64(width))
        plq_ggml_swiglu_portable(&portable, up, Int64(rows), Int64(width))
        #expect(vector.map(\.bitPattern) == portable.map(\.bitPattern))
        // And it is SiLU(g)·u to float accuracy.
        var worst = 0.0
        for i in vector.indices {
            let g = Double(gate[i]), silu = g / (1 + Foundation.exp(-g))
            worst = max(worst, abs(Double(vector[i]) - silu * Double(up[i])))
        }
        #expect(worst < 1e-4, "swiglu off by \(worst)")
    }

    @Test(arguments: [1, 16, 37, 300])
    func attentionVectorFormMatchesPortable(positions n: Int) {
        var random = SeededRandom(seed: UInt64(n))
        let hd = 64, ld = 3 * hd
        func halves(_ count: Int, _ scale: Double) -> [Float] {
            (0..<count).map { _ in Float(Float16(Float(random.normal() * scale))) }
        }
        let q = halves(hd, 2), keys = halves(n * ld, 2), values = halves(n * ld, 1)
        var s1 = [Float](repeating: 0, count: (n + 15) / 16 * 16), s2 = s1
        var o1 = [Float](repeating: 0, count: hd), o2 = o1
        plq_attend_row(q, keys, values, Int64(ld), Int64(n), Int64(hd), 0.125, &s1, &o1)
        plq_attend_row_portable(q, keys, values, Int64(ld), Int64(n), Int64(hd), 0.125, &s2, &o2)
        #expect(o1.map(\.bitPattern) == o2.map(\.bitPattern))
        #expect(s1.prefix(n).map(\.bitPattern) == s2.prefix(n).map(\.bitPattern))
        // Against softmax attention in Double (fp16 probabilities cost up to ~1e-3 relative).
        let scores = (0..<n).map { j in (0..<hd).reduce(0.0) { $0 + Double(q[$1]) * Double(keys[j * ld + $1]) } * 0.125 }
        let m = scores.max()!, e = scores.map { Foundation.exp($0 - m) }, z = e.reduce(0, +)
        for d in 0..<hd {
            let want = (0..<n).reduce(0.0) { $0 + e[$1] / z * Double(values[$1 * ld + d]) }
            #expect(abs(Double(o1[d]) - want) < 5e-3, "dim \(d): \(o1[d]) vs \(want)")
        }
    }
}
