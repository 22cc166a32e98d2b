import Numerics

/// A llama model's weights dequantised to Float32 and laid out for the forward pass: one struct
/// per block (its FFN width may differ from the others'), the embedding, the final norm and the
/// output head (the embedding itself when tied; the matrices share storage). A SliceGPT-sliced
/// model carries a residual stream narrower than the hidden size and a shortcut matrix on each
/// residual connection.
public struct LlamaWeights: Sendable {
    /// One transformer block.
    public struct Block: Sendable {
        /// RMSNorm scale before attention (d).
        public var attentionNorm: [Float]
        /// Query projection (heads·headDim × d), rows in GGUF's RoPE order.
        public var query: Matrix { didSet { llamaCpp[.attentionQuery] = nil } }
        /// Key projection (kvHeads·headDim × d), rows in GGUF's RoPE order.
        public var key: Matrix { didSet { llamaCpp[.attentionKey] = nil } }
        /// Value projection (kvHeads·headDim × d).
        public var value: Matrix { didSet { llamaCpp[.attentionValue] = nil } }
        /// Attention output projection (d × heads·headDim).
        public var output: Matrix { didSet { llamaCpp[.attentionOutput] = nil } }
        /// RMSNorm scale before the FFN (d).
        public var ffnNorm: [Float]
        /// FFN gate projection (n × d).
        public var gate: Matrix { didSet { llamaCpp[.ffnGate] = nil } }
        /// FFN up projection (n × d).
        public var up: Matrix { didSet { llamaCpp[.ffnUp] = nil } }
        /// FFN down projection (d × n).
        public var down: Matrix { didSet { llamaCpp[.ffnDown] = nil } }
        /// SliceGPT's shortcut on the residual around attention (in × mid), nil for identity.
        public var attentionShortcut: Matrix? = nil
        /// SliceGPT's shortcut on the residual around the FFN (mid × out), nil for identity.
        public var ffnShortcut: Matrix? = nil
        /// The stored (quantised) form of each linear still as loaded, for llama.cpp's arithmetic;
        /// assigning a matrix drops its entry, so a changed weight is never multiplied stale.
        public var llamaCpp: [TensorRole: LlamaCppLinear] = [:]
        /// The FFN width n of this block.
        public var width: Int { up.rows }

        /// A block from its matrices.
        public init(attentionNorm: [Float], query: Matrix, key: Matrix, value: Matrix, output: Matrix,
                    ffnNorm: [Float], gate: Matrix, up: Matrix, down: Matrix,
                    attentionShortcut: Matrix? = nil, ffnShortcut: Matrix? = nil, llamaCpp: [TensorRole: LlamaCppLinear] = [:]) {
            self.attentionNorm = attentionNorm
            self.query = query
            self.key = key
            self.value = value
            self.output = output
            self.ffnNorm = ffnNorm
            self.gate = gate
            self.up = up
            self.down = down
            self.attentionShortcut = attentionShortcut
            self.ffnShortcut = ffnShortcut
            self.llamaCpp = llamaCpp
        }
    }

    /// The config the weights follow.
    public var config: ModelConfig
    /// Token embedding (vocab × residual width).
    public var embedding: Matrix
    /// Final RMSNorm scale (residual width).
    public var outputNorm: [Float]
    /// Output head (vocab × residual width).
    public var head: Matrix { didSet { headLlamaCpp = nil } }
    /// The output head's stored form for llama.cpp's arithmetic (dropped when `head` is assigned).
    public var headLlamaCpp: LlamaCppLinear?
    /// The arithmetic the forward pass uses (see `ForwardArithmetic`).
    public var arithmetic: ForwardArithmetic
    /// The blocks in order (a consumer of sequential calibration replaces them one by one).
    public var blocks: [Block]

    /// Dequantises every weight of `model` (a llama); with llama.cpp's arithmetic (opt-in: the
    /// default stays Float32 until its batch/one-token consistency is settled) it also keeps each quantised linear's stored blocks. Throws when a tensor is missing or the
    /// model is not a llama.
    public init(_ model: Model, arithmetic: ForwardArithmetic = .float32) throws {
        self.arithmetic = arithmetic
        guard model.config.architecture == .llama else {
            throw ModelError.inconsistent(model: model.name, detail: "is a \(model.config.architecture.rawValue) model, not a llama")
        }
        config = model.config
        embedding = try model.matrix(.tokenEmbedding)
        outputNorm = try model.matrix(.outputNorm).data
        head = model.has(.outputHead) ? try model.matrix(.outputHead) : embedding
        func stored(_ role: TensorRole, block: Int? = nil) throws -> LlamaCppLinear? {
            guard arithmetic == .llamaCpp, let t = model.tensor(role, block: block) else { return nil }
            return try LlamaCppLinear(t)
        }
        headLlamaCpp = try stored(model.has(.outputHead) ? .outputHead : .tokenEmbedding)
        let linearRoles: [TensorRole] = [.attentionQuery, .attentionKey, .attentionValue, .attentionOutput, .ffnGate, .ffnUp, .ffnDown]
        blocks = try (0..<model.blockCount).map { b in
            Block(attentionNorm: try model.matrix(.attentionNorm, block: b).data,
                  query: try model.matrix(.attentionQuery, block: b), key: try model.matrix(.attentionKey, block: b),
                  value: try model.matrix(.attentionValue, block: b), output: try model.matrix(.attentionOutput, block: b),
                  ffnNorm: try model.matrix(.ffnNorm, block: b).data,
                  gate: try model.matrix(.ffnGate, block: b), up: try model.matrix(.ffnUp, block: b),
                  down: try model.matrix(.ffnDown, block: b),
                  attentionShortcut: model.has(.attentionShortcut, block: b) ? try model.matrix(.attentionShortcut, block: b) : nil,
                  ffnShortcut: model.has(.ffnShortcut, block: b) ? try model.matrix(.ffnShortcut, block: b) : nil,
                  llamaCpp: try Dictionary(uniqueKeysWithValues: linearRoles.compactMap { role in
                      try stored(role, block: b).map { (role, $0) }
                  }))
        }
    }
}
