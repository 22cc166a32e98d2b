import Foundation
import Numerics

extension Calibration {
    /// What `sequential` returns besides the replaced blocks.
    public struct SequentialResult: Sendable {
        /// The weights after every replacement (the pruned model's forward pass).
        public var weights: LlamaWeights
        /// Block Influence per block, measured on the stream the earlier, already replaced
        /// blocks produced (empty unless `.blockInfluence` was asked for).
        public var blockInfluence: [Double]
    }

    /// Sequential calibration, as SparseGPT and Wanda run it: the windows are embedded once and
    /// pushed through the model block by block. For block b, the inputs of its linear layers are
    /// accumulated (`wanted`) over all windows and handed to `replace(b, statistics, weights)`,
    /// which may return new weights for the block (a pruned block); the windows then run through
    /// the block as replaced, so block b+1's statistics see the outputs of the already-pruned
    /// earlier blocks. Holds one residual stream per window (windows × length × width floats) and
    /// one block's statistics at a time. `progress` hears of each finished block, is checked
    /// between windows, and stops the run by throwing.
    public static func sequential(_ forward: LlamaForward, samples: [[Int32]], wanted: Wanted,
                                  progress: ProgressReporter = .none,
                                  replace: (_ block: Int, _ statistics: Statistics, _ weights: LlamaWeights) throws -> LlamaWeights.Block?)
        throws -> SequentialResult {
        guard !samples.isEmpty, samples.allSatisfy({ !$0.isEmpty }) else {
            throw InferenceError.invalidArgument("sequential calibration needs at least one non-empty window")
        }
        var current = forward
        current.observer = nil
        var streams = try samples.map { try current.embed($0) }
        let blocks = current.weights.blocks.count
        var influence = [Double]()
        for b in 0..<blocks {
            let box = Accumulator(wanted: wanted.subtracting(.blockInfluence), blocks: blocks)
            var observed = current
            observed.observer = { event in box.observe(event) }
            var outputs = streams
            for i in samples.indices {
                try progress.check()
                observed.runBlock(b, &outputs[i], rows: samples[i].count)
            }
            var stats = Statistics()
            stats.inputs = box.inputs
            stats.windows = samples.count
            if let block = try replace(b, stats, current.weights) {
                current.weights.blocks[b] = block
                for i in samples.indices {
                    outputs[i] = streams[i]
                    current.runBlock(b, &outputs[i], rows: samples[i].count)
                }
            }
            if wanted.contains(.blockInfluence) {
                let meter = Accumulator(wanted: .blockInfluence, blocks: blocks)
                for i in samples.indices { meter.addInfluence((b, streams[i], samples[i].count), output: outputs[i]) }
                influence.append(meter.influence[b].count > 0 ? meter.influence[b].sum / Double(meter.influence[b].count) : 0)
            }
            streams = outputs
            try progress.report("sequential calibration", done: b + 1, total: blocks)
        }
        return SequentialResult(weights: current.weights, blockInfluence: influence)
    }
}
