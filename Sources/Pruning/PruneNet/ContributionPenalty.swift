import Foundation
import Numerics
import Models

/// The contribution term of PruneNet's penalty (`PolicyTrainingOptions.contribution`): for every
/// layer, each neuron's share of the layer's total contribution score (`ContributionScores`, the
/// score contribution-rows keeps by), so a draw's term is the share its removed neurons carry,
/// in [0, 1]. Computed once per model before training; the episodes only sum shares.
public struct ContributionShares: Sendable, Equatable {
    /// shares[l][j]: neuron j's score over the sum of layer l's scores (each row sums to 1).
    public let shares: [[Double]]

    /// Shares from raw per-layer scores: each must be finite and ≥ 0, with a positive sum.
    public init(scores: [[Double]]) throws {
        shares = try scores.enumerated().map { l, s in
            guard s.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw PruningError(option: "contribution", "layer \(l)'s contribution scores must be finite and non-negative")
            }
            let total = s.reduce(0, +)
            guard total > 0 else {
                throw PruningError(option: "contribution", "layer \(l)'s contribution scores sum to 0: there is nothing to weigh the removed neurons by")
            }
            return s.map { $0 / total }
        }
    }

    /// The shares of `model`'s FFN neurons under `proxy` (a llama model; the prompt proxy runs
    /// one pass over the data-free prompt). `progress` is checked before each block.
    public init(_ model: Model, proxy: ContributionScores.Proxy, progress: ProgressReporter = .none) throws {
        let scores = try ContributionScores(model, proxy: proxy)
        try self.init(scores: try (0..<model.blockCount).map { b in
            try progress.check()
            return try scores.scores(block: b)
        })
    }

    /// The share of layer `layer`'s total score carried by the neurons not in `kept`.
    public func removedShare(layer: Int, kept: [Int]) -> Double {
        let s = shares[layer]
        var isKept = [Bool](repeating: false, count: s.count)
        for i in kept { isKept[i] = true }
        var removed = 0.0
        for j in 0..<s.count where !isKept[j] { removed += s[j] }
        return removed
    }

    /// Throws unless there is one row of `width` shares for each of `layers` layers.
    func requireFits(layers: Int, width: Int) throws {
        guard shares.count == layers, shares.allSatisfy({ $0.count == width }) else {
            throw PruningError(option: "contribution", "the contribution scores cover \(shares.count) layers of \(shares.first?.count ?? 0) neurons; training has \(layers) layers of \(width)")
        }
    }
}

extension PolicyEpisodeLayers {
    /// Layer `l`'s penalty of a draw keeping `kept`: the spectral distance `distance`, plus
    /// λ·(removed contribution share) when `options.contribution` λ > 0 (unchanged, bit for bit,
    /// when λ = 0).
    func penalized(_ distance: Double, layer l: Int, kept: [Int], options: PolicyTrainingOptions) -> Double {
        guard options.contribution > 0, let c = contribution else { return distance }
        return distance + options.contribution * c.removedShare(layer: l, kept: kept)
    }
}
