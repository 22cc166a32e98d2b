import Foundation

/// The transformer families PruneLang runs.
public enum Architecture: String, Sendable, Codable {
    /// Decoder-only llama (RMSNorm, RoPE, grouped-query attention, SwiGLU FFN).
    case llama
    /// BERT encoder (post-LayerNorm blocks, absolute positions, GELU FFN with biases).
    case bert
}

/// The FFN nonlinearity.
public enum Activation: String, Sendable, Codable {
    /// SiLU gate times the up-projection (SwiGLU), as llama uses.
    case swiglu
    /// GELU (erf form) on the up-projection, as BERT uses.
    case gelu
}

/// The hyper-parameters a forward pass needs, whichever file they came from. FFN widths are per
/// block, since structured pruning may give every block its own.
public struct ModelConfig: Sendable, Equatable, Codable {
    /// The family.
    public var architecture: Architecture
    /// Width of the residual stream (d).
    public var hiddenSize: Int
    /// FFN intermediate width of each block (n); one entry per block.
    public var intermediateSizes: [Int]
    /// Attention heads of an unpruned block: `hiddenSize / heads` is the head dimension.
    public var heads: Int
    /// Key/value heads (grouped-query attention); equals `heads` without grouping. With per-block
    /// counts (`blockKVHeads`) it is the largest block's, which sizes the KV cache.
    public var kvHeads: Int
    /// Query heads of each block when head pruning left blocks with fewer than `heads` (one entry
    /// per block); nil when every block has `heads`.
    public var blockHeads: [Int]? = nil
    /// Key/value heads of each block when head pruning removed whole groups (one entry per
    /// block); nil when every block has `kvHeads`.
    public var blockKVHeads: [Int]? = nil
    /// Vocabulary size.
    public var vocabSize: Int
    /// Longest context the positions cover.
    public var contextLength: Int
    /// Normalisation epsilon (RMSNorm for llama, LayerNorm for BERT).
    public var normEpsilon: Double
    /// RoPE frequency base (llama).
    public var ropeBase: Double
    /// Dimensions per head that RoPE rotates (llama; usually the head dimension).
    public var ropeDimensions: Int
    /// Whether the output head reuses the token embedding.
    public var tiedOutputHead: Bool
    /// The FFN nonlinearity.
    public var activation: Activation
    /// The width of the residual stream after SliceGPT sliced it (embedding columns, norms, the
    /// inputs of q/k/v/gate/up, the outputs of o/down, the shortcut matrices); nil when it is the
    /// hidden size. Attention heads keep `hiddenSize`/`heads` dimensions either way.
    public var residualSize: Int? = nil

    /// The width of the residual stream: `residualSize`, else the hidden size.
    public var residualWidth: Int { residualSize ?? hiddenSize }
    /// Number of blocks.
    public var blockCount: Int { intermediateSizes.count }
    /// Dimension of one attention head.
    public var headDimension: Int { heads > 0 ? hiddenSize / heads : 0 }
    /// The query heads of block `b`.
    public func heads(inBlock b: Int) -> Int { blockHeads?[b] ?? heads }
    /// The key/value heads of block `b`.
    public func kvHeads(inBlock b: Int) -> Int { architecture == .bert ? heads(inBlock: b) : blockKVHeads?[b] ?? kvHeads }
    /// Whether some block's head counts differ from `heads`/`kvHeads` (a head-pruned model).
    public var hasPerBlockHeads: Bool { blockHeads != nil || blockKVHeads != nil }

    /// Sets each block's query and key/value heads (as head pruning leaves them): the arrays stay
    /// nil when every block has the unpruned counts, and `kvHeads` becomes the largest block's.
    public mutating func setBlockHeads(query: [Int], keyValue: [Int]) {
        kvHeads = keyValue.max() ?? kvHeads
        blockHeads = query.allSatisfy { $0 == heads } ? nil : query
        blockKVHeads = keyValue.allSatisfy { $0 == kvHeads } && heads % kvHeads == 0 ? nil : keyValue
    }

    /// A config; the checks in `validate()` say what is inconsistent.
    public init(architecture: Architecture, hiddenSize: Int, intermediateSizes: [Int], heads: Int,
                kvHeads: Int, vocabSize: Int, contextLength: Int, normEpsilon: Double,
                ropeBase: Double = 10_000, ropeDimensions: Int? = nil, tiedOutputHead: Bool,
                activation: Activation) {
        self.architecture = architecture
        self.hiddenSize = hiddenSize
        self.intermediateSizes = intermediateSizes
        self.heads = heads
        self.kvHeads = kvHeads
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.normEpsilon = normEpsilon
        self.ropeBase = ropeBase
        self.ropeDimensions = ropeDimensions ?? (heads > 0 ? hiddenSize / heads : 0)
        self.tiedOutputHead = tiedOutputHead
        self.activation = activation
    }

    /// Throws `ModelConfigError` naming the first inconsistent field.
    public func validate() throws {
        func need(_ ok: Bool, _ field: String, _ message: String) throws {
            if !ok { throw ModelConfigError(field: field, message: message) }
        }
        try need(hiddenSize > 0, "hidden size", "must be positive, got \(hiddenSize)")
        try need(!intermediateSizes.isEmpty, "block count", "must be at least 1")
        try need(intermediateSizes.allSatisfy { $0 >= 0 }, "FFN width", "must be non-negative, got \(intermediateSizes)")
        try need(heads > 0 && hiddenSize % heads == 0, "attention heads", "\(heads) heads do not divide the hidden size \(hiddenSize)")
        if hasPerBlockHeads {
            try need(blockHeads.map { $0.count == intermediateSizes.count } ?? true && blockKVHeads.map { $0.count == intermediateSizes.count } ?? true,
                     "per-block heads", "need one entry per block (\(intermediateSizes.count))")
            try need(kvHeads > 0, "key/value heads", "must be positive, got \(kvHeads)")
            for b in intermediateSizes.indices {
                let q = heads(inBlock: b), kv = kvHeads(inBlock: b)
                try need(kv > 0 && kv <= kvHeads && q > 0 && q % kv == 0, "heads of block \(b)",
                         "must be positive with the \(kv) KV heads (at most \(kvHeads)) dividing the \(q) query heads")
            }
        } else {
            try need(kvHeads > 0 && heads % kvHeads == 0, "key/value heads", "\(kvHeads) KV heads do not divide \(heads) heads")
        }
        try need(vocabSize > 0, "vocabulary size", "must be positive, got \(vocabSize)")
        try need(normEpsilon > 0 && normEpsilon.isFinite, "norm epsilon", "must be positive, got \(normEpsilon)")
        if let r = residualSize {
            try need(architecture == .llama && r > 0 && r <= hiddenSize, "sliced residual size",
                     "must be in 1...\(hiddenSize) on a llama model, got \(r)")
        }
        try need(ropeDimensions >= 0 && ropeDimensions <= headDimension && ropeDimensions % 2 == 0,
                 "RoPE dimensions", "must be even and at most the head dimension \(headDimension), got \(ropeDimensions)")
    }
}

/// An inconsistent or missing model hyper-parameter.
public struct ModelConfigError: Error, CustomStringConvertible, Equatable {
    /// The offending field, in words.
    public let field: String
    /// What is wrong with it.
    public let message: String
    public var description: String { "model config: \(field) \(message)" }
}

extension ModelConfig {
    /// Reads a Hugging Face `config.json` (llama or BERT families).
    public static func fromHuggingFace(json data: Data) throws -> ModelConfig {
        guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelConfigError(field: "config.json", message: "is not a JSON object")
        }
        func int(_ key: String) throws -> Int {
            guard let v = obj[key] as? NSNumber else { throw ModelConfigError(field: key, message: "is missing or not a number") }
            return v.intValue
        }
        func double(_ key: String, _ fallback: Double) -> Double { (obj[key] as? NSNumber)?.doubleValue ?? fallback }
        let type = (obj["model_type"] as? String ?? "").lowercased()
        let layers = try int("num_hidden_layers")
        let widths: [Int]
        if let perLayer = obj["intermediate_size"] as? [NSNumber] {
            widths = perLayer.map(\.intValue)
        } else {
            widths = Array(repeating: try int("intermediate_size"), count: layers)
        }
        guard widths.count == layers else {
            throw ModelConfigError(field: "intermediate_size", message: "has \(widths.count) entries for \(layers) layers")
        }
        let heads = try int("num_attention_heads")
        var config: ModelConfig
        switch type {
        case "bert":
            config = ModelConfig(
                architecture: .bert, hiddenSize: try int("hidden_size"), intermediateSizes: widths,
                heads: heads, kvHeads: heads, vocabSize: try int("vocab_size"),
                contextLength: try int("max_position_embeddings"),
                normEpsilon: double("layer_norm_eps", 1e-12), ropeDimensions: 0,
                tiedOutputHead: false, activation: .gelu)
        case "llama", "mistral", "qwen2":
            let hidden = try int("hidden_size")
            config = ModelConfig(
                architecture: .llama, hiddenSize: hidden, intermediateSizes: widths, heads: heads,
                kvHeads: (obj["num_key_value_heads"] as? NSNumber)?.intValue ?? heads,
                vocabSize: try int("vocab_size"),
                contextLength: (obj["max_position_embeddings"] as? NSNumber)?.intValue ?? 2048,
                normEpsilon: double("rms_norm_eps", 1e-6), ropeBase: double("rope_theta", 10_000),
                tiedOutputHead: obj["tie_word_embeddings"] as? Bool ?? false, activation: .swiglu)
            config.residualSize = (obj["prunelang_sliced_residual_size"] as? NSNumber)?.intValue
        default:
            throw ModelConfigError(field: "model_type", message: "'\(type)' is not supported (llama or bert)")
        }
        let blockHeads = (obj["prunelang_block_heads"] as? [NSNumber])?.map(\.intValue)
        let blockKVHeads = (obj["prunelang_block_kv_heads"] as? [NSNumber])?.map(\.intValue)
        if config.architecture == .bert {
            config.blockHeads = blockHeads.flatMap { $0.allSatisfy { $0 == heads } ? nil : $0 }
        } else if blockHeads != nil || blockKVHeads != nil {
            config.setBlockHeads(query: blockHeads ?? Array(repeating: config.heads, count: layers),
                                 keyValue: blockKVHeads ?? Array(repeating: config.kvHeads, count: layers))
        }
        try config.validate()
        return config
    }

    /// This config as a Hugging Face `config.json` object (so that other tools reload a saved
    /// model); the FFN width is one number when all blocks agree, a per-layer list otherwise.
    public func huggingFaceJSON() -> [String: Any] {
        let width: Any = Set(intermediateSizes).count <= 1 ? (intermediateSizes.first ?? 0) : intermediateSizes
        var obj: [String: Any] = [
            "hidden_size": hiddenSize, "intermediate_size": width,
            "num_hidden_layers": blockCount, "num_attention_heads": heads, "vocab_size": vocabSize,
            "max_position_embeddings": contextLength,
        ]
        switch architecture {
        case .bert:
            obj["model_type"] = "bert"; obj["architectures"] = ["BertModel"]
            obj["hidden_act"] = "gelu"; obj["layer_norm_eps"] = normEpsilon
            obj["type_vocab_size"] = 2
        case .llama:
            obj["model_type"] = "llama"; obj["architectures"] = ["LlamaForCausalLM"]
            obj["hidden_act"] = "silu"; obj["rms_norm_eps"] = normEpsilon
            obj["num_key_value_heads"] = kvHeads; obj["rope_theta"] = ropeBase
            obj["tie_word_embeddings"] = tiedOutputHead
            if let r = residualSize { obj["prunelang_sliced_residual_size"] = r }
        }
        if hasPerBlockHeads {   // head pruning: PruneLang's own keys (Hugging Face has no per-layer head counts)
            obj["prunelang_block_heads"] = (0..<blockCount).map { heads(inBlock: $0) }
            obj["prunelang_block_kv_heads"] = (0..<blockCount).map { kvHeads(inBlock: $0) }
            obj["head_dim"] = headDimension
        }
        return obj
    }
}
