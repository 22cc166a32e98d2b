import Foundation
import Numerics

/// PruneNet's policy learner (paper §4.1, eq. 3): parameters `W_inter` (n×d) and `W_proj` (1×n),
/// one instance shared by every layer, no bias. A layer's state matrix W (n×d: gate for llama,
/// up otherwise) gets one importance score per row, imp = σ(W·W_interᵀ·W_projᵀ). The n×n product
/// W' = W·W_interᵀ is never formed: the scores collapse to σ(W·v) with v = W_interᵀ·W_projᵀ (a
/// d-vector), which is what `direction()` computes. Parameters are Float64 so that gradients can
/// be checked against finite differences.
public struct PolicyLearner: Sendable, Equatable {
    /// Rows of W_inter: the intermediate width n of the state matrices it was made for.
    public let n: Int
    /// Columns of W_inter: the hidden size d.
    public let d: Int
    /// W_inter, n×d row-major.
    public var wInter: [Double]
    /// W_proj, 1×n.
    public var wProj: [Double]

    /// A learner with PyTorch's default `nn.Linear` initialisation (uniform on ±1/√fan_in:
    /// fan_in = d for W_inter, n for W_proj), drawn from `SeededRandom(seed)`, times `scale`.
    public init(n: Int, d: Int, seed: UInt64, scale: Double = 1) {
        self.n = n
        self.d = d
        var rng = SeededRandom(seed: seed)
        let a = scale / Double(d).squareRoot(), b = scale / Double(n).squareRoot()
        wInter = (0..<(n * d)).map { _ in (2 * rng.uniform() - 1) * a }
        wProj = (0..<n).map { _ in (2 * rng.uniform() - 1) * b }
    }

    /// A learner with the given parameters (W_inter n×d row-major, W_proj of length n).
    public init(n: Int, d: Int, wInter: [Double], wProj: [Double]) throws {
        guard n > 0, d > 0, wInter.count == n * d, wProj.count == n else {
            throw PruningError("a policy learner needs W_inter of \(n)×\(d) = \(n * d) values and W_proj of \(n), got \(wInter.count) and \(wProj.count)")
        }
        self.n = n
        self.d = d
        self.wInter = wInter
        self.wProj = wProj
    }

    /// The number of trainable parameters, n·d + n.
    public var parameterCount: Int { n * d + n }

    /// v = W_interᵀ·W_projᵀ (length d): the scores of a state W are σ(W·v).
    public func direction() -> [Double] {
        var v = [Double](repeating: 0, count: d)
        wInter.withUnsafeBufferPointer { pw in
            v.withUnsafeMutableBufferPointer { pv in
                for i in 0..<n { axpy(wProj[i], pw.baseAddress! + i * d, pv.baseAddress!, d) }
            }
        }
        return v
    }

    /// The logits z = W·v of a state matrix W (rows×d, row-major Float64); imp = σ(z).
    public func logits(state w: [Double], rows: Int, direction v: [Double]? = nil) -> [Double] {
        let v = v ?? direction()
        return w.withUnsafeBufferPointer { pw in
            v.withUnsafeBufferPointer { pv in
                (0..<rows).map { r in dot(pw.baseAddress! + r * d, pv.baseAddress!, d) }
            }
        }
    }

    /// The gradient of a scalar f with respect to (W_inter, W_proj), given ∂f/∂z for the logits z
    /// of state W (rows×d): ∂f/∂v = Wᵀ·∂f/∂z, then ∂f/∂W_inter = W_projᵀ ⊗ ∂f/∂v and
    /// ∂f/∂W_proj = W_inter·∂f/∂v. Adds into `gInter` and `gProj` scaled by `scale`. (Plain loops
    /// in a fixed order rather than BLAS, so a seed gives the same bits on any thread count.)
    public func accumulateGradient(state w: [Double], rows: Int, dLogits gz: [Double], scale: Double,
                                   gInter: inout [Double], gProj: inout [Double]) {
        var gv = [Double](repeating: 0, count: d)
        w.withUnsafeBufferPointer { pw in
            gv.withUnsafeMutableBufferPointer { pv in
                for r in 0..<rows where gz[r] != 0 { axpy(scale * gz[r], pw.baseAddress! + r * d, pv.baseAddress!, d) }
            }
        }
        gv.withUnsafeBufferPointer { pv in
            gInter.withUnsafeMutableBufferPointer { pg in
                for i in 0..<n { axpy(wProj[i], pv.baseAddress!, pg.baseAddress! + i * d, d) }
            }
            wInter.withUnsafeBufferPointer { pw in
                for i in 0..<n { gProj[i] += dot(pw.baseAddress! + i * d, pv.baseAddress!, d) }
            }
        }
    }
}

extension PolicyLearner {
    /// The logits z = W·v of a Float32 state matrix W (rows×d), by sgemv with v rounded to
    /// Float32: the sketched training's form (no Float64 copy of the state).
    public func logits(state w: Matrix, direction v: [Double]) throws -> [Double] {
        try gemv(w, v.map(Float.init)).map(Double.init)
    }

    /// ∂f/∂v = Wᵀ·∂f/∂z for a Float32 state W (rows×d) and ∂f/∂z `gz` (sgemv): what
    /// `addDirectionGradient` turns into the parameters' gradient.
    public static func directionGradient(state w: Matrix, dLogits gz: [Double]) throws -> [Double] {
        try gemv(w, gz.map(Float.init), transpose: true).map(Double.init)
    }

    /// Adds the gradient of f with respect to (W_inter, W_proj) given ∂f/∂v (`gv`, length d),
    /// scaled by `scale`: ∂f/∂W_inter = W_projᵀ ⊗ ∂f/∂v, ∂f/∂W_proj = W_inter·∂f/∂v. Summing
    /// several layers' ∂f/∂v first makes one pass over the n×d parameters instead of one a layer.
    public func addDirectionGradient(_ gv: [Double], scale: Double, gInter: inout [Double], gProj: inout [Double]) {
        let g = gv.map { $0 * scale }
        g.withUnsafeBufferPointer { pv in
            gInter.withUnsafeMutableBufferPointer { pg in
                for i in 0..<n { axpy(wProj[i], pv.baseAddress!, pg.baseAddress! + i * d, d) }
            }
            wInter.withUnsafeBufferPointer { pw in
                for i in 0..<n { gProj[i] += dot(pw.baseAddress! + i * d, pv.baseAddress!, d) }
            }
        }
    }
}

/// y += a·x over `count` elements.
@inline(__always) func axpy(_ a: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ count: Int) {
    for j in 0..<count { y[j] += a * x[j] }
}

/// x·y over `count` elements (four partial sums, fixed order).
@inline(__always) func dot(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ count: Int) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var j = 0
    while j + 4 <= count {
        s0 += x[j] * y[j]; s1 += x[j + 1] * y[j + 1]; s2 += x[j + 2] * y[j + 2]; s3 += x[j + 3] * y[j + 3]
        j += 4
    }
    while j < count { s0 += x[j] * y[j]; j += 1 }
    return (s0 + s1) + (s2 + s3)
}
