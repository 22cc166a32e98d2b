/// An optimiser over parameter tensors held as flat Float32 arrays, each known by a slot number
/// (the network decides the numbering; its state, such as momentum, is kept per slot). A step is
/// `beginStep()` then `update` once for every slot.
public protocol Optimizer {
    /// Starts a step (advances the step count that Adam's bias correction uses).
    mutating func beginStep()
    /// Updates `parameters` in place from `gradient` (same length), using and updating the
    /// state kept for `slot`.
    mutating func update(_ parameters: inout [Float], gradient: [Float], slot: Int)
}

/// Which optimiser to train with and its settings; `make()` gives a fresh one.
public enum OptimizerChoice: Sendable, Equatable {
    /// Stochastic gradient descent with momentum (PyTorch's `torch.optim.SGD`).
    case sgd(SGD.Settings)
    /// Adam, or AdamW with decoupled weight decay (PyTorch's `torch.optim.Adam` / `AdamW`).
    case adam(Adam.Settings)

    /// The learning rate.
    public var learningRate: Double {
        switch self {
        case let .sgd(s): return s.learningRate
        case let .adam(s): return s.learningRate
        }
    }

    /// A short name: "sgd", "adam" or "adamw".
    public var name: String {
        switch self {
        case .sgd: return "sgd"
        case let .adam(s): return s.decoupledWeightDecay ? "adamw" : "adam"
        }
    }
}
