import Foundation
import Numerics

/// The layers PruneNet's episode loop visits, in one of its two forms (prepared Float64 spectra,
/// `PreparedLayers`; or states read per visit with sketched spectra, `SketchedLayers`): what one
/// layer's draw computes, and how its gradient reaches the learner's parameters. The loop itself
/// (draw seeds, returns, baseline, AdamW, the best learner, progress and stops) is
/// `PolicyTraining.runEpisodes`, shared by both.
protocol PolicyEpisodeLayers: Sendable {
    /// Layers, and the rows n and columns d of every state matrix.
    var count: Int { get }
    var rows: Int { get }
    var cols: Int { get }
    /// What the progress line adds after each episode's numbers.
    var detailSuffix: String { get }
    /// Each layer's contribution shares, for the penalty's contribution term (nil: none; needed
    /// when `PolicyTrainingOptions.contribution` > 0).
    var contribution: ContributionShares? { get }
    /// The paper variant's work for layer `l` under `learner` (direction `v`): the draw of `k`
    /// rows, its penalty, and the layer's gradient in the form `paperGradient` sums.
    func paperStep(_ l: Int, learner: PolicyLearner, direction v: [Double], keep k: Int, rng: inout SeededRandom,
                   options: PolicyTrainingOptions, check: () throws -> Void) throws -> (penalty: Double, gradient: [Double])
    /// Adds Σ_l (advantage_l / layers)·∇log P(S_l) to the parameters' gradient (layers with a zero
    /// advantage skipped).
    func paperGradient(learner: PolicyLearner, steps: [[Double]], advantages: [Double],
                       gInter: inout [Double], gProj: inout [Double])
    /// The authors' variant for layer `l`: the draw, its penalty (returned) and −(1/penalty)·∇log P
    /// added to the gradient.
    func authorsStep(_ l: Int, learner: PolicyLearner, keep k: Int, rng: inout SeededRandom, options: PolicyTrainingOptions,
                     check: () throws -> Void, gInter: inout [Double], gProj: inout [Double]) throws -> Double
}

/// Prepared layers (`PolicyTraining.prepare`): Float64 states and exact spectra, each layer's
/// gradient accumulated from its own ∂f/∂z in a fixed order.
struct PreparedLayers: PolicyEpisodeLayers {
    let spectra: [LayerSpectrum]
    let rows: Int, cols: Int
    /// The contribution term's shares (nil without one).
    var contribution: ContributionShares? = nil
    var count: Int { spectra.count }
    var detailSuffix: String { "" }

    func paperStep(_ l: Int, learner: PolicyLearner, direction v: [Double], keep k: Int, rng: inout SeededRandom,
                   options: PolicyTrainingOptions, check: () throws -> Void) throws -> (penalty: Double, gradient: [Double]) {
        let z = learner.logits(state: spectra[l].weights, rows: rows, direction: v)
        let a = try PolicySampling.act(logits: z, count: k, rng: &rng, temperature: options.temperature)
        let penalty = penalized(try spectra[l].penalty(keeping: a.kept, distance: options.distance, fast: options.fastEigenvalues),
                                layer: l, kept: a.kept, options: options)
        return (penalty, PolicySampling.logProbabilityGradient(kept: a.kept, weights: a.noisyScores, temperature: options.temperature))
    }

    func paperGradient(learner: PolicyLearner, steps: [[Double]], advantages: [Double],
                       gInter: inout [Double], gProj: inout [Double]) {
        for l in 0..<count where advantages[l] != 0 {
            learner.accumulateGradient(state: spectra[l].weights, rows: rows, dLogits: steps[l],
                                       scale: advantages[l] / Double(count), gInter: &gInter, gProj: &gProj)
        }
    }

    func authorsStep(_ l: Int, learner: PolicyLearner, keep k: Int, rng: inout SeededRandom, options: PolicyTrainingOptions,
                     check: () throws -> Void, gInter: inout [Double], gProj: inout [Double]) throws -> Double {
        let z = learner.logits(state: spectra[l].weights, rows: rows)
        let a = try PolicySampling.act(logits: z, count: k, rng: &rng, temperature: options.temperature)
        let penalty = penalized(try spectra[l].penalty(keeping: a.kept, distance: options.distance, fast: options.fastEigenvalues),
                                layer: l, kept: a.kept, options: options)
        let reward = 1 / Swift.max(penalty, 1e-12)
        learner.accumulateGradient(state: spectra[l].weights, rows: rows,
                                   dLogits: PolicySampling.logProbabilityGradient(kept: a.kept, weights: a.noisyScores,
                                                                                  temperature: options.temperature),
                                   scale: -reward, gInter: &gInter, gProj: &gProj)
        return penalty
    }
}

/// A stop asked for by the training's progress, told apart from a failure of the training itself.
private struct EpisodeStop: Error {
    let cause: Error
}

extension PolicyTraining {
    /// PruneNet's episodes over `layers` (paper §4.3, Algorithm 1). Paper variant: every layer's
    /// draw under one snapshot of the learner (both cores), the discounted returns, advantages
    /// against each layer's running-mean baseline (optionally normalised), and one AdamW step from
    /// the second episode on; the learner kept is the one that produced the lowest episode mean.
    /// Authors' variant: an AdamW step after every layer with reward 1/penalty; the last learner is
    /// kept. With `options.contribution` λ > 0 each layer's penalty adds λ·(the contribution share
    /// its draw removes), from `layers.contribution` (an error when absent). `progress` hears of
    /// each finished episode and is checked between layers; when it throws, training stops and
    /// returns what it has, marked interrupted.
    static func runEpisodes<L: PolicyEpisodeLayers>(on layers: L, options: PolicyTrainingOptions,
                                                    progress: ProgressReporter) throws -> PolicyTrainingResult {
        try options.validate()
        let n = layers.rows, d = layers.cols, count = layers.count
        if options.contribution > 0 {
            guard let c = layers.contribution else {
                throw PruningError(option: "contribution", "contribution > 0 needs the model's contribution scores (PolicyTraining.train(model:) computes them)")
            }
            try c.requireFits(layers: count, width: n)
        }
        let k = try FFNPruning.keptCount(width: n, ratio: options.ratio)
        var learner = PolicyLearner(n: n, d: d, seed: options.seed, scale: options.initScale)
        var optimizer = AdamW(learningRate: options.learningRate)
        let start = Date()
        let penaltyName = options.contribution > 0
            ? "\(options.distance.rawValue) + \(PruningError.format(options.contribution))·contribution" : options.distance.rawValue
        var curve = [EpisodeRecord]()
        var best = (penalty: Double.infinity, learner: learner, episode: -1)
        var baseline = [Double](repeating: 0, count: count)
        var interrupted = false
        var stoppedBy: Error?
        func checkStop() throws { do { try progress.check() } catch { throw EpisodeStop(cause: error) } }
        /// One AdamW step on the learner, holding one copy of the parameters, not two.
        func step(_ gInter: [Double], _ gProj: [Double]) {
            var params = [learner.wInter, learner.wProj]
            learner.wInter = []; learner.wProj = []
            optimizer.update(&params, grads: [gInter, gProj])
            learner.wInter = params[0]; learner.wProj = params[1]
        }

        episodes: for episode in 0..<options.episodes {
            do {
                let before = learner
                var penalties = [Double](repeating: 0, count: count)
                switch options.variant {
                case .paper:
                    let v = learner.direction()
                    let snapshot = learner
                    let steps = try parallelMap(count) { l -> (penalty: Double, gradient: [Double]) in
                        try checkStop()
                        var rng = SeededRandom(seed: drawSeed(options.seed, episode, l))
                        return try layers.paperStep(l, learner: snapshot, direction: v, keep: k, rng: &rng, options: options, check: checkStop)
                    }
                    penalties = steps.map(\.penalty)
                    let returns = discountedReturns(penalties, gamma: options.gamma)
                    if episode == 0 { baseline = returns }
                    var advantages = (0..<count).map { returns[$0] - baseline[$0] }
                    if options.normalizeReturns {
                        let m = advantages.reduce(0, +) / Double(count)
                        let sd = (advantages.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(count)).squareRoot()
                        if sd > 0 { advantages = advantages.map { $0 / sd } }
                    }
                    // Baseline: running mean of each layer's return over the episodes so far.
                    for l in 0..<count { baseline[l] += (returns[l] - baseline[l]) / Double(episode + 1) }
                    if episode > 0 {
                        var gInter = [Double](repeating: 0, count: n * d), gProj = [Double](repeating: 0, count: n)
                        layers.paperGradient(learner: snapshot, steps: steps.map(\.gradient), advantages: advantages,
                                             gInter: &gInter, gProj: &gProj)
                        step(gInter, gProj)
                    }
                case .authors:
                    for l in 0..<count {
                        try checkStop()
                        var rng = SeededRandom(seed: drawSeed(options.seed, episode, l))
                        var gInter = [Double](repeating: 0, count: n * d), gProj = [Double](repeating: 0, count: n)
                        penalties[l] = try layers.authorsStep(l, learner: learner, keep: k, rng: &rng, options: options,
                                                              check: checkStop, gInter: &gInter, gProj: &gProj)
                        step(gInter, gProj)
                    }
                }
                let mean = penalties.reduce(0, +) / Double(count)
                if mean < best.penalty { best = (mean, options.variant == .paper ? before : learner, episode) }
                let elapsed = Date().timeIntervalSince(start)
                curve.append(EpisodeRecord(episode: episode, meanPenalty: mean, bestSoFar: best.penalty, elapsed: elapsed, penalties: penalties))
                let detail = "mean \(penaltyName) \(String(format: "%.4g", mean)) · best \(String(format: "%.4g", best.penalty)) · \(String(format: "%.1f", elapsed)) s" + layers.detailSuffix
                do { try progress.report("episode", done: episode + 1, total: options.episodes, detail: detail) } catch { throw EpisodeStop(cause: error) }
            } catch let stop as EpisodeStop {
                interrupted = true
                stoppedBy = stop.cause
                break episodes
            }
        }
        let kept: (penalty: Double, learner: PolicyLearner, episode: Int) = options.variant == .paper ? best : (curve.last?.meanPenalty ?? .infinity, learner, curve.count - 1)
        return PolicyTrainingResult(learner: kept.learner, curve: curve, keptEpisode: kept.episode,
                                    interrupted: interrupted, stoppedBy: stoppedBy, seconds: Date().timeIntervalSince(start))
    }
}
