import Foundation
import Numerics

/// Which positions of a window a perplexity run scores.
public enum PerplexityScoring: String, Sendable {
    /// Tokens 1…ctx−1 of each window (the SparseGPT/Wanda protocol).
    case allPositions
    /// Tokens ctx/2+1…ctx−1 of each window (llama.cpp's `llama-perplexity`).
    case secondHalf
}

/// The negative log-likelihood of one window.
public struct WindowScore: Sendable, Equatable {
    /// Σ −log p(token) over the scored tokens (natural log).
    public var nll: Double
    /// Tokens scored.
    public var count: Int
}

/// A perplexity measurement: exp(total NLL / tokens scored) over non-overlapping windows.
public struct PerplexityResult: Sendable {
    /// The perplexity.
    public var perplexity: Double { exp(nll / Double(max(tokens, 1))) }
    /// Σ NLL over every scored token.
    public var nll: Double
    /// Tokens scored.
    public var tokens: Int
    /// Window length.
    public var context: Int
    /// Each window's score, in order.
    public var windows: [WindowScore]
}

/// Perplexity of a causal model over a token stream, as ../shared/data/README.md and the golden
/// README give the protocol: the stream is cut into non-overlapping windows of `context` tokens
/// from token 0, each evaluated from an empty cache in one batch, no BOS; the logits at
/// position p score token p+1.
public enum Perplexity {
    /// How many windows of `context` tokens a run over `tokens` tokens scores: `windows` (all whole
    /// windows when nil), at most as many as the text holds; an error for a context under 2, a text
    /// shorter than one window, or fewer than one window asked for.
    public static func windowCount(tokens: Int, context: Int, windows: Int?) throws -> Int {
        guard context >= 2 else { throw InferenceError.invalidArgument("ctx must be at least 2, got \(context)") }
        let available = tokens / context
        guard available > 0 else {
            throw InferenceError.invalidArgument("the text has \(tokens) tokens, fewer than one window of \(context)")
        }
        if let w = windows, w < 1 { throw InferenceError.invalidArgument("windows must be at least 1, got \(w)") }
        return min(windows ?? available, available)
    }

    /// Scores up to `windows` windows (all whole windows when nil). `progress` hears of each
    /// finished window and is checked inside windows; it stops the run by throwing.
    public static func evaluate(_ forward: LlamaForward, tokens: [Int32], context: Int, windows: Int? = nil,
                                scoring: PerplexityScoring = .allPositions,
                                progress: ProgressReporter = .none) throws -> PerplexityResult {
        let total = try windowCount(tokens: tokens.count, context: context, windows: windows)
        var cache = forward.makeCache(capacity: context)
        var result = PerplexityResult(nll: 0, tokens: 0, context: context, windows: [])
        for w in 0..<total {
            cache.reset()
            let window = Array(tokens[(w * context)..<((w + 1) * context)])
            let first = scoring == .allPositions ? 0 : context / 2
            let score = try scoreWindow(forward, window, from: first, cache: &cache, checkpoint: progress.check)
            result.windows.append(score)
            result.nll += score.nll
            result.tokens += score.count
            try progress.report("perplexity", done: w + 1, total: total)
        }
        return result
    }

    /// NLL of tokens first+1…n−1 of `window` given the prefix before each.
    /// `checkpoint` is called before each block and each chunk of logits.
    public static func scoreWindow(_ forward: LlamaForward, _ window: [Int32], from first: Int,
                                   cache: inout KVCache, checkpoint: () throws -> Void = {}) throws -> WindowScore {
        let hidden = try forward.forward(window, cache: &cache, checkpoint: checkpoint)
        var score = WindowScore(nll: 0, count: 0)
        let chunk = 64
        var p = first
        while p < window.count - 1 {
            try checkpoint()
            let rows = p..<min(p + chunk, window.count - 1)
            let logits = forward.logits(hidden, rows: rows)
            let targets = rows.map { window[$0 + 1] }
            for lp in LogSoftmax.targetLogProbabilities(logits, targets: targets) { score.nll -= lp }
            score.count += rows.count
            p = rows.upperBound
        }
        return score
    }
}

/// Log-probabilities from logits, in Float64 (as the golden references compute them).
public enum LogSoftmax {
    /// log softmax(row r)[targets[r]] for each row of `logits`.
    public static func targetLogProbabilities(_ logits: Matrix, targets: [Int32]) -> [Double] {
        var out = [Double](repeating: 0, count: logits.rows)
        logits.data.withUnsafeBufferPointer { lp in
            out.withUnsafeMutableBufferPointer { op in
                let o = UncheckedSendable(op.baseAddress!)
                ForwardKernels.parallelRows(logits.rows) { r in
                    let row = lp.baseAddress! + r * logits.cols
                    o.value[r] = Double(row[Int(targets[r])]) - logSumExp(row, count: logits.cols)
                }
            }
        }
        return out
    }

    /// log Σ exp(x) over `count` values, in Float64.
    public static func logSumExp(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var m = -Float.infinity
        for j in 0..<count where x[j] > m { m = x[j] }
        var sum = 0.0
        for j in 0..<count { sum += exp(Double(x[j] - m)) }
        return Double(m) + log(sum)
    }
}
