import Models

/// Rotary position embedding (RoPE) in the model's layout (GGUF's adjacent pairs), forward beside
/// backward. The forward is the inference kernel (`RoPE.apply`, exact angles); RoPE is a rotation,
/// so its backward is the rotation by −θ: the same kernel at negated positions (cos is even, sin
/// odd, and the negation of an angle is exact).
public enum Rotary {
    /// Rotates x (rows × heads·headDim; row r at positions[r]) in place.
    public static func forward(_ x: inout [Float], rows: Int, heads: Int, headDim: Int, ropeDims: Int, base: Double, positions: [Int]) {
        RoPE.apply(&x, rows: rows, heads: heads, headDim: headDim, ropeDims: ropeDims, base: base, positions: positions)
    }

    /// Turns the gradient with respect to the rotated values into the gradient with respect to
    /// the values before rotation, in place.
    public static func backward(_ dx: inout [Float], rows: Int, heads: Int, headDim: Int, ropeDims: Int, base: Double, positions: [Int]) {
        RoPE.apply(&dx, rows: rows, heads: heads, headDim: headDim, ropeDims: ropeDims, base: base, positions: positions.map { -$0 })
    }
}
