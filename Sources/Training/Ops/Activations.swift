import Foundation

/// The elementwise activations of the small networks, forward beside backward. Each backward takes
/// the upstream gradient and what the forward saw (`x`, its input) or gave (`y`, its output) and
/// returns the gradient with respect to the input.
public enum Activation: String, Sendable, CaseIterable, Equatable {
    /// max(0, x).
    case relu
    /// tanh(x).
    case tanh
    /// The exact GELU, x·Φ(x) = x/2·(1 + erf(x/√2)) (PyTorch's `nn.GELU()` default, not the tanh
    /// approximation).
    case gelu

    /// The activation of every element of `x`.
    public func forward(_ x: [Float]) -> [Float] {
        switch self {
        case .relu: return x.map { $0 > 0 ? $0 : 0 }
        case .tanh: return x.map { Foundation.tanh($0) }
        case .gelu: return x.map { 0.5 * $0 * (1 + erf($0 * Float(0.5).squareRoot())) }
        }
    }

    /// dx from the upstream gradient `dy`, the forward's input `x` and its output `y`.
    public func backward(_ dy: [Float], x: [Float], y: [Float]) -> [Float] {
        precondition(dy.count == x.count && x.count == y.count, "an activation's backward needs equal lengths")
        var dx = [Float](repeating: 0, count: dy.count)
        switch self {
        case .relu:
            for i in dy.indices { dx[i] = x[i] > 0 ? dy[i] : 0 }
        case .tanh:
            for i in dy.indices { dx[i] = dy[i] * (1 - y[i] * y[i]) }
        case .gelu:
            let invSqrt2 = Float(0.5).squareRoot()
            let invSqrt2Pi = 1 / Float(2 * Double.pi).squareRoot()
            for i in dy.indices {
                let v = x[i]
                let cdf = 0.5 * (1 + erf(v * invSqrt2))
                let pdf = invSqrt2Pi * exp(-0.5 * v * v)
                dx[i] = dy[i] * (cdf + v * pdf)
            }
        }
        return dx
    }
}
