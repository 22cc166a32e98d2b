/// Stochastic gradient descent with momentum in PyTorch's formulation (`torch.optim.SGD`): with
/// weight decay λ, g ← g + λ·p; with momentum μ, the buffer b ← g on the first step and
/// b ← μ·b + (1 − dampening)·g after, and g ← b (or g + μ·b with Nesterov); then p ← p − lr·g.
public struct SGD: Optimizer {
    /// The settings, with PyTorch's defaults.
    public struct Settings: Sendable, Equatable {
        /// Step size lr.
        public var learningRate: Double
        /// Momentum μ (0: none).
        public var momentum: Double
        /// Dampening of the gradient in the momentum buffer.
        public var dampening: Double
        /// Weight decay λ (added to the gradient).
        public var weightDecay: Double
        /// Nesterov momentum.
        public var nesterov: Bool

        /// Settings with PyTorch's defaults unless given.
        public init(learningRate: Double, momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0, nesterov: Bool = false) {
            self.learningRate = learningRate
            self.momentum = momentum
            self.dampening = dampening
            self.weightDecay = weightDecay
            self.nesterov = nesterov
        }
    }

    /// The settings it steps with.
    public let settings: Settings
    private var buffers: [Int: [Float]] = [:]

    /// An optimiser with no momentum buffers yet.
    public init(_ settings: Settings) { self.settings = settings }

    /// Starts a step (nothing to do for SGD).
    public mutating func beginStep() {}

    /// Updates parameter `p` from its gradient; `slot` names the parameter, whose buffer is kept.
    public mutating func update(_ p: inout [Float], gradient: [Float], slot: Int) {
        precondition(p.count == gradient.count, "a parameter and its gradient must have the same length")
        let lr = Float(settings.learningRate), mu = Float(settings.momentum)
        let wd = Float(settings.weightDecay), damp = Float(1 - settings.dampening)
        var g = gradient
        if wd != 0 { for i in g.indices { g[i] += wd * p[i] } }
        if mu != 0 {
            if var b = buffers.removeValue(forKey: slot) {
                for i in b.indices { b[i] = mu * b[i] + damp * g[i] }
                if settings.nesterov { for i in g.indices { g[i] += mu * b[i] } } else { g = b }
                buffers[slot] = b
            } else {
                let b = g
                if settings.nesterov { for i in g.indices { g[i] += mu * b[i] } }
                buffers[slot] = b
            }
        }
        for i in p.indices { p[i] -= lr * g[i] }
    }
}
