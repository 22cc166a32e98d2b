import Numerics
import Models

/// ShortGPT (Men et al. 2024): measure each block's Block Influence, BI = 1 − cos(h_in, h_out)
/// averaged over calibration tokens (the residual stream entering and leaving the block, on the
/// dense model), and remove the blocks of lowest influence.
public enum ShortGPT {
    /// How many of `blocks` layers a fraction `ratio` removes: round(ratio·blocks), at most
    /// blocks − 1; throws unless 0 ≤ ratio < 1.
    public static func removedCount(blocks: Int, ratio: Double) throws -> Int {
        guard ratio.isFinite, ratio >= 0, ratio < 1 else { throw PruningError("ratio must be in [0, 1), got \(ratio)") }
        return min(blocks - 1, Int((ratio * Double(blocks)).rounded()))
    }

    /// The `count` blocks of lowest influence (ties: the later block first, ascending output).
    public static func chooseBlocks(influence: [Double], count: Int) -> [Int] {
        let order = influence.indices.sorted { influence[$0] < influence[$1] || (influence[$0] == influence[$1] && $0 > $1) }
        return Array(order.prefix(count)).sorted()
    }

    /// Block Influence of every block of `model` over `samples`.
    public static func blockInfluence(_ model: Model, samples: [[Int32]], progress: ProgressReporter = .none) throws -> [Double] {
        let forward = LlamaForward(weights: try LlamaWeights(model))
        return try Calibration.collect(forward, samples: samples, wanted: .blockInfluence, progress: progress).blockInfluence
    }

    /// `model` without its `count` least influential blocks, and which blocks went.
    public static func prune(_ model: Model, removing count: Int, samples: [[Int32]],
                             progress: ProgressReporter = .none) throws -> (model: Model, removed: [Int], influence: [Double]) {
        guard count >= 0, count < model.blockCount else {
            throw PruningError("can remove 0…\(model.blockCount - 1) of \(model.blockCount) blocks, asked for \(count)")
        }
        let bi = try blockInfluence(model, samples: samples, progress: progress)
        let removed = chooseBlocks(influence: bi, count: count)
        return (model.removingBlocks(Set(removed)), removed, bi)
    }
}
