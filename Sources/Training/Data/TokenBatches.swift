import Numerics

/// Batches of token sequences for next-token training, cut from one token stream: the stream is
/// divided into non-overlapping windows of `sequence + 1` tokens (inputs are a window's first
/// `sequence` tokens, targets its last `sequence`), and each pass over the windows visits them in
/// a fresh seeded permutation. Batch k of a run is a function of the stream, the seed and k alone,
/// so a run resumed at step k sees exactly the batches it would have seen.
public struct TokenBatches: Sendable {
    /// The token stream.
    public let tokens: [Int32]
    /// Tokens predicted per sequence.
    public let sequence: Int
    /// Sequences per batch.
    public let batchSize: Int
    /// Seeds the order of each pass.
    public let seed: UInt64

    /// Windows available (each `sequence + 1` tokens, starting every `sequence` tokens).
    public var windowCount: Int { tokens.count > sequence ? (tokens.count - 1) / sequence : 0 }
    /// Tokens predicted per batch.
    public var tokensPerBatch: Int { sequence * batchSize }

    /// Batches over `tokens`; the stream must hold at least `batchSize` windows.
    public init(tokens: [Int32], sequence: Int, batchSize: Int, seed: UInt64) throws {
        guard sequence >= 1 else { throw TrainingError.invalidArgument("the sequence length must be at least 1, got \(sequence)") }
        guard batchSize >= 1 else { throw TrainingError.invalidArgument("the batch size must be at least 1, got \(batchSize)") }
        self.tokens = tokens
        self.sequence = sequence
        self.batchSize = batchSize
        self.seed = seed
        guard windowCount >= batchSize else {
            throw TrainingError.invalidArgument("the training text has \(tokens.count) tokens: \(windowCount) sequences of \(sequence + 1), fewer than one batch of \(batchSize)")
        }
    }

    /// Batch `index` (from 0): `batchSize` sequences of `sequence + 1` tokens.
    public func batch(_ index: Int) -> [[Int32]] {
        let n = windowCount
        var orders: [Int: [Int]] = [:]
        return (0..<batchSize).map { j in
            let position = index * batchSize + j
            let pass = position / n
            if orders[pass] == nil { orders[pass] = order(pass: pass) }
            let window = orders[pass]![position % n]
            return Array(tokens[(window * sequence)...(window * sequence + sequence)])
        }
    }

    /// The permutation of windows for pass `pass` (seeded by the seed and the pass).
    private func order(pass: Int) -> [Int] {
        var rng = SeededRandom(seed: seed &+ UInt64(pass) &* 0x9E37_79B9_7F4A_7C15)
        var p = Array(0..<windowCount)
        for i in stride(from: p.count - 1, to: 0, by: -1) {
            p.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        return p
    }
}
