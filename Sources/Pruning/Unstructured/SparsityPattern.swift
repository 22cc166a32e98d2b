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
/// the lower index so every choice is reproducible. The choice is the one a stable sort by score
/// would make, found without sorting: the count-th smallest score by a radix select on the
/// scores' order-preserving bit patterns (a few linear passes), then every score below it and the
/// first of those equal to it (small groups, e.g. N:M's 4, by counting ranks instead).
public enum MaskSelection {
    /// The positions of the `count` smallest of `scores` (ties: lower position first), ascending.
    public static func smallest(_ scores: [Double], count: Int) -> [Int] {
        guard count > 0 else { return [] }
        if count >= scores.count { return Array(scores.indices) }
        var out = [Int]()
        out.reserveCapacity(count)
        scores.withUnsafeBufferPointer { markSmallest($0, count: count) { out.append($0) } }
        return out
    }

    /// Calls `mark` with each position of the `count` smallest of `scores` (ties: lower position
    /// first), in ascending order. NaN scores count as larger than every number.
    @inline(__always)
    static func markSmallest(_ scores: UnsafeBufferPointer<Double>, count: Int, _ mark: (Int) -> Void) {
        let n = scores.count
        guard count > 0 else { return }
        if count >= n { for i in 0..<n { mark(i) }; return }
        if n <= 32 {   // rank of each by counting: cheaper than any selection for N:M groups
            for j in 0..<n {
                let v = scores[j]
                var rank = 0
                for i in 0..<n where i != j {
                    let u = scores[i]
                    if less(u, v) || (!less(v, u) && i < j) { rank += 1 }
                }
                if rank < count { mark(j) }
            }
            return
        }
        let t = selectKey(scores, rank: count)
        if t == UInt64.max {   // the threshold is NaN: every number, then the first NaNs
            var nans = count
            for i in 0..<n where !scores[i].isNaN { nans -= 1 }
            for i in 0..<n {
                if !scores[i].isNaN { mark(i) } else if nans > 0 { mark(i); nans -= 1 }
            }
            return
        }
        // Compared as Doubles from here (NaN is neither below nor equal; −0 == +0).
        let value = Double(bitPattern: t & (1 << 63) != 0 ? t & ~(1 << 63) : ~t)
        var ties = count
        for i in 0..<n where scores[i] < value { ties -= 1 }
        for i in 0..<n {
            let v = scores[i]
            if v < value { mark(i) } else if v == value, ties > 0 { mark(i); ties -= 1 }
        }
    }

    /// a < b with NaN above every number (and equal to itself), ±0 equal.
    @inline(__always)
    static func less(_ a: Double, _ b: Double) -> Bool { key(a) < key(b) }

    /// An unsigned key in the order of the value: −0 and +0 the same key, NaN above +∞.
    @inline(__always)
    static func key(_ v: Double) -> UInt64 {
        if v.isNaN { return UInt64.max }
        let bits = (v == 0 ? 0.0 : v).bitPattern
        return bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)
    }

    /// The key of the rank-th smallest score (1-based): a digit at a time from the top (16 bits for
    /// large inputs, 8 for a row), each pass over the keys that share the prefix found so far.
    static func selectKey(_ scores: UnsafeBufferPointer<Double>, rank: Int) -> UInt64 {
        let n = scores.count, bits = n > 1 << 16 ? 16 : 8, digits = 1 << bits, digitMask = UInt64(digits - 1)
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: digits) { histogram in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: n) { keys in
                for i in 0..<n { keys[i] = key(scores[i]) }
                var live = n, below = 0, prefix: UInt64 = 0, shift = 64 - bits
                while true {
                    histogram.initialize(repeating: 0)
                    for i in 0..<live { histogram[Int((keys[i] >> UInt64(shift)) & digitMask)] += 1 }
                    var digit = 0
                    while below + histogram[digit] < rank { below += histogram[digit]; digit += 1 }
                    prefix |= UInt64(digit) << UInt64(shift)
                    if shift == 0 { return prefix }
                    var kept = 0
                    for i in 0..<live where (keys[i] >> UInt64(shift)) & digitMask == UInt64(digit) { keys[kept] = keys[i]; kept += 1 }
                    live = kept
                    if live == 1 { return keys[0] }
                    shift -= bits
                }
            }
        }
    }

    /// The prune mask (true = zero) of a rows × cols score matrix (row-major): per row for a
    /// fraction (each row loses ⌊ratio·cols⌋, Wanda's comparison group), or per N:M group.
    public static func perRow(_ scores: [Double], rows: Int, cols: Int, pattern: SparsityPattern) -> [Bool] {
        var mask = [Bool](repeating: false, count: rows * cols)
        scores.withUnsafeBufferPointer { s in
            mask.withUnsafeMutableBufferPointer { m in
                for r in 0..<rows {
                    let row = r * cols
                    switch pattern {
                    case let .fraction(ratio):
                        markSmallest(UnsafeBufferPointer(rebasing: s[row..<(row + cols)]), count: Int(ratio * Double(cols))) { m[row + $0] = true }
                    case let .nOfM(keep, group):
                        for g in stride(from: 0, to: cols, by: group) {
                            let end = min(g + group, cols)
                            markSmallest(UnsafeBufferPointer(rebasing: s[(row + g)..<(row + end)]), count: end - g - keep) { m[row + g + $0] = true }
                        }
                    }
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
        scores.withUnsafeBufferPointer { s in
            mask.withUnsafeMutableBufferPointer { m in markSmallest(s, count: Int(ratio * Double(scores.count))) { m[$0] = true } }
        }
        return mask
    }

    /// `w` with the masked weights set to zero.
    public static func apply(_ mask: [Bool], to w: Matrix) -> Matrix {
        var out = w
        for i in mask.indices where mask[i] { out.data[i] = 0 }
        return out
    }
}
