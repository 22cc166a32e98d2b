import Numerics
import Models

/// Massive activations and super weights (Yu et al. 2024, "The Super Weight in Large Language
/// Models"): one pass over the data-free prompt, and in each block the down projection's input
/// (the FFN neurons' activations) and output (its write into the residual stream). Where a neuron
/// spikes, the channel its down column writes most at that token names the super weight
/// W_down[channel, neuron]. Beside them, the statistics a weight-only method would see: the
/// block's largest |W_down| entry, and the rank of each neuron's gate-row norm (0 = smallest,
/// the first neuron "magnitude-rows" removes).
public enum SuperWeights {
    /// One spiking neuron of one block.
    public struct Spike: Sendable, Equatable {
        /// The block.
        public var block: Int
        /// The FFN neuron (down projection input column).
        public var neuron: Int
        /// The prompt token where |activation| peaks.
        public var token: Int
        /// The neuron's activation there (SiLU(gate)·up, the down projection's input).
        public var activation: Double
        /// The hidden channel the down projection writes most at that token.
        public var channel: Int
        /// The down projection's output at (token, channel), all neurons together.
        public var output: Double
        /// W_down[channel, neuron]: the super weight candidate.
        public var weight: Double
        /// The neuron's gate-row norm rank in its block (0 = smallest norm).
        public var gateRank: Int
        /// The block's largest |W_down| entry: its neuron (column), channel (row) and value.
        public var largestWeightNeuron: Int
        /// The channel (row of W_down) of the block's largest |W_down| entry.
        public var largestWeightChannel: Int
        /// The block's largest |W_down| entry's value.
        public var largestWeight: Double
        /// The gate-row norm rank of the neuron owning the largest |W_down| entry.
        public var largestWeightGateRank: Int
    }

    /// The `top` neurons of largest peak |activation| in each block, largest first within a block
    /// (from one pass over `activations`, or over the data-free prompt when nil).
    public static func find(_ model: Model, top: Int = 1, activations: PromptActivations? = nil) throws -> [Spike] {
        guard top >= 1 else { throw PruningError("top must be at least 1, got \(top)") }
        let acts = try activations ?? PromptActivations(model)
        var out = [Spike]()
        for b in 0..<model.blockCount {
            let a = try acts.input(.ffnDown, block: b)           // tokens × n
            let down = try model.matrix(.ffnDown, block: b)      // d × n
            let ranks = gateRanks(try model.matrix(RowPruners.stateRole(model.config), block: b))
            // Peak |a| per neuron and where it occurs.
            var peak = [(value: Double, token: Int)](repeating: (0, 0), count: a.cols)
            for t in 0..<a.rows {
                for j in 0..<a.cols where abs(Double(a.data[t * a.cols + j])) > abs(peak[j].value) {
                    peak[j] = (Double(a.data[t * a.cols + j]), t)
                }
            }
            // The largest |W_down| entry.
            var big = (value: 0.0, index: 0)
            for i in down.data.indices where abs(Double(down.data[i])) > abs(big.value) { big = (Double(down.data[i]), i) }
            let order = peak.indices.sorted { abs(peak[$0].value) != abs(peak[$1].value) ? abs(peak[$0].value) > abs(peak[$1].value) : $0 < $1 }
            for j in order.prefix(top) {
                let t = peak[j].token
                // Down output at token t: out[c] = Σ_k W_down[c, k]·a[t, k].
                var best = (value: 0.0, channel: 0)
                for c in 0..<down.rows {
                    var s = 0.0
                    for k in 0..<down.cols { s += Double(down.data[c * down.cols + k]) * Double(a.data[t * a.cols + k]) }
                    if abs(s) > abs(best.value) { best = (s, c) }
                }
                out.append(Spike(block: b, neuron: j, token: t, activation: peak[j].value, channel: best.channel, output: best.value,
                                 weight: Double(down.data[best.channel * down.cols + j]), gateRank: ranks[j],
                                 largestWeightNeuron: big.index % down.cols, largestWeightChannel: big.index / down.cols,
                                 largestWeight: big.value, largestWeightGateRank: ranks[big.index % down.cols]))
            }
        }
        return out
    }

    /// Each row's rank by L2 norm, ascending (0 = smallest; ties by lower index first).
    public static func gateRanks(_ w: Matrix) -> [Int] {
        let norms = RowPruners.rowNorms(w)
        let order = norms.indices.sorted { norms[$0] != norms[$1] ? norms[$0] < norms[$1] : $0 < $1 }
        var rank = [Int](repeating: 0, count: norms.count)
        for (r, i) in order.enumerated() { rank[i] = r }
        return rank
    }
}
