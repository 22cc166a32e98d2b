/// What a weight tensor does in a transformer, independent of the file format's naming: the
/// architecture-neutral vocabulary the model view, the pruners and the language share.
public enum TensorRole: String, Hashable, Sendable, CaseIterable {
    // Model-wide tensors.
    case tokenEmbedding
    case positionEmbedding
    case tokenTypeEmbedding
    case embeddingNorm
    case outputNorm
    case outputHead
    case pooler
    // Per-block tensors.
    case attentionNorm
    case attentionQuery
    case attentionKey
    case attentionValue
    case attentionOutput
    case attentionOutputNorm
    case ffnNorm
    case ffnGate
    case ffnUp
    case ffnDown
    case ffnOutputNorm
    /// SliceGPT's shortcut matrix on the residual connection around attention (Q_inᵀ·Q_mid,
    /// residual × residual): the stream entering the block is multiplied by it before the
    /// attention output is added.
    case attentionShortcut
    /// SliceGPT's shortcut matrix on the residual connection around the FFN (Q_midᵀ·Q_out).
    case ffnShortcut

    /// Whether the role belongs to a block (layer) rather than to the whole model.
    public var isPerBlock: Bool {
        switch self {
        case .tokenEmbedding, .positionEmbedding, .tokenTypeEmbedding, .embeddingNorm, .outputNorm,
             .outputHead, .pooler:
            return false
        default:
            return true
        }
    }
}

/// Whether a tensor is a role's weight or its bias.
public enum TensorPart: String, Hashable, Sendable {
    case weight
    case bias
}

/// Where a named tensor sits in a model: its role, weight or bias, and its block (nil for
/// model-wide tensors).
public struct TensorPlace: Hashable, Sendable {
    /// What the tensor does.
    public let role: TensorRole
    /// Weight or bias.
    public let part: TensorPart
    /// The block (layer) index, nil for model-wide tensors.
    public let block: Int?

    /// A place; `block` must be given exactly when the role is per-block.
    public init(_ role: TensorRole, _ part: TensorPart = .weight, block: Int? = nil) {
        precondition(role.isPerBlock == (block != nil), "block index given for the wrong kind of role")
        self.role = role
        self.part = part
        self.block = block
    }
}
