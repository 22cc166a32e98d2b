import Numerics
import Models

/// Magnitude pruning (Han et al. 2015): zero the weights of smallest |w| in the prunable linears,
/// per matrix (each matrix loses the same fraction), globally (one threshold over all of them),
/// or by an N:M pattern (in each group of M consecutive input weights of a row keep the N largest).
public enum MagnitudePruning {
    /// Where weights compete with each other.
    public enum Scope: String, Sendable, CaseIterable {
        /// Each matrix on its own.
        case layer
        /// All prunable matrices of the model together.
        case global
    }

    /// The prune mask of one matrix (true = zero).
    public static func mask(_ w: Matrix, pattern: SparsityPattern) -> [Bool] {
        MaskSelection.perMatrix(w.data.map { Double(abs($0)) }, rows: w.rows, cols: w.cols, pattern: pattern)
    }

    /// `model` with its prunable linears sparsified; `progress` hears of each finished block.
    public static func prune(_ model: Model, pattern: SparsityPattern, scope: Scope = .layer,
                             progress: ProgressReporter = .none) throws -> Model {
        var out = model
        if case let .fraction(ratio) = pattern, scope == .global {
            try pattern.check(columns: 1, what: "")
            let threshold = try globalThreshold(model, ratio: ratio)
            var remainingTies = threshold.ties
            for b in 0..<model.blockCount {
                for role in PrunableLinears.roles(in: model, block: b) {
                    var w = try model.matrix(role, block: b)
                    for i in w.data.indices {
                        let a = abs(w.data[i])
                        if a < threshold.value { w.data[i] = 0 }
                        else if a == threshold.value, remainingTies > 0 { w.data[i] = 0; remainingTies -= 1 }
                    }
                    out.set(role, block: b, to: w)
                }
                try progress.report("magnitude pruning", done: b + 1, total: model.blockCount)
            }
            return out
        }
        for b in 0..<model.blockCount {
            for role in PrunableLinears.roles(in: model, block: b) {
                let w = try model.matrix(role, block: b)
                try pattern.check(columns: w.cols, what: "block \(b) \(role.rawValue)")
                out.set(role, block: b, to: MaskSelection.apply(mask(w, pattern: pattern), to: w))
            }
            try progress.report("magnitude pruning", done: b + 1, total: model.blockCount)
        }
        return out
    }

    /// The global magnitude threshold: the value t such that zeroing every |w| < t and the first
    /// `ties` weights equal to t (in block, role, row-major order) zeroes exactly ⌊ratio·total⌋.
    /// Found by a two-pass radix select on the bit patterns of |w| (monotone for non-negative
    /// floats), so the 100M weights of a small model are never sorted or copied.
    static func globalThreshold(_ model: Model, ratio: Double) throws -> (value: Float, ties: Int) {
        var total = 0
        var high = [Int](repeating: 0, count: 1 << 16)
        func each(_ body: (UInt32) -> Void) throws {
            for b in 0..<model.blockCount {
                for role in PrunableLinears.roles(in: model, block: b) {
                    for v in try model.matrix(role, block: b).data { body(abs(v).bitPattern) }
                }
            }
        }
        try each { high[Int($0 >> 16)] += 1; total += 1 }
        let k = Int(ratio * Double(total))
        guard k > 0 else { return (0, 0) }
        // Find the bucket holding the k-th smallest (1-based), then the exact value inside it.
        var below = 0, bucket = 0
        while below + high[bucket] < k { below += high[bucket]; bucket += 1 }
        var low = [Int](repeating: 0, count: 1 << 16)
        try each { if Int($0 >> 16) == bucket { low[Int($0 & 0xFFFF)] += 1 } }
        var entry = 0
        while below + low[entry] < k { below += low[entry]; entry += 1 }
        let value = Float(bitPattern: UInt32(bucket) << 16 | UInt32(entry))
        return (value, k - below)
    }
}
