/// The naming conventions of weight files, mapping tensor names to architecture-neutral places
/// and back: GGUF (`blk.N.ffn_up.weight`), Hugging Face llama
/// (`model.layers.N.mlp.up_proj.weight`) and Hugging Face BERT
/// (`encoder.layer.N.intermediate.dense.weight`, with or without a `bert.` prefix).
public enum TensorNaming: String, Sendable, CaseIterable {
    case gguf
    case huggingFaceLlama
    case huggingFaceBERT

    /// The place of `name` under this convention, or nil when the name is not a weight of it
    /// (buffers such as BERT's `position_ids` are not).
    public func place(of name: String) -> TensorPlace? {
        var stem = Substring(name)
        if self == .huggingFaceBERT, stem.hasPrefix("bert.") { stem = stem.dropFirst(5) }
        let part: TensorPart
        if stem.hasSuffix(".weight") { part = .weight; stem = stem.dropLast(7) }
        else if stem.hasSuffix(".bias") { part = .bias; stem = stem.dropLast(5) }
        else { return nil }

        let (blockPrefix, table, globals) = tables
        if stem.hasPrefix(blockPrefix) {
            let rest = stem.dropFirst(blockPrefix.count)
            guard let dot = rest.firstIndex(of: "."), let block = Int(rest[..<dot]), block >= 0 else { return nil }
            guard let role = table[String(rest[rest.index(after: dot)...])] else { return nil }
            return TensorPlace(role, part, block: block)
        }
        guard let role = globals[String(stem)] else { return nil }
        return TensorPlace(role, part)
    }

    /// The tensor name of `place` under this convention, or nil when the convention has no such tensor.
    public func name(of place: TensorPlace) -> String? {
        let (blockPrefix, table, globals) = tables
        let suffix = "." + place.part.rawValue
        if let block = place.block {
            guard let stem = table.first(where: { $0.value == place.role })?.key else { return nil }
            return "\(blockPrefix)\(block).\(stem)\(suffix)"
        }
        guard let stem = globals.first(where: { $0.value == place.role })?.key else { return nil }
        return stem + suffix
    }

    /// The per-block name prefix, the per-block stems and the model-wide stems of this convention.
    private var tables: (String, [String: TensorRole], [String: TensorRole]) {
        switch self {
        case .gguf:
            return ("blk.", [
                "attn_norm": .attentionNorm, "attn_q": .attentionQuery, "attn_k": .attentionKey,
                "attn_v": .attentionValue, "attn_output": .attentionOutput,
                "attn_output_norm": .attentionOutputNorm, "ffn_norm": .ffnNorm,
                "ffn_gate": .ffnGate, "ffn_up": .ffnUp, "ffn_down": .ffnDown,
                "layer_output_norm": .ffnOutputNorm,
                "attn_shortcut": .attentionShortcut, "ffn_shortcut": .ffnShortcut,
            ], [
                "token_embd": .tokenEmbedding, "position_embd": .positionEmbedding,
                "token_types": .tokenTypeEmbedding, "token_embd_norm": .embeddingNorm,
                "output_norm": .outputNorm, "output": .outputHead,
            ])
        case .huggingFaceLlama:
            return ("model.layers.", [
                "input_layernorm": .attentionNorm, "self_attn.q_proj": .attentionQuery,
                "self_attn.k_proj": .attentionKey, "self_attn.v_proj": .attentionValue,
                "self_attn.o_proj": .attentionOutput, "post_attention_layernorm": .ffnNorm,
                "mlp.gate_proj": .ffnGate, "mlp.up_proj": .ffnUp, "mlp.down_proj": .ffnDown,
                "attn_shortcut_Q": .attentionShortcut, "mlp_shortcut_Q": .ffnShortcut,
            ], [
                "model.embed_tokens": .tokenEmbedding, "model.norm": .outputNorm, "lm_head": .outputHead,
            ])
        case .huggingFaceBERT:
            return ("encoder.layer.", [
                "attention.self.query": .attentionQuery, "attention.self.key": .attentionKey,
                "attention.self.value": .attentionValue, "attention.output.dense": .attentionOutput,
                "attention.output.LayerNorm": .attentionOutputNorm,
                "intermediate.dense": .ffnUp, "output.dense": .ffnDown,
                "output.LayerNorm": .ffnOutputNorm,
            ], [
                "embeddings.word_embeddings": .tokenEmbedding,
                "embeddings.position_embeddings": .positionEmbedding,
                "embeddings.token_type_embeddings": .tokenTypeEmbedding,
                "embeddings.LayerNorm": .embeddingNorm, "pooler.dense": .pooler,
            ])
        }
    }

    /// The convention most of `names` follow (ties go to GGUF, then llama), or nil when none
    /// recognises any of them.
    public static func detect(_ names: [String]) -> TensorNaming? {
        let scored = allCases.map { c in (c, names.filter { c.place(of: $0) != nil }.count) }
        guard let best = scored.max(by: { $0.1 < $1.1 }), best.1 > 0 else { return nil }
        return best.0
    }
}
