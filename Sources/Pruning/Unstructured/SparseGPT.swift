import Numerics
import Models

/// SparseGPT (Frantar & Alistarh 2023) for one linear layer: prune W (rows × cols, y = W·x) so
/// that ŴX stays close to WX, with the Optimal Brain Surgeon update of the remaining weights.
/// H = 2XᵀX/n over the n calibration tokens, dampened by 1% of its mean diagonal; U is the
/// upper Cholesky factor of H⁻¹. Columns are processed left to right in blocks of 128: at the
/// start of each block the mask is chosen adaptively from w²/U_jj² over the block (or, for N:M,
/// at the start of each group of M columns from the current weights), each column's error
/// (w − q)/U_jj is propagated to the later columns of the block through U's row, and the
/// block's accumulated errors to the columns after it. Everything runs in Float64.
///
/// One departure from the authors' code, which selects `tmp <= sorted[k]` and so zeroes one
/// weight more than ⌊s·size⌋ per block: here exactly ⌊s·size⌋ are zeroed (ties to the lower
/// index), so the sparsity is what was asked for.
public enum SparseGPT {
    /// Columns per block (the authors' default).
    public static let defaultBlockSize = 128
    /// Dampening as a fraction of the mean diagonal of H (the authors' `percdamp`).
    public static let defaultDampening = 0.01

    /// H = 2·gram/tokens from the accumulated XᵀX (cols × cols) over `tokens` rows.
    public static func hessian(gram: [Double], tokens: Int) -> [Double] {
        let scale = 2 / Double(max(tokens, 1))
        return gram.map { $0 * scale }
    }

    /// What SparseGPT needs of a Hessian, made once for every matrix that reads the same inputs
    /// (a block's query, key and value share one): the upper Cholesky factor U of the dampened
    /// H⁻¹, and the inputs never active, whose columns every such matrix zeroes.
    public struct InverseFactor: Sendable {
        /// Columns of the matrices it serves (H is cols × cols).
        public let cols: Int
        /// U, row-major cols × cols, zeros below the diagonal.
        let u: [Double]
        /// Inputs with H_jj = 0 (never active): zeroed, and H_jj set to 1, as the reference does.
        let dead: [Int]
    }

    /// The factor of the Hessian `h` (cols × cols, row-major Float64), dampened by `dampening` of
    /// its mean diagonal. Throws unless the dampened H is positive definite.
    public static func factor(hessian h: [Double], cols: Int, dampening: Double = defaultDampening) throws -> InverseFactor {
        guard h.count == cols * cols else {
            throw PruningError("SparseGPT needs a \(cols)×\(cols) Hessian for a matrix with \(cols) columns, got \(h.count) values")
        }
        var hess = h
        let dead = (0..<cols).filter { hess[$0 * cols + $0] == 0 }
        for j in dead { hess[j * cols + j] = 1 }
        var meanDiagonal = 0.0
        for j in 0..<cols { meanDiagonal += hess[j * cols + j] }
        let damp = dampening * meanDiagonal / Double(cols)
        for j in 0..<cols { hess[j * cols + j] += damp }
        do {
            return InverseFactor(cols: cols, u: try Float64LinearAlgebra.upperCholeskyOfInverse(hess, n: cols), dead: dead)
        } catch {
            throw PruningError("SparseGPT: the dampened Hessian is not positive definite (\(error))")
        }
    }

    /// `w` pruned to `pattern` against the Hessian `h` (cols × cols, row-major Float64).
    public static func prune(_ w: Matrix, hessian h: [Double], pattern: SparsityPattern,
                             blockSize: Int = defaultBlockSize, dampening: Double = defaultDampening) throws -> Matrix {
        try check(w, pattern: pattern, blockSize: blockSize)   // before the factorisation, not after
        return try prune(w, factor: factor(hessian: h, cols: w.cols, dampening: dampening), pattern: pattern, blockSize: blockSize)
    }

    /// Throws unless `pattern` and `blockSize` can apply to `w`.
    static func check(_ w: Matrix, pattern: SparsityPattern, blockSize: Int) throws {
        guard blockSize >= 1 else { throw PruningError("block size must be at least 1, got \(blockSize)") }
        try pattern.check(columns: w.cols, what: "matrix")
    }

    /// `w` pruned to `pattern` with the prepared `factor` of its inputs' Hessian.
    public static func prune(_ w: Matrix, factor: InverseFactor, pattern: SparsityPattern,
                             blockSize: Int = defaultBlockSize) throws -> Matrix {
        let rows = w.rows, cols = w.cols
        guard factor.cols == cols else {
            throw PruningError("SparseGPT: a factor for \(factor.cols) columns cannot prune a matrix with \(cols)")
        }
        try check(w, pattern: pattern, blockSize: blockSize)
        var weights = w.data.map(Double.init)
        for j in factor.dead { for r in 0..<rows { weights[r * cols + j] = 0 } }
        let u = factor.u

        var mask = [Bool](repeating: false, count: rows * cols)
        var i1 = 0
        while i1 < cols {
            let i2 = min(i1 + blockSize, cols), count = i2 - i1
            var errors = [Double](repeating: 0, count: rows * count)   // rows × count
            if case let .fraction(ratio) = pattern {
                var scores = [Double](repeating: 0, count: rows * count)
                for r in 0..<rows {
                    for c in 0..<count {
                        let d = u[(i1 + c) * cols + i1 + c], v = weights[r * cols + i1 + c]
                        scores[r * count + c] = v * v / (d * d)
                    }
                }
                scores.withUnsafeBufferPointer { sp in
                    MaskSelection.markSmallest(sp, count: Int(ratio * Double(rows * count))) { k in
                        mask[(k / count) * cols + i1 + k % count] = true
                    }
                }
            }
            // Column by column: choose an N:M group's mask at its first column, zero the masked
            // weights, and pass each row's error on to the block's later columns through U's row.
            weights.withUnsafeMutableBufferPointer { wp in
                u.withUnsafeBufferPointer { up in
                    mask.withUnsafeMutableBufferPointer { mp in
                        errors.withUnsafeMutableBufferPointer { ep in
                            for c in 0..<count {
                                let col = i1 + c
                                if case let .nOfM(keep, group) = pattern, c % group == 0 {
                                    let end = min(col + group, i2)
                                    withUnsafeTemporaryAllocation(of: Double.self, capacity: end - col) { scores in
                                        for r in 0..<rows {
                                            for j in col..<end {
                                                let d = up[j * cols + j], v = wp[r * cols + j]
                                                scores[j - col] = v * v / (d * d)
                                            }
                                            MaskSelection.markSmallest(UnsafeBufferPointer(scores), count: end - col - keep) { mp[r * cols + col + $0] = true }
                                        }
                                    }
                                }
                                let d = up[col * cols + col], uRow = up.baseAddress! + col * cols
                                for r in 0..<rows {
                                    let wRow = wp.baseAddress! + r * cols
                                    let v = wRow[col]
                                    let q = mp[r * cols + col] ? 0 : v
                                    let err = (v - q) / d
                                    ep[r * count + c] = err
                                    if err != 0 {
                                        for j in (col + 1)..<i2 { wRow[j] -= err * uRow[j] }
                                    }
                                    wRow[col] = q
                                }
                            }
                        }
                    }
                }
            }
            // The columns after the block absorb its errors: W[:, i2:] −= E · U[i1:i2, i2:].
            if i2 < cols {
                errors.withUnsafeBufferPointer { e in
                    u.withUnsafeBufferPointer { up in
                        weights.withUnsafeMutableBufferPointer { wp in
                            Float64LinearAlgebra.gemm(m: rows, n: cols - i2, k: count, alpha: -1,
                                                      a: e.baseAddress!, lda: count, b: up.baseAddress! + i1 * cols + i2, ldb: cols,
                                                      beta: 1, c: wp.baseAddress! + i2, ldc: cols)
                        }
                    }
                }
            }
            i1 = i2
        }
        return try Matrix(rows: rows, cols: cols, data: weights.map { Float($0) })
    }
}
