import Numerics
import Models

/// The linear layers unstructured pruners sparsify, as SparseGPT and Wanda do: the seven
/// projections of every llama block (q, k, v, o, gate, up, down). Embeddings, norms and the
/// output head stay dense.
public enum PrunableLinears {
    /// The roles, in block order.
    public static let roles: [TensorRole] = [.attentionQuery, .attentionKey, .attentionValue, .attentionOutput, .ffnGate, .ffnUp, .ffnDown]

    /// The prunable roles present in `block` of `model` (a BERT block has no gate).
    public static func roles(in model: Model, block: Int) -> [TensorRole] {
        roles.filter { model.has($0, block: block) }
    }

    /// The calibration site whose input feeds `role` (q/k/v share one, gate/up another).
    public static func site(of role: TensorRole) -> TensorRole {
        switch role {
        case .attentionKey, .attentionValue, .attentionQuery: return .attentionQuery
        case .ffnGate, .ffnUp: return .ffnUp
        default: return role
        }
    }

    /// The fraction of zeros among the prunable linears of `model` (what an unstructured pruner
    /// reaches; embeddings and head excluded).
    public static func sparsity(_ model: Model) throws -> Double {
        var zeros = 0, total = 0
        for b in 0..<model.blockCount {
            for role in roles(in: model, block: b) {
                let m = try model.matrix(role, block: b)
                zeros += m.data.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
                total += m.count
            }
        }
        return total > 0 ? Double(zeros) / Double(total) : 0
    }
}
