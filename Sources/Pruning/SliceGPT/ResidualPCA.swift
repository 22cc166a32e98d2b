import Numerics
import Models

/// SliceGPT's PCA of a residual-stream signal: the eigenvectors of H = Σ XᵀX over all
/// calibration tokens (uncentred, Float64), dampened by 1% of its mean diagonal as the authors'
/// `pca_calc` does, ordered by decreasing eigenvalue.
public enum ResidualPCA {
    /// The first `keep` principal directions (d × keep, Float32) of the signals `windows`
    /// (each rows × d, row-major) and all eigenvalues, largest first.
    public static func directions(_ windows: [[Float]], width d: Int, keep: Int) throws -> (q: Matrix, eigenvalues: [Double]) {
        var h = [Double](repeating: 0, count: d * d)
        for x in windows where !x.isEmpty {
            let g = gramFloat64(try Matrix(rows: x.count / d, cols: d, data: x))
            for i in h.indices { h[i] += g[i] }
        }
        var mean = 0.0
        for i in 0..<d { mean += h[i * d + i] }
        let damp = 0.01 * mean / Double(d)
        for i in 0..<d { h[i * d + i] += damp }
        let (values, vectors) = try Float64LinearAlgebra.symmetricEigenDescending(h, n: d)
        var q = Matrix(rows: d, cols: keep)
        for i in 0..<d { for j in 0..<keep { q.data[i * keep + j] = Float(vectors[i * d + j]) } }
        return (q, values)
    }
}
