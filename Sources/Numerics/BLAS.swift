import CBLAS
import COpenBLASCore

/// Which side a Gram matrix is formed on: `.columns` gives AᵀA (cols×cols), `.rows` gives AAᵀ.
public enum GramSide: Sendable {
    case columns
    case rows
}

/// C = op(A)·op(B) with single-precision BLAS (sgemm); `transposeA`/`transposeB` select op.
public func matmul(_ a: Matrix, _ b: Matrix, transposeA: Bool = false, transposeB: Bool = false) throws -> Matrix {
    let (m, k) = transposeA ? (a.cols, a.rows) : (a.rows, a.cols)
    let (kb, n) = transposeB ? (b.cols, b.rows) : (b.rows, b.cols)
    guard k == kb else {
        throw NumericsError.shapeMismatch("cannot multiply \(m)×\(k) by \(kb)×\(n)")
    }
    var c = Matrix(rows: m, cols: n)
    if m == 0 || n == 0 || k == 0 { return c }
    a.data.withUnsafeBufferPointer { pa in
        b.data.withUnsafeBufferPointer { pb in
            c.data.withUnsafeMutableBufferPointer { pc in
                cblas_sgemm(CblasRowMajor,
                            transposeA ? CblasTrans : CblasNoTrans,
                            transposeB ? CblasTrans : CblasNoTrans,
                            Int32(m), Int32(n), Int32(k), 1,
                            pa.baseAddress, Int32(a.cols), pb.baseAddress, Int32(b.cols),
                            0, pc.baseAddress, Int32(n))
            }
        }
    }
    return c
}

/// y = op(A)·x with single-precision BLAS (sgemv).
public func gemv(_ a: Matrix, _ x: [Float], transpose: Bool = false) throws -> [Float] {
    let (outLen, inLen) = transpose ? (a.cols, a.rows) : (a.rows, a.cols)
    guard x.count == inLen else {
        throw NumericsError.shapeMismatch("cannot multiply \(transpose ? "the transpose of a " : "a ")\(a.rows)×\(a.cols) matrix by a vector of length \(x.count)")
    }
    var y = [Float](repeating: 0, count: outLen)
    if a.count == 0 { return y }
    a.data.withUnsafeBufferPointer { pa in
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                cblas_sgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans,
                            Int32(a.rows), Int32(a.cols), 1, pa.baseAddress, Int32(a.cols),
                            px.baseAddress, 1, 0, py.baseAddress, 1)
            }
        }
    }
    return y
}

/// The Gram matrix AᵀA (`.columns`) or AAᵀ (`.rows`) in single precision (ssyrk), both triangles filled.
public func gram(_ a: Matrix, side: GramSide = .columns) -> Matrix {
    let n = side == .columns ? a.cols : a.rows
    let k = side == .columns ? a.rows : a.cols
    var g = Matrix(rows: n, cols: n)
    if n == 0 || k == 0 { return g }
    a.data.withUnsafeBufferPointer { pa in
        g.data.withUnsafeMutableBufferPointer { pg in
            cblas_ssyrk(CblasRowMajor, CblasUpper, side == .columns ? CblasTrans : CblasNoTrans,
                        Int32(n), Int32(k), 1, pa.baseAddress, Int32(a.cols), 0, pg.baseAddress, Int32(n))
            mirrorUpper(pg.baseAddress!, n)
        }
    }
    return g
}

/// The Gram matrix of `a` accumulated in Float64 (dsyrk on an exact Float64 copy): products of
/// Float32 values are exact in Float64, so the only error is the Float64 summation.
/// Returns the n×n row-major matrix, both triangles filled.
public func gramFloat64(_ a: Matrix, side: GramSide = .columns) -> [Double] {
    let n = side == .columns ? a.cols : a.rows
    let k = side == .columns ? a.rows : a.cols
    var g = [Double](repeating: 0, count: n * n)
    if n == 0 || k == 0 { return g }
    let wide = a.data.map(Double.init)
    wide.withUnsafeBufferPointer { pa in
        g.withUnsafeMutableBufferPointer { pg in
            cblas_dsyrk(CblasRowMajor, CblasUpper, side == .columns ? CblasTrans : CblasNoTrans,
                        Int32(n), Int32(k), 1, pa.baseAddress, Int32(a.cols), 0, pg.baseAddress, Int32(n))
            mirrorUpper(pg.baseAddress!, n)
        }
    }
    return g
}

/// Copies the upper triangle of a row-major n×n matrix onto its lower triangle.
@inline(__always)
func mirrorUpper<T>(_ p: UnsafeMutablePointer<T>, _ n: Int) {
    for i in 0..<n { for j in 0..<i { p[i * n + j] = p[j * n + i] } }
}

/// The thread count OpenBLAS uses (it reads `OPENBLAS_NUM_THREADS` at start-up).
public enum BLASThreads {
    /// Threads OpenBLAS will use for the next call.
    public static var count: Int { Int(openblas_get_num_threads()) }
    /// Sets the number of OpenBLAS threads (at least 1).
    public static func set(_ n: Int) { openblas_set_num_threads(Int32(Swift.max(1, n))) }
}

/// Which OpenBLAS kernels run the products. Debian's OpenBLAS falls back to its SSE3 kernels on
/// CPUs it does not recognise (this project's virtual Xeons, which have AVX-512); PruneLang then
/// moves it to the AVX-512 or AVX2 ones at start-up (COpenBLASCore), unless `OPENBLAS_CORETYPE`
/// is set.
public enum BLASKernels {
    /// OpenBLAS's name for the kernels in use, e.g. "SkylakeX".
    public static var core: String { String(cString: plb_openblas_core_name()) }
    /// What start-up did: "kept", "not dynamic", "no better kernel", or the core it chose.
    public static var selection: String { String(cString: plb_openblas_core_selection()) }
}
