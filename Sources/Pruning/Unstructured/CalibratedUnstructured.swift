import Numerics
import Models

/// Wanda and SparseGPT over a whole llama, with sequential calibration as both references run
/// it: block by block, the inputs of the block's linears are gathered from the calibration windows
/// as the already-pruned earlier blocks transform them, all seven linears of the block are pruned
/// from those statistics, and the windows continue through the pruned block.
public enum CalibratedUnstructured {
    /// The calibrated unstructured methods.
    public enum Method: String, Sendable, CaseIterable {
        /// |W|·‖X_j‖₂ per output row, no update.
        case wanda
        /// OBS-style pruning with weight reconstruction.
        case sparsegpt
    }

    /// `model` with its prunable linears sparsified to `pattern` by `method`, calibrated on
    /// `samples` (token windows); `progress` hears of each finished block and stops the run by throwing.
    public static func prune(_ model: Model, method: Method, pattern: SparsityPattern, samples: [[Int32]],
                             progress: ProgressReporter = .none) throws -> Model {
        try prune(model, method: method, patterns: { _ in pattern }, samples: samples, progress: progress)
    }

    /// The same with block b's linears sparsified to `patterns(b)` (per-block ratios, as OWL sets them).
    public static func prune(_ model: Model, method: Method, patterns: (Int) -> SparsityPattern, samples: [[Int32]],
                             progress: ProgressReporter = .none) throws -> Model {
        let forward = LlamaForward(weights: try LlamaWeights(model))
        var out = model
        let wanted: Calibration.Wanted = method == .wanda ? .squaredNorms : .gram
        _ = try Calibration.sequential(forward, samples: samples, wanted: wanted, progress: progress) { b, stats, weights in
            var block = weights.blocks[b]
            let pattern = patterns(b)
            for role in PrunableLinears.roles {
                let site = Calibration.Site(block: b, role: PrunableLinears.site(of: role))
                guard let s = stats.inputs[site] else { throw PruningError("no calibration statistics for block \(b) \(role.rawValue)") }
                let w = block[role].weight
                try pattern.check(columns: w.cols, what: "block \(b) \(role.rawValue)")
                let pruned: Matrix
                switch method {
                case .wanda: pruned = try Wanda.prune(w, squaredNorms: s.squaredNorms, pattern: pattern)
                case .sparsegpt: pruned = try SparseGPT.prune(w, hessian: SparseGPT.hessian(gram: s.gram, tokens: s.tokens), pattern: pattern)
                }
                block[role].weight = pruned
                out.set(role, block: b, to: pruned)
            }
            return block
        }
        return out
    }
}
