import Numerics
import Models

/// LaCo, Layer Collapse (Yang et al. 2024): merge runs of consecutive blocks into one by
/// "reserving differences while seeking common" (RDSC): block l absorbs the next m blocks as
/// θ_l + Σ_{k=1..m} (θ_{l+k} − θ_l), the parameter differences added to the first block, and
/// the m blocks go. A merge is kept when the similarity of the merged model's final hidden states
/// with the dense model's exceeds `threshold`; a merge below it is rejected.
///
/// The scan follows the paper's Algorithm 1: it starts from the top (l = L − C), steps down one
/// block after a rejected merge and `interval` blocks after an accepted one, and never merges
/// below `lowest`. Choices made here for small models (SmolLM2-135M has 30 blocks, the paper's
/// models 32 of 4096 wide): C = `combined` blocks per merge, default 2 (one block absorbed: RDSC of
/// four blocks at once ruined SmolLM2, perplexity above 10⁶ after one merge), never more than the
/// layers still to remove, so the scan stops exactly at the requested count; the seven linears are
/// merged (the norms of block l are kept); and the similarity is the mean over tokens of the cosine
/// of the hidden states *centred* by the dense model's mean hidden state (see `similarity`), since
/// the raw cosine is dominated by the direction every token shares and passed 0.65 for merges that
/// destroyed the model. Scans repeat from the top while they accept something; when a whole scan
/// accepts nothing the collapse stops short of the count (the result's merges say how many went).
public enum LaCo {
    /// The settings of a collapse.
    public struct Settings: Sendable {
        /// Blocks combined per merge, C (the paper uses 4 on 32-layer models; 2 here).
        public var combined = 2
        /// Steps down after an accepted merge, I (the paper's 2).
        public var interval = 2
        /// Similarity a merge must exceed, T (the paper's 0.65, here on centred hidden states).
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

    /// Mean over tokens of the cosine similarity of two hidden-state lists (same shapes), each
    /// row minus `center` first (the dense model's mean hidden state; zeros gives the raw cosine).
    static func similarity(_ a: [Matrix], _ b: [Matrix], center: [Double]) -> Double {
        var sum = 0.0, count = 0
        for (x, y) in zip(a, b) {
            for r in 0..<x.rows {
                var dot = 0.0, nx = 0.0, ny = 0.0
                for j in 0..<x.cols {
                    let p = Double(x.data[r * x.cols + j]) - center[j], q = Double(y.data[r * y.cols + j]) - center[j]
                    dot += p * q; nx += p * p; ny += q * q
                }
                sum += dot / max((nx * ny).squareRoot(), 1e-30); count += 1
            }
        }
        return count > 0 ? sum / Double(count) : 0
    }

    /// The mean row of a list of hidden-state matrices (all of one width).
    static func meanRow(_ hs: [Matrix]) -> [Double] {
        guard let width = hs.first?.cols else { return [] }
        var mean = [Double](repeating: 0, count: width)
        var count = 0
        for h in hs {
            for r in 0..<h.rows { for j in 0..<width { mean[j] += Double(h.data[r * width + j]) } }
            count += h.rows
        }
        return count > 0 ? mean.map { $0 / Double(count) } : mean
    }

    /// Final hidden states of `model` on each window.
    static func representations(_ model: Model, _ samples: [[Int32]]) throws -> [Matrix] {
        let forward = LlamaForward(weights: try LlamaWeights(model))
        return try samples.map { window in
            var cache = forward.makeCache(capacity: window.count)
            return try forward.forward(window, cache: &cache)
        }
    }

    /// A model's Float32 blocks and the residual stream entering each of its blocks on each window
    /// (`inputs[w][b]`), so that a candidate merge at block l reruns only blocks l… : the blocks
    /// below l are the same, so is their output.
    struct Prefix {
        var forward: LlamaForward
        var inputs: [[[Float]]]

        /// Bytes `inputs` would take for `model` on `samples`.
        static func bytes(_ model: Model, _ samples: [[Int32]]) -> Int {
            samples.reduce(0) { $0 + $1.count } * model.config.hiddenSize * 4 * model.blockCount
        }

        init(_ model: Model, _ samples: [[Int32]]) throws {
            forward = LlamaForward(weights: try LlamaWeights(model))
            let f = forward
            inputs = try samples.map { window in
                var x = try f.embed(window), stream = [[Float]]()
                for b in 0..<f.weights.blocks.count {
                    stream.append(x)
                    f.runBlock(b, &x, rows: window.count)
                }
                return stream
            }
        }

        init(forward: LlamaForward, inputs: [[[Float]]]) {
            self.forward = forward
            self.inputs = inputs
        }

        /// Final hidden states of this model on each window, from the stored input of its last block.
        func representations(_ samples: [[Int32]]) -> [Matrix] {
            let last = forward.weights.blocks.count - 1
            return samples.indices.map { w in
                var x = inputs[w][last]
                forward.runBlock(last, &x, rows: samples[w].count)
                return forward.finalNorm(x, rows: samples[w].count)
            }
        }

        /// Final hidden states of `candidate` (this model with blocks first+1…first+m merged into
        /// block first) on each window, from the stored input of block `first`; and the candidate's
        /// own Prefix (the inputs below `first` shared, those above recorded on the way).
        func scored(_ candidate: Model, first: Int, absorbed m: Int, _ samples: [[Int32]]) throws -> (hidden: [Matrix], prefix: Prefix) {
            var f = forward
            f.weights.config = candidate.config
            var blocks = Array(f.weights.blocks[..<first])
            blocks.append(try LlamaWeights.block(first, of: candidate, arithmetic: f.weights.arithmetic))
            blocks += f.weights.blocks[(first + m + 1)...]
            f.weights.blocks = blocks
            var hidden = [Matrix](), inputs = [[[Float]]]()
            for w in samples.indices {
                var stream = Array(self.inputs[w][...first]), x = self.inputs[w][first]
                for b in first..<blocks.count {
                    if b > first { stream.append(x) }
                    f.runBlock(b, &x, rows: samples[w].count)
                }
                hidden.append(f.finalNorm(x, rows: samples[w].count))
                inputs.append(stream)
            }
            return (hidden, Prefix(forward: f, inputs: inputs))
        }
    }

    /// `model` with up to `count` blocks collapsed away and the merges made (first block, blocks
    /// absorbed, similarity), by the rule above; fewer than `count` when no remaining merge passes
    /// the threshold. `progress` hears of each accepted merge (blocks removed of `count`), is checked
    /// before each candidate, and stops the search by throwing.
    public static func prune(_ model: Model, removing count: Int, samples: [[Int32]], settings: Settings = Settings(),
                             progress: ProgressReporter = .none)
        throws -> (model: Model, merges: [(first: Int, absorbed: Int, similarity: Double)]) {
        guard count >= 0, count < model.blockCount else {
            throw PruningError("can remove 0…\(model.blockCount - 1) of \(model.blockCount) blocks, asked for \(count)")
        }
        guard settings.combined >= 2, settings.interval >= 1, settings.lowest >= 0 else {
            throw PruningError("LaCo needs combined ≥ 2, interval ≥ 1 and lowest ≥ 0")
        }
        guard !samples.isEmpty else { throw PruningError("LaCo needs at least one calibration window") }
        // Each candidate reruns only the blocks from its merge up, from the current model's stored
        // block inputs, where they fit in a quarter of the memory; otherwise the whole model.
        let keepInputs = MemoryBudget.availableBytes().map { Prefix.bytes(model, samples) <= $0 / 4 } ?? false
        var prefix = keepInputs ? try Prefix(model, samples) : nil
        let dense = try prefix?.representations(samples) ?? representations(model, samples)
        let center = meanRow(dense)
        var current = model
        var merges = [(first: Int, absorbed: Int, similarity: Double)]()
        var removed = 0
        var acceptedInScan = true
        while removed < count, acceptedInScan {
            acceptedInScan = false
            var l = current.blockCount - min(settings.combined, count - removed + 1)
            while l >= settings.lowest, removed < count {
                let m = min(settings.combined - 1, count - removed)
                guard l + m < current.blockCount else { l -= 1; continue }
                try progress.check()
                let candidate = try merge(current, first: l, absorbing: m)
                let scored = try prefix?.scored(candidate, first: l, absorbed: m, samples)
                let s = similarity(dense, try scored?.hidden ?? representations(candidate, samples), center: center)
                if s > settings.threshold {
                    current = candidate
                    if let scored { prefix = scored.prefix }
                    merges.append((l, m, s))
                    removed += m
                    acceptedInScan = true
                    try progress.report("laco merging", done: removed, total: count)
                    l = min(l - settings.interval, current.blockCount - min(settings.combined, count - removed + 1))
                } else {
                    l -= 1
                }
            }
        }
        return (current, merges)
    }
}
