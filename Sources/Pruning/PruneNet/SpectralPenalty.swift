import Foundation
import Numerics

/// The distance PruneNet's policy minimises between the singular values of a layer's original and
/// pruned state matrix (paper §4.2): the two-sample Kolmogorov–Smirnov distance (eq. 6), or the
/// k-sample Anderson–Darling statistic (Table 18).
public enum SpectralDistance: String, Sendable, CaseIterable, Codable {
    /// sup |F_original − F_pruned|, in [0, 1].
    case ks
    /// scipy's standardized `anderson_ksamp` statistic of the two samples (may be negative).
    case ad

    /// The distance between two samples of singular values.
    public func distance(_ original: [Double], _ pruned: [Double]) throws -> Double {
        switch self {
        case .ks: return try ksStatistic(original, pruned)
        case .ad: return try andersonKSample([original, pruned]).statistic
        }
    }
}

/// One layer's state matrix prepared for many penalty evaluations: the rows in Float64, its
/// Gram matrix WᵀW and its singular values, computed once. The singular values of a row subset
/// come from the Gram matrix of the kept rows — formed directly (kept rows) or as a rank update
/// WᵀW − W_droppedᵀW_dropped when fewer rows are dropped than kept — and its symmetric eigenvalues
/// (dsyevd, values only): σᵢ = √λᵢ. Far cheaper than an SVD of the k×d matrix, and accurate to
/// ~1e-12·σ_max², which moves no KS distance in practice (checked against numpy in the tests).
public struct LayerSpectrum: Sendable {
    /// Rows n of the state matrix.
    public let rows: Int
    /// Columns d.
    public let cols: Int
    /// The state matrix, n×d row-major, in Float64.
    public let weights: [Double]
    /// WᵀW (d×d, both triangles).
    let gram: [Double]
    /// The singular values of the whole matrix, largest first.
    public let singularValues: [Double]

    /// Prepares `w` (n×d Float).
    public init(_ w: Matrix) throws {
        try w.requireFinite("state matrix")
        rows = w.rows
        cols = w.cols
        weights = w.data.map(Double.init)
        var g = [Double](repeating: 0, count: cols * cols)
        try LayerSpectrum.syrk(weights, rows: rows, cols: cols, alpha: 1, beta: 0, into: &g)
        gram = g
        singularValues = try LayerSpectrum.singularValues(gram: g, cols: cols, rank: min(rows, cols))
    }

    /// The singular values (largest first) of the rows `kept` of the state matrix. The Gram
    /// matrix is always formed in Float64; `fast` takes its eigenvalues in Float32 (ssyevd, about
    /// twice as fast: relative error ~1e-7 of σ_max², the accuracy of the authors' fp32
    /// `svdvals`), otherwise in Float64 (dsyevd).
    public func singularValues(keeping kept: [Int], fast: Bool = false) throws -> [Double] {
        let k = kept.count
        guard k > 0 else { return [] }
        var g: [Double]
        if rows - k < k {
            var isKept = [Bool](repeating: false, count: rows)
            for i in kept { isKept[i] = true }
            let dropped = (0..<rows).filter { !isKept[$0] }
            g = gram
            if !dropped.isEmpty {
                let sub = gather(dropped)
                try LayerSpectrum.syrk(sub, rows: dropped.count, cols: cols, alpha: -1, beta: 1, into: &g)
            }
        } else {
            g = [Double](repeating: 0, count: cols * cols)
            try LayerSpectrum.syrk(gather(kept), rows: k, cols: cols, alpha: 1, beta: 0, into: &g)
        }
        return try LayerSpectrum.singularValues(gram: g, cols: cols, rank: min(k, cols), fast: fast)
    }

    /// The penalty of keeping rows `kept`: `distance` between the original and pruned singular
    /// values (`fast` as in `singularValues(keeping:fast:)`; training uses it).
    public func penalty(keeping kept: [Int], distance: SpectralDistance, fast: Bool = false) throws -> Double {
        try distance.distance(singularValues, try singularValues(keeping: kept, fast: fast))
    }

    /// The rows `indices` back to back.
    func gather(_ indices: [Int]) -> [Double] {
        var out = [Double](repeating: 0, count: indices.count * cols)
        weights.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (r, i) in indices.enumerated() {
                    (dst.baseAddress! + r * cols).update(from: src.baseAddress! + i * cols, count: cols)
                }
            }
        }
        return out
    }

    /// C = α·AᵀA + β·C on the upper triangle for A rows×cols (Numerics' dsyrk wrapper).
    static func syrk(_ a: [Double], rows: Int, cols: Int, alpha: Double, beta: Double, into c: inout [Double]) throws {
        try Float64LinearAlgebra.gramUpdateUpper(a, rows: rows, cols: cols, alpha: alpha, beta: beta, into: &c)
    }

    /// √ of the `rank` largest eigenvalues of the Gram matrix (upper triangle read), solved in
    /// Float32 when `fast` (training's inner loop) and in Float64 otherwise.
    static func singularValues(gram g: [Double], cols: Int, rank: Int, fast: Bool = false) throws -> [Double] {
        try Float64LinearAlgebra.symmetricEigenvaluesDescending(g, n: cols, singlePrecision: fast)
            .prefix(rank).map { Swift.max($0, 0).squareRoot() }
    }
}
