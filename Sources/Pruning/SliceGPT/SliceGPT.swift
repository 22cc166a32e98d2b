import Numerics
import Models

/// SliceGPT (Ashkboos et al. 2024) for llama models: make the network invariant to orthogonal
/// rotations of its residual stream, rotate every position of the stream onto its principal
/// components, and slice the stream from d to k = (1 − r)·d dimensions (rounded down to a
/// multiple of 8, as the authors' default `round_interval`).
///
/// 1. Fold each RMSNorm's scale into the linears that read its output (q/k/v, gate/up, and the
///    final norm into the output head), leaving scale-free RMSNorms. The head of a tied model is
///    untied: it becomes its own matrix, since embedding and head are rotated differently.
/// 2. Sequentially, as the authors do, with calibration windows: the PCA of the embeddings'
///    output gives Q₀; for each block, the stream after attention (in the original basis: the
///    sliced input times Q_inᵀ plus the attention output) gives Q_mid, and the block's output
///    gives Q_out. q/k/v and gate/up read rotated, sliced inputs (W·Q), o and down write rotated,
///    sliced outputs (Qᵀ·W), the embedding becomes E·Q₀ and the head H·Q_last, and each residual
///    connection carries the shortcut matrix Q_inᵀ·Q_mid or Q_midᵀ·Q_out (k × k).
/// 3. The RMSNorms of the sliced stream still divide the sum of squares by the original d (the
///    authors' `RMSN(mean_dim)`), so with r = 0 the rotated model computes the same function.
///
/// The result is a real model (`config.residualSize = k`) that the llama forward pass runs and
/// that saves as safetensors with the shortcut tensors; llama.cpp cannot load that form.
public enum SliceGPT {
    /// The sliced width for hidden size `d` and slicing fraction `ratio`.
    public static func slicedWidth(hidden d: Int, ratio: Double) throws -> Int {
        guard ratio.isFinite, ratio >= 0, ratio < 1 else { throw PruningError("ratio must be in [0, 1), got \(ratio)") }
        var k = Int((1 - ratio) * Double(d))
        if k >= 8 { k -= k % 8 }
        return max(1, min(d, k))
    }

    /// `model` rotated and sliced at `ratio` with calibration windows `samples`;
    /// `progress` hears of each finished block and stops the run by throwing.
    ///
    /// Where the model's linears would not fit in memory as Float32
    /// (`CalibratedUnstructured.spillsByDefault`), or when `spill` is given, memory holds one
    /// block's Float32 linears at a time: the others stay as stored, and each block's rotated,
    /// sliced linears are kept on disk (`TensorSpill`, Q8_0 unless said otherwise; F16 for a
    /// matrix whose rows are not whole blocks of that type) as soon as they are made. The
    /// embedding, the head and the shortcut matrices (k × k) stay in memory.
    public static func prune(_ model: Model, ratio: Double, samples: [[Int32]], spill asked: TensorSpill? = nil,
                             progress: ProgressReporter = .none) throws -> Model {
        guard model.config.residualSize == nil else { throw PruningError("model '\(model.name)' is already sliced") }
        guard !samples.isEmpty else { throw PruningError("SliceGPT needs at least one calibration window") }
        let d = model.config.hiddenSize
        let k = try slicedWidth(hidden: d, ratio: ratio)
        let spill = asked ?? (CalibratedUnstructured.spillsByDefault(model) ? TensorSpill() : nil)
        // Streaming, the weights stay as stored and each block is read in Float32 when its turn comes.
        let dense = try LlamaWeights(model, arithmetic: spill == nil ? .float32 : .quantized)
        var config = model.config
        config.residualSize = k
        config.tiedOutputHead = false
        let ones = [Float](repeating: 1, count: k)

        /// Block b with its norms folded into the linears that read them.
        func folded(_ b: Int) throws -> LlamaWeights.Block {
            let stored = spill == nil ? dense.blocks[b] : try LlamaWeights.block(b, of: model, arithmetic: .float32)
            var f = stored
            f.query.weight = scaleColumns(stored.query.weight, stored.attentionNorm)
            f.key.weight = scaleColumns(stored.key.weight, stored.attentionNorm)
            f.value.weight = scaleColumns(stored.value.weight, stored.attentionNorm)
            f.gate.weight = scaleColumns(stored.gate.weight, stored.ffnNorm)
            f.up.weight = scaleColumns(stored.up.weight, stored.ffnNorm)
            f.attentionNorm = [Float](repeating: 1, count: d); f.ffnNorm = f.attentionNorm
            return f
        }

        // The forward pass whose block b is replaced by its rotated form before it runs (its config
        // already says k for the stream; the norms read the original d from hiddenSize). Each block
        // runs once, on the streams the blocks before it produced.
        var working = dense
        working.config = config
        var forward = LlamaForward(weights: working)
        var streams = try samples.map { try LlamaForward(weights: dense).embed($0) }
        var q = try ResidualPCA.directions(streams, width: d, keep: k).q
        streams = try streams.map { try rotate($0, width: d, by: q) }
        var out = model
        out.config = config
        out.set(.tokenEmbedding, to: try matmul(spill == nil ? dense.embedding : try model.matrix(.tokenEmbedding), q))
        for b in 0..<model.blockCount {
            try progress.check()
            let f = try folded(b)
            // Attention reads the rotated, sliced stream; its output and the shortcut stay in
            // the original basis until the PCA of the stream after attention is known.
            var block = f
            block.attentionNorm = ones
            block.query.weight = try matmul(f.query.weight, q); block.key.weight = try matmul(f.key.weight, q)
            block.value.weight = try matmul(f.value.weight, q)
            block.attentionShortcut = q.transposed
            forward.weights.blocks[b] = block
            let mids = streams.indices.map { forward.runAttention(b, streams[$0], rows: samples[$0].count) }
            let qMid = try ResidualPCA.directions(mids, width: d, keep: k).q
            block.output.weight = try matmul(qMid, f.output.weight, transposeA: true)
            block.attentionShortcut = try matmul(q, qMid, transposeA: true)
            let midStreams = try mids.map { try rotate($0, width: d, by: qMid) }
            // The FFN reads the rotated mid stream; down and its shortcut wait for the output PCA.
            block.ffnNorm = ones
            block.gate.weight = try matmul(f.gate.weight, qMid); block.up.weight = try matmul(f.up.weight, qMid)
            block.ffnShortcut = qMid.transposed
            forward.weights.blocks[b] = block
            let outs = midStreams.indices.map { forward.runFFN(b, midStreams[$0], rows: samples[$0].count) }
            let qOut = try ResidualPCA.directions(outs, width: d, keep: k).q
            block.down.weight = try matmul(qOut, f.down.weight, transposeA: true)
            block.ffnShortcut = try matmul(qMid, qOut, transposeA: true)
            streams = try outs.map { try rotate($0, width: d, by: qOut) }
            q = qOut
            if let spill {
                let names = try PrunableLinears.roles.map { role -> String in
                    guard let t = model.tensor(role, block: b) else { throw PruningError("block \(b) has no \(role.rawValue)") }
                    return t.name
                }
                // A sliced width need not be whole blocks of the spill's type (456 of SmolLM2's 576 is
                // a multiple of 8, not of 32): those matrices go to disk as F16.
                let fallback = TensorSpill(type: .f16, folder: spill.folder)
                for (target, fits) in [(spill, true), (fallback, false)] {
                    let chosen = PrunableLinears.roles.indices.filter { (block[PrunableLinears.roles[$0]].weight.cols % spill.type.blockSize == 0) == fits }
                    guard !chosen.isEmpty else { continue }
                    let stored = try target.store(chosen.map { (names[$0], block[PrunableLinears.roles[$0]].weight) })
                    for (i, t) in zip(chosen, stored) { out.setView(PrunableLinears.roles[i], block: b, to: t) }
                }
                forward.weights.blocks[b] = dense.blocks[b]   // it has run: let its Float32 go
            } else {
                forward.weights.blocks[b] = block
                for role in PrunableLinears.roles { out.set(role, block: b, to: block[role].weight) }
            }
            out.set(.attentionShortcut, block: b, to: block.attentionShortcut!)
            out.set(.ffnShortcut, block: b, to: block.ffnShortcut!)
            out.set(.attentionNorm, block: b, to: try Matrix(rows: 1, cols: k, data: ones))
            out.set(.ffnNorm, block: b, to: try Matrix(rows: 1, cols: k, data: ones))
            try progress.report("slicegpt rotating and slicing", done: b + 1, total: model.blockCount)
        }
        out.set(.outputNorm, to: try Matrix(rows: 1, cols: k, data: ones))
        // Streaming, the Float32 embedding and head are read only when needed, one at a time.
        let head = spill == nil ? dense.head.weight : try model.matrix(model.has(.outputHead) ? .outputHead : .tokenEmbedding)
        out.set(.outputHead, to: try matmul(scaleColumns(head, dense.outputNorm), q))
        try ModelShapes.check(out)
        return out
    }

    /// W·diag(s): column j of `w` times s_j (a norm scale folded into the linear reading it).
    static func scaleColumns(_ w: Matrix, _ s: [Float]) -> Matrix {
        var out = w
        for r in 0..<w.rows { for j in 0..<w.cols { out.data[r * w.cols + j] *= s[j] } }
        return out
    }

    /// x·Q for a window x (rows × width).
    static func rotate(_ x: [Float], width: Int, by q: Matrix) throws -> [Float] {
        try matmul(try Matrix(rows: x.count / width, cols: width, data: x), q).data
    }
}
