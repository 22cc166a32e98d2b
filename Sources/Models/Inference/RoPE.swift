import Foundation

/// Rotary position embedding as llama.cpp applies it to GGUF llama weights ("normal" mode):
/// within each head, dimensions (2i, 2i+1) are rotated by the angle pos·base^(−2i/ropeDims),
/// for i < ropeDims/2; the remaining dimensions pass through.
public enum RoPE {
    /// Rotates `x` (rows × heads·headDim, row r at position positions[r]) in place. The angles are
    /// exact (Double) unless `ggmlAngles`: then they are computed as ggml's rope cache does, in
    /// Float, θ_0 = pos and θ_{i+1} = θ_i·powf(base, −2/ropeDims), with cosf/sinf of each, and the
    /// rotation fused as llama.cpp's build does it: fma(x0, cos, −x1·sin), fma(x0, sin, x1·cos).
    public static func apply(_ x: inout [Float], rows: Int, heads: Int, headDim: Int, ropeDims: Int, base: Double, positions: [Int],
                      ggmlAngles: Bool = false) {
        precondition(positions.count == rows, "one position per row")
        let half = ropeDims / 2
        guard half > 0 else { return }
        let inverse = (0..<half).map { pow(base, -2 * Double($0) / Double(ropeDims)) }
        let step = powf(Float(base), -2 / Float(ropeDims))
        let width = heads * headDim
        x.withUnsafeMutableBufferPointer { xp in
            let p = xp.baseAddress!
            ForwardKernels.parallelRows(rows) { r in
                var cosines = [Float](repeating: 0, count: half), sines = cosines
                if ggmlAngles {
                    var theta = Float(positions[r])
                    for i in 0..<half {
                        cosines[i] = cos(theta); sines[i] = sin(theta)
                        theta *= step
                    }
                } else {
                    let pos = Double(positions[r])
                    for i in 0..<half {
                        let theta = pos * inverse[i]
                        cosines[i] = Float(cos(theta)); sines[i] = Float(sin(theta))
                    }
                }
                for h in 0..<heads {
                    let v = p + r * width + h * headDim
                    for i in 0..<half {
                        let a = v[2 * i], b = v[2 * i + 1]
                        if ggmlAngles {   // as GCC contracts ggml's x0·cos − x1·sin and x0·sin + x1·cos
                            v[2 * i] = (-(b * sines[i])).addingProduct(a, cosines[i])
                            v[2 * i + 1] = (b * cosines[i]).addingProduct(a, sines[i])
                        } else {
                            v[2 * i] = a * cosines[i] - b * sines[i]
                            v[2 * i + 1] = a * sines[i] + b * cosines[i]
                        }
                    }
                }
            }
        }
    }
}
