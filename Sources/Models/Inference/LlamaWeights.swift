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
        public var query: Linear
        /// Key projection (kvHeads·headDim × d), rows in GGUF's RoPE order.
        public var key: Linear
        /// Value projection (kvHeads·headDim × d).
        public var value: Linear
        /// Attention output projection (d × heads·headDim).
        public var output: Linear
        /// RMSNorm scale before the FFN (d).
        public var ffnNorm: [Float]
        /// FFN gate projection (n × d).
        public var gate: Linear
        /// FFN up projection (n × d).
        public var up: Linear
        /// FFN down projection (d × n).
        public var down: Linear
        /// SliceGPT's shortcut on the residual around attention (in × mid), nil for identity.
        public var attentionShortcut: Matrix? = nil
        /// SliceGPT's shortcut on the residual around the FFN (mid × out), nil for identity.
        public var ffnShortcut: Matrix? = nil
        /// The FFN width n of this block.
        public var width: Int { up.outputs }

        /// A block from its norms and linears.
        public init(attentionNorm: [Float], query: Linear, key: Linear, value: Linear, output: Linear,
                    ffnNorm: [Float], gate: Linear, up: Linear, down: Linear,
                    attentionShortcut: Matrix? = nil, ffnShortcut: Matrix? = nil) {
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
        }

        /// The linear at `role`, one of the seven projections (`.attentionQuery` … `.ffnDown`);
        /// any other role is a programming error and traps.
        public subscript(role: TensorRole) -> Linear {
            get { self[keyPath: Self.linear(role)] }
            set { self[keyPath: Self.linear(role)] = newValue }
        }

        /// Where the linear at `role` lives in a block (one of the seven projections).
        public static func linear(_ role: TensorRole) -> WritableKeyPath<Block, Linear> {
            switch role {
            case .attentionQuery: return \.query
            case .attentionKey: return \.key
            case .attentionValue: return \.value
            case .attentionOutput: return \.output
            case .ffnGate: return \.gate
            case .ffnUp: return \.up
            case .ffnDown: return \.down
            default: preconditionFailure("\(role.rawValue) is not a linear of a llama block")
            }
        }
    }

    /// The config the weights follow.
    public var config: ModelConfig
    /// Token embedding (vocab × residual width).
    public var embedding: Matrix
    /// Final RMSNorm scale (residual width).
    public var outputNorm: [Float]
    /// Output head (vocab × residual width); the embedding's matrix when tied (shared storage).
    public var head: Linear
    /// The arithmetic the forward pass uses (see `ForwardArithmetic`).
    public var arithmetic: ForwardArithmetic
    /// The blocks in order (a consumer of sequential calibration replaces them one by one).
    public var blocks: [Block]

    /// Dequantises every weight of `model` (a llama). With llama.cpp's arithmetic each linear
    /// also keeps its stored quantised form, so its products are llama.cpp's (see
    /// `ForwardArithmetic`); Float32 is the default. Throws when a tensor is missing or the model
    /// is not a llama.
    public init(_ model: Model, arithmetic: ForwardArithmetic = .float32) throws {
        self.arithmetic = arithmetic
        guard model.config.architecture == .llama else {
            throw ModelError.inconsistent(model: model.name, detail: "is a \(model.config.architecture.rawValue) model, not a llama")
        }
        config = model.config
        embedding = try model.matrix(.tokenEmbedding)
        outputNorm = try model.matrix(.outputNorm).data
        /// The linear of the tensor at `role`; `weight` is its values when already read.
        func linear(_ role: TensorRole, block: Int? = nil, weight: Matrix? = nil) throws -> Linear {
            guard let t = model.tensor(role, block: block) else {
                throw ModelError.missingTensor(model: model.name, place: model.describe(TensorPlace(role, block: block)))
            }
            return try Linear(t, arithmetic: arithmetic, weight: weight)
        }
        // A tied head is the embedding: the same matrix, and the embedding's stored form.
        head = model.has(.outputHead) ? try linear(.outputHead) : try linear(.tokenEmbedding, weight: embedding)
        blocks = try (0..<model.blockCount).map { b in
            Block(attentionNorm: try model.matrix(.attentionNorm, block: b).data,
                  query: try linear(.attentionQuery, block: b), key: try linear(.attentionKey, block: b),
                  value: try linear(.attentionValue, block: b), output: try linear(.attentionOutput, block: b),
                  ffnNorm: try model.matrix(.ffnNorm, block: b).data,
                  gate: try linear(.ffnGate, block: b), up: try linear(.ffnUp, block: b), down: try linear(.ffnDown, block: b),
                  attentionShortcut: model.has(.attentionShortcut, block: b) ? try model.matrix(.attentionShortcut, block: b) : nil,
                  ffnShortcut: model.has(.ffnShortcut, block: b) ? try model.matrix(.ffnShortcut, block: b) : nil)
        }
    }
}
