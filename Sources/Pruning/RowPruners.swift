import Foundation
import Numerics
import Models

/// The structured row-pruning methods: per block, keep (1−r)·n FFN neurons chosen at random
/// (the paper's Table 16), by the largest L2 norm of their row in the state matrix (gate for
/// llama, up for BERT), by the whole neuron's contribution (`ContributionScores`), or by any
/// score per neuron (`prune(_:scores:…)`, the language's `scores=`); then cut them with
/// `FFNPruning.keep`. Protected neurons (`protect=`) are always kept and the ratio is still met.
public enum RowPruners {
    /// How neurons are chosen.
    public enum Method: String, Sendable, CaseIterable {
        /// Uniformly at random, from `SeededRandom(seed)`.
        case random = "random-rows"
        /// The rows of largest L2 norm in the state matrix.
        case magnitude = "magnitude-rows"
        /// The neurons of largest contribution (gate, up and down together; see `ContributionScores`).
        case contribution = "contribution-rows"
    }

    /// The state matrix PruneNet and these baselines score: gate for llama, up otherwise.
    public static func stateRole(_ config: ModelConfig) -> TensorRole {
        config.architecture == .llama ? .ffnGate : .ffnUp
    }

    /// The L2 norm of each row of `w`, summed in Float64 ("magnitude-rows"'s score; the
    /// language's `row_norms`).
    public static func rowNorms(_ w: Matrix) -> [Double] {
        (0..<w.rows).map { r in
            var s = 0.0
            for c in 0..<w.cols { let v = Double(w.data[r * w.cols + c]); s += v * v }
            return s.squareRoot()
        }
    }

    /// The neurons of largest score first (ties by lower index): the order every score-based row
    /// method keeps them in.
    public static func ranking(_ scores: [Double]) -> [Int] {
        scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
    }

    /// `model` with every block's FFN pruned at `ratio` by `method`; `progress` hears of each block.
    public static func prune(_ model: Model, method: Method, ratio: Double, seed: UInt64 = 0,
                             progress: ProgressReporter = .none) throws -> Model {
        try prune(model, method: method, ratios: Array(repeating: ratio, count: model.blockCount), seed: seed, progress: progress)
    }

    /// `model` with block b's FFN pruned at `ratios[b]` by `method` (one ratio per block),
    /// keeping `protected` neurons; `proxy` is the contribution score's input model.
    public static func prune(_ model: Model, method: Method, ratios: [Double], seed: UInt64 = 0,
                             protected: ProtectedNeurons = .none, proxy: ContributionScores.Proxy = .prompt,
                             progress: ProgressReporter = .none) throws -> Model {
        guard ratios.count == model.blockCount else {
            throw PruningError("need one ratio per block (\(model.blockCount)), got \(ratios.count)")
        }
        try protected.check(model, ratios: ratios)
        var rng = SeededRandom(seed: seed)
        var kept = [Int: [Int]]()
        let contribution = method == .contribution ? try ContributionScores(model, proxy: proxy) : nil
        for b in 0..<model.blockCount {
            let n = model.config.intermediateSizes[b]
            let k = try FFNPruning.keptCount(width: n, ratio: ratios[b])
            let p = protected[b]
            let ranked: [Int]
            switch method {
            case .random:
                // Without protection exactly k draws, so results match the unprotected baseline's seeds.
                ranked = try rng.sampleWithoutReplacement(weights: Array(repeating: 1, count: n), count: min(n, k + p.count))
            case .magnitude:
                ranked = ranking(rowNorms(try model.matrix(stateRole(model.config), block: b)))
            case .contribution:
                ranked = ranking(try contribution!.scores(block: b))
            }
            kept[b] = ProtectedNeurons.choose(ranked: ranked, keep: k, protected: p)
            try progress.report("pruning blocks", done: b + 1, total: model.blockCount)
        }
        return try FFNPruning.keep(model, neurons: kept)
    }

    /// `model` with block b keeping the (1−ratios[b])·n neurons of largest `score(b)` (one score
    /// per neuron; the lowest scores go, ties keep the lower index) and every `protected` neuron.
    /// A NaN score is an error.
    public static func prune(_ model: Model, scores score: (Int) throws -> [Double], ratios: [Double],
                             protected: ProtectedNeurons = .none, progress: ProgressReporter = .none) throws -> Model {
        guard ratios.count == model.blockCount else {
            throw PruningError("need one ratio per block (\(model.blockCount)), got \(ratios.count)")
        }
        try protected.check(model, ratios: ratios)
        var kept = [Int: [Int]]()
        for b in 0..<model.blockCount {
            let n = model.config.intermediateSizes[b]
            let s = try score(b)
            guard s.count == n else {
                throw PruningError(option: "scores", "scores for block \(b) must have one number per neuron (\(n)), got \(s.count)")
            }
            if let i = s.firstIndex(where: { $0.isNaN }) {
                throw PruningError(option: "scores", "scores for block \(b) has NaN at neuron \(i)")
            }
            kept[b] = ProtectedNeurons.choose(ranked: ranking(s), keep: try FFNPruning.keptCount(width: n, ratio: ratios[b]), protected: protected[b])
            try progress.report("pruning blocks", done: b + 1, total: model.blockCount)
        }
        return try FFNPruning.keep(model, neurons: kept)
    }
}
