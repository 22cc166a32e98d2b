import Foundation

/// Adam and AdamW in PyTorch's formulation (`torch.optim.Adam`, `torch.optim.AdamW`), step t
/// counted from 1: with weight decay λ, Adam adds λ·p to the gradient and AdamW first scales
/// p ← p·(1 − lr·λ); then m ← β₁·m + (1 − β₁)·g, v ← β₂·v + (1 − β₂)·g², and
/// p ← p − (lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε).
public struct Adam: Optimizer {
    /// The settings, with PyTorch's defaults (AdamW's default weight decay is 0.01: use `adamW`).
    public struct Settings: Sendable, Equatable {
        /// Step size lr.
        public var learningRate: Double
        /// Decay β₁ of the first moment.
        public var beta1: Double
        /// Decay β₂ of the second moment.
        public var beta2: Double
        /// ε added to the root of the second moment.
        public var epsilon: Double
        /// Weight decay λ.
        public var weightDecay: Double
        /// AdamW: weight decay applied to the weights directly, not through the gradient.
        public var decoupledWeightDecay: Bool

        /// Settings with PyTorch's defaults unless given.
        public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8,
                    weightDecay: Double = 0, decoupledWeightDecay: Bool = false) {
            self.learningRate = learningRate
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
            self.decoupledWeightDecay = decoupledWeightDecay
        }

        /// AdamW's settings with PyTorch's defaults (weight decay 0.01).
        public static func adamW(learningRate: Double = 1e-3, weightDecay: Double = 0.01) -> Settings {
            Settings(learningRate: learningRate, weightDecay: weightDecay, decoupledWeightDecay: true)
        }
    }

    /// The settings it steps with; a schedule changes `settings.learningRate` between steps.
    public var settings: Settings
    /// Steps begun so far.
    public private(set) var stepCount = 0
    private var moments: [Int: (m: [Float], v: [Float])] = [:]

    /// An optimiser with no moments yet.
    public init(_ settings: Settings) { self.settings = settings }

    /// An optimiser resumed from a checkpoint: `stepCount` steps taken, these moments per slot.
    public init(_ settings: Settings, stepCount: Int, moments: [Int: (m: [Float], v: [Float])]) {
        self.settings = settings
        self.stepCount = stepCount
        self.moments = moments
    }

    /// The first and second moments kept for `slot` (nil before its first update).
    public func moments(of slot: Int) -> (m: [Float], v: [Float])? { moments[slot] }

    /// The slots that have moments.
    public var slots: [Int] { moments.keys.sorted() }

    /// Starts a step (t += 1); call before the step's `update`s.
    public mutating func beginStep() { stepCount += 1 }

    /// Updates parameter `p` from its gradient; `slot` names the parameter, whose moments are kept.
    public mutating func update(_ p: inout [Float], gradient: [Float], slot: Int) {
        precondition(p.count == gradient.count, "a parameter and its gradient must have the same length")
        precondition(stepCount > 0, "call beginStep() before update")
        let s = settings
        let t = Double(stepCount)
        let b1 = Float(s.beta1), b2 = Float(s.beta2), eps = Float(s.epsilon), wd = Float(s.weightDecay)
        let stepSize = Float(s.learningRate / (1 - pow(s.beta1, t)))
        let correction2Root = Float((1 - pow(s.beta2, t)).squareRoot())
        var (m, v) = moments.removeValue(forKey: slot) ?? ([Float](repeating: 0, count: p.count), [Float](repeating: 0, count: p.count))
        let decay: Float = (wd != 0 && s.decoupledWeightDecay) ? 1 - Float(s.learningRate) * wd : 1
        let coupled: Float = (wd != 0 && !s.decoupledWeightDecay) ? wd : 0
        let n = p.count
        p.withUnsafeMutableBufferPointer { pp in
            m.withUnsafeMutableBufferPointer { mp in
                v.withUnsafeMutableBufferPointer { vp in
                    gradient.withUnsafeBufferPointer { gp in
                        for i in 0..<n {
                            let pi = pp[i] * decay
                            let g = gp[i] + coupled * pp[i]
                            let mi = b1 * mp[i] + (1 - b1) * g
                            let vi = b2 * vp[i] + (1 - b2) * g * g
                            mp[i] = mi
                            vp[i] = vi
                            pp[i] = pi - stepSize * mi / (vi.squareRoot() / correction2Root + eps)
                        }
                    }
                }
            }
        }
        moments[slot] = (m, v)
    }
}
