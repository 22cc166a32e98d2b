import CQuant
import Foundation
import Numerics

/// Which arithmetic a llama forward pass uses for its products.
public enum ForwardArithmetic: String, Sendable {
    /// As llama.cpp computes on a CPU: the activation entering a product with a quantised weight
    /// is itself quantised to 8-bit blocks (ggml's Q8_0 or Q8_1, whichever the weight type pairs
    /// with), and queries, keys, values and attention weights are rounded to fp16 (its f16 KV
    /// cache); norms, activations, RoPE and attention follow ggml's AVX-512 CPU kernels, so for Q4_0 /
    /// Q4_1 / Q8_0 weights the logits are llama.cpp's bit for bit. Weights held in memory as Float32 (what
    /// pruning produces) meet Float32 activations.
    case llamaCpp
    /// Float32 everywhere: weights dequantised once, activations never rounded.
    case float32
    /// Products on the stored quantised blocks, Float32 elsewhere: each linear (and the embedding)
    /// keeps only its GGUF blocks, memory-mapped (no Float32 copy, so a model takes about its file's
    /// size in memory), and its products quantise the activation rows to 8-bit blocks of 32 and dot
    /// them with the blocks in integers (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q6_K; other types are
    /// dequantised a chunk of rows at a time). Norms, RoPE, attention and SwiGLU are the float32
    /// arithmetic's. Chosen automatically when the Float32 weights would not fit in memory.
    case quantized
}

/// How llama.cpp rounds the activation entering a product with a weight of some storage type.
public enum ActivationQuantization: Sendable, Equatable {
    /// Left as Float32 (F32 weights).
    case none
    /// 8-bit blocks of 32 with an fp16 scale (ggml Q8_0: Q4_0, Q5_0, Q8_0 and IQ4_NL weights).
    case q8_0
    /// 8-bit blocks of 32 with an fp16 scale and block sum (ggml Q8_1: Q4_1 and Q5_1 weights).
    case q8_1
    /// Rounded to fp16 (F16 weights).
    case half

    /// The activation rounding llama.cpp applies against a weight stored as `type`; nil when this
    /// project does not model it (the K-quants use 256-wide Q8_K blocks: left as Float32).
    init?(weightType type: GGMLType) {
        switch type {
        case .f32: self = .none
        case .q4_0, .q5_0, .q8_0, .iq4_NL: self = .q8_0
        case .q4_1, .q5_1: self = .q8_1
        case .f16: self = .half
        default: return nil
        }
    }
}

/// One linear layer's weight as llama.cpp multiplies it (the stored form a `Linear` keeps in
/// llama.cpp's arithmetic): the activation rounding its storage type implies and, for Q4_0, Q4_1
/// and Q8_0, the stored blocks themselves, so a single token's product (decoding) runs on 8-bit
/// integer dot products instead of streaming Float32 weights.
public struct LlamaCppLinear: Sendable {
    /// The rounding applied to activations entering this product.
    public let activation: ActivationQuantization
    /// The stored ggml type of `packed`.
    let type: GGMLType
    /// The kernel code its products run with (`LlamaCppArithmetic.kernelCode`).
    let kernel: Int32
    /// The weight's blocks, row after row (empty when the type has no integer kernel here).
    let packed: [UInt8]
    /// Bytes per weight row.
    let rowBytes: Int
    /// Weight rows (outputs) and columns (inputs).
    let rows: Int, cols: Int

    /// The llama.cpp view of `tensor`, or nil when it is held as Float32 in memory, its rounding is
    /// not modelled, or its width is not a whole number of 32-blocks.
    public init?(_ tensor: WeightTensor) throws {
        guard case let .gguf(file, info) = tensor.storage, let activation = ActivationQuantization(weightType: info.type),
              activation != .none, tensor.cols % 32 == 0 else { return nil }
        self.activation = activation
        type = info.type
        rows = tensor.rows
        cols = tensor.cols
        kernel = LlamaCppArithmetic.kernelCode(info.type, rows: tensor.rows)
        guard [.q4_0, .q4_1, .q8_0].contains(info.type) else {
            packed = []
            rowBytes = 0
            return
        }
        let rowBytes = cols / info.type.blockSize * info.type.bytesPerBlock, rows = rows
        self.rowBytes = rowBytes
        let raw = try file.rawBytes(of: info)
        var bytes = [UInt8](repeating: 0, count: rows * rowBytes)
        raw.withUnsafeBytes { src in
            bytes.withUnsafeMutableBytes { dst in
                if let order = tensor.rowOrder {
                    for (r, stored) in order.enumerated() {
                        (dst.baseAddress! + r * rowBytes).copyMemory(from: src.baseAddress! + stored * rowBytes, byteCount: rowBytes)
                    }
                } else {
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[0..<rows * rowBytes]))
                }
            }
        }
        packed = bytes
    }

    /// Whether single-token products run on the integer kernel.
    var hasIntegerKernel: Bool { !packed.isEmpty }
    /// Bytes of the copied blocks.
    var packedBytes: Int { packed.count }

    /// `rows × cols` activations (row-major) rounded in place as llama.cpp rounds them for this product.
    func roundActivations(_ x: inout [Float], rows t: Int) {
        switch activation {
        case .none: return
        case .half: LlamaCppArithmetic.roundToHalf(&x)
        case .q8_0, .q8_1:
            let sum: Int32 = activation == .q8_1 ? 1 : 0
            x.withUnsafeMutableBufferPointer { p in plq_fake_quantize(p.baseAddress!, Int64(t), Int64(cols), sum) }
        }
    }

    /// out[i·rows + r] (+)= dot(weight row r, activation row i) for `t` activation rows of width
    /// cols, on the integer kernel (call only when `hasIntegerKernel`); adds when `accumulate`.
    func multiply(_ x: UnsafePointer<Float>, rows t: Int, into out: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let blocks = cols / 32
        var quantized = [plq_block_q8](repeating: plq_block_q8(), count: blocks * t)
        let sum = plq_activation_sum(kernel)   // Q8_1's fp16 sum, or the integer sum of PLQ_Q4_0_X8
        quantized.withUnsafeMutableBufferPointer { q in
            for i in 0..<t { plq_quantize_row(x + i * cols, q.baseAddress! + i * blocks, Int64(cols), sum) }
        }
        packed.withUnsafeBufferPointer { w in
            quantized.withUnsafeBufferPointer { q in
                _ = plq_matmul_parallel(kernel, w.baseAddress!, Int64(rowBytes), 0, Int64(rows), Int64(cols),
                                        q.baseAddress!, Int64(t), out, Int64(rows), accumulate ? 1 : 0)
            }
        }
    }
}

/// Entry points shared by the llama.cpp-arithmetic paths.
enum LlamaCppArithmetic {
    /// The kernel code (PLQ_*) whose summation order is llama.cpp's for a weight stored as `type`
    /// with `rows` rows. On AVX2 machines llama.cpp repacks every Q4_0 weight it multiplies whose
    /// rows are whole groups of 8 (a tied head too: it loads the embedding a second time as the
    /// output) into interleaved 8-row blocks and sums each output one block at a time
    /// (PLQ_Q4_0_X8); every other weight keeps ggml's row-by-row order.
    static func kernelCode(_ type: GGMLType, rows: Int) -> Int32 {
        type == .q4_0 && rows % 8 == 0 ? Int32(PLQ_Q4_0_X8) : Int32(type.rawValue)
    }

    /// Rounds every value to the nearest fp16 in place (llama.cpp's f16 KV cache and f16 products).
    static func roundToHalf(_ x: inout [Float]) {
        x.withUnsafeMutableBufferPointer { p in plq_round_half(p.baseAddress!, Int64(p.count)) }
    }

    /// Rounds `n` values at `p` to fp16 in place.
    static func roundToHalf(_ p: UnsafeMutablePointer<Float>, count n: Int) { plq_round_half(p, Int64(n)) }

    /// Causal grouped-query attention for `rows` query rows at positions start…start+rows−1 (queries
    /// rows × heads·headDim, keys and values cached rows of `kvWidth`), into `out` (rows ×
    /// heads·headDim): each (row, head) in llama.cpp's order (`plq_attend_row`), split over the
    /// cores (a few rows, as in a decode step, over the thread pool's helpers with
    /// `plq_attend_rows`). A row's result is the same in any batch.
    static func attend(queries q: UnsafePointer<Float>, rows t: Int, start: Int, heads: Int, group: Int, headDim hd: Int,
                       keys: UnsafePointer<Float>, values: UnsafePointer<Float>, kvWidth: Int, scale: Float,
                       out: UnsafeMutablePointer<Float>) {
        let tasks = t * heads, qWidth = heads * hd
        if t <= fewRows {
            var scratch = [Float](repeating: 0, count: tasks * ((start + t + 15) / 16 * 16))
            scratch.withUnsafeMutableBufferPointer { s in
                plq_attend_rows(q, keys, values, Int64(kvWidth), Int64(start), Int64(t), Int64(heads), Int64(group), Int64(hd),
                                scale, s.baseAddress!, out)
            }
            return
        }
        let workers = tasks >= 16 ? min(ProcessInfo.processInfo.activeProcessorCount, tasks) : 1
        let qp = UncheckedSendable(q), kp = UncheckedSendable(keys), vp = UncheckedSendable(values), op = UncheckedSendable(out)
        let run = { (worker: Int) in
            var scores = [Float](repeating: 0, count: (start + t + 15) / 16 * 16)
            scores.withUnsafeMutableBufferPointer { s in
                var task = worker
                while task < tasks {
                    let i = task / heads, head = task % heads, kvOffset = (head / group) * hd
                    plq_attend_row(qp.value + i * qWidth + head * hd, kp.value + kvOffset, vp.value + kvOffset, Int64(kvWidth),
                                   Int64(start + i + 1), Int64(hd), scale, s.baseAddress!, op.value + i * qWidth + head * hd)
                    task += workers
                }
            }
        }
        if workers == 1 { run(0) } else {
            let work = UncheckedSendable(run)
            DispatchQueue.concurrentPerform(iterations: workers) { work.value($0) }
        }
    }

    /// gate ← SiLU(gate) ⊙ up for `rows` rows of `width` values as ggml computes it
    /// (`plq_ggml_swiglu`: its vector exponential), rows split over the cores.
    static func swiglu(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, rows: Int, width: Int) {
        let g = UncheckedSendable(gate), u = UncheckedSendable(up)
        ForwardKernels.parallelChunks(rows) { range in
            plq_ggml_swiglu(g.value + range.lowerBound * width, u.value + range.lowerBound * width, Int64(range.count), Int64(width))
        }
    }
}
