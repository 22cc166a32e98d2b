import Foundation
import Numerics

/// Calibration data for the pruners that need activations (Wanda, SparseGPT, SliceGPT, ShortGPT):
/// token windows drawn from a text set, and the statistics of each linear layer's inputs
/// accumulated while the windows stream through the model one at a time, so no activation is
/// ever held beyond one window.
public enum Calibration {
    /// `count` windows of `length` tokens, as SparseGPT/Wanda draw them: a random document
    /// (redrawn until it is longer than `length` tokens) and a random start inside it, from
    /// `SeededRandom(seed)`. Throws when no document is long enough.
    public static func samples(documents: [String], tokenizer: BPETokenizer, count: Int, length: Int,
                               seed: UInt64 = 0) throws -> [[Int32]] {
        guard count > 0, length > 1 else {
            throw InferenceError.invalidArgument("calibration needs count ≥ 1 and length ≥ 2, got \(count) and \(length)")
        }
        var rng = SeededRandom(seed: seed)
        var cache = [Int: [Int32]]()
        var out = [[Int32]]()
        var attempts = 0
        while out.count < count {
            attempts += 1
            guard attempts <= 50 * count + 1000, !documents.isEmpty else {
                throw InferenceError.invalidArgument("too few calibration documents longer than \(length) tokens")
            }
            let d = Int(rng.uniform() * Double(documents.count)) % documents.count
            let ids = cache[d] ?? tokenizer.encode(documents[d])
            cache[d] = ids
            guard ids.count > length else { continue }
            let start = Int(rng.uniform() * Double(ids.count - length)) % (ids.count - length)
            out.append(Array(ids[start..<(start + length)]))
        }
        return out
    }

    /// Which statistics to accumulate for each linear layer's input X (rows = tokens).
    public struct Wanted: OptionSet, Sendable {
        /// Raw value of the option set.
        public let rawValue: Int
        /// Creates a set from its raw value.
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// Σ over tokens of x_j², per input feature j (Wanda's ‖X_j‖²).
        public static let squaredNorms = Wanted(rawValue: 1)
        /// XᵀX in Float64 (SparseGPT's Hessian, SliceGPT's covariance).
        public static let gram = Wanted(rawValue: 2)
        /// The residual stream entering each block and its cosine with the block's output
        /// (ShortGPT's Block Influence).
        public static let blockInfluence = Wanted(rawValue: 4)
    }

    /// Where a linear layer's input comes from: block and role (q/k/v share `.attentionQuery`,
    /// gate/up share `.ffnUp`).
    public struct Site: Hashable, Sendable {
        /// The block.
        public let block: Int
        /// The role whose input it is.
        public let role: TensorRole
        /// The site of `role`'s input in `block`.
        public init(block: Int, role: TensorRole) {
            self.block = block
            self.role = role
        }
    }

    /// Accumulated statistics of one site's input.
    public struct InputStatistics: Sendable {
        /// Input features.
        public let width: Int
        /// Tokens seen.
        public var tokens = 0
        /// Σ x_j² per feature (empty unless asked).
        public var squaredNorms: [Double]
        /// XᵀX row-major width × width (empty unless asked).
        public var gram: [Double]
    }

    /// What `collect` returns: statistics by site and, when asked, each block's influence
    /// (mean over tokens of 1 − cos(input, output) of the residual stream).
    public struct Statistics: Sendable {
        /// Input statistics by site.
        public var inputs: [Site: InputStatistics] = [:]
        /// Block Influence per block (empty unless asked).
        public var blockInfluence: [Double] = []
        /// Windows streamed.
        public var windows = 0
    }

    /// Streams `samples` through `forward` one window at a time and accumulates `wanted`; an
    /// observer `forward` already has still hears every event. `progress` hears of each finished
    /// window and stops the run by throwing.
    public static func collect(_ forward: LlamaForward, samples: [[Int32]], wanted: Wanted,
                               progress: ProgressReporter = .none) throws -> Statistics {
        let box = Accumulator(wanted: wanted, blocks: forward.weights.blocks.count)
        var observed = forward
        let outer = forward.observer
        observed.observer = { event in box.observe(event); outer?(event) }
        var stats = Statistics()
        for (i, window) in samples.enumerated() {
            var cache = observed.makeCache(capacity: window.count)
            let final = try observed.forward(window, cache: &cache, checkpoint: progress.check)
            box.finish(final: final)
            stats.windows = i + 1
            try progress.report("calibration windows", done: i + 1, total: samples.count)
        }
        stats.inputs = box.inputs
        stats.blockInfluence = box.influence.map { $0.count > 0 ? $0.sum / Double($0.count) : 0 }
        return stats
    }
}

/// Accumulates observer events; one forward pass at a time, so a lock only guards against
/// surprises.
final class Accumulator: @unchecked Sendable {
    let wanted: Calibration.Wanted
    var inputs = [Calibration.Site: Calibration.InputStatistics]()
    var influence: [(sum: Double, count: Int)]
    var lastBlockInput: (block: Int, hidden: [Float], rows: Int)?
    let lock = NSLock()

    init(wanted: Calibration.Wanted, blocks: Int) {
        self.wanted = wanted
        influence = Array(repeating: (0, 0), count: blocks)
    }

    func observe(_ event: ForwardEvent) {
        lock.lock(); defer { lock.unlock() }
        switch event {
        case let .linearInput(block, role, input, rows):
            guard wanted.contains(.squaredNorms) || wanted.contains(.gram), rows > 0 else { return }
            let width = input.count / rows
            let site = Calibration.Site(block: block, role: role)
            var s = inputs[site] ?? Calibration.InputStatistics(
                width: width, squaredNorms: wanted.contains(.squaredNorms) ? Array(repeating: 0, count: width) : [],
                gram: wanted.contains(.gram) ? Array(repeating: 0, count: width * width) : [])
            s.tokens += rows
            if wanted.contains(.squaredNorms) {
                for r in 0..<rows { for j in 0..<width { let v = Double(input[r * width + j]); s.squaredNorms[j] += v * v } }
            }
            if wanted.contains(.gram), let m = try? Matrix(rows: rows, cols: width, data: input) {
                let g = gramFloat64(m)
                for i in 0..<g.count { s.gram[i] += g[i] }
            }
            inputs[site] = s
        case let .blockInput(block, hidden, rows):
            guard wanted.contains(.blockInfluence) else { return }
            if let previous = lastBlockInput, previous.block == block - 1 { addInfluence(previous, output: hidden) }
            lastBlockInput = (block, hidden, rows)
        }
    }

    /// Ends a window (the stream after the last block arrived as block = blockCount).
    func finish(final: Matrix) {
        lock.lock(); defer { lock.unlock() }
        lastBlockInput = nil
    }

    func addInfluence(_ input: (block: Int, hidden: [Float], rows: Int), output: [Float]) {
        let d = input.hidden.count / max(input.rows, 1)
        for r in 0..<input.rows {
            var dot = 0.0, na = 0.0, nb = 0.0
            for j in 0..<d {
                let a = Double(input.hidden[r * d + j]), b = Double(output[r * d + j])
                dot += a * b; na += a * a; nb += b * b
            }
            influence[input.block].sum += 1 - dot / max((na * nb).squareRoot(), 1e-30)
            influence[input.block].count += 1
        }
    }
}
