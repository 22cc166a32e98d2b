import Numerics
import Models

/// Neurons a row method must keep (`protect=`): by block, FFN neuron indices. A row method ranks
/// a block's neurons by its own preference; `choose` keeps the protected ones and fills the rest
/// of the block's quota from that ranking, so the ratio is still met exactly.
public struct ProtectedNeurons: Sendable, Equatable {
    /// The protected neurons of each block (blocks absent protect nothing).
    public var byBlock: [Int: Set<Int>]

    /// Nothing protected.
    public static let none = ProtectedNeurons([:])

    /// Protects `byBlock`.
    public init(_ byBlock: [Int: Set<Int>]) { self.byBlock = byBlock.filter { !$0.value.isEmpty } }

    /// Protects each (block, neuron) pair.
    public init(pairs: [(block: Int, neuron: Int)]) {
        var m = [Int: Set<Int>]()
        for p in pairs { m[p.block, default: []].insert(p.neuron) }
        self.init(m)
    }

    /// Whether nothing is protected.
    public var isEmpty: Bool { byBlock.isEmpty }
    /// How many neurons are protected in all.
    public var count: Int { byBlock.values.reduce(0) { $0 + $1.count } }
    /// Block `b`'s protected neurons.
    public subscript(b: Int) -> Set<Int> { byBlock[b] ?? [] }

    /// Throws unless every protected neuron exists in `model` and fits its block's kept count at `ratios`.
    public func check(_ model: Model, ratios: [Double]) throws {
        for (b, neurons) in byBlock.sorted(by: { $0.key < $1.key }) {
            guard b >= 0, b < model.blockCount else {
                throw PruningError(option: "protect", "protect names block \(b); the model has \(model.blockCount) blocks")
            }
            let n = model.config.intermediateSizes[b]
            if let bad = neurons.sorted().first(where: { $0 < 0 || $0 >= n }) {
                throw PruningError(option: "protect", "protect names neuron \(bad) of block \(b), outside 0..<\(n)")
            }
            let k = try FFNPruning.keptCount(width: n, ratio: ratios[b])
            guard neurons.count <= k else {
                throw PruningError(option: "protect", "block \(b) protects \(neurons.count) neurons but keeps only \(k) at ratio \(PruningError.format(ratios[b]))")
            }
        }
    }

    /// The `k` neurons a block keeps: its protected neurons, then the first of `ranked` (most
    /// preferred first) that are not protected. `ranked` must hold at least k + |protected| entries
    /// (or every neuron).
    public static func choose(ranked: [Int], keep k: Int, protected: Set<Int>) -> [Int] {
        guard !protected.isEmpty else { return Array(ranked.prefix(k)) }
        return protected.sorted() + ranked.lazy.filter { !protected.contains($0) }.prefix(max(0, k - protected.count))
    }
}
