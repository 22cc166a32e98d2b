import Models
import Numerics

/// Single weights set to zero in a copy of a model: the lecture's experiment of removing one
/// super weight (Yu et al. 2024 remove W_down[channel, neuron] of one block and watch perplexity
/// collapse). Only the matrices that hold a site are read and replaced; every other tensor stays
/// the same lazy view of the source file.
public enum WeightZeroing {
    /// One weight: row `row`, column `column` of the matrix at `role` in block `block`.
    public struct Site: Sendable, Hashable {
        /// The block holding the matrix.
        public let block: Int
        /// The row (output) of the weight.
        public let row: Int
        /// The column (input) of the weight.
        public let column: Int
        /// The weight at `row`, `column` of the matrix in block `block`.
        public init(block: Int, row: Int, column: Int) {
            self.block = block
            self.row = row
            self.column = column
        }
    }

    /// `model` with the weights at `sites` of the matrices at `role` set to 0, named for what was
    /// removed. Throws when a block, row or column is outside the model.
    public static func zeroing(_ model: Model, sites: [Site], role: TensorRole) throws -> Model {
        var out = model
        for (block, inBlock) in Dictionary(grouping: sites, by: \.block).sorted(by: { $0.key < $1.key }) {
            guard block >= 0, block < model.blockCount else {
                throw PruningError("block \(block) is outside the model (blocks 0…\(model.blockCount - 1))")
            }
            guard model.has(role, block: block) else {
                throw PruningError("block \(block) has no \(role.rawValue) matrix")
            }
            var w = try model.matrix(role, block: block)
            for s in inBlock {
                guard s.row >= 0, s.row < w.rows, s.column >= 0, s.column < w.cols else {
                    throw PruningError("weight [\(s.row), \(s.column)] is outside the \(w.rows) × \(w.cols) matrix of block \(block)")
                }
                w[s.row, s.column] = 0
            }
            out.set(role, block: block, to: w)
        }
        let count = Set(sites).count
        out.name = "\(model.name) without \(count) weight\(count == 1 ? "" : "s")"
        return out
    }
}
