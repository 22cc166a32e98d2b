import Numerics

/// Token embedding lookup, forward beside backward (Float32): the forward copies one row of the
/// table per token, the backward scatter-adds each row's gradient into the row it came from.
public enum Embedding {
    /// The rows of `table` (vocab × d) at `ids`, stacked (ids × d, row-major). The ids must be in range.
    public static func forward(_ ids: [Int32], table: Matrix) -> [Float] {
        let d = table.cols
        var x = [Float](repeating: 0, count: ids.count * d)
        table.data.withUnsafeBufferPointer { e in
            x.withUnsafeMutableBufferPointer { xp in
                for (i, id) in ids.enumerated() {
                    precondition(id >= 0 && Int(id) < table.rows, "token id \(id) is outside the vocabulary (0..<\(table.rows))")
                    (xp.baseAddress! + i * d).update(from: e.baseAddress! + Int(id) * d, count: d)
                }
            }
        }
        return x
    }

    /// Adds row i of `dy` (ids × d) into row ids[i] of `gradient` (vocab × d): a token seen twice
    /// collects both rows.
    public static func backward(_ dy: [Float], ids: [Int32], into gradient: inout Matrix) {
        let d = gradient.cols
        precondition(dy.count == ids.count * d, "an embedding's backward needs \(ids.count) × \(d) gradients")
        dy.withUnsafeBufferPointer { g in
            gradient.data.withUnsafeMutableBufferPointer { out in
                for (i, id) in ids.enumerated() {
                    let src = g.baseAddress! + i * d, dst = out.baseAddress! + Int(id) * d
                    for j in 0..<d { dst[j] += src[j] }
                }
            }
        }
    }
}
