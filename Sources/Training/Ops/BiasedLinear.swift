import Numerics

/// A linear layer with bias, y = x·Wᵀ + b, forward beside backward (Float32, OpenBLAS sgemm).
///
/// Layouts (row-major, as `Models.Linear` and PyTorch's `nn.Linear` hold them): x is rows × in,
/// W is out × in, b has `out` entries, y is rows × out.
public enum BiasedLinear {
    /// y = x·Wᵀ + b for `rows` rows of x; returns y (rows × out).
    public static func forward(_ x: [Float], rows: Int, weight: Matrix, bias: [Float]) -> [Float] {
        let n = weight.rows, k = weight.cols
        precondition(x.count == rows * k && bias.count == n, "a \(n) × \(k) linear needs \(rows) × \(k) inputs and \(n) biases")
        var y = [Float](repeating: 0, count: rows * n)
        guard rows > 0, n > 0 else { return y }
        y.withUnsafeMutableBufferPointer { yp in
            bias.withUnsafeBufferPointer { bp in
                for r in 0..<rows { (yp.baseAddress! + r * n).update(from: bp.baseAddress!, count: n) }
            }
            guard k > 0 else { return }
            x.withUnsafeBufferPointer { xp in
                weight.data.withUnsafeBufferPointer { wp in
                    StridedBLAS.gemm(transB: true, m: rows, n: n, k: k, a: xp.baseAddress!, lda: k,
                                     b: wp.baseAddress!, ldb: k, beta: 1, c: yp.baseAddress!, ldc: n)
                }
            }
        }
        return y
    }

    /// The backward pass of `forward` for the upstream gradient dy (rows × out): adds dyᵀ·x to
    /// `weightGradient` (out × in) and the column sums of dy to `biasGradient` (gradients
    /// accumulate, as in llm.c, so the caller zeroes them once per step), and returns dx = dy·W
    /// (rows × in) when `inputGradient` is true (the first layer's is not needed).
    @discardableResult
    public static func backward(_ dy: [Float], x: [Float], rows: Int, weight: Matrix,
                                weightGradient: inout Matrix, biasGradient: inout [Float],
                                inputGradient: Bool = true) -> [Float]? {
        let n = weight.rows, k = weight.cols
        precondition(dy.count == rows * n && x.count == rows * k, "a \(n) × \(k) linear's backward needs \(rows) × \(n) gradients and \(rows) × \(k) inputs")
        precondition(weightGradient.rows == n && weightGradient.cols == k && biasGradient.count == n, "gradient shapes must match the layer")
        guard rows > 0 else { return inputGradient ? [] : nil }
        dy.withUnsafeBufferPointer { dyp in
            x.withUnsafeBufferPointer { xp in
                weightGradient.data.withUnsafeMutableBufferPointer { gp in
                    StridedBLAS.gemm(transA: true, m: n, n: k, k: rows, a: dyp.baseAddress!, lda: n,
                                     b: xp.baseAddress!, ldb: k, beta: 1, c: gp.baseAddress!, ldc: k)
                }
            }
            biasGradient.withUnsafeMutableBufferPointer { bp in
                for r in 0..<rows {
                    let row = dyp.baseAddress! + r * n
                    for o in 0..<n { bp[o] += row[o] }
                }
            }
        }
        guard inputGradient else { return nil }
        var dx = [Float](repeating: 0, count: rows * k)
        dy.withUnsafeBufferPointer { dyp in
            weight.data.withUnsafeBufferPointer { wp in
                dx.withUnsafeMutableBufferPointer { dxp in
                    StridedBLAS.gemm(m: rows, n: k, k: n, a: dyp.baseAddress!, lda: n,
                                     b: wp.baseAddress!, ldb: k, beta: 0, c: dxp.baseAddress!, ldc: k)
                }
            }
        }
        return dx
    }
}
