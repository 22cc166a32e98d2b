import Numerics
import Training

/// Pruning of the small networks (`Training.MLP`): pure functions that return a new network.
///
/// Unstructured pruning sets the network's masks (`MLP.setMask`): a pruned weight is zero and stays
/// zero through training (`Trainer` masks its gradient and re-masks after every step). Weights a mask
/// already prunes count as pruned and stay pruned, so pruning to 20% and then to 36% prunes 20% of
/// the survivors the second time, as iterative pruning does. Structured pruning (`neurons`) removes
/// hidden neurons and returns a genuinely smaller network.
///
/// Only weights are pruned; biases are never masked (as Han et al. 2015 and Frankle & Carbin 2019 do).
public enum NetworkPruning {
    /// Where a magnitude threshold is taken.
    public enum Scope: String, Sendable, CaseIterable, Equatable {
        /// Each layer loses `ratio` of its own weights (its own threshold).
        case layer
        /// One threshold over every prunable layer: the smallest weights of the whole network go,
        /// so layers with many small weights lose more than `ratio` and others less.
        case global
    }

    /// How `neurons` ranks a hidden layer's neurons.
    public enum NeuronCriterion: String, Sendable, CaseIterable, Equatable {
        /// The L2 norm of the neuron's incoming weight row (masked weights count as zero); the
        /// smallest go first.
        case magnitude
        /// A seeded uniformly random choice.
        case random
    }

    // MARK: Unstructured

    /// The network with masks such that `ratio` of each prunable layer's weights (scope `.layer`)
    /// or of all prunable weights together (scope `.global`) are pruned: round(ratio·n) of them.
    /// Weights already masked count as pruned and stay pruned; the rest are pruned smallest |w|
    /// first, ties broken by the lower layer and then the lower row-major index. When a layer (or
    /// the network) is already sparser than `ratio`, nothing more is pruned there (masks never
    /// revive a weight). `includeOutputLayer: false` leaves the last layer as it is.
    public static func magnitude(_ net: MLP, ratio: Double, scope: Scope = .layer,
                                 includeOutputLayer: Bool = true) throws -> MLP {
        try checkRatio(ratio)
        switch scope {
        case .layer:
            let ratios = (0..<net.layerCount).map { l in l == net.layerCount - 1 && !includeOutputLayer ? 0 : ratio }
            return try magnitude(net, layerRatios: ratios)
        case .global:
            let layers = (0..<net.layerCount).filter { includeOutputLayer || $0 < net.layerCount - 1 }
            let total = layers.reduce(0) { $0 + net.weights[$1].count }
            let target = Int((ratio * Double(total)).rounded())
            var candidates = [(magnitude: Float, layer: Int, index: Int)]()
            var pruned = 0
            for l in layers {
                let m = maskOrOnes(net, l), w = net.weights[l]
                for i in 0..<w.count {
                    if m.data[i] == 0 { pruned += 1 } else { candidates.append((abs(w.data[i]), l, i)) }
                }
            }
            var masks = layers.reduce(into: [Int: Matrix]()) { $0[$1] = maskOrOnes(net, $1) }
            if target > pruned {
                candidates.sort { ($0.magnitude, $0.layer, $0.index) < ($1.magnitude, $1.layer, $1.index) }
                for c in candidates.prefix(target - pruned) { masks[c.layer]!.data[c.index] = 0 }
            }
            var out = net
            for l in layers { try out.setMask(masks[l]!, layer: l) }
            return out
        }
    }

    /// Layer-wise magnitude pruning with a ratio of its own for every layer (`ratios[l]` of layer
    /// l's weights pruned, 0 leaves a layer as it is): Frankle & Carbin prune the output layer at
    /// half the rate of the others. Same rules as `magnitude(_:ratio:scope:includeOutputLayer:)`.
    public static func magnitude(_ net: MLP, layerRatios ratios: [Double]) throws -> MLP {
        try checkLayerRatios(ratios, net)
        var out = net
        for l in 0..<net.layerCount where ratios[l] > 0 {
            let w = net.weights[l]
            var mask = maskOrOnes(net, l)
            let target = Int((ratios[l] * Double(w.count)).rounded())
            let already = mask.data.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
            guard target > already else { continue }
            var order = (0..<w.count).filter { mask.data[$0] != 0 }
            order.sort { (abs(w.data[$0]), $0) < (abs(w.data[$1]), $1) }
            for i in order.prefix(target - already) { mask.data[i] = 0 }
            try out.setMask(mask, layer: l)
        }
        return out
    }

    /// The network with a seeded uniformly random mask of sparsity `ratio` in every layer
    /// (round(ratio·n) weights of each layer pruned; those a mask already prunes count and stay,
    /// the rest are drawn uniformly among the survivors). Layer l draws from its own stream,
    /// `SeededRandom(seed ⊕ l·φ)`, so a layer's mask does not depend on the others' sizes.
    public static func random(_ net: MLP, ratio: Double, seed: UInt64, includeOutputLayer: Bool = true) throws -> MLP {
        try checkRatio(ratio)
        let ratios = (0..<net.layerCount).map { l in l == net.layerCount - 1 && !includeOutputLayer ? 0 : ratio }
        return try random(net, layerRatios: ratios, seed: seed)
    }

    /// A seeded random mask with a sparsity of its own for every layer (the random-mask control of
    /// a lottery ticket: the same sparsity per layer as the ticket, the positions drawn at random).
    public static func random(_ net: MLP, layerRatios ratios: [Double], seed: UInt64) throws -> MLP {
        try checkLayerRatios(ratios, net)
        var out = net
        for l in 0..<net.layerCount where ratios[l] > 0 {
            var mask = maskOrOnes(net, l)
            let target = Int((ratios[l] * Double(mask.count)).rounded())
            let already = mask.data.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
            guard target > already else { continue }
            let alive = (0..<mask.count).filter { mask.data[$0] != 0 }
            var rng = SeededRandom(seed: seed ^ (UInt64(l + 1) &* 0x9E37_79B9_7F4A_7C15))
            let order = Dataset.permutation(alive.count, using: &rng)
            for k in order.prefix(target - already) { mask.data[alive[k]] = 0 }
            try out.setMask(mask, layer: l)
        }
        return out
    }

    // MARK: Structured

    /// Structured pruning: removes round(ratio·width) neurons of every HIDDEN layer (at least one
    /// neuron is always kept) and returns a smaller dense network: the neuron's row of the incoming
    /// weight and its bias, and its column of the outgoing weight, are deleted. Input and output
    /// widths do not change. `.magnitude` removes the neurons whose incoming weight rows have the
    /// smallest L2 norm (ties: the lower index goes first); `.random` draws them from
    /// `SeededRandom(seed ⊕ l·φ)`. Masks the network carries are cut to the new shapes and kept.
    ///
    /// The smaller network computes exactly what the original computes with the removed neurons'
    /// outgoing columns masked to zero (`outgoingMaskedEquivalent`).
    public static func neurons(_ net: MLP, ratio: Double, criterion: NeuronCriterion = .magnitude, seed: UInt64 = 0) throws -> MLP {
        let kept = try keptNeurons(net, ratio: ratio, criterion: criterion, seed: seed)
        return try restrict(net, toNeurons: kept)
    }

    /// Which neurons of every hidden layer `neurons(...)` keeps (ascending indices; kept[h] is for
    /// hidden layer h, the output of weight layer h).
    public static func keptNeurons(_ net: MLP, ratio: Double, criterion: NeuronCriterion = .magnitude,
                                   seed: UInt64 = 0) throws -> [[Int]] {
        try checkRatio(ratio)
        var kept = [[Int]]()
        for l in 0..<(net.layerCount - 1) {
            let width = net.sizes[l + 1]
            let remove = min(Int((ratio * Double(width)).rounded()), width - 1)
            let order: [Int]
            switch criterion {
            case .magnitude:
                let w = net.weights[l], m = maskOrOnes(net, l)
                let norms: [Double] = (0..<width).map { r in
                    var s = 0.0
                    for c in 0..<w.cols { let v = Double(w.data[r * w.cols + c] * m.data[r * w.cols + c]); s += v * v }
                    return s.squareRoot()
                }
                order = (0..<width).sorted { (norms[$0], $0) < (norms[$1], $1) }
            case .random:
                var rng = SeededRandom(seed: seed ^ (UInt64(l + 1) &* 0x9E37_79B9_7F4A_7C15))
                order = Dataset.permutation(width, using: &rng)
            }
            kept.append(Array(order.dropFirst(remove)).sorted())
        }
        return kept
    }

    /// The network restricted to the hidden neurons `kept[h]` of every hidden layer h (ascending or
    /// not, each index once): rows, biases and outgoing columns of the others are deleted; masks are
    /// cut to the new shapes.
    public static func restrict(_ net: MLP, toNeurons kept: [[Int]]) throws -> MLP {
        guard kept.count == net.layerCount - 1 else {
            throw PruningError(option: "neurons", "a network of sizes \(net.sizes) has \(net.layerCount - 1) hidden layers, got \(kept.count) lists of neurons")
        }
        for (h, k) in kept.enumerated() {
            guard !k.isEmpty, Set(k).count == k.count, k.allSatisfy({ $0 >= 0 && $0 < net.sizes[h + 1] }) else {
                throw PruningError(option: "neurons", "hidden layer \(h) keeps neurons that are empty, repeated or outside 0..<\(net.sizes[h + 1])")
            }
        }
        var sizes = net.sizes
        for (h, k) in kept.enumerated() { sizes[h + 1] = k.count }
        var ws = [Matrix](), bs = [[Float]](), ms = [Matrix?]()
        for l in 0..<net.layerCount {
            let rows = l < net.layerCount - 1 ? kept[l] : Array(0..<net.sizes[l + 1])
            let cols = l > 0 ? kept[l - 1] : Array(0..<net.sizes[l])
            let w = net.weights[l]
            ws.append(Matrix(rows: rows.count, cols: cols.count) { r, c in w.data[rows[r] * w.cols + cols[c]] })
            bs.append(rows.map { net.biases[l][$0] })
            ms.append(net.masks[l].map { m in Matrix(rows: rows.count, cols: cols.count) { r, c in m.data[rows[r] * m.cols + cols[c]] } })
        }
        var out = try MLP(sizes: sizes, activation: net.activation, weights: ws, biases: bs)
        for l in 0..<out.layerCount where ms[l] != nil { try out.setMask(ms[l], layer: l) }
        return out
    }

    /// The original network (same shapes) with the outgoing weight columns of every neuron not in
    /// `kept` masked to zero: it computes the same logits as `restrict(net, toNeurons: kept)`.
    public static func outgoingMaskedEquivalent(_ net: MLP, keeping kept: [[Int]]) throws -> MLP {
        var out = net
        for h in 0..<(net.layerCount - 1) {
            let keep = Set(kept[h])
            var m = maskOrOnes(net, h + 1)
            for r in 0..<m.rows { for c in 0..<m.cols where !keep.contains(c) { m.data[r * m.cols + c] = 0 } }
            try out.setMask(m, layer: h + 1)
        }
        return out
    }

    // MARK: Inspection

    /// Layer `layer`'s mask as a 0/1 matrix of the weight's shape (all ones when the layer is dense).
    public static func mask(_ net: MLP, layer: Int) throws -> Matrix {
        guard (0..<net.layerCount).contains(layer) else {
            throw PruningError(option: "layer", "layer \(layer) is outside 0..<\(net.layerCount)")
        }
        return maskOrOnes(net, layer)
    }

    /// The fraction of each layer's weights its mask prunes (0 for a dense layer).
    public static func layerSparsities(_ net: MLP) -> [Double] {
        (0..<net.layerCount).map { l in Double(prunedCount(net, l)) / Double(net.weights[l].count) }
    }

    /// The fraction of all weights (biases not counted) the masks prune.
    public static func sparsity(_ net: MLP) -> Double {
        let total = net.weights.reduce(0) { $0 + $1.count }
        return Double((0..<net.layerCount).reduce(0) { $0 + prunedCount(net, $1) }) / Double(total)
    }

    /// The number of weights (biases not counted) the masks keep.
    public static func remainingWeights(_ net: MLP) -> Int {
        (0..<net.layerCount).reduce(0) { $0 + net.weights[$1].count - prunedCount(net, $1) }
    }

    // MARK: Helpers

    static func maskOrOnes(_ net: MLP, _ l: Int) -> Matrix {
        net.masks[l] ?? Matrix(rows: net.weights[l].rows, cols: net.weights[l].cols, repeating: 1)
    }

    static func prunedCount(_ net: MLP, _ l: Int) -> Int {
        net.masks[l].map { $0.data.reduce(0) { $0 + ($1 == 0 ? 1 : 0) } } ?? 0
    }

    static func checkRatio(_ ratio: Double, option: String = "ratio") throws {
        guard ratio.isFinite, ratio >= 0, ratio < 1 else {
            throw PruningError(option: option, "\(option) must be in [0, 1), got \(PruningError.format(ratio))")
        }
    }

    static func checkLayerRatios(_ ratios: [Double], _ net: MLP) throws {
        guard ratios.count == net.layerCount else {
            throw PruningError(option: "ratio", "a network of sizes \(net.sizes) has \(net.layerCount) layers, got \(ratios.count) ratios")
        }
        for r in ratios { try checkRatio(r) }
    }
}
