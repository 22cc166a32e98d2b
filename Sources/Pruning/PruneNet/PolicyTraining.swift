import Foundation
import Numerics
import Models

/// One training episode as the curve records it.
public struct EpisodeRecord: Sendable, Equatable, Codable {
    /// 0-based episode number.
    public var episode: Int
    /// The mean penalty over layers of this episode's draws.
    public var meanPenalty: Double
    /// The lowest episode mean so far (including this one).
    public var bestSoFar: Double
    /// Seconds since training started, at the end of the episode.
    public var elapsed: Double
    /// Each layer's penalty in this episode.
    public var penalties: [Double]

    /// A record of one episode.
    public init(episode: Int, meanPenalty: Double, bestSoFar: Double, elapsed: Double, penalties: [Double]) {
        self.episode = episode
        self.meanPenalty = meanPenalty
        self.bestSoFar = bestSoFar
        self.elapsed = elapsed
        self.penalties = penalties
    }
}

/// What a training run returns: the learner to keep, the curve, and how it ended.
public struct PolicyTrainingResult: Sendable {
    /// The learner kept: the one whose episode had the lowest mean penalty (paper variant), or
    /// the last one (authors' variant).
    public var learner: PolicyLearner
    /// Every finished episode.
    public var curve: [EpisodeRecord]
    /// The episode whose learner was kept (−1 when none finished).
    public var keptEpisode: Int
    /// Whether training stopped early because its progress asked it to (by throwing).
    public var interrupted: Bool
    /// What the progress threw to stop training (nil when it ran to the end).
    public var stoppedBy: Error?
    /// Wall-clock seconds.
    public var seconds: Double
}

/// PruneNet's policy optimisation (paper §4.3, Algorithm 1): episodes over the layers' state
/// matrices, each layer an action drawn from the shared learner, penalised by the spectral
/// distance, and REINFORCE with the exact log-probability of each draw.
public enum PolicyTraining {
    /// The state matrices PruneNet learns from: each block's gate (llama) or up (BERT) matrix.
    /// Throws unless every block has the same FFN width (a policy is n×d).
    public static func states(of model: Model) throws -> [Matrix] {
        let widths = Set(model.config.intermediateSizes)
        guard widths.count == 1 else {
            throw PruningError("PruneNet needs every block to have the same FFN width; this model has widths \(widths.sorted())")
        }
        let role = RowPruners.stateRole(model.config)
        return try (0..<model.blockCount).map { try model.matrix(role, block: $0) }
    }

    /// Trains a learner on `model`'s state matrices. `progress` hears of each finished episode
    /// (stage "episode", the detail giving its mean penalty, the best so far and the seconds) and
    /// is checked between layers; when it throws, training stops and the best learner so far is
    /// returned, marked interrupted (a stop while the spectra are prepared throws instead).
    /// With `options.spectrum` sketching (above `SpectrumMode.sketchDimension` columns for
    /// `auto`), the states are read per layer and the spectra sketched (`SketchedLayers`).
    /// With `options.contribution` > 0 the model's contribution shares (`ContributionShares`,
    /// under `options.contributionProxy`) are computed once, here, and every layer's penalty
    /// adds its contribution term.
    public static func train(model: Model, options: PolicyTrainingOptions,
                             progress: ProgressReporter = .none) throws -> PolicyTrainingResult {
        try options.validate()
        try progress.report("preparing spectra", done: 0, total: options.episodes)
        let contribution = try contributionShares(of: model, options: options, progress: progress)
        if var layers = try sketchedLayers(of: model, options: options, progress: progress) {
            layers.contribution = contribution
            return try train(sketched: layers, options: options, progress: progress)
        }
        let spectra = try prepare(try states(of: model), progress: progress)
        return try train(spectra: spectra, options: options, contribution: contribution, progress: progress)
    }

    /// The contribution shares training on `model` with `options` needs: nil when
    /// `options.contribution` is 0, otherwise the shares of every block under
    /// `options.contributionProxy` (an error for a model that is not llama).
    public static func contributionShares(of model: Model, options: PolicyTrainingOptions,
                                          progress: ProgressReporter = .none) throws -> ContributionShares? {
        guard options.contribution > 0 else { return nil }
        do { return try ContributionShares(model, proxy: options.contributionProxy, progress: progress) }
        catch let e as PruningError where e.option == nil {
            throw PruningError(option: "contribution", "contribution=\(PruningError.format(options.contribution)): \(e.message)")
        }
    }

    /// The model's state matrices as `SketchedLayers` when `options.spectrum` sketches at their
    /// size (nil otherwise): read per layer from the model (a mapped GGUF dequantises a layer
    /// per use), never all held at once.
    public static func sketchedLayers(of model: Model, options: PolicyTrainingOptions,
                                      progress: ProgressReporter = .none) throws -> SketchedLayers? {
        let widths = Set(model.config.intermediateSizes)
        guard widths.count == 1 else {
            throw PruningError("PruneNet needs every block to have the same FFN width; this model has widths \(widths.sorted())")
        }
        let role = RowPruners.stateRole(model.config)
        guard model.blockCount > 0, let t = model.tensor(role, block: 0), t.shape.count == 2 else { return nil }
        let rows = t.rows, cols = t.cols
        guard options.spectrum.sketches(dimension: Swift.min(rows, cols)) else { return nil }
        let m = model
        return try SketchedLayers(count: model.blockCount, rows: rows, cols: cols, sketch: options.sketch, seed: options.seed,
                                  progress: progress) { l in try m.matrix(role, block: l) }
    }

    /// Prepares each layer's spectrum (Gram matrix and singular values), both cores at once;
    /// `progress` is checked before each layer.
    public static func prepare(_ states: [Matrix], progress: ProgressReporter = .none) throws -> [LayerSpectrum] {
        guard let first = states.first else { throw PruningError("PruneNet needs at least one layer") }
        for (l, w) in states.enumerated() where w.rows != first.rows || w.cols != first.cols {
            throw PruningError("layer \(l)'s state matrix is \(w.rows)×\(w.cols), layer 0's is \(first.rows)×\(first.cols)")
        }
        return try parallelMap(states.count) { l in
            try progress.check()
            return try LayerSpectrum(states[l])
        }
    }

    /// Trains on prepared layers (see `train(model:options:progress:)`): Float64 states, exact
    /// spectra, each layer's gradient accumulated on its own (the form RESULTS' grid was run in).
    /// `contribution` gives the shares the penalty's contribution term needs when
    /// `options.contribution` > 0 (see `contributionShares(of:options:progress:)`).
    public static func train(spectra: [LayerSpectrum], options: PolicyTrainingOptions, contribution: ContributionShares? = nil,
                             progress: ProgressReporter = .none) throws -> PolicyTrainingResult {
        guard let first = spectra.first else { throw PruningError("PruneNet needs at least one layer") }
        return try runEpisodes(on: PreparedLayers(spectra: spectra, rows: first.rows, cols: first.cols, contribution: contribution),
                               options: options, progress: progress)
    }

    /// G_l = Σ_{j ≥ l} γ^{j−l}·D_j: eq. 7's discounted future penalty, counting the layer's own
    /// penalty first (the paper's D_{l+k+1} indexes the penalty that follows action l).
    public static func discountedReturns(_ penalties: [Double], gamma: Double) -> [Double] {
        var out = [Double](repeating: 0, count: penalties.count)
        var acc = 0.0
        for l in stride(from: penalties.count - 1, through: 0, by: -1) {
            acc = penalties[l] + gamma * acc
            out[l] = acc
        }
        return out
    }

    /// The seed of layer `layer`'s draw in episode `episode` (independent of thread scheduling).
    static func drawSeed(_ seed: UInt64, _ episode: Int, _ layer: Int) -> UInt64 {
        seed &* 0x9E37_79B9_7F4A_7C15 ^ (UInt64(episode) &* 0xD1B5_4A32_D192_ED03) ^ (UInt64(layer) &* 0x8CB9_2BA7_2F3D_8DD7) ^ 0x5EED
    }
}

/// `body(0..<count)` on both cores (OpenBLAS held to one thread meanwhile), results in order.
func parallelMap<T>(_ count: Int, _ body: (Int) throws -> T) throws -> [T] {
    let slots = ParallelSlots<T>(count)
    let threads = BLASThreads.count
    BLASThreads.set(1)
    defer { BLASThreads.set(threads) }
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let body = body
        slots.items.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let buffer = buffer
            DispatchQueue.concurrentPerform(iterations: count) { i in
                buffer[i] = Result { try body(i) }
            }
        }
    }
    return try slots.items.map { try $0!.get() }
}

/// Result slots that `parallelMap`'s iterations fill, one index each.
final class ParallelSlots<T>: @unchecked Sendable {
    var items: [Result<T, Error>?]
    init(_ n: Int) { items = Array(repeating: nil, count: n) }
}
