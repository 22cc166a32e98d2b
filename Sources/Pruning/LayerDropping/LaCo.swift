import Numerics
import Models

/// LaCo, Layer Collapse (Yang et al. 2024): merge runs of consecutive blocks into one by
/// "reserving differences while seeking common" (RDSC): block l absorbs the next m blocks as
/// θ_l + Σ_{k=1..m} (θ_{l+k} − θ_l), the parameter differences added to the first block, and
/// the m blocks go. A merge is kept when the cosine similarity of the merged model's final hidden
/// states with the dense model's, averaged over the calibration tokens, exceeds `threshold`.
///
/// The scan follows the paper's Algorithm 1: it starts from the top (l = L − C), steps down one
/// block after a rejected merge and `interval` blocks after an accepted one, and never merges
/// below `lowest`. Choices made here: the seven linears are merged (the norms of block l are
/// kept), C = `combined` blocks per merge but never more than the layers still to remove, and,
/// so that the requested number of layers is always reached, when a whole scan accepts nothing
/// the candidate with the highest similarity seen in that scan is taken (the paper instead tunes
/// the threshold until it hits the target).
public enum LaCo {
    /// The settings of a collapse.
    public struct Settings: Sendable {
        /// Blocks combined per merge, C (the paper uses 4 on 32-layer models).
        public var combined = 4
        /// Steps down after an accepted merge, I (the paper's 2).
        public var interval = 2
        /// Similarity a merge must exceed, T (the paper's 0.65).
        public var threshold = 0.65
        /// The lowest block a merge may start at.
        public var lowest = 1
        /// Settings with the defaults above.
        public init() {}
    }

    /// The block that layers `first…first+m` merge into (RDSC on the seven linears).
    public static func merge(_ model: Model, first: Int, absorbing m: Int) throws -> Model {
        var out = model
        for role in PrunableLinears.roles {
            var base = try model.matrix(role, block: first)
            let original = base
            for k in 1...m {
                let next = try model.matrix(role, block: first + k)
                guard next.rows == base.rows, next.cols == base.cols else {
                    throw PruningError("LaCo cannot merge block \(first + k) into \(first): \(role.rawValue) shapes \(next.rows)×\(next.cols) and \(base.rows)×\(base.cols) differ")
                }
                for i in base.data.indices { base.data[i] += next.data[i] - original.data[i] }
            }
            out.set(role, block: first, to: base)
        }
        return out.removingBlocks(Set((first + 1)...(first + m)))
    }

    /// Mean over tokens of the cosine similarity of two hidden-state lists (same shapes).
    static func similarity(_ a: [Matrix], _ b: [Matrix]) -> Double {
        var sum = 0.0, count = 0
        for (x, y) in zip(a, b) {
            for r in 0..<x.rows {
                var dot = 0.0, nx = 0.0, ny = 0.0
                for j in 0..<x.cols {
                    let p = Double(x.data[r * x.cols + j]), q = Double(y.data[r * y.cols + j])
                    dot += p * q; nx += p * p; ny += q * q
                }
                sum += dot / max((nx * ny).squareRoot(), 1e-30); count += 1
            }
        }
        return count > 0 ? sum / Double(count) : 0
    }

    /// Final hidden states of `model` on each window.
    static func representations(_ model: Model, _ samples: [[Int32]]) throws -> [Matrix] {
        let forward = LlamaForward(weights: try LlamaWeights(model))
        return try samples.map { window in
            var cache = forward.makeCache(capacity: window.count)
            return try forward.forward(window, cache: &cache)
        }
    }

    /// `model` with `count` blocks collapsed away, the merges made (first block, blocks absorbed,
    /// similarity), by the rule above; `progress(removed, count)` after each accepted merge.
    public static func prune(_ model: Model, removing count: Int, samples: [[Int32]], settings: Settings = Settings(),
                             progress: ((Int, Int) throws -> Void)? = nil)
        throws -> (model: Model, merges: [(first: Int, absorbed: Int, similarity: Double)]) {
        guard count >= 0, count < model.blockCount else {
            throw PruningError("can remove 0…\(model.blockCount - 1) of \(model.blockCount) blocks, asked for \(count)")
        }
        guard settings.combined >= 2, settings.interval >= 1, settings.lowest >= 0 else {
            throw PruningError("LaCo needs combined ≥ 2, interval ≥ 1 and lowest ≥ 0")
        }
        let dense = try representations(model, samples)
        var current = model
        var merges = [(first: Int, absorbed: Int, similarity: Double)]()
        var removed = 0
        while removed < count {
            let c = min(settings.combined, count - removed + 1)
            var l = current.blockCount - c
            var best: (first: Int, similarity: Double, model: Model)?
            var acceptedInScan = false
            while l >= settings.lowest, removed < count {
                let m = min(c, count - removed + 1) - 1
                guard l + m < current.blockCount, m >= 1 else { l -= 1; continue }
                try Task.checkCancellation()
                let candidate = try merge(current, first: l, absorbing: m)
                let s = similarity(dense, try representations(candidate, samples))
                if s > settings.threshold {
                    current = candidate
                    merges.append((l, m, s))
                    removed += m
                    acceptedInScan = true
                    try progress?(removed, count)
                    l = min(l - settings.interval, current.blockCount - c)
                } else {
                    if best == nil || s > best!.similarity { best = (l, s, candidate) }
                    l -= 1
                }
            }
            if !acceptedInScan, removed < count {
                guard let b = best else { throw PruningError("LaCo found no block to merge (lowest \(settings.lowest), \(current.blockCount) blocks)") }
                let m = current.blockCount - b.model.blockCount
                current = b.model
                merges.append((b.first, m, b.similarity))
                removed += m
                try progress?(removed, count)
            }
        }
        return (current, merges)
    }
}
