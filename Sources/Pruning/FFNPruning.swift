import Numerics
import Models


/// The structured FFN pruning primitive every row pruner ends in: per block, the set of kept
/// intermediate neurons. It keeps those rows of the gate and up projections (and of the up bias),
/// the same columns of the down projection, and sets the block's FFN width in the config, so the
/// result is a smaller dense model that saves and reloads.
public enum FFNPruning {
    /// `model` with, for each block `b` in `kept`, only the intermediate neurons `kept[b]`
    /// (any order; kept in ascending order); blocks not in `kept` are unchanged.
    public static func keep(_ model: Model, neurons kept: [Int: [Int]]) throws -> Model {
        var out = model
        for (b, indices) in kept.sorted(by: { $0.key < $1.key }) {
            guard b >= 0, b < model.blockCount else {
                throw PruningError("block \(b) does not exist (the model has \(model.blockCount) blocks)")
            }
            let n = model.config.intermediateSizes[b]
            let rows = indices.sorted()
            if let bad = rows.first(where: { $0 < 0 || $0 >= n }) {
                throw PruningError("block \(b): neuron index \(bad) is outside 0..<\(n)")
            }
            if zip(rows, rows.dropFirst()).contains(where: { $0 == $1 }) {
                throw PruningError("block \(b): a neuron index is given twice")
            }
            if rows.count == n { continue }
            for role in [TensorRole.ffnGate, .ffnUp] where model.has(role, block: b) {
                out.set(role, block: b, to: try model.matrix(role, block: b).rows(rows))
                if model.has(role, .bias, block: b) {
                    let bias = try model.matrix(role, .bias, block: b)
                    out.set(role, .bias, block: b, to: try Matrix(rows: 1, cols: rows.count, data: rows.map { bias.data[$0] }))
                }
            }
            out.set(.ffnDown, block: b, to: try model.matrix(.ffnDown, block: b).columns(rows))
            out.config.intermediateSizes[b] = rows.count
        }
        return out
    }

    /// How many neurons a block of width `n` keeps at pruning ratio `ratio` (the fraction
    /// removed): n − round(ratio·n), at least 1; throws unless 0 ≤ ratio < 1.
    public static func keptCount(width n: Int, ratio: Double) throws -> Int {
        guard ratio.isFinite, ratio >= 0, ratio < 1 else {
            throw PruningError("ratio must be in [0, 1), got \(ratio)")
        }
        return max(1, n - Int((ratio * Double(n)).rounded()))
    }
}
