import Foundation
import Numerics
import Models
import Training

/// The head-mask importance of Michel et al. 2019 (the gradient form of McCarley et al. 2019's
/// head masks, as the course's slides present it): put a mask ξ_h = 1 on each head's output; the
/// importance of head h is E_x |∂L(x)/∂ξ_h|. Since the head's output enters the residual stream
/// only through its columns of W_O, ∂L/∂ξ_h = Σ_{i, j ∈ h} W_O[i, j] · ∂L/∂W_O[i, j], so one
/// backward pass of the training model per window gives every head's value.
public enum HeadMaskImportance {
    /// ∂L/∂ξ_h for every block, head and window: `[block][head][window]` (signed; a group's mask
    /// gradient is the sum over its heads). Each window is one sequence; L is its mean next-token
    /// loss. Llama only. Throws on a model the training pass cannot run or no windows.
    public static func signedMaskGradients(_ model: Model, samples: [[Int32]], progress: ProgressReporter = .none) throws -> [[[Double]]] {
        guard model.config.architecture == .llama else {
            throw PruningError(option: "by", "by=\"gradient\" needs a llama model (a loss to differentiate); use by=\"norm\" on \(model.config.architecture.rawValue) models")
        }
        guard !samples.isEmpty else { throw PruningError(option: "calib", "the gradient score needs at least one calibration window") }
        let trainable: LlamaTrainingModel
        do { trainable = try LlamaTrainingModel(LlamaWeights(model)) } catch let e as LlamaTrainingError {
            throw PruningError(option: "by", "by=\"gradient\" cannot run on '\(model.name)': \(e.message)")
        }
        let config = model.config, hd = config.headDimension
        let oIndex = LlamaTrainingModel.projections.firstIndex(of: .attentionOutput)!
        var out = (0..<model.blockCount).map { b in [[Double]](repeating: [], count: config.heads(inBlock: b)) }
        for (w, window) in samples.enumerated() {
            try progress.report("head-mask gradients", done: w, total: samples.count)
            let grads = try trainable.lossAndGradients([window])
            for b in 0..<model.blockCount {
                guard let g = grads.blocks[b].linears[oIndex] else { continue }
                let o = trainable.weights.blocks[b].output.weight
                for h in 0..<config.heads(inBlock: b) {
                    var s = 0.0
                    for r in 0..<o.rows {
                        let row = r * o.cols + h * hd
                        for j in 0..<hd { s += Double(o.data[row + j]) * Double(g.data[row + j]) }
                    }
                    out[b][h].append(s)
                }
            }
        }
        try progress.report("head-mask gradients", done: samples.count, total: samples.count)
        return out
    }
}
