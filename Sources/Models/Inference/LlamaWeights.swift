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
    /// The Float32 embedding when held (nil when only its blocks are).
    private var denseEmbedding: Matrix?
    /// The embedding's blocks when the weights are quantised-only (the quantized arithmetic); nil
    /// otherwise or once `embedding` has changed.
    public private(set) var embeddingBlocks: QuantizedMatrix?
    /// Token embedding (vocab × residual width). Quantised-only weights dequantise it on demand
    /// (a new matrix each read; the forward pass reads single rows of `embeddingBlocks` instead);
    /// changing it keeps the Float32 matrix.
    public var embedding: Matrix {
        get { denseEmbedding ?? embeddingBlocks!.dequantized() }
        set {
            denseEmbedding = newValue
            embeddingBlocks = nil
        }
        _modify {
            if denseEmbedding == nil { denseEmbedding = embeddingBlocks!.dequantized() }
            embeddingBlocks = nil
            yield &denseEmbedding!
        }
    }
    /// Rows of the embedding (the vocabulary).
    public var vocabularySize: Int { denseEmbedding?.rows ?? embeddingBlocks!.rows }
    /// Columns of the embedding (the residual stream's width).
    public var embeddingWidth: Int { denseEmbedding?.cols ?? embeddingBlocks!.cols }
    /// Final RMSNorm scale (residual width).
    public var outputNorm: [Float]
    /// Output head (vocab × residual width); the embedding's matrix when tied (shared storage).
    public var head: Linear
    /// The arithmetic the forward pass uses (see `ForwardArithmetic`).
    public var arithmetic: ForwardArithmetic
    /// Why `arithmetic` is not the one asked for, when it is not (the Float32 weights would not
    /// fit in memory, so the weights stayed quantised); a line for the user.
    public private(set) var arithmeticNote: String?
    /// Whether the head was made from the embedding's storage (a tied head), for `residentBytes`.
    private var headSharesEmbedding = false
    /// The blocks in order (a consumer of sequential calibration replaces them one by one).
    public var blocks: [Block]

    /// The weights of `model` (a llama) in `arithmetic`. Float32 (the default) dequantises every
    /// weight; llama.cpp's arithmetic also keeps each linear's stored form, so its products are
    /// llama.cpp's (see `ForwardArithmetic`); the quantized arithmetic keeps only the stored blocks
    /// of the linears and the embedding (memory-mapped), so it takes about the file's size.
    ///
    /// Memory is checked first (`MemoryBudget`): when the Float32 weights asked for would not fit,
    /// Float32 falls back to the quantized arithmetic (saying so in `arithmeticNote`) and
    /// llama.cpp's arithmetic throws `MemoryBudgetError`; so does any arithmetic whose weights
    /// cannot fit even quantised. Throws when a tensor is missing or the model is not a llama.
    public init(_ model: Model, arithmetic asked: ForwardArithmetic = .float32) throws {
        guard model.config.architecture == .llama else {
            throw ModelError.inconsistent(model: model.name, detail: "is a \(model.config.architecture.rawValue) model, not a llama")
        }
        let (float32Bytes, quantizedBytes) = Self.residentBytes(model, llamaCpp: asked == .llamaCpp)
        let work = "the forward pass of '\(model.name)'", advice = "a smaller model or a smaller quantisation type is needed"
        var arithmetic = asked, note: String? = nil
        if let available = Self.availableBytesOverride ?? MemoryBudget.availableBytes() {
            if asked != .quantized, float32Bytes > available {
                if asked == .llamaCpp {
                    throw MemoryBudgetError(work: work + " in llama.cpp's arithmetic (Float32 weights and their blocks)", needed: float32Bytes,
                                            available: available,
                                            advice: "arithmetic=\"quantized\" keeps only the stored blocks (about \(MemoryBudget.describe(quantizedBytes)))")
                }
                arithmetic = .quantized
                note = "the Float32 weights would need \(MemoryBudget.describe(float32Bytes)) and \(MemoryBudget.describe(available)) is available: running on the quantised blocks instead (arithmetic=\"quantized\", about \(MemoryBudget.describe(quantizedBytes)))"
            }
            if arithmetic == .quantized, quantizedBytes > available {
                throw MemoryBudgetError(work: work + " on its quantised blocks", needed: quantizedBytes, available: available, advice: advice)
            }
        }
        try self.init(loading: model, arithmetic: arithmetic)
        arithmeticNote = note
    }

    /// The available memory to assume in place of `MemoryBudget.availableBytes()` (tests).
    @TaskLocal static var availableBytesOverride: Int?

    /// Bytes the weights of `model` take in memory held in Float32 (plus llama.cpp's copied blocks
    /// when `llamaCpp`) and held quantised (the stored blocks; F32 tensors as they are): the
    /// linears, the embedding and the head when it is not tied.
    public static func residentBytes(_ model: Model, llamaCpp: Bool = false) -> (float32: Int, quantized: Int) {
        var float32 = 0, quantized = 0
        for t in model.tensors.values where t.isParameter {
            float32 += t.elementCount * 4
            quantized += t.storedBytes
            if llamaCpp, case let .gguf(_, info) = t.storage, [.q4_0, .q4_1, .q8_0].contains(info.type) { float32 += t.storedBytes }
        }
        return (float32, quantized)
    }

    /// Reads the weights of `model` in `arithmetic` (no memory check).
    private init(loading model: Model, arithmetic: ForwardArithmetic) throws {
        self.arithmetic = arithmetic
        config = model.config
        if arithmetic == .quantized, let t = model.tensor(.tokenEmbedding), let blocks = try QuantizedMatrix(t) {
            embeddingBlocks = blocks
        } else {
            denseEmbedding = try model.matrix(.tokenEmbedding)
        }
        outputNorm = try model.matrix(.outputNorm).data
        // A tied head is the embedding: the same matrix (or blocks), and the embedding's stored form.
        headSharesEmbedding = !model.has(.outputHead)
        if model.has(.outputHead) {
            head = try Self.linear(model, .outputHead, arithmetic: arithmetic)
        } else if let embeddingBlocks {
            head = Linear(blocks: embeddingBlocks)
        } else {
            head = try Self.linear(model, .tokenEmbedding, arithmetic: arithmetic, weight: denseEmbedding)
        }
        blocks = try (0..<model.blockCount).map { try Self.block($0, of: model, arithmetic: arithmetic) }
    }

    /// Block `b` of `model` alone in `arithmetic` (no memory check): what a pass that needs one
    /// block's Float32 linears at a time reads (SliceGPT on a model whose Float32 weights do not fit).
    public static func block(_ b: Int, of model: Model, arithmetic: ForwardArithmetic) throws -> Block {
        Block(attentionNorm: try model.matrix(.attentionNorm, block: b).data,
              query: try linear(model, .attentionQuery, block: b, arithmetic: arithmetic),
              key: try linear(model, .attentionKey, block: b, arithmetic: arithmetic),
              value: try linear(model, .attentionValue, block: b, arithmetic: arithmetic),
              output: try linear(model, .attentionOutput, block: b, arithmetic: arithmetic),
              ffnNorm: try model.matrix(.ffnNorm, block: b).data,
              gate: try linear(model, .ffnGate, block: b, arithmetic: arithmetic),
              up: try linear(model, .ffnUp, block: b, arithmetic: arithmetic),
              down: try linear(model, .ffnDown, block: b, arithmetic: arithmetic),
              attentionShortcut: model.has(.attentionShortcut, block: b) ? try model.matrix(.attentionShortcut, block: b) : nil,
              ffnShortcut: model.has(.ffnShortcut, block: b) ? try model.matrix(.ffnShortcut, block: b) : nil)
    }

    /// The linear of the tensor at `role`; `weight` is its values when already read.
    private static func linear(_ model: Model, _ role: TensorRole, block: Int? = nil, arithmetic: ForwardArithmetic,
                               weight: Matrix? = nil) throws -> Linear {
        guard let t = model.tensor(role, block: block) else {
            throw ModelError.missingTensor(model: model.name, place: model.describe(TensorPlace(role, block: block)))
        }
        return try Linear(t, arithmetic: arithmetic, weight: weight)
    }

    /// Bytes the weights keep resident: every linear's `residentBytes`, the embedding (Float32 or
    /// its blocks; once when the head shares it) and the norms.
    public var residentBytes: Int {
        var total = (denseEmbedding.map { $0.count * 4 } ?? 0) + (embeddingBlocks?.storedBytes ?? 0) + outputNorm.count * 4
        let tied = headSharesEmbedding && (head.isQuantizedOnly ? embeddingBlocks != nil : denseEmbedding != nil)
        if !tied { total += head.residentBytes }
        for b in blocks {
            total += (b.attentionNorm.count + b.ffnNorm.count) * 4
            for role in [TensorRole.attentionQuery, .attentionKey, .attentionValue, .attentionOutput, .ffnGate, .ffnUp, .ffnDown] {
                total += b[role].residentBytes
            }
        }
        return total
    }
}
