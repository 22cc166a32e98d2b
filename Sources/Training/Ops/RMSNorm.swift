import Models

/// RMSNorm, forward beside backward: y = x · s · w with s = 1/√(mean(x²) + ε) per row, the mean
/// taken over `meanOver` values (the hidden size; SliceGPT's sliced stream keeps it). The forward
/// is the inference kernel (`ForwardKernels.rmsNorm`, Float32 arithmetic), so training and
/// inference normalise alike; the backward recomputes s in Float64 sums exactly as it does.
public enum RMSNorm {
    /// y (rows × d) for x (rows × d) and the scale `weight` (d).
    public static func forward(_ x: [Float], rows: Int, weight: [Float], epsilon: Double, meanOver: Int) -> [Float] {
        let d = weight.count
        precondition(x.count == rows * d, "an RMSNorm of width \(d) needs \(rows) × \(d) inputs")
        var y = [Float](repeating: 0, count: x.count)
        guard rows > 0 else { return y }
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                ForwardKernels.rmsNorm(xp.baseAddress!, rows: rows, d: d, weight: weight, epsilon: epsilon,
                                       meanOver: meanOver, floatScale: false, out: yp.baseAddress!)
            }
        }
        return y
    }

    /// The backward pass: with g = dy ⊙ w, dx = s·g − x·s³·(g·x)/n per row; adds Σ_rows dy ⊙ x·s
    /// to `weightGradient` when given. Returns dx (rows × d).
    public static func backward(_ dy: [Float], x: [Float], rows: Int, weight: [Float], epsilon: Double, meanOver: Int,
                                weightGradient: UnsafeMutablePointer<Float>?) -> [Float] {
        let d = weight.count
        precondition(x.count == rows * d && dy.count == rows * d, "an RMSNorm's backward needs \(rows) × \(d) inputs and gradients")
        var dx = [Float](repeating: 0, count: x.count)
        var scales = [Float](repeating: 0, count: rows)
        let n = Double(meanOver)
        x.withUnsafeBufferPointer { xb in
            dy.withUnsafeBufferPointer { gb in
                weight.withUnsafeBufferPointer { wb in
                    dx.withUnsafeMutableBufferPointer { ob in
                        scales.withUnsafeMutableBufferPointer { sb in
                            let xp = xb.baseAddress!, gp = gb.baseAddress!, wp = wb.baseAddress!, op = ob.baseAddress!
                            let sp = sb.baseAddress!
                            ForwardKernels.parallelRows(rows) { r in
                                let row = xp + r * d, g = gp + r * d, o = op + r * d
                                var sum = 0.0
                                for i in 0..<d { sum += Double(row[i] * row[i]) }
                                let s = Float(1 / (sum / n + epsilon).squareRoot())
                                sp[r] = s
                                var dot = 0.0
                                for i in 0..<d { dot += Double(g[i] * wp[i]) * Double(row[i]) }
                                let c = Float(dot) * s * s * s / Float(n)
                                for i in 0..<d { o[i] = s * g[i] * wp[i] - c * row[i] }
                            }
                            if let wg = weightGradient {
                                for r in 0..<rows {
                                    let row = xp + r * d, g = gp + r * d, s = sp[r]
                                    for i in 0..<d { wg[i] += g[i] * row[i] * s }
                                }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}
