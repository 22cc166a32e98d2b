import Foundation
import Numerics

/// One PruneNet action on one layer: the relaxed-Bernoulli noise of eq. 4 on the importance
/// scores, then k row indices drawn one by one without replacement, each in proportion to its
/// noisy score among those left (a Plackett–Luce draw). Holds what REINFORCE needs: the noisy
/// logits and the exact log-probability of the draw given the noise.
public struct PolicyDraw: Sendable {
    /// The kept row indices in draw order.
    public let kept: [Int]
    /// The noisy scores w̃ᵢ = σ(zᵢ + logit εᵢ) (eq. 4; zᵢ = logit of the importance score).
    public let noisyScores: [Double]
    /// log P(kept | W, ε) = Σₜ [log w̃_{sₜ} − log Σ_{j not yet drawn} w̃ⱼ].
    public let logProbability: Double
}

/// The sampling and log-probability of PruneNet's policy (paper eq. 4 and Algorithm 1, lines 7–11).
public enum PolicySampling {
    /// logit(ε) for ε uniform on the open interval (0, 1): the logistic noise of eq. 4.
    public static func logisticNoise(count: Int, rng: inout SeededRandom) -> [Double] {
        (0..<count).map { _ in
            var u = rng.uniformOpen()
            while u >= 1 { u = rng.uniformOpen() }
            return Foundation.log(u) - Foundation.log1p(-u)
        }
    }

    /// σ(x) computed without overflow.
    @inline(__always) public static func sigmoid(_ x: Double) -> Double {
        x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    }

    /// Noisy scores σ(z + noise) (eq. 4, where log W_imp − log(1 − W_imp) = z exactly). Working
    /// from the logits avoids the rounding of σ(z) to 1 that breaks the authors' fp16 code.
    public static func noisyScores(logits z: [Double], noise: [Double]) -> [Double] {
        zip(z, noise).map { sigmoid($0 + $1) }
    }

    /// Draws `count` indices without replacement in proportion to `weights` (Gumbel-top-k, the
    /// same law as sequential draws) and returns them in draw order.
    public static func draw(weights: [Double], count: Int, rng: inout SeededRandom) throws -> [Int] {
        try rng.sampleWithoutReplacement(weights: weights, count: count)
    }

    /// log P(kept) of a sequential draw without replacement with weights `w` (all positive).
    /// The remaining mass before each draw is a suffix sum (stable, no cancellation).
    public static func logProbability(kept: [Int], weights w: [Double]) -> Double {
        let (remaining, _) = remainingMass(kept: kept, weights: w)
        var lp = 0.0
        for (t, i) in kept.enumerated() { lp += Foundation.log(w[i]) - Foundation.log(remaining[t]) }
        return lp
    }

    /// Rₜ = Σ of the weights not yet drawn before draw t (t = 0..<k), and the set of kept indices.
    static func remainingMass(kept: [Int], weights w: [Double]) -> ([Double], [Bool]) {
        var isKept = [Bool](repeating: false, count: w.count)
        for i in kept { isKept[i] = true }
        var unkept = 0.0
        for i in w.indices where !isKept[i] { unkept += w[i] }
        var remaining = [Double](repeating: 0, count: kept.count)
        var acc = unkept
        for t in stride(from: kept.count - 1, through: 0, by: -1) {
            acc += w[kept[t]]
            remaining[t] = acc
        }
        return (remaining, isKept)
    }

    /// ∂ log P(kept) / ∂zᵢ for weights w̃ᵢ = σ(zᵢ + noiseᵢ): with Cₜ = Σ_{u ≤ t} 1/R_u,
    /// ∂ log P/∂w̃ᵢ = 1/w̃ᵢ − C_{tᵢ} for the index drawn at tᵢ and −C_{k−1} for the others;
    /// then ∂w̃ᵢ/∂zᵢ = w̃ᵢ(1 − w̃ᵢ)/τ for weights σ((zᵢ + noiseᵢ)/τ) at temperature τ (1: eq. 4).
    public static func logProbabilityGradient(kept: [Int], weights w: [Double], temperature: Double = 1) -> [Double] {
        let (remaining, isKept) = remainingMass(kept: kept, weights: w)
        var g = [Double](repeating: 0, count: w.count)
        var c = 0.0
        for (t, i) in kept.enumerated() {
            c += 1 / remaining[t]
            g[i] = (1 / w[i] - c) * w[i] * (1 - w[i]) / temperature
        }
        for i in w.indices where !isKept[i] { g[i] = -c * w[i] * (1 - w[i]) / temperature }
        return g
    }

    /// One action: noise from `rng`, noisy scores σ((z + noise)/`temperature`) (eq. 4 at 1), a
    /// draw of `count` rows, and its log-probability.
    public static func act(logits z: [Double], count: Int, rng: inout SeededRandom, temperature: Double = 1) throws -> PolicyDraw {
        let noise = logisticNoise(count: z.count, rng: &rng)
        let w = temperature == 1 ? noisyScores(logits: z, noise: noise) : zip(z, noise).map { sigmoid(($0 + $1) / temperature) }
        // A noisy score can underflow to 0 for hugely negative logits; keep every row drawable.
        let safe = w.map { Swift.max($0, Double.leastNormalMagnitude) }
        let kept = try draw(weights: safe, count: count, rng: &rng)
        return PolicyDraw(kept: kept, noisyScores: safe, logProbability: logProbability(kept: kept, weights: safe))
    }

    /// The k indices of the largest logits (ties by lower index): the deterministic policy of Table 17.
    public static func topK(logits z: [Double], count: Int) -> [Int] {
        Array(z.indices.sorted { z[$0] != z[$1] ? z[$0] > z[$1] : $0 < $1 }.prefix(count))
    }
}
