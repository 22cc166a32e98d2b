import Foundation
import Numerics
import Models

/// Per-block ratios without data, by OWL's rule (Yin et al. 2024, "Outlier Weighed Layerwise
/// Sparsity"): a block whose weights carry more outliers is pruned less. A block's outlier ratio
/// D_b is the fraction of its weights (all seven linears together) whose score exceeds M = 5
/// times the block's mean score; D is rescaled to [0, 2λ] (λ = 0.08) and block b removes
/// target − (D'_b − mean D'), so the mean ratio is the target and every block stays within ±λ.
/// The score is Wanda's |W_ij|·‖X_j‖₂ with X from one pass over the data-free prompt
/// (`activations`, OWL's own form without calibration data), or |W_ij| alone (`weights`).
public enum OWLRatios {
    /// Where the scores come from.
    public enum Form: String, Sendable, CaseIterable {
        /// |W_ij|·‖X_j‖₂, X the prompt's activations.
        case activations = "owl"
        /// |W_ij|.
        case weights = "owl-weights"
    }

    /// The outlier threshold M (times the block's mean score).
    public static let threshold = 5.0
    /// The half-width λ of the ratios' range around the target.
    public static let lambda = 0.08

    /// Each block's outlier ratio D_b under `form`.
    public static func outlierRatios(_ model: Model, form: Form, activations: PromptActivations? = nil) throws -> [Double] {
        let acts = form == .activations ? try activations ?? PromptActivations(model) : nil
        return try (0..<model.blockCount).map { b in
            var scores = [Double]()
            for role in PrunableLinears.roles(in: model, block: b) {
                let w = try model.matrix(role, block: b)
                if let acts {
                    let norms = try acts.squaredNorms(PrunableLinears.site(of: role), block: b).map { $0.squareRoot() }
                    guard norms.count == w.cols else { throw PruningError("block \(b) \(role.rawValue): \(w.cols) columns, \(norms.count) activation norms") }
                    for r in 0..<w.rows { for j in 0..<w.cols { scores.append(Double(abs(w.data[r * w.cols + j])) * norms[j]) } }
                } else {
                    scores += w.data.map { Double(abs($0)) }
                }
            }
            guard !scores.isEmpty else { return 0 }
            let cut = threshold * scores.reduce(0, +) / Double(scores.count)
            return Double(scores.reduce(0) { $1 > cut ? $0 + 1 : $0 }) / Double(scores.count)
        }
    }

    /// One ratio per block with mean `target` from outlier ratios `d` (clamped to [0, 0.99]).
    public static func ratios(outliers d: [Double], target: Double) -> [Double] {
        guard let lo = d.min(), let hi = d.max() else { return [] }
        let scaled = d.map { hi > lo ? ($0 - lo) / (hi - lo) * 2 * lambda : lambda }
        let mean = scaled.reduce(0, +) / Double(scaled.count)
        return scaled.map { min(0.99, max(0, target - ($0 - mean))) }
    }

    /// One ratio per block of `model` with mean `target`, by `form`.
    public static func ratios(_ model: Model, target: Double, form: Form, activations: PromptActivations? = nil) throws -> [Double] {
        ratios(outliers: try outlierRatios(model, form: form, activations: activations), target: target)
    }

    /// Magnitude pruning with block b's seven linears each zeroing `ratios[b]` of their smallest |w|.
    public static func magnitude(_ model: Model, ratios: [Double], progress: ProgressReporter = .none) throws -> Model {
        var out = model
        for b in 0..<model.blockCount {
            for role in PrunableLinears.roles(in: model, block: b) {
                let w = try model.matrix(role, block: b)
                out.set(role, block: b, to: MaskSelection.apply(MagnitudePruning.mask(w, pattern: .fraction(ratios[b])), to: w))
            }
            try progress.report("magnitude pruning", done: b + 1, total: model.blockCount)
        }
        return out
    }

    /// Wanda or SparseGPT, calibrated sequentially as `CalibratedUnstructured` runs them, with
    /// block b's linears each pruned at `ratios[b]`.
    public static func calibrated(_ model: Model, method: CalibratedUnstructured.Method, ratios: [Double], samples: [[Int32]],
                                  progress: ProgressReporter = .none) throws -> Model {
        try CalibratedUnstructured.prune(model, method: method, patterns: { .fraction(ratios[$0]) }, samples: samples,
                                         progress: progress)
    }
}
