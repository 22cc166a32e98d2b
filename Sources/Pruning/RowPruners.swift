import Numerics
import Models

/// The structured row-pruning baselines of the paper's ablations: per block, keep (1−r)·n FFN
/// neurons chosen at random (Table 16) or by the largest L2 norm of their row in the state
/// matrix (gate for llama, up for BERT), then cut them with `FFNPruning.keep`.
public enum RowPruners {
    /// How neurons are chosen.
    public enum Method: String, Sendable, CaseIterable {
        /// Uniformly at random, from `SeededRandom(seed)`.
        case random = "random-rows"
        /// The rows of largest L2 norm in the state matrix.
        case magnitude = "magnitude-rows"
    }

    /// The state matrix PruneNet and these baselines score: gate for llama, up otherwise.
    public static func stateRole(_ config: ModelConfig) -> TensorRole {
        config.architecture == .llama ? .ffnGate : .ffnUp
    }

    /// `model` with every block's FFN pruned at `ratio` by `method`; `progress` hears of each block.
    public static func prune(_ model: Model, method: Method, ratio: Double, seed: UInt64 = 0,
                             progress: ProgressReporter = .none) throws -> Model {
        try prune(model, method: method, ratios: Array(repeating: ratio, count: model.blockCount), seed: seed, progress: progress)
    }

    /// `model` with block b's FFN pruned at `ratios[b]` by `method` (one ratio per block).
    public static func prune(_ model: Model, method: Method, ratios: [Double], seed: UInt64 = 0,
                             progress: ProgressReporter = .none) throws -> Model {
        guard ratios.count == model.blockCount else {
            throw PruningError("need one ratio per block (\(model.blockCount)), got \(ratios.count)")
        }
        var rng = SeededRandom(seed: seed)
        var kept = [Int: [Int]]()
        for b in 0..<model.blockCount {
            let n = model.config.intermediateSizes[b]
            let k = try FFNPruning.keptCount(width: n, ratio: ratios[b])
            switch method {
            case .random:
                kept[b] = try rng.sampleWithoutReplacement(weights: Array(repeating: 1, count: n), count: k)
            case .magnitude:
                let w = try model.matrix(stateRole(model.config), block: b)
                let norms = (0..<w.rows).map { r in (0..<w.cols).reduce(0.0) { $0 + Double(w.data[r * w.cols + $1] * w.data[r * w.cols + $1]) } }
                kept[b] = Array(norms.indices.sorted { norms[$0] > norms[$1] || (norms[$0] == norms[$1] && $0 < $1) }.prefix(k))
            }
            try progress.report("pruning blocks", done: b + 1, total: model.blockCount)
        }
        return try FFNPruning.keep(model, neurons: kept)
    }
}
