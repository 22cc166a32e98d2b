/// The GGUF metadata keys this library reads and writes, named once for the reading side (the
/// config, the tokenizer, the header parser) and the writing side (the model writer, the GGUF
/// writer). The names are llama.cpp's.
public enum GGUFKey {
    /// The architecture whose `{arch}.*` keys describe the model ("llama", "deci", "bert", …).
    public static let architecture = "general.architecture"
    /// The tensor data alignment in bytes (32 when absent).
    public static let alignment = "general.alignment"

    /// The tokenizer kind ("gpt2" for byte-level BPE).
    public static let tokenizerModel = "tokenizer.ggml.model"
    /// The pre-tokenizer's name (e.g. "smollm").
    public static let tokenizerPre = "tokenizer.ggml.pre"
    /// The vocabulary, one string per token id.
    public static let tokens = "tokenizer.ggml.tokens"
    /// Each token's type (normal, control, byte, …).
    public static let tokenTypes = "tokenizer.ggml.token_type"
    /// The BPE merges, "left right" in rank order.
    public static let merges = "tokenizer.ggml.merges"
    /// Special token ids.
    public static let bosTokenID = "tokenizer.ggml.bos_token_id"
    /// The end-of-sequence token id.
    public static let eosTokenID = "tokenizer.ggml.eos_token_id"
    /// The unknown-token id.
    public static let unknownTokenID = "tokenizer.ggml.unknown_token_id"
    /// The padding token id.
    public static let paddingTokenID = "tokenizer.ggml.padding_token_id"
    /// Whether encoding starts with the BOS token.
    public static let addBOSToken = "tokenizer.ggml.add_bos_token"

    /// The hyper-parameter keys under the architecture's name: `blockCount.key("llama")` is
    /// "llama.block_count".
    public enum Architecture: String, Sendable, CaseIterable {
        case blockCount = "block_count"
        case contextLength = "context_length"
        case embeddingLength = "embedding_length"
        /// One number, or one per layer when the blocks' FFN widths differ.
        case feedForwardLength = "feed_forward_length"
        case headCount = "attention.head_count"
        case headCountKV = "attention.head_count_kv"
        /// The key (query) head dimension, written when blocks have their own head counts.
        case keyLength = "attention.key_length"
        /// The value head dimension, written beside `keyLength`.
        case valueLength = "attention.value_length"
        /// RMSNorm's epsilon (llama).
        case layerNormRMSEpsilon = "attention.layer_norm_rms_epsilon"
        /// LayerNorm's epsilon (bert).
        case layerNormEpsilon = "attention.layer_norm_epsilon"
        case ropeFreqBase = "rope.freq_base"
        case ropeDimensionCount = "rope.dimension_count"
        case vocabSize = "vocab_size"

        /// The full key for architecture `arch`.
        public func key(_ arch: String) -> String { "\(arch).\(rawValue)" }
    }
}
