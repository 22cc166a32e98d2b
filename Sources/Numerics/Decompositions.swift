import CBLAS

/// A thin singular value decomposition A = U·diag(S)·Vᵀ: U is m×k, Vᵀ is k×n, k = min(m, n),
/// singular values largest first.
public struct SVD: Sendable {
    /// Left singular vectors as columns (m×k).
    public let u: Matrix
    /// Singular values, largest first.
    public let s: [Float]
    /// Right singular vectors as rows (k×n).
    public let vt: Matrix
}

/// A symmetric eigendecomposition A = V·diag(λ)·Vᵀ with eigenvalues in ascending order and
/// eigenvectors as the columns of `vectors`.
public struct SymmetricEigen: Sendable {
    /// Eigenvalues, ascending (LAPACK's order).
    public let values: [Float]
    /// Eigenvectors as columns (n×n).
    public let vectors: Matrix
}

/// A thin QR decomposition A = Q·R of an m×n matrix: Q is m×k with orthonormal columns, R is
/// k×n upper triangular, k = min(m, n).
public struct QR: Sendable {
    /// The orthonormal factor (m×k).
    public let q: Matrix
    /// The upper-triangular factor (k×n).
    public let r: Matrix
}

/// Throws unless a LAPACKE call succeeded.
@inline(__always)
func checkLAPACK(_ info: Int32, _ routine: String) throws {
    if info != 0 { throw NumericsError.lapack(routine: routine, info: info) }
}

/// The thin SVD of `a` by divide and conquer (sgesdd).
public func svd(_ a: Matrix) throws -> SVD {
    try a.requireFinite("svd input")
    let (m, n) = (a.rows, a.cols)
    let k = min(m, n)
    var work = a.data
    var s = [Float](repeating: 0, count: k)
    var u = Matrix(rows: m, cols: k)
    var vt = Matrix(rows: k, cols: n)
    if k == 0 { return SVD(u: u, s: s, vt: vt) }
    let info = work.withUnsafeMutableBufferPointer { pa in
        s.withUnsafeMutableBufferPointer { ps in
            u.data.withUnsafeMutableBufferPointer { pu in
                vt.data.withUnsafeMutableBufferPointer { pvt in
                    LAPACKE_sgesdd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "S")), Int32(m), Int32(n),
                                   pa.baseAddress, Int32(n), ps.baseAddress,
                                   pu.baseAddress, Int32(k), pvt.baseAddress, Int32(n))
                }
            }
        }
    }
    try checkLAPACK(info, "sgesdd")
    return SVD(u: u, s: s, vt: vt)
}

/// The eigenvalues and eigenvectors of the symmetric matrix `a` (ssyevd; only the upper
/// triangle is read).
public func symmetricEigen(_ a: Matrix) throws -> SymmetricEigen {
    guard a.rows == a.cols else {
        throw NumericsError.shapeMismatch("a symmetric eigendecomposition needs a square matrix, got \(a.rows)×\(a.cols)")
    }
    try a.requireFinite("symmetricEigen input")
    let n = a.rows
    var v = a
    var w = [Float](repeating: 0, count: n)
    if n == 0 { return SymmetricEigen(values: w, vectors: v) }
    let info = v.data.withUnsafeMutableBufferPointer { pv in
        w.withUnsafeMutableBufferPointer { pw in
            LAPACKE_ssyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")),
                           Int32(n), pv.baseAddress, Int32(n), pw.baseAddress)
        }
    }
    try checkLAPACK(info, "ssyevd")
    return SymmetricEigen(values: w, vectors: v)
}

/// The eigenvalues (ascending) of a symmetric row-major n×n Float64 matrix (dsyevd, values
/// only; only the upper triangle is read). The matrix is consumed as scratch.
func symmetricEigenvaluesFloat64(_ a: inout [Double], n: Int) throws -> [Double] {
    var w = [Double](repeating: 0, count: n)
    if n == 0 { return w }
    let info = a.withUnsafeMutableBufferPointer { pa in
        w.withUnsafeMutableBufferPointer { pw in
            LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), Int8(UInt8(ascii: "U")),
                           Int32(n), pa.baseAddress, Int32(n), pw.baseAddress)
        }
    }
    try checkLAPACK(info, "dsyevd")
    return w
}

/// The lower-triangular Cholesky factor L of a symmetric positive-definite `a` (A = L·Lᵀ; spotrf).
public func cholesky(_ a: Matrix) throws -> Matrix {
    guard a.rows == a.cols else {
        throw NumericsError.shapeMismatch("Cholesky needs a square matrix, got \(a.rows)×\(a.cols)")
    }
    try a.requireFinite("cholesky input")
    let n = a.rows
    var l = a
    let info = l.data.withUnsafeMutableBufferPointer { p in
        LAPACKE_spotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), Int32(n), p.baseAddress, Int32(n))
    }
    try checkLAPACK(info, "spotrf")
    for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { l.data[i * n + j] = 0 } }
    return l
}

/// The inverse of a symmetric positive-definite `a` through its Cholesky factor (spotrf + spotri),
/// as SparseGPT needs for H⁻¹.
public func choleskyInverse(_ a: Matrix) throws -> Matrix {
    let l = try cholesky(a)
    let n = a.rows
    var inv = l
    let info = inv.data.withUnsafeMutableBufferPointer { p in
        LAPACKE_spotri(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), Int32(n), p.baseAddress, Int32(n))
    }
    try checkLAPACK(info, "spotri")
    // spotri fills the lower triangle; mirror it upward.
    inv.data.withUnsafeMutableBufferPointer { p in
        for i in 0..<n { for j in 0..<i { p[j * n + i] = p[i * n + j] } }
    }
    return inv
}

/// The thin QR decomposition of `a` (sgeqrf + sorgqr).
public func qr(_ a: Matrix) throws -> QR {
    try a.requireFinite("qr input")
    let (m, n) = (a.rows, a.cols)
    let k = min(m, n)
    var work = a
    var tau = [Float](repeating: 0, count: k)
    if k == 0 { return QR(q: Matrix(rows: m, cols: 0), r: Matrix(rows: 0, cols: n)) }
    try checkLAPACK(work.data.withUnsafeMutableBufferPointer { p in
        tau.withUnsafeMutableBufferPointer { pt in
            LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), p.baseAddress, Int32(n), pt.baseAddress)
        }
    }, "sgeqrf")
    var r = Matrix(rows: k, cols: n)
    for i in 0..<k { for j in i..<n { r.data[i * n + j] = work.data[i * n + j] } }
    // Q: the first k columns of the Householder product.
    var q = try MatrixSelection(work, cols: Array(0..<k)).copy()
    try checkLAPACK(q.data.withUnsafeMutableBufferPointer { p in
        tau.withUnsafeMutableBufferPointer { pt in
            LAPACKE_sorgqr(LAPACK_ROW_MAJOR, Int32(m), Int32(k), Int32(k), p.baseAddress, Int32(k), pt.baseAddress)
        }
    }, "sorgqr")
    return QR(q: q, r: r)
}
