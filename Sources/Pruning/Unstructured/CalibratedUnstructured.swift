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
    ///
    /// Where the pruned linears would not fit in memory as Float32 (`spillsByDefault`), or when
    /// `spill` is given, each block's pruned linears are kept on disk (`TensorSpill`, Q8_0 unless
    /// said otherwise) as soon as they are made, and the calibration windows continue through
    /// them as stored: memory holds one block's Float32 linears at a time, whatever the model's size.
    public static func prune(_ model: Model, method: Method, patterns: (Int) -> SparsityPattern, samples: [[Int32]],
                             spill asked: TensorSpill? = nil, progress: ProgressReporter = .none) throws -> Model {
        let forward = LlamaForward(weights: try LlamaWeights(model))
        let spill = asked ?? (spillsByDefault(model) ? TensorSpill() : nil)
        var out = model
        let wanted: Calibration.Wanted = method == .wanda ? .squaredNorms : .gram
        _ = try Calibration.sequential(forward, samples: samples, wanted: wanted, progress: progress) { b, stats, weights in
            var block = weights.blocks[b]
            let pattern = patterns(b)
            var pruneds: [(role: TensorRole, matrix: Matrix)] = []
            var factors: [Calibration.Site: SparseGPT.InverseFactor] = [:]   // one per input the linears share
            for role in PrunableLinears.roles {
                let site = Calibration.Site(block: b, role: PrunableLinears.site(of: role))
                guard let s = stats.inputs[site] else { throw PruningError("no calibration statistics for block \(b) \(role.rawValue)") }
                let w = block[role].weight
                try pattern.check(columns: w.cols, what: "block \(b) \(role.rawValue)")
                let pruned: Matrix
                switch method {
                case .wanda: pruned = try Wanda.prune(w, squaredNorms: s.squaredNorms, pattern: pattern)
                case .sparsegpt:
                    let factor = try factors[site] ?? SparseGPT.factor(hessian: SparseGPT.hessian(gram: s.gram, tokens: s.tokens), cols: w.cols)
                    factors[site] = factor
                    pruned = try SparseGPT.prune(w, factor: factor, pattern: pattern)
                }
                pruneds.append((role, pruned))
            }
            if let spill {
                let names = try pruneds.map { p -> String in
                    guard let t = model.tensor(p.role, block: b) else { throw PruningError("block \(b) has no \(p.role.rawValue)") }
                    return t.name
                }
                let stored = try spill.store(zip(names, pruneds).map { ($0, $1.matrix) })
                for (p, t) in zip(pruneds, stored) {
                    out.setView(p.role, block: b, to: t)
                    block[p.role] = try Linear(t, arithmetic: .quantized)
                }
            } else {
                for p in pruneds {
                    block[p.role].weight = p.matrix
                    out.set(p.role, block: b, to: p.matrix)
                }
            }
            return block
        }
        return out
    }

    /// Whether the pruned linears of `model` would take more than half the memory available now
    /// as Float32 (a 7B-shaped model's 26 GB on a 24 GiB machine, not SmolLM2's 0.5 GB), so that
    /// `prune` keeps them on disk.
    public static func spillsByDefault(_ model: Model) -> Bool {
        guard let available = MemoryBudget.availableBytes() else { return false }
        var bytes = 0
        for b in 0..<model.blockCount {
            for role in PrunableLinears.roles { bytes += (model.tensor(role, block: b)?.elementCount ?? 0) * 4 }
        }
        return bytes > available / 2
    }
}
