import CBLAS

/// How `singularValues` computes: `.exact` runs divide-and-conquer SVD (gesdd) on a Float64 copy;
/// `.gram` takes square roots of the eigenvalues of the Gram matrix accumulated in Float64;
/// `.auto` picks `.gram` when the smaller dimension is at least `SVDMethod.gramThreshold`
/// (where it is several times faster), `.exact` otherwise.
///
/// Accuracy guarantee (both methods), against the singular values of the Float32 input computed
/// in exact arithmetic: |σ̂ᵢ − σᵢ| ≤ 1e-6·σ_max for every i, and |σ̂ᵢ − σᵢ| ≤ 1e-6·σᵢ for every
/// σᵢ ≥ 1e-3·σ_max. Why `.gram` meets it: Float32 products are exact in Float64, so the Gram
/// matrix and its eigenvalues carry absolute error ≲ k·2⁻⁵³·σ_max² (k = larger dimension, below
/// 1e-11·σ_max² for k ≤ 10⁵), hence |σ̂ᵢ² − σᵢ²| ≤ 1e-11·σ_max², which gives both bounds. Below
/// 1e-3·σ_max only the absolute bound holds for `.gram`; `.exact` keeps Float64 relative
/// accuracy there, so force it when tiny singular values matter. Results are rounded to Float32.
public enum SVDMethod: Sendable {
    case auto
    case exact
    case gram

    /// The smaller dimension from which `.auto` uses the Gram method.
    public static let gramThreshold = 64
}

/// The singular values of `a`, largest first (min(m, n) of them), by `method`.
/// Throws on NaN or infinite input.
public func singularValues(_ a: Matrix, method: SVDMethod = .auto) throws -> [Float] {
    try a.requireFinite("svdvals input")
    let k = a.minDimension
    if k == 0 { return [] }
    let useGram: Bool
    switch method {
    case .auto: useGram = k >= SVDMethod.gramThreshold
    case .exact: useGram = false
    case .gram: useGram = true
    }
    return try useGram ? singularValuesByGram(a) : singularValuesExact(a)
}

/// Singular values from the Float64 Gram matrix on the smaller side (dsyrk + dsyevd).
func singularValuesByGram(_ a: Matrix) throws -> [Float] {
    let side: GramSide = a.cols <= a.rows ? .columns : .rows
    let n = a.minDimension
    var g = gramFloat64(a, side: side)
    let eig = try symmetricEigenvaluesFloat64(&g, n: n)
    // Eigenvalues come ascending; tiny negative ones are rounding of zero singular values.
    return eig.reversed().map { Float(Swift.max($0, 0).squareRoot()) }
}

/// Singular values by divide and conquer (dgesdd, values only) on an exact Float64 copy.
func singularValuesExact(_ a: Matrix) throws -> [Float] {
    // Work on whichever orientation is wide (rows ≤ cols) in column-major terms: a row-major
    // m×n array is the column-major n×m transpose, with the same singular values. Column-major
    // with jobz='N' also sidesteps LAPACKE 3.11's row-major ldvt check.
    let (m, n) = (a.cols, a.rows)   // column-major view of the transpose
    let k = min(m, n)
    var wide = a.data.map(Double.init)
    var s = [Double](repeating: 0, count: k)
    var dummyU = [Double](repeating: 0, count: 1)
    var dummyVT = [Double](repeating: 0, count: 1)
    let info = wide.withUnsafeMutableBufferPointer { pa in
        s.withUnsafeMutableBufferPointer { ps in
            dummyU.withUnsafeMutableBufferPointer { pu in
                dummyVT.withUnsafeMutableBufferPointer { pvt in
                    LAPACKE_dgesdd(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "N")), Int32(m), Int32(n),
                                   pa.baseAddress, Int32(m), ps.baseAddress,
                                   pu.baseAddress, 1, pvt.baseAddress, 1)
                }
            }
        }
    }
    try checkLAPACK(info, "dgesdd")
    return s.map { Float($0) }
}

/// The stable rank ‖A‖_F² / σ_max², a smooth lower bound on the rank (0 for a zero matrix).
public func stableRank(_ a: Matrix) throws -> Double {
    let s = try singularValues(a)
    guard let top = s.first, top > 0 else { return 0 }
    let f = a.frobeniusNorm
    return f * f / (Double(top) * Double(top))
}
