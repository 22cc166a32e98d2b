import Numerics
import Models

/// Wanda (Sun et al. 2023): score each weight by |W_ij|·‖X_j‖₂, the magnitude times the L2 norm
/// of its input feature over the calibration tokens, and zero the lowest scores of each output
/// row (every row loses the same fraction), or per N:M group. No weight is updated.
public enum Wanda {
    /// The scores |W_ij|·√(Σ x_j²) of `w` (rows × cols) given the per-feature sums of squares.
    public static func scores(_ w: Matrix, squaredNorms: [Double]) throws -> [Double] {
        guard squaredNorms.count == w.cols else {
            throw PruningError("Wanda needs one activation norm per input column: \(w.cols) columns, \(squaredNorms.count) norms")
        }
        let norms = squaredNorms.map { $0.squareRoot() }
        var s = [Double](repeating: 0, count: w.count)
        for r in 0..<w.rows { for j in 0..<w.cols { s[r * w.cols + j] = Double(abs(w.data[r * w.cols + j])) * norms[j] } }
        return s
    }

    /// `w` pruned by Wanda's rule with activation statistics `squaredNorms` (Σ over tokens of x_j²).
    public static func prune(_ w: Matrix, squaredNorms: [Double], pattern: SparsityPattern) throws -> Matrix {
        try pattern.check(columns: w.cols, what: "matrix")
        let mask = MaskSelection.perRow(try scores(w, squaredNorms: squaredNorms), rows: w.rows, cols: w.cols, pattern: pattern)
        return MaskSelection.apply(mask, to: w)
    }
}
