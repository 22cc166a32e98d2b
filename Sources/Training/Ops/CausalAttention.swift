import Models
import Numerics

/// Grouped-query causal self-attention, forward beside backward, batched by head with sgemm:
/// for each sequence and query head h (sharing key/value head g = h / (heads / kvHeads)),
/// P = softmax(scale·Q_h·K_gᵀ + causal mask), O_h = P·V_g, scale = 1/√headDim.
///
/// Layouts: `sequences` sequences of `length` rows each, stacked; q and the output are
/// rows × heads·headDim, k and v rows × kvHeads·headDim (heads side by side in a row). The
/// probabilities P are kept for the backward pass: sequences × heads × length × length, the
/// masked entries zero. The forward makes the same BLAS calls and uses the same softmax kernel
/// as the inference pass (`LlamaForward`'s Float32 attention), so its outputs are the same.
public enum CausalAttention {
    /// The shape of one attention call.
    public struct Shape: Sendable, Equatable {
        /// Independent sequences.
        public var sequences: Int
        /// Rows (positions) per sequence.
        public var length: Int
        /// Query heads.
        public var heads: Int
        /// Key/value heads (dividing `heads`).
        public var kvHeads: Int
        /// Dimensions per head.
        public var headDim: Int

        /// A shape.
        public init(sequences: Int, length: Int, heads: Int, kvHeads: Int, headDim: Int) {
            precondition(kvHeads > 0 && heads % kvHeads == 0, "query heads (\(heads)) must be a multiple of key/value heads (\(kvHeads))")
            self.sequences = sequences
            self.length = length
            self.heads = heads
            self.kvHeads = kvHeads
            self.headDim = headDim
        }

        var qWidth: Int { heads * headDim }
        var kvWidth: Int { kvHeads * headDim }
        var rows: Int { sequences * length }
        /// Floats of the kept probabilities.
        public var probabilityCount: Int { sequences * heads * length * length }
        var scale: Float { 1 / Float(headDim).squareRoot() }
    }

    /// The heads' outputs (rows × heads·headDim); `probabilities` receives P.
    public static func forward(q: [Float], k: [Float], v: [Float], shape s: Shape, probabilities: inout [Float]) -> [Float] {
        precondition(q.count == s.rows * s.qWidth && k.count == s.rows * s.kvWidth && v.count == k.count, "attention inputs do not match its shape")
        if probabilities.count != s.probabilityCount { probabilities = [Float](repeating: 0, count: s.probabilityCount) }
        var out = [Float](repeating: 0, count: s.rows * s.qWidth)
        let t = s.length, group = s.heads / s.kvHeads
        q.withUnsafeBufferPointer { qb in
            k.withUnsafeBufferPointer { kb in
                v.withUnsafeBufferPointer { vb in
                    out.withUnsafeMutableBufferPointer { ob in
                        probabilities.withUnsafeMutableBufferPointer { pb in
                            for b in 0..<s.sequences {
                                let qp = qb.baseAddress! + b * t * s.qWidth, op = ob.baseAddress! + b * t * s.qWidth
                                let kp = kb.baseAddress! + b * t * s.kvWidth, vp = vb.baseAddress! + b * t * s.kvWidth
                                for head in 0..<s.heads {
                                    let g = head / group
                                    let p = pb.baseAddress! + (b * s.heads + head) * t * t
                                    StridedBLAS.gemm(transB: true, m: t, n: t, k: s.headDim, alpha: s.scale,
                                                     a: qp + head * s.headDim, lda: s.qWidth, b: kp + g * s.headDim, ldb: s.kvWidth, c: p, ldc: t)
                                    ForwardKernels.parallelRows(t) { i in ForwardKernels.softmaxRow(p + i * t, cols: t, limit: i + 1) }
                                    StridedBLAS.gemm(m: t, n: s.headDim, k: t, a: p, lda: t, b: vp + g * s.headDim, ldb: s.kvWidth,
                                                     c: op + head * s.headDim, ldc: s.qWidth)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The backward pass from dO (rows × heads·headDim): dP = dO_h·V_gᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)),
    /// dQ_h = scale·dS·K_g, dK_g += scale·dSᵀ·Q_h, dV_g += Pᵀ·dO_h. Returns (dq, dk, dv).
    public static func backward(_ dOut: [Float], q: [Float], k: [Float], v: [Float], probabilities: [Float],
                                shape s: Shape) -> (q: [Float], k: [Float], v: [Float]) {
        precondition(dOut.count == s.rows * s.qWidth && probabilities.count == s.probabilityCount, "attention gradients do not match its shape")
        var dq = [Float](repeating: 0, count: q.count), dk = [Float](repeating: 0, count: k.count), dv = dk
        var scratch = [Float](repeating: 0, count: s.length * s.length)
        let t = s.length, group = s.heads / s.kvHeads
        dOut.withUnsafeBufferPointer { db in
            q.withUnsafeBufferPointer { qb in
                k.withUnsafeBufferPointer { kb in
                    v.withUnsafeBufferPointer { vb in
                        probabilities.withUnsafeBufferPointer { pb in
                            dq.withUnsafeMutableBufferPointer { dqb in
                                dk.withUnsafeMutableBufferPointer { dkb in
                                    dv.withUnsafeMutableBufferPointer { dvb in
                                        scratch.withUnsafeMutableBufferPointer { sb in
                                            let ds = sb.baseAddress!
                                            for b in 0..<s.sequences {
                                                let qo = b * t * s.qWidth, ko = b * t * s.kvWidth
                                                for head in 0..<s.heads {
                                                    let g = head / group
                                                    let p = pb.baseAddress! + (b * s.heads + head) * t * t
                                                    let dO = db.baseAddress! + qo + head * s.headDim
                                                    // dP = dO_h · V_gᵀ   (t × t)
                                                    StridedBLAS.gemm(transB: true, m: t, n: t, k: s.headDim, a: dO, lda: s.qWidth,
                                                                     b: vb.baseAddress! + ko + g * s.headDim, ldb: s.kvWidth, c: ds, ldc: t)
                                                    // dV_g += Pᵀ · dO_h
                                                    StridedBLAS.gemm(transA: true, m: t, n: s.headDim, k: t, a: p, lda: t, b: dO, ldb: s.qWidth,
                                                                     beta: 1, c: dvb.baseAddress! + ko + g * s.headDim, ldc: s.kvWidth)
                                                    // dS = P ⊙ (dP − Σ_j dP_j P_j), row by row over the unmasked entries
                                                    ForwardKernels.parallelRows(t) { i in
                                                        let pr = p + i * t, dr = ds + i * t
                                                        var dot: Float = 0
                                                        for j in 0...i { dot += pr[j] * dr[j] }
                                                        for j in 0...i { dr[j] = pr[j] * (dr[j] - dot) }
                                                        for j in (i + 1)..<t { dr[j] = 0 }
                                                    }
                                                    // dQ_h = scale · dS · K_g;  dK_g += scale · dSᵀ · Q_h
                                                    StridedBLAS.gemm(m: t, n: s.headDim, k: t, alpha: s.scale, a: ds, lda: t,
                                                                     b: kb.baseAddress! + ko + g * s.headDim, ldb: s.kvWidth,
                                                                     c: dqb.baseAddress! + qo + head * s.headDim, ldc: s.qWidth)
                                                    StridedBLAS.gemm(transA: true, m: t, n: s.headDim, k: t, alpha: s.scale, a: ds, lda: t,
                                                                     b: qb.baseAddress! + qo + head * s.headDim, ldb: s.qWidth,
                                                                     beta: 1, c: dkb.baseAddress! + ko + g * s.headDim, ldc: s.kvWidth)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dq, dk, dv)
    }
}
