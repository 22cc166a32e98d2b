import Numerics

/// A BERT encoder's weights dequantised to Float32 and laid out for the forward pass: the
/// embeddings and their LayerNorm, then one struct per block (its FFN width may differ from the
/// others', and blocks may have been removed). Linear weights are (out × in), as Hugging Face
/// stores them.
public struct BertWeights: Sendable {
    /// One post-LayerNorm encoder block.
    public struct Block: Sendable {
        /// Query projection (d × d) and its bias (d).
        public var query: Matrix, queryBias: [Float]
        /// Key projection (d × d) and its bias (d).
        public var key: Matrix, keyBias: [Float]
        /// Value projection (d × d) and its bias (d).
        public var value: Matrix, valueBias: [Float]
        /// Attention output projection (d × d) and its bias (d).
        public var output: Matrix, outputBias: [Float]
        /// LayerNorm after the attention residual: scale and shift (d).
        public var attentionNorm: [Float], attentionNormBias: [Float]
        /// FFN up projection, BERT's `intermediate.dense` (n × d), and its bias (n).
        public var up: Matrix, upBias: [Float]
        /// FFN down projection, BERT's `output.dense` (d × n), and its bias (d).
        public var down: Matrix, downBias: [Float]
        /// LayerNorm after the FFN residual: scale and shift (d).
        public var ffnNorm: [Float], ffnNormBias: [Float]
        /// The FFN width n of this block.
        public var width: Int { up.rows }
    }

    /// The config the weights follow.
    public let config: ModelConfig
    /// Word-piece embedding (vocab × d).
    public let tokenEmbedding: Matrix
    /// Absolute position embedding (positions × d); its row count is the longest input.
    public let positionEmbedding: Matrix
    /// Row 0 of the token-type embedding (d): every token is segment A (zeros if the model has none).
    public let tokenType: [Float]
    /// LayerNorm of the summed embeddings: scale and shift (d).
    public let embeddingNorm: [Float], embeddingNormBias: [Float]
    /// The blocks in order.
    public let blocks: [Block]

    /// Dequantises every weight of `model` (a BERT). A missing linear bias counts as zeros (a
    /// pruner may drop one); a missing weight, a non-BERT model or a shape that does not fit
    /// the config throws `ModelError`.
    public init(_ model: Model) throws {
        guard model.config.architecture == .bert else {
            throw ModelError.inconsistent(model: model.name, detail: "is a \(model.config.architecture.rawValue) model, not a BERT encoder")
        }
        let config = model.config, d = config.hiddenSize
        func fail(_ detail: String) -> ModelError { .inconsistent(model: model.name, detail: detail) }
        func vector(_ role: TensorRole, _ part: TensorPart, block: Int? = nil, count: Int, zerosIfMissing: Bool) throws -> [Float] {
            if zerosIfMissing, !model.has(role, part, block: block) { return [Float](repeating: 0, count: count) }
            let v = try model.matrix(role, part, block: block).data
            guard v.count == count else {
                throw fail("\(block.map { "block \($0) " } ?? "")\(role.rawValue) \(part.rawValue) has \(v.count) values, expected \(count)")
            }
            return v
        }
        func linear(_ role: TensorRole, block b: Int, rows: Int?, cols: Int) throws -> (Matrix, [Float]) {
            let w = try model.matrix(role, block: b)
            guard w.cols == cols, rows.map({ $0 == w.rows }) ?? true else {
                throw fail("block \(b) \(role.rawValue) weight is \(w.rows)×\(w.cols), expected \(rows.map(String.init) ?? "n")×\(cols)")
            }
            return (w, try vector(role, .bias, block: b, count: w.rows, zerosIfMissing: true))
        }
        guard config.heads > 0, d % config.heads == 0 else {
            throw fail("hidden size \(d) is not a multiple of \(config.heads) heads")
        }
        self.config = config
        tokenEmbedding = try model.matrix(.tokenEmbedding)
        positionEmbedding = try model.matrix(.positionEmbedding)
        guard tokenEmbedding.cols == d, positionEmbedding.cols == d else {
            throw fail("embeddings are \(tokenEmbedding.cols) and \(positionEmbedding.cols) wide, hidden size is \(d)")
        }
        if model.has(.tokenTypeEmbedding) {
            let types = try model.matrix(.tokenTypeEmbedding)
            guard types.cols == d, types.rows > 0 else { throw fail("token-type embedding is \(types.rows)×\(types.cols)") }
            tokenType = types.row(0)
        } else {
            tokenType = [Float](repeating: 0, count: d)
        }
        embeddingNorm = try vector(.embeddingNorm, .weight, count: d, zerosIfMissing: false)
        embeddingNormBias = try vector(.embeddingNorm, .bias, count: d, zerosIfMissing: false)
        blocks = try (0..<model.blockCount).map { b in
            let a = config.heads(inBlock: b) * config.headDimension   // d unless head pruning narrowed the block
            let (q, qb) = try linear(.attentionQuery, block: b, rows: a, cols: d)
            let (k, kb) = try linear(.attentionKey, block: b, rows: a, cols: d)
            let (v, vb) = try linear(.attentionValue, block: b, rows: a, cols: d)
            let (o, ob) = try linear(.attentionOutput, block: b, rows: d, cols: a)
            let (up, upb) = try linear(.ffnUp, block: b, rows: nil, cols: d)
            let (down, downb) = try linear(.ffnDown, block: b, rows: d, cols: up.rows)
            return Block(query: q, queryBias: qb, key: k, keyBias: kb, value: v, valueBias: vb, output: o, outputBias: ob,
                         attentionNorm: try vector(.attentionOutputNorm, .weight, block: b, count: d, zerosIfMissing: false),
                         attentionNormBias: try vector(.attentionOutputNorm, .bias, block: b, count: d, zerosIfMissing: false),
                         up: up, upBias: upb, down: down, downBias: downb,
                         ffnNorm: try vector(.ffnOutputNorm, .weight, block: b, count: d, zerosIfMissing: false),
                         ffnNormBias: try vector(.ffnOutputNorm, .bias, block: b, count: d, zerosIfMissing: false))
        }
    }

    /// The most tokens one sentence may have (rows of the position table).
    public var maxLength: Int { positionEmbedding.rows }
    /// The vocabulary size (rows of the token embedding).
    public var vocabularySize: Int { tokenEmbedding.rows }
}
