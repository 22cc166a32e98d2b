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
        var a = h
        let lower = Int8(UInt8(ascii: "L")), upper = Int8(UInt8(ascii: "U"))
        try a.withUnsafeMutableBufferPointer { p in
            try checkLAPACK(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, lower, Int32(n), p.baseAddress, Int32(n)), "dpotrf")
            try checkLAPACK(LAPACKE_dpotri(LAPACK_ROW_MAJOR, lower, Int32(n), p.baseAddress, Int32(n)), "dpotri")
            for i in 0..<n { for j in 0..<i { p[j * n + i] = p[i * n + j] } }   // mirror the lower triangle
            try checkLAPACK(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, upper, Int32(n), p.baseAddress, Int32(n)), "dpotrf")
            for i in 0..<n { for j in 0..<i { p[i * n + j] = 0 } }
        }
        return a
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
