import CBLAS

/// Float64 dense linear algebra on row-major `[Double]` buffers, for the pruners that need the
/// precision (SparseGPT's inverse Hessian, SliceGPT's PCA): Cholesky-based inverses, symmetric
/// eigendecomposition with vectors, and matrix products.
public enum Float64LinearAlgebra {
    /// The upper-triangular Cholesky factor U of H⁻¹ (H⁻¹ = UᵀU) for a symmetric positive-definite
    /// n×n `h` (dpotrf, dpotri, dpotrf): SparseGPT's `cholesky(cholesky_inverse(cholesky(H)), upper=True)`.
    /// Throws when `h` is not positive definite.
    public static func upperCholeskyOfInverse(_ h: [Double], n: Int) throws -> [Double] {
        guard h.count == n * n else { throw NumericsError.shapeMismatch("expected \(n)×\(n) values, got \(h.count)") }
        if n == 0 { return [] }
        // LAPACK works column-major. The row-major lower triangle of h, transposed, is the
        // column-major lower triangle (what LAPACKE's row-major interface would hand LAPACK, after
        // transposing in and out of every call); the three calls then run on one buffer and only
        // the result is transposed back, in tiles. The same arithmetic as the row-major calls, bit for bit.
        var a = [Double](repeating: 0, count: n * n)
        let lower = Int8(UInt8(ascii: "L")), upper = Int8(UInt8(ascii: "U"))
        try a.withUnsafeMutableBufferPointer { q in
            let q = q.baseAddress!
            h.withUnsafeBufferPointer { hp in
                transposeTiles(n) { i, j in if i >= j { q[j * n + i] = hp[i * n + j] } }
            }
            try checkLAPACK(LAPACKE_dpotrf(LAPACK_COL_MAJOR, lower, Int32(n), q, Int32(n)), "dpotrf")
            try checkLAPACK(LAPACKE_dpotri(LAPACK_COL_MAJOR, lower, Int32(n), q, Int32(n)), "dpotri")
            // The inverse's lower triangle, mirrored: a symmetric matrix reads the same either way.
            transposeTiles(n) { i, j in if i > j { q[i * n + j] = q[j * n + i] } }
            try checkLAPACK(LAPACKE_dpotrf(LAPACK_COL_MAJOR, upper, Int32(n), q, Int32(n)), "dpotrf")
        }
        // Column-major U (element (i, j), i ≤ j, at j·n + i) to row-major, zeros below the diagonal.
        var u = [Double](repeating: 0, count: n * n)
        a.withUnsafeBufferPointer { q in
            u.withUnsafeMutableBufferPointer { out in
                transposeTiles(n) { i, j in if i <= j { out[i * n + j] = q[j * n + i] } }
            }
        }
        return u
    }

    /// Calls `visit(i, j)` for every i, j < n in 32×32 tiles, so that a transposition reading
    /// rows and writing columns stays in cache.
    @inline(__always)
    static func transposeTiles(_ n: Int, _ visit: (Int, Int) -> Void) {
        let tile = 32
        for i0 in stride(from: 0, to: n, by: tile) {
            for j0 in stride(from: 0, to: n, by: tile) {
                for i in i0..<min(i0 + tile, n) { for j in j0..<min(j0 + tile, n) { visit(i, j) } }
            }
        }
    }

    /// Eigenvalues in descending order and the matching eigenvectors as the columns of a row-major
    /// n×n matrix, of the symmetric n×n `a` (dsyevd; only the upper triangle is read).
    public static func symmetricEigenDescending(_ a: [Double], n: Int) throws -> (values: [Double], vectors: [Double]) {
        guard a.count == n * n else { throw NumericsError.shapeMismatch("expected \(n)×\(n) values, got \(a.count)") }
        if n == 0 { return ([], []) }
        var v = a
        var w = [Double](repeating: 0, count: n)
        let info = v.withUnsafeMutableBufferPointer { pa in
            w.withUnsafeMutableBufferPointer { pw in
                LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")),
                               Int32(n), pa.baseAddress, Int32(n), pw.baseAddress)
            }
        }
        try checkLAPACK(info, "dsyevd")
        // LAPACK returns ascending order; reverse the columns.
        var out = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { out[i * n + j] = v[i * n + (n - 1 - j)] } }
        return (Array(w.reversed()), out)
    }

    /// Eigenvalues in descending order of the symmetric n×n row-major `a`, values only (only its
    /// upper triangle is read: LAPACK gets it as the column-major lower one, so LAPACKE makes no
    /// transposed copy). `singlePrecision` solves in Float32 (ssyevd), about twice as fast, for
    /// callers that need no more than Float32 accuracy; otherwise Float64 (dsyevd).
    public static func symmetricEigenvaluesDescending(_ a: [Double], n: Int, singlePrecision: Bool = false) throws -> [Double] {
        guard a.count == n * n else { throw NumericsError.shapeMismatch("expected \(n)×\(n) values, got \(a.count)") }
        if n == 0 { return [] }
        let jobz = Int8(UInt8(ascii: "N")), lower = Int8(UInt8(ascii: "L"))
        if singlePrecision {
            var a32 = a.map(Float.init)
            var w = [Float](repeating: 0, count: n)
            let info = a32.withUnsafeMutableBufferPointer { pa in
                w.withUnsafeMutableBufferPointer { pw in
                    LAPACKE_ssyevd(LAPACK_COL_MAJOR, jobz, lower, Int32(n), pa.baseAddress, Int32(n), pw.baseAddress)
                }
            }
            try checkLAPACK(info, "ssyevd")
            return w.reversed().map(Double.init)
        }
        var a64 = a
        var w = [Double](repeating: 0, count: n)
        let info = a64.withUnsafeMutableBufferPointer { pa in
            w.withUnsafeMutableBufferPointer { pw in
                LAPACKE_dsyevd(LAPACK_COL_MAJOR, jobz, lower, Int32(n), pa.baseAddress, Int32(n), pw.baseAddress)
            }
        }
        try checkLAPACK(info, "dsyevd")
        return w.reversed()
    }

    /// C ← alpha·AᵀA + beta·C on the upper triangle only (cblas_dsyrk), for a row-major
    /// rows×cols `a` and a row-major cols×cols `c`; the strict lower triangle of `c` is left as it
    /// was. The Gram-matrix update PruneNet's penalty needs (a rank-k add or subtract).
    public static func gramUpdateUpper(_ a: [Double], rows: Int, cols: Int, alpha: Double = 1, beta: Double = 0,
                                       into c: inout [Double]) throws {
        guard a.count == rows * cols else { throw NumericsError.shapeMismatch("expected \(rows)×\(cols) values in A, got \(a.count)") }
        guard c.count == cols * cols else { throw NumericsError.shapeMismatch("expected \(cols)×\(cols) values in C, got \(c.count)") }
        guard cols > 0 else { return }
        a.withUnsafeBufferPointer { pa in
            c.withUnsafeMutableBufferPointer { pc in
                cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(cols), Int32(rows), alpha,
                            pa.baseAddress, Int32(max(cols, 1)), beta, pc.baseAddress, Int32(cols))
            }
        }
    }

    /// C ← alpha·op(A)·op(B) + beta·C on raw row-major Float64 buffers (cblas_dgemm), with leading
    /// dimensions given so sub-blocks can be addressed.
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Double = 1,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double = 0, c: UnsafeMutablePointer<Double>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
