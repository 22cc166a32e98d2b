import Numerics

/// How the rows of a llama query or key projection are ordered within each head, which decides
/// how RoPE pairs dimensions. GGUF (llama.cpp) pairs adjacent rows (2i, 2i+1); Hugging Face pairs
/// row i with row i + headDim/2 ("rotate half"). llama.cpp's converter permutes HF rows into the
/// GGUF order; the model view keeps GGUF's order and converts at the file boundary.
public enum RoPELayout: String, Sendable {
    /// Adjacent pairs: GGUF / llama.cpp.
    case interleaved
    /// Halves: Hugging Face `rotate_half`.
    case halves

    /// For each destination row in `target` order, the source row in `self` order, for a
    /// projection with `heads` heads of `rows / heads` rows each.
    public func rowOrder(to target: RoPELayout, rows: Int, heads: Int) -> [Int] {
        guard self != target, heads > 0, rows % heads == 0, (rows / heads) % 2 == 0 else { return Array(0..<rows) }
        let headDim = rows / heads, half = headDim / 2
        var order = [Int](repeating: 0, count: rows)
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    let interleaved = h * headDim + 2 * i + j
                    let halves = h * headDim + j * half + i
                    if target == .interleaved { order[interleaved] = halves } else { order[halves] = interleaved }
                }
            }
        }
        return order
    }
}

extension Matrix {
    /// The rows of this matrix in `order` (row r of the result is row `order[r]` of this one).
    func reorderingRows(_ order: [Int]) -> Matrix {
        var out = [Float](repeating: 0, count: rows * cols)
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (r, from) in order.enumerated() {
                    for c in 0..<cols { dst[r * cols + c] = src[from * cols + c] }
                }
            }
        }
        return (try? Matrix(rows: rows, cols: cols, data: out)) ?? self
    }
}
