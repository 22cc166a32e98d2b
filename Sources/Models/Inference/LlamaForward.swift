import CQuant
import Foundation
import Numerics

/// The llama forward pass, batched over a window with BLAS, as llama.cpp computes it for GGUF
/// weights: RMSNorm, RoPE on adjacent pairs (GGUF's query/key row order), grouped-query causal
/// attention over a KV cache, SwiGLU FFN of any width per block, final norm and output head.
/// Read it top to bottom: `forward` → `block` → `attention` / `ffn`. Every projection is a
/// `Linear`, which computes its own product in the weights' arithmetic (`ForwardArithmetic`).
public struct LlamaForward: Sendable {
    /// The weights (a sequential-calibration consumer replaces blocks as it goes).
    public var weights: LlamaWeights
    /// Called with each block's input before the block runs, when set (calibration capture).
    public var observer: (@Sendable (ForwardEvent) -> Void)?

    /// A forward pass over `weights`.
    public init(weights: LlamaWeights) {
        self.weights = weights
    }

    var config: ModelConfig { weights.config }

    /// A cache sized for `capacity` positions.
    public func makeCache(capacity: Int) -> KVCache { KVCache(config: config, capacity: capacity) }

    /// Runs `tokens` at positions cache.count… and returns the final hidden states after the
    /// output norm (tokens × residual width); keys and values are appended to `cache`. Throws on
    /// an id outside the vocabulary or a cache too small. `checkpoint` is called before each block
    /// (a `ProgressReporter`'s `check`): a stop it throws ends the pass within one block's time.
    public func forward(_ tokens: [Int32], cache: inout KVCache, checkpoint: () throws -> Void = {}) throws -> Matrix {
        // The cache moves into a one-element batch and back, so it is never copied.
        var caches = [KVCache.empty]
        swap(&cache, &caches[0])
        defer { swap(&cache, &caches[0]) }
        return try forward(batch: [tokens], caches: &caches, checkpoint: checkpoint)
    }

    /// Runs several independent sequences in one pass: sequence i continues `caches[i]` (its
    /// tokens at positions caches[i].count…). The linear layers see every row of every sequence
    /// at once, which is what makes many short sequences fast (the weights are read once per
    /// pass, not once per sequence); attention stays within each sequence. Returns the final
    /// hidden states of all sequences stacked in order (Σ tokens × residual width). Each
    /// sequence's rows equal what `forward(_:cache:)` gives it alone, up to the rounding of a
    /// differently blocked product (and bit for bit in the llama.cpp arithmetic, whose products
    /// are row by row). `checkpoint` is called before each block.
    public func forward(batch sequences: [[Int32]], caches: inout [KVCache], checkpoint: () throws -> Void = {}) throws -> Matrix {
        guard sequences.count == caches.count else {
            throw InferenceError.invalidArgument("\(sequences.count) sequences need as many caches, got \(caches.count)")
        }
        var segments: [Segment] = [], t = 0
        for (i, tokens) in sequences.enumerated() {
            guard caches[i].count + tokens.count <= caches[i].capacity else {
                throw InferenceError.contextFull(needed: caches[i].count + tokens.count, capacity: caches[i].capacity)
            }
            segments.append(Segment(rows: t..<t + tokens.count, start: caches[i].count, cache: i))
            t += tokens.count
        }
        guard t > 0 else { return Matrix(rows: 0, cols: weights.embeddingWidth) }
        var x = try embed(sequences.flatMap { $0 })
        for b in 0..<weights.blocks.count {
            try checkpoint()
            observer?(.blockInput(block: b, hidden: x, rows: t))
            block(b, &x, rows: t, segments: segments, caches: &caches, slot: b)
        }
        observer?(.blockInput(block: weights.blocks.count, hidden: x, rows: t))   // the stream after the last block
        for s in segments { caches[s.cache].advance(by: s.rows.count) }
        return finalNorm(x, rows: t)
    }

    /// One sequence's rows inside a pass: rows `rows` of the stacked input, at positions
    /// start…, with keys and values in `caches[cache]`.
    struct Segment {
        var rows: Range<Int>
        var start: Int
        var cache: Int
    }

    /// The embedding rows of `tokens` (tokens × residual width, row-major); throws on an id
    /// outside the vocabulary.
    public func embed(_ tokens: [Int32]) throws -> [Float] {
        let d = weights.embeddingWidth
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= weights.vocabularySize }) {
            throw InferenceError.badToken(id: Int(bad), vocabulary: weights.vocabularySize)
        }
        var x = [Float](repeating: 0, count: tokens.count * d)
        if let blocks = weights.embeddingBlocks {   // quantised-only: dequantise each token's row
            x.withUnsafeMutableBufferPointer { xp in
                for (i, id) in tokens.enumerated() { blocks.dequantizeRows(Int(id)..<Int(id) + 1, into: xp.baseAddress! + i * d) }
            }
            return x
        }
        weights.embedding.data.withUnsafeBufferPointer { e in
            for (i, id) in tokens.enumerated() {
                for j in 0..<d { x[i * d + j] = e[Int(id) * d + j] }
            }
        }
        return x
    }

    /// The output norm of the residual stream `x` (rows × residual width).
    public func finalNorm(_ x: [Float], rows t: Int) -> Matrix {
        let d = t > 0 ? x.count / t : weights.embeddingWidth
        var out = Matrix(rows: t, cols: d)
        guard t > 0 else { return out }
        x.withUnsafeBufferPointer { xp in
            out.data.withUnsafeMutableBufferPointer { op in
                ForwardKernels.rmsNorm(xp.baseAddress!, rows: t, d: d, weight: weights.outputNorm, epsilon: config.normEpsilon,
                                       meanOver: config.hiddenSize, floatScale: weights.arithmetic == .llamaCpp, out: op.baseAddress!)
            }
        }
        return out
    }

    /// Logits (rows × vocab) of hidden-state rows `rows` of `hidden`.
    public func logits(_ hidden: Matrix, rows: Range<Int>) -> Matrix {
        let d = weights.head.inputs
        let slice = Array(hidden.data[rows.lowerBound * d..<rows.upperBound * d])
        var out = Matrix(rows: rows.count, cols: weights.head.outputs)
        out.data = weights.head.apply(slice, rows: rows.count)
        return out
    }

    /// Block `b` alone on one window `x` (rows × its input width) at positions 0..<rows, with a
    /// cache of its own; `x` becomes the block's output. Observer events fire as in `forward`
    /// (sequential calibration runs a model this way, block by block).
    public func runBlock(_ b: Int, _ x: inout [Float], rows t: Int) {
        var caches = [KVCache(width: config.kvHeads * config.headDimension, capacity: t, blocks: 1)]
        block(b, &x, rows: t, segments: [Segment(rows: 0..<t, start: 0, cache: 0)], caches: &caches, slot: 0)
    }

    /// The attention half of block `b` alone on one window (positions 0..<rows): returns the
    /// residual stream after attention (the FFN norm's input).
    public func runAttention(_ b: Int, _ x: [Float], rows t: Int) -> [Float] {
        var caches = [KVCache(width: config.kvHeads * config.headDimension, capacity: t, blocks: 1)]
        var y = x
        attentionSublayer(b, &y, rows: t, segments: [Segment(rows: 0..<t, start: 0, cache: 0)], caches: &caches, slot: 0)
        return y
    }

    /// The FFN half of block `b` on the residual stream `x`: returns the block's output.
    public func runFFN(_ b: Int, _ x: [Float], rows t: Int) -> [Float] {
        var y = x
        ffnSublayer(b, &y, rows: t)
        return y
    }

    /// One block on the residual stream `x` (rows × width), in place; `slot` is the caches'
    /// block slot (b unless the block runs alone).
    func block(_ b: Int, _ x: inout [Float], rows t: Int, segments: [Segment], caches: inout [KVCache], slot: Int) {
        attentionSublayer(b, &x, rows: t, segments: segments, caches: &caches, slot: slot)
        ffnSublayer(b, &x, rows: t)
    }

    /// x ← x·S + attention(norm(x))·Woᵀ, S the attention shortcut (identity when nil).
    func attentionSublayer(_ b: Int, _ x: inout [Float], rows t: Int, segments: [Segment], caches: inout [KVCache], slot: Int) {
        let w = weights.blocks[b]
        let h = normed(x, rows: t, weight: w.attentionNorm)
        observer?(.linearInput(block: b, role: .attentionQuery, input: h, rows: t))
        let attended = attention(b, h, rows: t, segments: segments, caches: &caches, slot: slot)
        observer?(.linearInput(block: b, role: .attentionOutput, input: attended, rows: t))
        if let s = w.attentionShortcut { x = multiply(x, rows: t, by: s) }
        w.output.apply(attended, rows: t, addingTo: &x)
    }

    /// x ← x·S + FFN(norm(x)), S the FFN shortcut (identity when nil).
    func ffnSublayer(_ b: Int, _ x: inout [Float], rows t: Int) {
        let w = weights.blocks[b]
        let h = normed(x, rows: t, weight: w.ffnNorm)
        observer?(.linearInput(block: b, role: .ffnUp, input: h, rows: t))
        let act = ffnActivation(w, h, rows: t)
        observer?(.linearInput(block: b, role: .ffnDown, input: act, rows: t))
        if let s = w.ffnShortcut { x = multiply(x, rows: t, by: s) }
        w.down.apply(act, rows: t, addingTo: &x)
    }

    /// RMSNorm of each row of `x` (mean square over the hidden size, as SliceGPT keeps it).
    func normed(_ x: [Float], rows t: Int, weight: [Float]) -> [Float] {
        let d = x.count / max(t, 1)
        var h = [Float](repeating: 0, count: x.count)
        guard t > 0 else { return h }
        x.withUnsafeBufferPointer { xp in
            h.withUnsafeMutableBufferPointer { hp in
                ForwardKernels.rmsNorm(xp.baseAddress!, rows: t, d: d, weight: weight, epsilon: config.normEpsilon,
                                       meanOver: config.hiddenSize, floatScale: weights.arithmetic == .llamaCpp, out: hp.baseAddress!)
            }
        }
        return h
    }

    /// x·S for a rows × S.rows stream (a shortcut matrix on the residual connection).
    func multiply(_ x: [Float], rows t: Int, by s: Matrix) -> [Float] { Self.shortcut(x, rows: t, s) }

    /// x·S (rows × S.cols) for a stream x of `t` rows × S.rows: a SliceGPT shortcut on the residual
    /// connection, the one product the forward pass and the training forward share for it.
    public static func shortcut(_ x: [Float], rows t: Int, _ s: Matrix) -> [Float] {
        var out = [Float](repeating: 0, count: t * s.cols)
        x.withUnsafeBufferPointer { xp in
            s.data.withUnsafeBufferPointer { sp in
                out.withUnsafeMutableBufferPointer { op in
                    StridedBLAS.gemm(m: t, n: s.cols, k: s.rows, a: xp.baseAddress!, lda: s.rows,
                                     b: sp.baseAddress!, ldb: s.cols, c: op.baseAddress!, ldc: s.cols)
                }
            }
        }
        return out
    }

    /// SiLU(h·Wgᵀ) ⊙ (h·Wuᵀ): the FFN's intermediate activations (rows × n).
    func ffnActivation(_ w: LlamaWeights.Block, _ h: [Float], rows t: Int) -> [Float] {
        let gateUp = Linear.apply([w.gate, w.up], h, rows: t)
        var g = gateUp[0]
        let u = gateUp[1]
        g.withUnsafeMutableBufferPointer { gp in
            u.withUnsafeBufferPointer { up in
                if weights.arithmetic == .llamaCpp {
                    LlamaCppArithmetic.swiglu(gate: gp.baseAddress!, up: up.baseAddress!, rows: t, width: w.width)
                } else {
                    ForwardKernels.swiglu(gate: gp.baseAddress!, up: up.baseAddress!, count: t * w.width)
                }
            }
        }
        return g
    }

    /// Causal grouped-query attention of the normed input `h` (rows × d): each segment's rows
    /// at its positions, attending to its own cache (slot `slot`) after appending its keys and
    /// values; returns the heads' outputs concatenated (rows × heads·headDim).
    func attention(_ b: Int, _ h: [Float], rows t: Int, segments: [Segment], caches: inout [KVCache], slot: Int) -> [Float] {
        let w = weights.blocks[b]
        // This block's heads (head pruning may leave blocks with fewer; the cache rows are the
        // widest block's, of which this block uses the first kvHeads·hd).
        let heads = config.heads(inBlock: b), kvHeads = config.kvHeads(inBlock: b), hd = config.headDimension
        let qWidth = heads * hd, kvWidth = kvHeads * hd
        let qkv = Linear.apply([w.query, w.key, w.value], h, rows: t)
        var q = qkv[0], k = qkv[1], v = qkv[2]
        let half = weights.arithmetic == .llamaCpp
        var positions = [Int](repeating: 0, count: t)
        for s in segments { for r in s.rows { positions[r] = s.start + r - s.rows.lowerBound } }
        RoPE.apply(&q, rows: t, heads: heads, headDim: hd, ropeDims: config.ropeDimensions, base: config.ropeBase, positions: positions, ggmlAngles: half)
        RoPE.apply(&k, rows: t, heads: kvHeads, headDim: hd, ropeDims: config.ropeDimensions, base: config.ropeBase, positions: positions, ggmlAngles: half)
        if half {   // llama.cpp's f16 KV cache, and the queries converted to f16 for K·Q.
            LlamaCppArithmetic.roundToHalf(&q)
            LlamaCppArithmetic.roundToHalf(&k)
            LlamaCppArithmetic.roundToHalf(&v)
        }
        var out = [Float](repeating: 0, count: t * qWidth)
        let scale = 1 / Float(hd).squareRoot()
        let group = heads / kvHeads
        for s in segments where !s.rows.isEmpty {
            let n = s.rows.count, first = s.rows.lowerBound, start = s.start
            // Append the segment's keys and values to its cache.
            caches[s.cache].keys[slot].withUnsafeMutableBufferPointer { kc in
                k.withUnsafeBufferPointer { kp in (kc.baseAddress! + start * kvWidth).update(from: kp.baseAddress! + first * kvWidth, count: n * kvWidth) }
            }
            caches[s.cache].values[slot].withUnsafeMutableBufferPointer { vc in
                v.withUnsafeBufferPointer { vp in (vc.baseAddress! + start * kvWidth).update(from: vp.baseAddress! + first * kvWidth, count: n * kvWidth) }
            }
            q.withUnsafeBufferPointer { qb in
                caches[s.cache].keys[slot].withUnsafeBufferPointer { kc in
                    caches[s.cache].values[slot].withUnsafeBufferPointer { vc in
                        out.withUnsafeMutableBufferPointer { ob in
                            let qp = qb.baseAddress! + first * qWidth, op = ob.baseAddress! + first * qWidth
                            if half {
                                LlamaCppArithmetic.attend(queries: qp, rows: n, start: start, heads: heads, group: group,
                                                          headDim: hd, keys: kc.baseAddress!, values: vc.baseAddress!, kvWidth: kvWidth,
                                                          scale: scale, out: op)
                            } else {
                                Self.attend(queries: qp, rows: n, start: start, heads: heads, group: group, headDim: hd,
                                            keys: kc.baseAddress!, values: vc.baseAddress!, kvWidth: kvWidth, scale: scale, out: op)
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Float32 causal attention of `rows` queries at positions start… over the cache's first
    /// start + rows keys and values: out_h = softmax(scale·Q_h·K_gᵀ)·V_g. A window goes head by head
    /// with BLAS; a few rows (a decode step) go to `plq_attend_rows_f32`, split over kv heads and
    /// spans of positions on the thread pool (two BLAS calls per head cost more than the walk).
    static func attend(queries q: UnsafePointer<Float>, rows t: Int, start: Int, heads: Int, group: Int, headDim hd: Int,
                       keys: UnsafePointer<Float>, values: UnsafePointer<Float>, kvWidth: Int, scale: Float,
                       out: UnsafeMutablePointer<Float>) {
        let total = start + t, qWidth = heads * hd
        if t <= fewRows {
            var scratch = [Float](repeating: 0, count: Int(plq_attend_rows_f32_scratch(Int64(start), Int64(t), Int64(heads), Int64(group), Int64(hd))))
            scratch.withUnsafeMutableBufferPointer { s in
                plq_attend_rows_f32(q, keys, values, Int64(kvWidth), Int64(start), Int64(t), Int64(heads), Int64(group), Int64(hd),
                                    scale, s.baseAddress!, out)
            }
            return
        }
        var scores = [Float](repeating: 0, count: t * total)
        scores.withUnsafeMutableBufferPointer { sp in
            let s = sp.baseAddress!
            for head in 0..<heads {
                let kvHead = head / group
                // scores = scale · Q_h · K_gᵀ   (t × total)
                StridedBLAS.gemm(transB: true, m: t, n: total, k: hd, alpha: scale,
                                 a: q + head * hd, lda: qWidth, b: keys + kvHead * hd, ldb: kvWidth, c: s, ldc: total)
                ForwardKernels.parallelRows(t) { i in ForwardKernels.softmaxRow(s + i * total, cols: total, limit: start + i + 1) }
                // out_h = P · V_g   (t × hd)
                StridedBLAS.gemm(m: t, n: hd, k: total, a: s, lda: total, b: values + kvHead * hd, ldb: kvWidth,
                                 c: out + head * hd, ldc: qWidth)
            }
        }
    }
}

/// Query rows up to which attention runs row by row on the thread pool rather than head by head
/// with BLAS (a decode step has one).
let fewRows = 4

/// What a forward pass shows an observer (calibration capture): a block's input on the residual
/// stream, and the input of each group of linear layers (q/k/v share one input, gate/up another).
public enum ForwardEvent: @unchecked Sendable {
    /// The residual stream entering `block` (rows × d, row-major); block = blockCount is the
    /// stream after the last block, before the final norm.
    case blockInput(block: Int, hidden: [Float], rows: Int)
    /// The input of the linear layers at `role` in `block` (rows × in, row-major):
    /// `.attentionQuery` stands for q/k/v, `.attentionOutput` for o, `.ffnUp` for gate/up,
    /// `.ffnDown` for down.
    case linearInput(block: Int, role: TensorRole, input: [Float], rows: Int)
}

/// A forward pass that cannot run as asked.
public enum InferenceError: Error, CustomStringConvertible, Equatable {
    /// More positions than the cache holds.
    case contextFull(needed: Int, capacity: Int)
    /// A token id outside the vocabulary.
    case badToken(id: Int, vocabulary: Int)
    /// An evaluation argument out of range.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .contextFull(needed, capacity): return "the context holds \(capacity) tokens, \(needed) were needed"
        case let .badToken(id, vocabulary): return "token id \(id) is outside the vocabulary (0..<\(vocabulary))"
        case let .invalidArgument(message): return message
        }
    }
}
