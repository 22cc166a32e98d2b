import Foundation

/// AdamW (Loshchilov & Hutter), as `torch.optim.AdamW` computes it: decoupled weight decay
/// θ ← θ − lr·λ·θ, then the bias-corrected Adam step θ ← θ − lr·m̂/(√v̂ + ε).
public struct AdamW: Sendable {
    /// Learning rate (the paper uses 5e-4).
    public var learningRate: Double
    /// β₁ and β₂.
    public var betas: (Double, Double)
    /// ε in the denominator.
    public var epsilon: Double
    /// Decoupled weight decay λ (PyTorch's default 0.01).
    public var weightDecay: Double
    private var m: [[Double]] = []
    private var v: [[Double]] = []
    /// Steps taken so far.
    public private(set) var step = 0

    /// An optimiser with PyTorch's defaults except `learningRate`.
    public init(learningRate: Double, betas: (Double, Double) = (0.9, 0.999), epsilon: Double = 1e-8, weightDecay: Double = 0.01) {
        self.learningRate = learningRate
        self.betas = betas
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// One step on the parameter tensors `params` with gradients `grads` (same shapes, same order).
    public mutating func update(_ params: inout [[Double]], grads: [[Double]]) {
        if m.isEmpty {
            m = params.map { [Double](repeating: 0, count: $0.count) }
            v = m
        }
        step += 1
        let (b1, b2) = betas
        let c1 = 1 - Foundation.pow(b1, Double(step)), c2 = 1 - Foundation.pow(b2, Double(step))
        let lr = learningRate, wd = weightDecay, eps = epsilon
        for t in params.indices {
            params[t].withUnsafeMutableBufferPointer { p in
                m[t].withUnsafeMutableBufferPointer { mt in
                    v[t].withUnsafeMutableBufferPointer { vt in
                        grads[t].withUnsafeBufferPointer { g in
                            for i in 0..<p.count {
                                p[i] -= lr * wd * p[i]
                                mt[i] = b1 * mt[i] + (1 - b1) * g[i]
                                vt[i] = b2 * vt[i] + (1 - b2) * g[i] * g[i]
                                p[i] -= lr * (mt[i] / c1) / ((vt[i] / c2).squareRoot() + eps)
                            }
                        }
                    }
                }
            }
        }
    }
}
