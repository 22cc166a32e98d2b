import Foundation
import Models

/// The paper's accounting (Appendix A.2): parameters, effective sparsity and FLOPs per token.
public enum Accounting {
    /// The parameters of `model`: every floating-point tensor once (a tied embedding, as in
    /// SmolLM2, is one tensor and is counted once).
    public static func parameters(_ model: Model) -> Int { model.parameterCount }

    /// Effective sparsity 1 − params(pruned)/params(dense) (negative when the "pruned" model grew);
    /// nil when `dense` is of another architecture, so no longer the dense form of `pruned`.
    public static func effectiveSparsity(_ pruned: Model, dense: Model) -> Double? {
        guard pruned.config.architecture == dense.config.architecture else { return nil }
        let d = dense.parameterCount
        return d == 0 ? 0 : 1 - Double(pruned.parameterCount) / Double(d)
    }

    /// Multiply–add FLOPs per token (2 per weight of every matrix a token passes through: the
    /// blocks' linears and the output head, the tied embedding as head included; embedding
    /// lookups, norms and biases are not counted) plus attention's QKᵀ and AV at `context` tokens
    /// of context (2·2·context·heads·head_dim per block).
    public static func flopsPerToken(_ model: Model, context: Int = 512) -> Double {
        var weights = 0
        for (place, t) in model.tensors where place.part == .weight && place.block != nil && t.shape.count == 2 {
            weights += t.elementCount
        }
        if model.config.architecture == .llama {
            if let head = model.tensor(.outputHead) ?? model.tensor(.tokenEmbedding) { weights += head.elementCount }
        }
        let c = model.config
        let attention = 4 * Double(context) * Double((0..<model.blockCount).reduce(0) { $0 + c.heads(inBlock: $1) } * c.headDimension)
        return 2 * Double(weights) + attention
    }
}
