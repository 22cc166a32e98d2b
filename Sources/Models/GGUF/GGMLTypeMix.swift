import Foundation

/// llama.cpp's quantisation presets ("Q4_K_M" and friends) as per-tensor type rules, for a llama
/// model without experts: which ggml type each weight matrix of a GGUF gets, as llama.cpp's
/// `llama_model_quantize` (without an importance matrix) chooses it, and the fallback it takes when
/// a row is not whole blocks of the chosen type (SmolLM2's width 576 is 2.25 super-blocks of 256,
/// so most of its matrices fall back from a k-quant to a 32-element type).
///
/// The rules, where i is the block index and n the number of blocks, and "more bits" means
/// i < n/8, i ≥ 7n/8 or (i − n/8) mod 3 = 2:
/// - the output head (or the token embedding when the head is tied to it): Q8_0 when its rows are
///   not whole blocks of the base type, else Q6_K;
/// - attn_v: Q2_K → Q3_K (Q4_K when the query heads per key/value head are ≥ 4); Q3_K_M → Q5_K for
///   the first two blocks, else Q4_K; Q4_K_M and Q5_K_M → Q6_K on "more bits" blocks;
/// - ffn_down: Q2_K → Q3_K; Q3_K_M → Q5_K for i < n/16, else Q4_K; Q4_K_M and Q5_K_M → Q6_K on
///   "more bits" blocks;
/// - attn_output: Q2_K → Q3_K; Q3_K_M → Q4_K;
/// - every other matrix: the preset's base type;
/// - fallback when the row length is not a multiple of the type's block: Q2_K and Q3_K → Q4_0,
///   Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0; F16 when even 32 does not divide it.
public struct GGMLTypeMix: Sendable, Equatable {
    /// The presets: llama.cpp's `llama_ftype` names, lower case.
    public enum Preset: String, CaseIterable, Sendable {
        case q4_1, q5_0, q5_1, q2_k, q3_k_m, q4_k_m, q5_k_m, q6_k

        /// The type most matrices get.
        public var baseType: GGMLType {
            switch self {
            case .q4_1: return .q4_1
            case .q5_0: return .q5_0
            case .q5_1: return .q5_1
            case .q2_k: return .q2_K
            case .q3_k_m: return .q3_K
            case .q4_k_m: return .q4_K
            case .q5_k_m: return .q5_K
            case .q6_k: return .q6_K
            }
        }
    }

    /// The llama.cpp preset whose per-tensor rules apply.
    public let preset: Preset
    /// Transformer blocks in the model.
    public let blocks: Int
    /// Query heads per key/value head.
    public let queryGroups: Int
    /// Whether the model has its own output head (`output.weight`); when not, the token
    /// embedding takes the head's rule.
    public let hasOutputHead: Bool

    /// The rules of `preset` for a model of `blocks` blocks with `queryGroups` query heads per KV head.
    public init(preset: Preset, blocks: Int, queryGroups: Int, hasOutputHead: Bool) {
        self.preset = preset
        self.blocks = blocks
        self.queryGroups = queryGroups
        self.hasOutputHead = hasOutputHead
    }

    /// Whether block i of n gets more bits in Q4_K_M/Q5_K_M (llama.cpp's `use_more_bits`).
    public static func moreBits(_ i: Int, _ n: Int) -> Bool {
        i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2
    }

    /// The type llama.cpp's rules give the GGUF tensor `name` (a weight matrix) before any
    /// fallback.
    public func ruleType(name: String, rowLength: Int) -> GGMLType {
        let base = preset.baseType
        if name == "output.weight" || (!hasOutputHead && name == "token_embd.weight") {
            return rowLength % base.blockSize != 0 || base == .q8_0 ? .q8_0 : .q6_K
        }
        let layer = Self.blockIndex(name)
        if name.hasSuffix("attn_v.weight"), let i = layer {
            switch preset {
            case .q2_k: return queryGroups >= 4 ? .q4_K : .q3_K
            case .q3_k_m: return i < 2 ? .q5_K : .q4_K
            case .q4_k_m, .q5_k_m: return Self.moreBits(i, blocks) ? .q6_K : base
            default: return base
            }
        }
        if name.hasSuffix("ffn_down.weight"), let i = layer {
            switch preset {
            case .q2_k: return .q3_K
            case .q3_k_m: return i < blocks / 16 ? .q5_K : .q4_K
            case .q4_k_m, .q5_k_m: return Self.moreBits(i, blocks) ? .q6_K : base
            default: return base
            }
        }
        if name.hasSuffix("attn_output.weight") {
            switch preset {
            case .q2_k: return .q3_K
            case .q3_k_m: return .q4_K
            default: return base
            }
        }
        return base
    }

    /// The type written for the weight matrix `name` whose rows hold `rowLength` values, and a
    /// note when llama.cpp's fallback for a row that is not whole blocks applied.
    public func type(name: String, rowLength: Int) -> (type: GGMLType, note: String?) {
        let wanted = ruleType(name: name, rowLength: rowLength)
        guard rowLength % wanted.blockSize != 0 else { return (wanted, nil) }
        var type: GGMLType
        switch wanted {
        case .q2_K, .q3_K: type = .q4_0
        case .q4_K: type = .q5_0
        case .q5_K: type = .q5_1
        case .q6_K: type = .q8_0
        default: type = wanted
        }
        if rowLength % type.blockSize != 0 { type = .f16 }
        return (type, "\(name): rows of \(rowLength) are not whole blocks of \(wanted.blockSize), written as \(type.name) instead of \(wanted.name) (llama.cpp's fallback)")
    }

    /// N of a "blk.N." tensor name.
    static func blockIndex(_ name: String) -> Int? {
        guard name.hasPrefix("blk.") else { return nil }
        return Int(name.dropFirst(4).prefix { $0.isNumber })
    }
}
