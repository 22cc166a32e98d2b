import Foundation
import Numerics
import Models

/// PruneNet's layers when their spectra are sketched (`PolicyTrainingOptions.spectrum`): the state
/// matrices are read per layer (`load`, in Float32: from a memory-mapped GGUF, one dequantisation
/// per use) rather than held, and each layer keeps only the sketched singular values of its
/// original matrix. The pruned spectra use the same probes as the original's, so the sketch's
/// sampling error largely cancels in the KS distance between them.
public struct SketchedLayers: Sendable {
    /// Layers.
    public let count: Int
    /// Rows n and columns d of every state matrix.
    public let rows: Int, cols: Int
    /// Reads layer l's state matrix (n×d, Float32). Called from both cores at once.
    public let load: @Sendable (Int) throws -> Matrix
    /// Each layer's sketched singular values, largest first.
    public let singularValues: [[Double]]
    /// The sketch's settings (the seed is replaced per layer).
    public let sketch: SpectrumSketchOptions
    /// The training seed the per-layer probe seeds derive from.
    let seed: UInt64

    /// Sketches every layer's original spectrum (both cores, a layer each); `progress` is checked
    /// before each layer and between the sketch's blocks.
    public init(count: Int, rows: Int, cols: Int, sketch: SpectrumSketchOptions, seed: UInt64,
                progress: ProgressReporter = .none, load: @escaping @Sendable (Int) throws -> Matrix) throws {
        guard count > 0 else { throw PruningError("PruneNet needs at least one layer") }
        self.count = count
        self.rows = rows
        self.cols = cols
        self.load = load
        self.sketch = sketch
        self.seed = seed
        let options = sketch
        singularValues = try parallelMap(count) { l in
            try progress.check()
            let w = try load(l)
            guard w.rows == rows, w.cols == cols else {
                throw PruningError("layer \(l)'s state matrix is \(w.rows)×\(w.cols), layer 0's is \(rows)×\(cols)")
            }
            return try Self.singularValues(w, options: Self.options(options, seed: seed, layer: l), check: progress.check)
        }
    }

    /// The sketch options of layer `layer`: its own probe seed, shared by original and pruned.
    static func options(_ o: SpectrumSketchOptions, seed: UInt64, layer: Int) -> SpectrumSketchOptions {
        var o = o
        o.seed = seed &* 0xA24B_AED4_963E_E407 ^ (UInt64(layer) &* 0x9FB2_1C65_1E98_DF25) ^ 0x5EE7C4
        return o
    }

    /// √ of the sketched eigenvalues of W's Gram matrix, largest first.
    static func singularValues(_ w: Matrix, options: SpectrumSketchOptions, check: () throws -> Void = {}) throws -> [Double] {
        try sketchGramSpectrum(w, options: options, check: check).eigenvalues().reversed().map { Swift.max($0, 0).squareRoot() }
    }

    /// The penalty of keeping rows `kept` of layer `layer`'s state `w`: `distance` between the
    /// sketched singular values of the original and of the kept rows.
    public func penalty(layer: Int, state w: Matrix, keeping kept: [Int], distance: SpectralDistance,
                        check: () throws -> Void = {}) throws -> Double {
        let pruned = try Self.singularValues(try w.rows(kept.sorted()), options: Self.options(sketch, seed: seed, layer: layer), check: check)
        return try distance.distance(singularValues[layer], pruned)
    }
}

extension PolicyTraining {
    /// Trains on sketched layers: the algorithm of `train(spectra:options:progress:)` (both
    /// variants, same draws, baseline, AdamW steps, best-learner rule and progress), with each
    /// layer's state read when it is visited, its logits and ∂f/∂v taken in Float32 (sgemv), and
    /// the penalty from sketched spectra. The paper variant sums the layers' ∂f/∂v weighted by
    /// their advantages before one pass over the learner's n×d parameters.
    public static func train(sketched layers: SketchedLayers, options: PolicyTrainingOptions,
                             progress: ProgressReporter = .none) throws -> PolicyTrainingResult {
        try options.validate()
        let n = layers.rows, d = layers.cols, count = layers.count
        let k = try FFNPruning.keptCount(width: n, ratio: options.ratio)
        var learner = PolicyLearner(n: n, d: d, seed: options.seed, scale: options.initScale)
        var optimizer = AdamW(learningRate: options.learningRate)
        let start = Date()
        var curve = [EpisodeRecord]()
        var best = (penalty: Double.infinity, learner: learner, episode: -1)
        var baseline = [Double](repeating: 0, count: count)
        var interrupted = false
        var stoppedBy: Error?
        /// A stop asked for by `progress`, told apart from a failure of the training itself.
        struct Stop: Error { let cause: Error }
        func checkStop() throws { do { try progress.check() } catch { throw Stop(cause: error) } }

        episodes: for episode in 0..<options.episodes {
            do {
                let before = learner
                var penalties = [Double](repeating: 0, count: count)
                switch options.variant {
                case .paper:
                    let v = learner.direction()
                    let snapshot = learner
                    let steps = try parallelMap(count) { l -> (Double, [Double]) in
                        try checkStop()
                        let w = try layers.load(l)
                        var rng = SeededRandom(seed: drawSeed(options.seed, episode, l))
                        let z = try snapshot.logits(state: w, direction: v)
                        let a = try PolicySampling.act(logits: z, count: k, rng: &rng, temperature: options.temperature)
                        let penalty = try layers.penalty(layer: l, state: w, keeping: a.kept, distance: options.distance, check: checkStop)
                        let gz = PolicySampling.logProbabilityGradient(kept: a.kept, weights: a.noisyScores, temperature: options.temperature)
                        return (penalty, try PolicyLearner.directionGradient(state: w, dLogits: gz))
                    }
                    penalties = steps.map(\.0)
                    let returns = discountedReturns(penalties, gamma: options.gamma)
                    if episode == 0 { baseline = returns }
                    var advantages = (0..<count).map { returns[$0] - baseline[$0] }
                    if options.normalizeReturns {
                        let m = advantages.reduce(0, +) / Double(count)
                        let sd = (advantages.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(count)).squareRoot()
                        if sd > 0 { advantages = advantages.map { $0 / sd } }
                    }
                    for l in 0..<count { baseline[l] += (returns[l] - baseline[l]) / Double(episode + 1) }
                    if episode > 0 {
                        var gv = [Double](repeating: 0, count: d)
                        for l in 0..<count where advantages[l] != 0 {
                            let s = advantages[l] / Double(count)
                            for j in 0..<d { gv[j] += s * steps[l].1[j] }
                        }
                        var gInter = [Double](repeating: 0, count: n * d), gProj = [Double](repeating: 0, count: n)
                        snapshot.addDirectionGradient(gv, scale: 1, gInter: &gInter, gProj: &gProj)
                        var params = [learner.wInter, learner.wProj]
                        learner.wInter = []; learner.wProj = []   // one copy of the parameters, not two
                        optimizer.update(&params, grads: [gInter, gProj])
                        learner.wInter = params[0]; learner.wProj = params[1]
                    }
                case .authors:
                    for l in 0..<count {
                        try checkStop()
                        let w = try layers.load(l)
                        var rng = SeededRandom(seed: drawSeed(options.seed, episode, l))
                        let z = try learner.logits(state: w, direction: learner.direction())
                        let a = try PolicySampling.act(logits: z, count: k, rng: &rng, temperature: options.temperature)
                        let penalty = try layers.penalty(layer: l, state: w, keeping: a.kept, distance: options.distance, check: checkStop)
                        penalties[l] = penalty
                        let reward = 1 / Swift.max(penalty, 1e-12)
                        let gz = PolicySampling.logProbabilityGradient(kept: a.kept, weights: a.noisyScores, temperature: options.temperature)
                        var gInter = [Double](repeating: 0, count: n * d), gProj = [Double](repeating: 0, count: n)
                        learner.addDirectionGradient(try PolicyLearner.directionGradient(state: w, dLogits: gz), scale: -reward,
                                                     gInter: &gInter, gProj: &gProj)
                        var params = [learner.wInter, learner.wProj]
                        optimizer.update(&params, grads: [gInter, gProj])
                        learner.wInter = params[0]; learner.wProj = params[1]
                    }
                }
                let mean = penalties.reduce(0, +) / Double(count)
                if mean < best.penalty { best = (mean, options.variant == .paper ? before : learner, episode) }
                let elapsed = Date().timeIntervalSince(start)
                curve.append(EpisodeRecord(episode: episode, meanPenalty: mean, bestSoFar: best.penalty, elapsed: elapsed, penalties: penalties))
                let detail = "mean \(options.distance.rawValue) \(String(format: "%.4g", mean)) · best \(String(format: "%.4g", best.penalty)) · \(String(format: "%.1f", elapsed)) s · sketched spectra"
                do { try progress.report("episode", done: episode + 1, total: options.episodes, detail: detail) } catch { throw Stop(cause: error) }
            } catch let stop as Stop {
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
