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
    /// The contribution term's shares (nil without one; `PolicyTraining.train(model:)` sets them
    /// when `PolicyTrainingOptions.contribution` > 0).
    public var contribution: ContributionShares?

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
        self.contribution = nil
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
    /// Trains on sketched layers: the episodes of `train(spectra:options:progress:)` (both
    /// variants, same draws, baseline, AdamW steps, best-learner rule and progress), with each
    /// layer's state read when it is visited, its logits and ∂f/∂v taken in Float32 (sgemv), and
    /// the penalty from sketched spectra.
    public static func train(sketched layers: SketchedLayers, options: PolicyTrainingOptions,
                             progress: ProgressReporter = .none) throws -> PolicyTrainingResult {
        try runEpisodes(on: layers, options: options, progress: progress)
    }
}

/// The sketched form of a layer's step: the state is read per visit, logits and ∂f/∂v by sgemv,
/// and the paper variant sums the layers' ∂f/∂v weighted by their advantages before one pass over
/// the learner's n×d parameters.
extension SketchedLayers: PolicyEpisodeLayers {
    var detailSuffix: String { " · sketched spectra" }

    func paperStep(_ l: Int, learner: PolicyLearner, direction v: [Double], keep k: Int, rng: inout SeededRandom,
                   options: PolicyTrainingOptions, check: () throws -> Void) throws -> (penalty: Double, gradient: [Double]) {
        let w = try load(l)
        let z = try learner.logits(state: w, direction: v)
        let a = try PolicySampling.act(logits: z, count: k, rng: &rng, temperature: options.temperature)
        let penalty = penalized(try self.penalty(layer: l, state: w, keeping: a.kept, distance: options.distance, check: check),
                                layer: l, kept: a.kept, options: options)
        let gz = PolicySampling.logProbabilityGradient(kept: a.kept, weights: a.noisyScores, temperature: options.temperature)
        return (penalty, try PolicyLearner.directionGradient(state: w, dLogits: gz))
    }

    func paperGradient(learner: PolicyLearner, steps: [[Double]], advantages: [Double],
                       gInter: inout [Double], gProj: inout [Double]) {
        var gv = [Double](repeating: 0, count: cols)
        for l in 0..<count where advantages[l] != 0 {
            let s = advantages[l] / Double(count)
            for j in 0..<cols { gv[j] += s * steps[l][j] }
        }
        learner.addDirectionGradient(gv, scale: 1, gInter: &gInter, gProj: &gProj)
    }

    func authorsStep(_ l: Int, learner: PolicyLearner, keep k: Int, rng: inout SeededRandom, options: PolicyTrainingOptions,
                     check: () throws -> Void, gInter: inout [Double], gProj: inout [Double]) throws -> Double {
        let w = try load(l)
        let z = try learner.logits(state: w, direction: learner.direction())
        let a = try PolicySampling.act(logits: z, count: k, rng: &rng, temperature: options.temperature)
        let penalty = penalized(try self.penalty(layer: l, state: w, keeping: a.kept, distance: options.distance, check: check),
                                layer: l, kept: a.kept, options: options)
        let gz = PolicySampling.logProbabilityGradient(kept: a.kept, weights: a.noisyScores, temperature: options.temperature)
        let reward = 1 / Swift.max(penalty, 1e-12)
        learner.addDirectionGradient(try PolicyLearner.directionGradient(state: w, dLogits: gz), scale: -reward,
                                     gInter: &gInter, gProj: &gProj)
        return penalty
    }
}
