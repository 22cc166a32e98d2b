import CBLAS

/// Single-precision BLAS on raw row-major buffers with leading dimensions, for kernels that work
/// on sub-blocks of larger arrays in place (attention heads inside a [tokens × width] buffer,
/// accumulating into a residual stream) where `matmul` on whole `Matrix` values would copy.
public enum StridedBLAS {
    /// C = alpha·op(A)·op(B) + beta·C, row-major: op(A) is m×k, op(B) is k×n, C is m×n; `lda`,
    /// `ldb`, `ldc` are the row strides of the stored A, B and C. The caller guarantees the
    /// buffers hold what the shapes and strides address.
    @inline(__always)
    public static func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y = alpha·op(A)·x + beta·y for a row-major rows×cols A with row stride `lda`.
    @inline(__always)
    public static func gemv(transA: Bool = false, rows: Int, cols: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                            x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        guard rows > 0, cols > 0 else { return }
        cblas_sgemv(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, Int32(rows), Int32(cols), alpha, a, Int32(lda),
                    x, 1, beta, y, 1)
    }
}
