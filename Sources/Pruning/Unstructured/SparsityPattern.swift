import Foundation
import Numerics
import Models

/// Which weights an unstructured pruner zeroes in each comparison group: a fraction of the
/// group, or the semi-structured N:M pattern (in every group of M consecutive input weights of a
/// row, N are kept: "2:4" keeps 2 of every 4, NVIDIA's sparse tensor-core layout).
public enum SparsityPattern: Sendable, Equatable, CustomStringConvertible {
    /// Zero ⌊ratio·size⌋ weights of each comparison group (ratio in [0, 1)).
    case fraction(Double)
    /// Keep `keep` of every `group` consecutive weights in a row.
    case nOfM(keep: Int, group: Int)

    /// "2:4" → keep 2 of every 4; throws a message naming the expected form otherwise.
    public static func parse(_ text: String) throws -> SparsityPattern {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let n = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let m = Int(parts[1].trimmingCharacters(in: .whitespaces)), m >= 1, n >= 1, n < m else {
            throw PruningError("pattern must be \"N:M\" with 1 ≤ N < M (keep N of every M weights), e.g. \"2:4\", got \"\(text)\"")
        }
        return .nOfM(keep: n, group: m)
    }

    /// The fraction of weights zeroed.
    public var sparsity: Double {
        switch self {
        case let .fraction(r): return r
        case let .nOfM(keep, group): return Double(group - keep) / Double(group)
        }
    }

    /// "50%" or "2:4".
    public var description: String {
        switch self {
        case let .fraction(r): return "\(r * 100)%"
        case let .nOfM(keep, group): return "\(keep):\(group)"
        }
    }

    /// Throws unless the pattern applies to a matrix with `columns` input weights per row.
    public func check(columns: Int, what: String) throws {
        switch self {
        case let .fraction(r):
            guard r.isFinite, r >= 0, r < 1 else { throw PruningError("sparsity ratio must be in [0, 1), got \(r)") }
        case let .nOfM(_, group):
            guard columns % group == 0 else {
                throw PruningError("\(what) has \(columns) input columns, not a multiple of the N:M group size \(group)")
            }
        }
    }
}

/// Choosing which weights to zero from scores (lower = less important), with ties broken toward
/// the lower index so every choice is reproducible.
public enum MaskSelection {
    /// The positions of the `count` smallest of `scores` (ties: lower position first).
    public static func smallest(_ scores: [Double], count: Int) -> [Int] {
        guard count > 0 else { return [] }
        if count >= scores.count { return Array(scores.indices) }
        return Array(scores.indices.sorted { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }.prefix(count))
    }

    /// The prune mask (true = zero) of a rows × cols score matrix (row-major): per row for a
    /// fraction (each row loses ⌊ratio·cols⌋, Wanda's comparison group), or per N:M group.
    public static func perRow(_ scores: [Double], rows: Int, cols: Int, pattern: SparsityPattern) -> [Bool] {
        var mask = [Bool](repeating: false, count: rows * cols)
        for r in 0..<rows {
            let row = Array(scores[(r * cols)..<((r + 1) * cols)])
            switch pattern {
            case let .fraction(ratio):
                for j in smallest(row, count: Int(ratio * Double(cols))) { mask[r * cols + j] = true }
            case let .nOfM(keep, group):
                for g in stride(from: 0, to: cols, by: group) {
                    let part = Array(row[g..<min(g + group, cols)])
                    for j in smallest(part, count: part.count - keep) { mask[r * cols + g + j] = true }
                }
            }
        }
        return mask
    }

    /// The prune mask of a whole score matrix for a fraction (⌊ratio·count⌋ smallest of the
    /// matrix); N:M patterns fall back to `perRow` (their groups lie in rows).
    public static func perMatrix(_ scores: [Double], rows: Int, cols: Int, pattern: SparsityPattern) -> [Bool] {
        guard case let .fraction(ratio) = pattern else { return perRow(scores, rows: rows, cols: cols, pattern: pattern) }
        var mask = [Bool](repeating: false, count: rows * cols)
        for i in smallest(scores, count: Int(ratio * Double(scores.count))) { mask[i] = true }
        return mask
    }

    /// `w` with the masked weights set to zero.
    public static func apply(_ mask: [Bool], to w: Matrix) -> Matrix {
        var out = w
        for i in mask.indices where mask[i] { out.data[i] = 0 }
        return out
    }
}
