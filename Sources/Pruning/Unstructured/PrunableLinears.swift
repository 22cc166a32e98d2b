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

    /// The matrix of `role` in a forward pass's block.
    public static func matrix(_ role: TensorRole, of block: LlamaWeights.Block) -> Matrix {
        switch role {
        case .attentionQuery: return block.query
        case .attentionKey: return block.key
        case .attentionValue: return block.value
        case .attentionOutput: return block.output
        case .ffnGate: return block.gate
        case .ffnUp: return block.up
        default: return block.down
        }
    }

    /// `block` with the matrix of `role` replaced.
    public static func setting(_ role: TensorRole, of block: LlamaWeights.Block, to m: Matrix) -> LlamaWeights.Block {
        var b = block
        switch role {
        case .attentionQuery: b.query = m
        case .attentionKey: b.key = m
        case .attentionValue: b.value = m
        case .attentionOutput: b.output = m
        case .ffnGate: b.gate = m
        case .ffnUp: b.up = m
        default: b.down = m
        }
        return b
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
