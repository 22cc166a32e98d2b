import Foundation
import Numerics

/// The BERT encoder forward pass, batched with BLAS, as Hugging Face's `BertModel` computes it:
/// word + position + token-type-0 embeddings → LayerNorm, then per block (post-LN) biased
/// self-attention → output dense + residual → LayerNorm, FFN up + bias → GELU (erf) → down + bias
/// + residual → LayerNorm; then pooling to one vector per sentence. Runs pruned shapes: any FFN
/// width per block and any number of blocks.
///
/// A batch is packed rather than padded: the tokens of all sentences sit one after another in
/// one (Σ lengths × d) buffer, so every linear layer is one product over all of them, and each
/// sentence attends only to its own tokens. That is exactly a batch padded to the longest
/// sentence with −∞ on the padded keys (their softmax weight is 0), without computing the padding.
/// Read it top to bottom: `encode` → `block` → `attention`; `pooled` / `embed` on top.
public struct BertForward: Sendable {
    /// The weights.
    public let weights: BertWeights
    /// Called with each block's input and each linear layer group's input, when set
    /// (calibration capture); rows are the packed tokens of the batch, and block = blockCount
    /// carries the last block's output.
    public var observer: (@Sendable (ForwardEvent) -> Void)?
    /// Most tokens run through the encoder at once by `pooled`/`embed` (sentences are grouped up
    /// to this; a longer sentence runs alone). Bounds memory on large batches.
    public var tokensPerBatch = 8192

    /// A forward pass over `weights`.
    public init(weights: BertWeights) {
        self.weights = weights
    }

    /// A forward pass over the weights of `model` (a BERT), dequantised.
    public init(model: Model) throws {
        self.init(weights: try BertWeights(model))
    }

    var config: ModelConfig { weights.config }

    /// Throws unless every sentence has 1…`maxLength` ids, each inside the vocabulary.
    public func validate(_ sentences: [[Int32]]) throws {
        let vocab = weights.vocabularySize, limit = weights.maxLength
        for (i, ids) in sentences.enumerated() {
            guard !ids.isEmpty else {
                throw InferenceError.invalidArgument("sentence \(i) has no tokens (a tokenizer gives at least [CLS] [SEP])")
            }
            guard ids.count <= limit else { throw InferenceError.contextFull(needed: ids.count, capacity: limit) }
            if let bad = ids.first(where: { $0 < 0 || Int($0) >= vocab }) {
                throw InferenceError.badToken(id: Int(bad), vocabulary: vocab)
            }
        }
    }

    /// The last hidden states of every token of `sentences` (each a list of token ids with
    /// [CLS]/[SEP] already added), packed: sentence i is rows `spans[i]` of `hidden`.
    /// Throws for an empty sentence, one longer than the position table, or a bad id.
    public func encode(_ sentences: [[Int32]]) throws -> BertHiddenStates {
        try validate(sentences)
        let d = config.hiddenSize
        var spans = [Range<Int>]()
        var t = 0
        for ids in sentences { spans.append(t..<(t + ids.count)); t += ids.count }
        guard t > 0 else { return BertHiddenStates(hidden: Matrix(rows: 0, cols: d), spans: spans) }
        var x = embeddings(sentences, rows: t)
        for b in 0..<weights.blocks.count {
            try Task.checkCancellation()
            block(b, &x, rows: t, spans: spans)
        }
        observer?(.blockInput(block: weights.blocks.count, hidden: x, rows: t))   // the output of the last block
        return BertHiddenStates(hidden: try Matrix(rows: t, cols: d, data: x), spans: spans)
    }

    /// One pooled vector per sentence (sentences × d), before any normalisation: the raw
    /// sentence-transformers `Pooling` output. `progress` hears of the sentences done after each
    /// group of `tokensPerBatch` tokens, and stops the run by throwing.
    public func pooled(_ sentences: [[Int32]], pooling: SentencePooling = .mean,
                       progress: ProgressReporter = .none) throws -> Matrix {
        try validate(sentences)
        let d = config.hiddenSize
        var out = Matrix(rows: sentences.count, cols: d)
        var start = 0
        while start < sentences.count {
            var end = start, tokens = 0
            while end < sentences.count, end == start || tokens + sentences[end].count <= tokensPerBatch {
                tokens += sentences[end].count
                end += 1
            }
            let states = try encode(Array(sentences[start..<end]))
            states.hidden.data.withUnsafeBufferPointer { h in
                out.data.withUnsafeMutableBufferPointer { o in
                    for (i, span) in states.spans.enumerated() {
                        SentencePooling.pool(pooling, h.baseAddress! + span.lowerBound * d, rows: span.count, d: d,
                                             into: o.baseAddress! + (start + i) * d)
                    }
                }
            }
            start = end
            try progress.report("embedding", done: start, total: sentences.count)
        }
        return out
    }

    /// Mean-pooled sentence vectors (sentences × d), not normalised.
    public func meanPooled(_ sentences: [[Int32]]) throws -> Matrix {
        try pooled(sentences, pooling: .mean)
    }

    /// Sentence embeddings (sentences × d): pooled, then L2-normalised when `normalize` is true
    /// (all-MiniLM-L6-v2's pipeline: mean pooling, then a Normalize module).
    public func embed(_ sentences: [[Int32]], pooling: SentencePooling = .mean, normalize: Bool = true,
                      progress: ProgressReporter = .none) throws -> Matrix {
        var m = try pooled(sentences, pooling: pooling, progress: progress)
        if normalize {
            let d = m.cols
            m.data.withUnsafeMutableBufferPointer { p in
                for r in 0..<m.rows { SentenceEmbedding.normalize(p.baseAddress! + r * d, count: d) }
            }
        }
        return m
    }

    /// The embedding of one sentence (d values), mean-pooled and L2-normalised by default.
    public func embed(_ ids: [Int32], pooling: SentencePooling = .mean, normalize: Bool = true) throws -> [Float] {
        try embed([ids], pooling: pooling, normalize: normalize).data
    }

    // MARK: - The pass

    /// word + position + token type 0, then LayerNorm (rows × d).
    func embeddings(_ sentences: [[Int32]], rows t: Int) -> [Float] {
        let d = config.hiddenSize
        var x = [Float](repeating: 0, count: t * d)
        weights.tokenEmbedding.data.withUnsafeBufferPointer { e in
            weights.positionEmbedding.data.withUnsafeBufferPointer { p in
                weights.tokenType.withUnsafeBufferPointer { tt in
                    x.withUnsafeMutableBufferPointer { xp in
                        var r = 0
                        for ids in sentences {
                            for (pos, id) in ids.enumerated() {
                                let row = xp.baseAddress! + r * d, word = e.baseAddress! + Int(id) * d,
                                    place = p.baseAddress! + pos * d
                                for j in 0..<d { row[j] = word[j] + place[j] + tt[j] }
                                r += 1
                            }
                        }
                    }
                }
            }
        }
        layerNorm(&x, rows: t, weight: weights.embeddingNorm, bias: weights.embeddingNormBias)
        return x
    }

    /// One post-LN block on the hidden states `x` (rows × d), in place.
    func block(_ b: Int, _ x: inout [Float], rows t: Int, spans: [Range<Int>]) {
        let w = weights.blocks[b]
        observer?(.blockInput(block: b, hidden: x, rows: t))
        observer?(.linearInput(block: b, role: .attentionQuery, input: x, rows: t))
        let context = attention(w, x, rows: t, spans: spans)
        observer?(.linearInput(block: b, role: .attentionOutput, input: context, rows: t))
        // x ← LayerNorm(x + context·Woᵀ + bo)
        accumulate(&x, context, rows: t, weight: w.output, bias: w.outputBias)
        layerNorm(&x, rows: t, weight: w.attentionNorm, bias: w.attentionNormBias)
        observer?(.linearInput(block: b, role: .ffnUp, input: x, rows: t))
        // x ← LayerNorm(x + GELU(x·Wupᵀ + bup)·Wdownᵀ + bdown)
        var h = project(x, rows: t, weight: w.up, bias: w.upBias)
        h.withUnsafeMutableBufferPointer { hp in
            if let base = hp.baseAddress { ForwardKernels.gelu(base, count: hp.count) }
        }
        observer?(.linearInput(block: b, role: .ffnDown, input: h, rows: t))
        accumulate(&x, h, rows: t, weight: w.down, bias: w.downBias)
        layerNorm(&x, rows: t, weight: w.ffnNorm, bias: w.ffnNormBias)
    }

    /// Multi-head self-attention of `x` (rows × d) within each sentence's span; returns the heads'
    /// outputs concatenated (rows × heads·headDim: d unless head pruning narrowed the block),
    /// before the output projection.
    func attention(_ w: BertWeights.Block, _ x: [Float], rows t: Int, spans: [Range<Int>]) -> [Float] {
        let hd = config.headDimension, d = w.query.rows, heads = d / max(hd, 1)
        let q = project(x, rows: t, weight: w.query, bias: w.queryBias)
        let k = project(x, rows: t, weight: w.key, bias: w.keyBias)
        let v = project(x, rows: t, weight: w.value, bias: w.valueBias)
        let longest = spans.map(\.count).max() ?? 0
        var out = [Float](repeating: 0, count: t * d)
        var scores = [Float](repeating: 0, count: longest * longest)
        let scale = 1 / Float(hd).squareRoot()
        q.withUnsafeBufferPointer { qp in
            k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in
                    scores.withUnsafeMutableBufferPointer { sp in
                        out.withUnsafeMutableBufferPointer { op in
                            let s = sp.baseAddress!
                            for span in spans {
                                let n = span.count, o = span.lowerBound * d
                                for head in 0..<heads {
                                    let c = o + head * hd
                                    // scores = scale · Q_h · K_hᵀ   (n × n, this sentence's keys only)
                                    StridedBLAS.gemm(transB: true, m: n, n: n, k: hd, alpha: scale,
                                                     a: qp.baseAddress! + c, lda: d, b: kp.baseAddress! + c, ldb: d,
                                                     c: s, ldc: n)
                                    ForwardKernels.parallelRows(n) { i in ForwardKernels.softmaxRow(s + i * n, cols: n, limit: n) }
                                    // out_h = P · V_h   (n × hd)
                                    StridedBLAS.gemm(m: n, n: hd, k: n, a: s, lda: n, b: vp.baseAddress! + c, ldb: d,
                                                     c: op.baseAddress! + c, ldc: d)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// a·Wᵀ + bias for a rows × k input and an n × k weight (rows × n).
    func project(_ a: [Float], rows t: Int, weight: Matrix, bias: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: t * weight.rows)
        broadcast(bias, into: &out, rows: t)
        multiplyAdd(&out, a, rows: t, weight: weight)
        return out
    }

    /// x += a·Wᵀ + bias, with a rows × inner, W d × inner (inner may be 0: a fully pruned FFN
    /// leaves only its bias).
    func accumulate(_ x: inout [Float], _ a: [Float], rows t: Int, weight: Matrix, bias: [Float]) {
        let d = bias.count
        x.withUnsafeMutableBufferPointer { xp in
            bias.withUnsafeBufferPointer { bp in
                ForwardKernels.parallelRows(t) { r in
                    let row = xp.baseAddress! + r * d
                    for j in 0..<d { row[j] += bp[j] }
                }
            }
        }
        multiplyAdd(&x, a, rows: t, weight: weight)
    }

    /// c += a·Wᵀ for a rows × k input and an n × k weight; c is rows × n.
    func multiplyAdd(_ c: inout [Float], _ a: [Float], rows t: Int, weight: Matrix) {
        guard t > 0, weight.rows > 0, weight.cols > 0 else { return }
        a.withUnsafeBufferPointer { ap in
            weight.data.withUnsafeBufferPointer { wp in
                c.withUnsafeMutableBufferPointer { cp in
                    StridedBLAS.gemm(transB: true, m: t, n: weight.rows, k: weight.cols, a: ap.baseAddress!, lda: weight.cols,
                                     b: wp.baseAddress!, ldb: weight.cols, beta: 1, c: cp.baseAddress!, ldc: weight.rows)
                }
            }
        }
    }

    /// Every row of `out` (rows × bias.count) set to `bias`.
    func broadcast(_ bias: [Float], into out: inout [Float], rows t: Int) {
        let n = bias.count
        guard n > 0 else { return }
        out.withUnsafeMutableBufferPointer { op in
            bias.withUnsafeBufferPointer { bp in
                ForwardKernels.parallelRows(t) { r in (op.baseAddress! + r * n).update(from: bp.baseAddress!, count: n) }
            }
        }
    }

    /// LayerNorm of every row of `x` (rows × d) in place.
    func layerNorm(_ x: inout [Float], rows t: Int, weight: [Float], bias: [Float]) {
        let d = config.hiddenSize, epsilon = config.normEpsilon
        x.withUnsafeMutableBufferPointer { xp in
            // Each row is read whole (mean, variance) before it is written, so in place is safe.
            ForwardKernels.layerNorm(UnsafePointer(xp.baseAddress!), rows: t, d: d, weight: weight, bias: bias,
                                     epsilon: epsilon, out: xp.baseAddress!)
        }
    }
}

/// The last hidden states of a batch of sentences, packed without padding.
public struct BertHiddenStates: Sendable {
    /// Every token of every sentence (Σ lengths × d), sentence after sentence.
    public let hidden: Matrix
    /// The rows of `hidden` that belong to each sentence.
    public let spans: [Range<Int>]

    /// The hidden states of sentence `i` (its length × d).
    public func sentence(_ i: Int) -> Matrix {
        let d = hidden.cols, span = spans[i]
        return try! Matrix(rows: span.count, cols: d, data: Array(hidden.data[(span.lowerBound * d)..<(span.upperBound * d)]))
    }
}
