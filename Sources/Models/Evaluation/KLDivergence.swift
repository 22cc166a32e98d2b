import Foundation
import Numerics

/// How far a model's next-token distributions are from a base model's, as llama.cpp's
/// `llama-perplexity --kl-divergence` reports it: over non-overlapping windows of a token stream
/// (each from an empty cache, no BOS), at each scored position the KL divergence
/// KL(base ‖ model) = Σ_v p_base(v) · (log p_base(v) − log p_model(v)) of the full softmaxes, in
/// Float64; whether both models' most likely token agree ("same top"); and both models'
/// negative log-likelihood of the true next token, for the two perplexities.
public struct KLDivergenceResult: Sendable {
    /// KL(base ‖ model) at each scored token, in the order scored (natural log, nats).
    public var perToken: [Double] = []
    /// Scored tokens where the two models' argmax tokens are the same.
    public var sameTop = 0
    /// Σ −log p_model(true token) and Σ −log p_base(true token).
    public var nll = 0.0, baseNLL = 0.0
    /// Window length, windows scored.
    public var context = 0, windows = 0

    /// Tokens scored.
    public var tokens: Int { perToken.count }
    /// Mean KL divergence per token.
    public var mean: Double { perToken.isEmpty ? 0 : perToken.reduce(0, +) / Double(perToken.count) }
    /// Largest KL divergence of a token.
    public var maximum: Double { perToken.max() ?? 0 }
    /// The fraction of tokens whose argmax agrees.
    public var sameTopFraction: Double { perToken.isEmpty ? 0 : Double(sameTop) / Double(perToken.count) }
    /// Perplexity of the model and of the base on the scored tokens.
    public var perplexity: Double { exp(nll / Double(max(tokens, 1))) }
    /// Perplexity of the base on the scored tokens.
    public var basePerplexity: Double { exp(baseNLL / Double(max(tokens, 1))) }

    /// The percentile levels llama.cpp prints, in percent.
    public static let levels: [Double] = [99.9, 99, 95, 90, 50, 10, 5, 1, 0.1]

    /// The `level` percentile (0…100) of the per-token divergences, by linear interpolation between
    /// the two nearest ranks of the sorted values (llama.cpp's and numpy's default).
    public func percentile(_ level: Double) -> Double { Self.percentile(perToken.sorted(), level) }

    /// The `level` percentile (0…100) of already sorted values, interpolated as above.
    public static func percentile(_ sorted: [Double], _ level: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let p = level / 100 * Double(sorted.count - 1)
        guard p > 0 else { return sorted[0] }
        guard p < Double(sorted.count - 1) else { return sorted[sorted.count - 1] }
        let i = Int(p), f = p - Double(i)
        return (1 - f) * sorted[i] + f * sorted[i + 1]
    }
}

/// How far a model's next-token distributions are from a base model's, token by token, as llama.cpp's
/// `perplexity --kl-divergence` measures it.
public enum KLDivergence {
    /// Scores up to `windows` windows of `context` tokens of `tokens` (all whole windows when nil)
    /// with both models; positions scored as in `scoring` (llama.cpp scores the second half).
    public static func evaluate(_ model: LlamaForward, base: LlamaForward, tokens: [Int32], context: Int,
                                windows: Int? = nil, scoring: PerplexityScoring = .secondHalf,
                                progress: ProgressReporter = .none) throws -> KLDivergenceResult {
        let total = try Perplexity.windowCount(tokens: tokens.count, context: context, windows: windows)
        var cache = model.makeCache(capacity: context), baseCache = base.makeCache(capacity: context)
        var result = KLDivergenceResult(context: context, windows: total)
        for w in 0..<total {
            cache.reset(); baseCache.reset()
            let window = Array(tokens[(w * context)..<((w + 1) * context)])
            let hidden = try model.forward(window, cache: &cache, checkpoint: progress.check)
            let baseHidden = try base.forward(window, cache: &baseCache, checkpoint: progress.check)
            var p = scoring == .allPositions ? 0 : context / 2
            while p < window.count - 1 {
                try progress.check()
                let rows = p..<min(p + 64, window.count - 1)
                let s = compare(model: model.logits(hidden, rows: rows), base: base.logits(baseHidden, rows: rows),
                                targets: rows.map { window[$0 + 1] })
                result.perToken += s.kl
                result.sameTop += s.sameTop.filter { $0 }.count
                result.nll += s.nll.reduce(0, +)
                result.baseNLL += s.baseNLL.reduce(0, +)
                p = rows.upperBound
            }
            try progress.report("kld", done: w + 1, total: total)
        }
        return result
    }

    /// Per row of two logit matrices (same shape): KL(softmax(base) ‖ softmax(model)), whether
    /// the argmaxes agree, and each model's −log p of `targets[r]`; all in Float64.
    public static func compare(model: Matrix, base: Matrix, targets: [Int32])
        -> (kl: [Double], sameTop: [Bool], nll: [Double], baseNLL: [Double]) {
        precondition(model.rows == base.rows && model.cols == base.cols && targets.count == model.rows)
        let n = model.rows, v = model.cols
        var kl = [Double](repeating: 0, count: n), nll = kl, baseNLL = kl
        var same = [Bool](repeating: false, count: n)
        model.data.withUnsafeBufferPointer { mp in
            base.data.withUnsafeBufferPointer { bp in
                for r in 0..<n {
                    let q = mp.baseAddress! + r * v, p = bp.baseAddress! + r * v
                    let lq = LogSoftmax.logSumExp(q, count: v), lp = LogSoftmax.logSumExp(p, count: v)
                    var sum = 0.0
                    var topQ = 0, topP = 0
                    for j in 0..<v {
                        let logP = Double(p[j]) - lp, logQ = Double(q[j]) - lq
                        sum += exp(logP) * (logP - logQ)
                        if q[j] > q[topQ] { topQ = j }
                        if p[j] > p[topP] { topP = j }
                    }
                    kl[r] = sum
                    same[r] = topQ == topP
                    nll[r] = lq - Double(q[Int(targets[r])])
                    baseNLL[r] = lp - Double(p[Int(targets[r])])
                }
            }
        }
        return (kl, same, nll, baseNLL)
    }
}
