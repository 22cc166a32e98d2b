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
            // Gate and up keep rows, down keeps columns: as views of the stored tensors, so a
            // pruned model holds no weights in memory (a save copies kept rows' blocks as they are
            // and re-encodes down in its source type; see ModelWriter).
            for role in [TensorRole.ffnGate, .ffnUp] where model.has(role, block: b) {
                try out.setView(role, block: b, to: model.tensor(role, block: b)!.selectingRows(rows))
                if model.has(role, .bias, block: b) {
                    let bias = try model.matrix(role, .bias, block: b)
                    out.set(role, .bias, block: b, to: try Matrix(rows: 1, cols: rows.count, data: rows.map { bias.data[$0] }))
                }
            }
            guard let down = model.tensor(.ffnDown, block: b) else {
                throw PruningError("block \(b) has no FFN down projection")
            }
            try out.setView(.ffnDown, block: b, to: down.selectingColumns(rows))
            out.config.intermediateSizes[b] = rows.count
        }
        return out
    }

    /// The multiple of which block `b`'s kept neuron count must be for its down projection to
    /// keep its stored type: the block size of a quantised GGUF type (32 for Q4_0/Q8_0, 256 for
    /// the k-quants), 1 when any width can keep it (F32, F16, safetensors, a matrix in memory).
    public static func keptMultiple(_ model: Model, block b: Int) -> Int {
        guard let down = model.tensor(.ffnDown, block: b),
              case let .gguf(_, info) = down.stored.storage, info.type.isQuantized else { return 1 }
        return info.type.blockSize
    }

    /// `ratios` (one per block, or one for all) changed as little as possible so that every
    /// block keeps a multiple of `keptMultiple` neurons (the nearest one to what `keptCount`
    /// gives, at least one multiple, and one multiple fewer than the width where rounding would
    /// remove nothing from a ratio above 0), so that a saved model keeps its source's
    /// quantised type. A block whose width is not itself such a multiple, or is smaller than one,
    /// keeps its ratio. Returns one ratio per block unless every block ends with the same one.
    public static func blockAlignedRatios(_ model: Model, ratios: [Double]) throws -> [Double] {
        let per = ratios.count == 1 ? Array(repeating: ratios[0], count: model.blockCount) : ratios
        guard per.count == model.blockCount else {
            throw PruningError("need one ratio per block (\(model.blockCount)), got \(ratios.count)")
        }
        let out = try (0..<model.blockCount).map { b -> Double in
            let n = model.config.intermediateSizes[b], q = keptMultiple(model, block: b)
            let k = try keptCount(width: n, ratio: per[b])
            guard q > 1, n % q == 0, n >= q, per[b] > 0 else { return per[b] }
            var aligned = min(n, max(q, Int((Double(k) / Double(q)).rounded()) * q))
            if aligned == n, n > q { aligned = n - q }   // a ratio above 0 removes at least one block
            return Double(n - aligned) / Double(n)
        }
        if let first = out.first, out.allSatisfy({ $0 == first }), ratios.count == 1 { return [first] }
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
