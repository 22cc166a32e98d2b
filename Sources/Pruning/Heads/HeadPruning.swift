import Foundation
import Numerics
import Models

/// The settings of attention-head pruning (`prune(m, "heads", ratio=, by=, unit=, scope=)`).
public struct HeadPruningOptions: Sendable, Equatable {
    /// What is removed: query heads inside their key/value groups, or whole groups.
    public var unit: HeadPruning.Unit = .heads
    /// How heads are scored.
    public var score: HeadPruning.Score = .norm
    /// Default settings.
    public init() {}
}

/// Attention-head pruning that keeps grouped-query attention intact. A llama block's query heads
/// come in key/value groups (SmolLM2: 9 query heads in 3 groups sharing one key/value head each).
/// `keep` removes query heads so that every kept group keeps the same number of heads (a group
/// left with none goes with its key and value rows), narrowing q/k/v/o and setting the block's
/// head counts in the config; a BERT block (every head its own group) loses the heads' q/k/v rows
/// and biases and o columns. Scores: `norm` (no data) is the Frobenius norm of the head's
/// value-output circuit ‖W_O,h · W_V,g · diag(γ)‖ (what the head can write into the residual
/// stream, γ the attention norm's scale); `gradient` (calibrated, llama only) is the head-mask
/// importance of Michel et al. 2019, as the course's slides after McCarley et al. 2019 use it:
/// E_windows |∂L/∂ξ_h| for a mask ξ_h = 1 multiplying the head's output, which equals
/// Σ W_O[:, h] ⊙ ∂L/∂W_O[:, h] (one backward pass per window); `random` draws scores with the seed.
public enum HeadPruning {
    /// What a removal takes away.
    public enum Unit: String, Sendable, CaseIterable {
        /// Query heads inside their groups, the same number from every group of a block (the
        /// default: it removes at a finer grain and keeps every key/value head, so no group's
        /// shared key loses all its queries at once).
        case heads
        /// Whole key/value groups: a group's query heads and its key and value rows (shrinks the KV cache too).
        case groups
    }

    /// How heads are scored (higher is kept).
    public enum Score: String, Sendable, CaseIterable {
        /// ‖W_O,h · W_V,g · diag(γ)‖_F, from the weights alone.
        case norm
        /// Head-mask importance E|∂L/∂ξ_h| on calibration windows (llama only).
        case gradient
        /// Uniform random scores from the seed (a control).
        case random
    }

    /// The query heads of each block grouped by key/value head: `groups(config, b)[g]` lists the
    /// heads sharing key/value head g.
    /// A BERT block's heads share no keys: they form one group, from which any heads may go.
    public static func groups(_ config: ModelConfig, block b: Int) -> [[Int]] {
        let h = config.heads(inBlock: b), kv = config.architecture == .llama ? config.kvHeads(inBlock: b) : 1
        let size = h / max(kv, 1)
        return (0..<kv).map { g in Array(g * size..<(g + 1) * size) }
    }

    // MARK: The primitive

    /// `model` with, in each block `b` of `kept`, only the query heads `kept[b]` (indices into
    /// the block's heads; any order). Every group that keeps a head must keep as many as the
    /// others (grouped-query attention needs equal groups); a group keeping none is removed with
    /// its key and value heads. Blocks not in `kept` are unchanged. Throws a `PruningError` on an
    /// index out of range, a repeat, no head left, or unequal groups.
    public static func keep(_ model: Model, heads kept: [Int: [Int]]) throws -> Model {
        var out = model
        let config = model.config
        var queryCounts = (0..<model.blockCount).map { config.heads(inBlock: $0) }
        var kvCounts = (0..<model.blockCount).map { config.architecture == .llama ? config.kvHeads(inBlock: $0) : config.heads(inBlock: $0) }
        let hd = config.headDimension
        for (b, indices) in kept.sorted(by: { $0.key < $1.key }) {
            guard b >= 0, b < model.blockCount else {
                throw PruningError("block \(b) does not exist (the model has \(model.blockCount) blocks)")
            }
            let h = config.heads(inBlock: b)
            let heads = indices.sorted()
            if let bad = heads.first(where: { $0 < 0 || $0 >= h }) {
                throw PruningError("block \(b): head index \(bad) is outside 0..<\(h)")
            }
            if zip(heads, heads.dropFirst()).contains(where: { $0 == $1 }) {
                throw PruningError("block \(b): a head index is given twice")
            }
            guard !heads.isEmpty else { throw PruningError("block \(b): at least one head must be kept") }
            if heads.count == h { continue }
            let groups = Self.groups(config, block: b)
            let keptSet = Set(heads)
            let perGroup = groups.map { $0.filter(keptSet.contains).count }
            let keptGroups = perGroup.indices.filter { perGroup[$0] > 0 }
            let sizes = Set(keptGroups.map { perGroup[$0] })
            guard sizes.count == 1 else {
                throw PruningError("block \(b): the kept heads leave groups of \(keptGroups.map { perGroup[$0] }) query heads; every kept key/value group must keep as many")
            }
            let rows = heads.flatMap { Array($0 * hd..<($0 + 1) * hd) }
            switch config.architecture {
            case .llama:
                let kvRows = keptGroups.flatMap { Array($0 * hd..<($0 + 1) * hd) }
                out.set(.attentionQuery, block: b, to: try model.matrix(.attentionQuery, block: b).rows(rows))
                out.set(.attentionKey, block: b, to: try model.matrix(.attentionKey, block: b).rows(kvRows))
                out.set(.attentionValue, block: b, to: try model.matrix(.attentionValue, block: b).rows(kvRows))
                kvCounts[b] = keptGroups.count
            case .bert:
                for role in [TensorRole.attentionQuery, .attentionKey, .attentionValue] {
                    out.set(role, block: b, to: try model.matrix(role, block: b).rows(rows))
                    let bias = try model.matrix(role, .bias, block: b)
                    out.set(role, .bias, block: b, to: try Matrix(rows: 1, cols: rows.count, data: rows.map { bias.data[$0] }))
                }
            }
            out.set(.attentionOutput, block: b, to: try model.matrix(.attentionOutput, block: b).columns(rows))
            queryCounts[b] = heads.count
        }
        if config.architecture == .llama {
            out.config.setBlockHeads(query: queryCounts, keyValue: kvCounts)
        } else {   // BERT: every head is its own key/value head
            out.config.blockHeads = queryCounts.allSatisfy { $0 == config.heads } ? nil : queryCounts
        }
        try out.config.validate()
        return out
    }

    // MARK: Scores

    /// One score per query head of every block (higher is kept), by `score`. `samples` are the
    /// calibration windows of the gradient score (ignored otherwise).
    public static func scores(_ model: Model, by score: Score, samples: [[Int32]] = [], seed: UInt64 = 0,
                              progress: ProgressReporter = .none) throws -> [[Double]] {
        switch score {
        case .norm: return try normScores(model, progress: progress)
        case .random:
            var rng = SeededRandom(seed: seed)
            return (0..<model.blockCount).map { b in (0..<model.config.heads(inBlock: b)).map { _ in rng.uniform() } }
        case .gradient:
            return try HeadMaskImportance.signedMaskGradients(model, samples: samples, progress: progress).map { perBlock in
                perBlock.map { perWindow in perWindow.reduce(0) { $0 + abs($1) } / Double(max(perWindow.count, 1)) }
            }
        }
    }

    /// ‖W_O,h · W_V,g · diag(γ)‖_F for every head h of every block (g its key/value head, γ the
    /// norm before attention: the attention norm for llama; BERT's post-norm puts none there, γ = 1).
    public static func normScores(_ model: Model, progress: ProgressReporter = .none) throws -> [[Double]] {
        let config = model.config, hd = config.headDimension
        return try (0..<model.blockCount).map { b in
            try progress.report("head norms", done: b, total: model.blockCount)
            let o = try model.matrix(.attentionOutput, block: b), v = try model.matrix(.attentionValue, block: b)
            let gamma = config.architecture == .llama ? try model.matrix(.attentionNorm, block: b).data : [Float](repeating: 1, count: v.cols)
            let groups = Self.groups(config, block: b)
            // Gram matrices: A_h = W_O,hᵀ W_O,h (hd × hd), B_g = W'_V,g W'_V,gᵀ (hd × hd); ‖W_O,h W'_V,g‖² = tr(A_h B_g).
            func gramOfRows(_ m: Matrix, _ first: Int, scale: [Float]?) -> [Double] {
                var g = [Double](repeating: 0, count: hd * hd)
                for i in 0..<hd {
                    for j in i..<hd {
                        var s = 0.0
                        for c in 0..<m.cols {
                            let w = Double(scale?[c] ?? 1)
                            s += Double(m.data[(first + i) * m.cols + c]) * Double(m.data[(first + j) * m.cols + c]) * w * w
                        }
                        g[i * hd + j] = s; g[j * hd + i] = s
                    }
                }
                return g
            }
            func gramOfColumns(_ m: Matrix, _ first: Int) -> [Double] {
                var g = [Double](repeating: 0, count: hd * hd)
                for r in 0..<m.rows {
                    let row = r * m.cols + first
                    for i in 0..<hd {
                        let a = Double(m.data[row + i])
                        if a == 0 { continue }
                        for j in 0..<hd { g[i * hd + j] += a * Double(m.data[row + j]) }
                    }
                }
                return g
            }
            let valueGrams = groups.indices.map { gramOfRows(v, $0 * hd, scale: gamma) }
            var out = [Double](repeating: 0, count: config.heads(inBlock: b))
            for (g, members) in groups.enumerated() {
                for h in members {
                    let a = gramOfColumns(o, h * hd), bg = valueGrams[g]
                    var tr = 0.0
                    for i in 0..<hd { for j in 0..<hd { tr += a[i * hd + j] * bg[j * hd + i] } }
                    out[h] = max(tr, 0).squareRoot()
                }
            }
            return out
        }
    }

    // MARK: Choosing what to keep

    /// The query heads each block keeps when `ratio` of the query heads go, by `scores` (one
    /// per head per block) and `unit`: with `scope` .layer every block loses the same share
    /// (round(ratio·group size) heads from each group, or round(ratio·groups) groups, at least
    /// one kept), with .global the lowest-scored units go wherever they are until round(ratio·all
    /// heads) have gone (each block keeps at least one head per kept group and one group).
    public static func keptHeads(_ config: ModelConfig, scores: [[Double]], ratio: Double, unit: Unit,
                                 scope: MagnitudePruning.Scope) throws -> [Int: [Int]] {
        guard ratio.isFinite, ratio >= 0, ratio < 1 else { throw PruningError("ratio must be in [0, 1), got \(ratio)") }
        let blocks = config.blockCount
        guard scores.count == blocks, (0..<blocks).allSatisfy({ scores[$0].count == config.heads(inBlock: $0) }) else {
            throw PruningError("head scores need one list per block with one score per head")
        }
        // Per block: its groups, each with its heads weakest first, and each group's score (the sum).
        let groups = (0..<blocks).map { b in Self.groups(config, block: b).map { g in g.sorted { (scores[b][$0], $0) < (scores[b][$1], $1) } } }
        let groupScore = (0..<blocks).map { b in groups[b].map { g in g.reduce(0) { $0 + scores[b][$1] } } }
        func weakestGroups(_ b: Int) -> [Int] { groups[b].indices.sorted { (groupScore[b][$0], $0) < (groupScore[b][$1], $1) } }
        var dropped = [Set<Int>](repeating: [], count: blocks)   // dropped query heads per block
        switch (unit, scope) {
        case (.heads, .layer):
            for b in 0..<blocks {
                for g in groups[b] {
                    let n = min(Int((ratio * Double(g.count)).rounded()), g.count - 1)
                    dropped[b].formUnion(g.prefix(n))
                }
            }
        case (.groups, .layer):
            for b in 0..<blocks {
                let order = weakestGroups(b)
                let n = min(Int((ratio * Double(order.count)).rounded()), order.count - 1)
                for g in order.prefix(n) { dropped[b].formUnion(groups[b][g]) }
            }
        case (.heads, .global):
            // Level m of a block removes the m-th weakest head of every group; its cost is their
            // scores' sum. Levels go cheapest first, in order within a block.
            let total = (0..<blocks).reduce(0) { $0 + config.heads(inBlock: $1) }
            let target = Int((ratio * Double(total)).rounded())
            var level = [Int](repeating: 0, count: blocks), removed = 0
            func cost(_ b: Int) -> Double? {
                let m = level[b]
                guard groups[b].allSatisfy({ m < $0.count - 1 }) else { return nil }
                return groups[b].reduce(0) { $0 + scores[b][$1[m]] }
            }
            while removed < target {
                let candidates = (0..<blocks).compactMap { b in cost(b).map { (b, $0) } }
                    .filter { removed + groups[$0.0].count <= target }
                guard let best = candidates.min(by: { ($0.1, $0.0) < ($1.1, $1.0) }) else { break }
                for g in groups[best.0] { dropped[best.0].insert(g[level[best.0]]) }
                removed += groups[best.0].count
                level[best.0] += 1
            }
        case (.groups, .global):
            let total = (0..<blocks).reduce(0) { $0 + config.heads(inBlock: $1) }
            let target = Int((ratio * Double(total)).rounded())
            var all = [(score: Double, block: Int, group: Int)]()
            for b in 0..<blocks { for g in groups[b].indices { all.append((groupScore[b][g], b, g)) } }
            all.sort { ($0.score, $0.block, $0.group) < ($1.score, $1.block, $1.group) }
            var removed = 0, left = groups.map(\.count)
            for u in all where left[u.block] > 1 && removed + groups[u.block][u.group].count <= target {
                dropped[u.block].formUnion(groups[u.block][u.group])
                left[u.block] -= 1
                removed += groups[u.block][u.group].count
            }
        }
        var kept = [Int: [Int]]()
        for b in 0..<blocks where !dropped[b].isEmpty {
            kept[b] = (0..<config.heads(inBlock: b)).filter { !dropped[b].contains($0) }
        }
        return kept
    }

    /// `model` with `ratio` of its query heads removed as `options` say (`samples`: the gradient
    /// score's calibration windows).
    public static func prune(_ model: Model, ratio: Double, options: HeadPruningOptions, scope: MagnitudePruning.Scope = .layer,
                             samples: [[Int32]] = [], seed: UInt64 = 0, progress: ProgressReporter = .none) throws -> Model {
        let s = try scores(model, by: options.score, samples: samples, seed: seed, progress: progress)
        let kept = try keptHeads(model.config, scores: s, ratio: ratio, unit: options.unit, scope: scope)
        return try keep(model, heads: kept)
    }
}
