import Numerics

/// A LoRA adapter on a linear layer (as PEFT defines it): y = x·Wᵀ + (alpha/r)·(x·Aᵀ)·Bᵀ, with A
/// r × in and B out × r; forward beside backward (Float32, sgemm). The base weight is frozen:
/// only A and B receive gradients.
public struct LoRAAdapter: Sendable {
    /// Down-projection A (rank × in).
    public var a: Matrix
    /// Up-projection B (out × rank).
    public var b: Matrix
    /// alpha / rank.
    public var scale: Float

    /// An adapter from its matrices.
    public init(a: Matrix, b: Matrix, scale: Float) {
        precondition(a.rows == b.cols, "A's rows and B's columns are the rank")
        self.a = a
        self.b = b
        self.scale = scale
    }

    /// PEFT's initialisation: A uniform in ±1/√in (kaiming-uniform with a = √5), seeded; B zero.
    public init(inputs: Int, outputs: Int, rank: Int, alpha: Double, rng: inout SeededRandom) {
        let bound = 1 / Float(inputs).squareRoot()
        var a = Matrix(rows: rank, cols: inputs)
        for i in 0..<a.count { a.data[i] = Float.random(in: -bound..<bound, using: &rng) }
        self.init(a: a, b: Matrix(rows: outputs, cols: rank), scale: Float(alpha / Double(rank)))
    }

    /// The rank r.
    public var rank: Int { a.rows }

    /// x·Aᵀ (rows × rank): the adapter's hidden values, kept for the backward pass.
    public func down(_ x: [Float], rows t: Int) -> [Float] {
        var xa = [Float](repeating: 0, count: t * rank)
        x.withUnsafeBufferPointer { xp in
            a.data.withUnsafeBufferPointer { ap in
                xa.withUnsafeMutableBufferPointer { op in
                    StridedBLAS.gemm(transB: true, m: t, n: rank, k: a.cols, a: xp.baseAddress!, lda: a.cols,
                                     b: ap.baseAddress!, ldb: a.cols, c: op.baseAddress!, ldc: rank)
                }
            }
        }
        return xa
    }

    /// y += scale·xa·Bᵀ, xa = `down(x)`.
    public func up(_ xa: [Float], rows t: Int, addingTo y: inout [Float]) {
        xa.withUnsafeBufferPointer { xp in
            b.data.withUnsafeBufferPointer { bp in
                y.withUnsafeMutableBufferPointer { yp in
                    StridedBLAS.gemm(transB: true, m: t, n: b.rows, k: rank, alpha: scale, a: xp.baseAddress!, lda: rank,
                                     b: bp.baseAddress!, ldb: rank, beta: 1, c: yp.baseAddress!, ldc: b.rows)
                }
            }
        }
    }

    /// The backward pass for dy (rows × out), the forward's input x and hidden values xa:
    /// dB += scale·dyᵀ·xa, dA += (scale·dy·B)ᵀ·x, and dx += scale·dy·B·A.
    public func backward(_ dy: [Float], input x: [Float], hidden xa: [Float], rows t: Int,
                         gradientA: inout Matrix, gradientB: inout Matrix, addingTo dx: inout [Float]) {
        let r = rank, n = b.rows, k = a.cols
        var dxa = [Float](repeating: 0, count: t * r)
        dy.withUnsafeBufferPointer { dyp in
            xa.withUnsafeBufferPointer { xap in
                gradientB.data.withUnsafeMutableBufferPointer { gb in
                    StridedBLAS.gemm(transA: true, m: n, n: r, k: t, alpha: scale, a: dyp.baseAddress!, lda: n,
                                     b: xap.baseAddress!, ldb: r, beta: 1, c: gb.baseAddress!, ldc: r)
                }
            }
            b.data.withUnsafeBufferPointer { bp in
                dxa.withUnsafeMutableBufferPointer { op in
                    StridedBLAS.gemm(m: t, n: r, k: n, alpha: scale, a: dyp.baseAddress!, lda: n, b: bp.baseAddress!, ldb: r,
                                     c: op.baseAddress!, ldc: r)
                }
            }
        }
        dxa.withUnsafeBufferPointer { dp in
            x.withUnsafeBufferPointer { xp in
                gradientA.data.withUnsafeMutableBufferPointer { ga in
                    StridedBLAS.gemm(transA: true, m: r, n: k, k: t, a: dp.baseAddress!, lda: r, b: xp.baseAddress!, ldb: k,
                                     beta: 1, c: ga.baseAddress!, ldc: k)
                }
            }
            a.data.withUnsafeBufferPointer { ap in
                dx.withUnsafeMutableBufferPointer { op in
                    StridedBLAS.gemm(m: t, n: k, k: r, a: dp.baseAddress!, lda: r, b: ap.baseAddress!, ldb: k,
                                     beta: 1, c: op.baseAddress!, ldc: k)
                }
            }
        }
    }

    /// B·A·scale (out × in): what merging adds to the base weight.
    public func delta() -> Matrix {
        var m = Matrix(rows: b.rows, cols: a.cols)
        b.data.withUnsafeBufferPointer { bp in
            a.data.withUnsafeBufferPointer { ap in
                m.data.withUnsafeMutableBufferPointer { mp in
                    StridedBLAS.gemm(m: b.rows, n: a.cols, k: rank, alpha: scale, a: bp.baseAddress!, lda: rank,
                                     b: ap.baseAddress!, ldb: a.cols, c: mp.baseAddress!, ldc: a.cols)
                }
            }
        }
        return m
    }
}
