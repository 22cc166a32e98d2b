import Foundation

/// The Float32 compute kernels of the forward passes (llama and BERT) besides their products,
/// on raw row-major buffers: RMSNorm and LayerNorm (sums in Float64, as ggml does), SwiGLU and
/// GELU, a causal softmax row, and the helpers that split rows over the cores. (Products are
/// `Linear`'s; RoPE is `RoPE`'s; llama.cpp's own variants are in `LlamaCppArithmetic`.)
public enum ForwardKernels {
    /// Each of `rows` rows of width `d` of `x`, RMS-normalised and scaled by `weight`, into `out`.
    /// The mean square divides by `meanOver` when given (SliceGPT's sliced stream keeps the
    /// original hidden size there), else by `d`. With `floatScale` the scale is ggml's:
    /// mean = Float(sum / n), scale = 1 / sqrt(mean + Float(ε)) in Float (llama.cpp's arithmetic);
    /// else 1/sqrt(sum/n + ε) in Double, rounded once.
    public static func rmsNorm(_ x: UnsafePointer<Float>, rows: Int, d: Int, weight: [Float], epsilon: Double,
                        meanOver: Int? = nil, floatScale: Bool = false, out: UnsafeMutablePointer<Float>) {
        let divisor = Double(meanOver ?? d)
        weight.withUnsafeBufferPointer { w in
            parallelRows(rows) { r in
                let row = x + r * d, o = out + r * d
                var sum = 0.0
                for i in 0..<d { sum += Double(row[i] * row[i]) }
                let scale = floatScale ? 1 / (Float(sum / divisor) + Float(epsilon)).squareRoot()
                                       : Float(1 / (sum / divisor + epsilon).squareRoot())
                for i in 0..<d { o[i] = row[i] * scale * w[i] }
            }
        }
    }

    /// Each row normalised to zero mean and unit variance, then scaled and shifted (LayerNorm).
    static func layerNorm(_ x: UnsafePointer<Float>, rows: Int, d: Int, weight: [Float], bias: [Float], epsilon: Double,
                          out: UnsafeMutablePointer<Float>) {
        weight.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                parallelRows(rows) { r in
                    let row = x + r * d, o = out + r * d
                    var mean = 0.0
                    for i in 0..<d { mean += Double(row[i]) }
                    mean /= Double(d)
                    var variance = 0.0
                    for i in 0..<d { let c = Double(row[i]) - mean; variance += c * c }
                    let inv = 1 / (variance / Double(d) + epsilon).squareRoot()
                    for i in 0..<d { o[i] = Float((Double(row[i]) - mean) * inv) * w[i] + b[i] }
                }
            }
        }
    }

    /// gate ← SiLU(gate) ⊙ up, element-wise over `count` values (SwiGLU).
    public static func swiglu(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        parallelChunks(count) { range in
            for i in range { let g = gate[i]; gate[i] = g / (1 + exp(-g)) * up[i] }
        }
    }

    /// x ← GELU(x) in the erf form BERT uses.
    static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        parallelChunks(count) { range in
            for i in range { let v = x[i]; x[i] = 0.5 * v * (1 + erf(v / 2.0.squareRoot().float)) }
        }
    }

    /// Softmax of `cols` values of row `r` in place, with entries after `limit` (exclusive)
    /// masked out (set to 0): the causal mask when `limit` is the query's position + 1.
    @inline(__always)
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, cols: Int, limit: Int) {
        let n = min(limit, cols)
        var m = -Float.infinity
        for j in 0..<n where row[j] > m { m = row[j] }
        var sum: Float = 0
        for j in 0..<n { let e = exp(row[j] - m); row[j] = e; sum += e }
        let inv = 1 / sum
        for j in 0..<n { row[j] *= inv }
        for j in n..<cols { row[j] = 0 }
    }

    /// Runs `body` for every row index, split over the cores.
    public static func parallelRows(_ rows: Int, _ body: (Int) -> Void) {
        let workers = rows >= 16 ? min(ProcessInfo.processInfo.activeProcessorCount, rows) : 1
        if workers == 1 { for r in 0..<rows { body(r) }; return }
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                var r = w
                while r < rows { work.value(r); r += workers }
            }
        }
    }

    /// Runs `body` on contiguous chunks of 0..<count, split over the cores.
    public static func parallelChunks(_ count: Int, _ body: (Range<Int>) -> Void) {
        let workers = count >= 1 << 14 ? ProcessInfo.processInfo.activeProcessorCount : 1
        if workers == 1 { body(0..<count); return }
        let chunk = (count + workers - 1) / workers
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let lo = w * chunk, hi = min(count, lo + chunk)
                if lo < hi { work.value(lo..<hi) }
            }
        }
    }
}

/// A value handed to worker threads that the caller guarantees touch disjoint memory.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

private extension Double {
    var float: Float { Float(self) }
}
