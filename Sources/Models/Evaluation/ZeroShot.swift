import Foundation
import Numerics

/// The scores of one multiple-choice example: each choice's log-likelihood and the choices
/// `acc` and `acc_norm` pick, with the token ids that were scored.
public struct ZeroShotPrediction: Sendable, Equatable {
    /// The example's position in the task (0-based, file order).
    public var index: Int
    /// The data's id for the example, where it has one.
    public var id: String?
    /// The right choice.
    public var gold: Int
    /// Σ log p(continuation token) per choice (natural log, Float64 log-softmax).
    public var logLikelihoods: [Double]
    /// Continuation tokens scored per choice.
    public var continuationTokenCounts: [Int]
    /// Whether each continuation is the model's greedy (argmax) continuation, token by token.
    public var isGreedy: [Bool]
    /// Each choice string's length in Unicode code points (lm-eval's `len(choice)`).
    public var choiceLengths: [Int]
    /// Each choice string's length in UTF-8 bytes.
    public var choiceByteLengths: [Int]
    /// argmax of the log-likelihoods (ties to the first choice): the `acc` prediction.
    public var predicted: Int
    /// argmax of log-likelihood / code points: the `acc_norm` prediction.
    public var predictedNorm: Int
    /// argmax of log-likelihood / UTF-8 bytes.
    public var predictedNormBytes: Int
    /// The context's token ids per choice (`tok(context)`).
    public var contextIDs: [[Int32]]
    /// The continuation's token ids per choice (`tok(context + continuation)[len(ctx):]`).
    public var continuationIDs: [[Int32]]
}

/// A zero-shot task's score over the examples evaluated.
public struct ZeroShotResult: Sendable {
    /// The task.
    public var task: ZeroShotTask
    /// Examples scored.
    public var n: Int { examples.count }
    /// Examples asked for (the limit, or the whole task); more than `n` when cancelled.
    public var requested: Int
    /// Fraction of examples whose best log-likelihood is the gold choice.
    public var acc: Double { fraction { $0.predicted == $0.gold } }
    /// Fraction right when each log-likelihood is divided by its choice's length in code points
    /// (lm-eval's acc_norm); nil for WinoGrande, which reports acc only.
    public var accNorm: Double? { task.reportsAccNorm ? fraction { $0.predictedNorm == $0.gold } : nil }
    /// As `accNorm` with lengths in UTF-8 bytes (the data README's wording); nil for WinoGrande.
    public var accNormBytes: Double? { task.reportsAccNorm ? fraction { $0.predictedNormBytes == $0.gold } : nil }
    /// lm-eval's standard error of `acc`: √(acc(1−acc)/(n−1)).
    public var accStderr: Double { n > 1 ? (acc * (1 - acc) / Double(n - 1)).squareRoot() : .nan }
    /// Per-example scores, in file order.
    public var examples: [ZeroShotPrediction]
    /// Whether the progress callback stopped the run early; the numbers cover `n` examples.
    public var cancelled: Bool
    /// Wall-clock seconds the scoring took (reading the data excluded).
    public var seconds: Double

    func fraction(_ right: (ZeroShotPrediction) -> Bool) -> Double {
        n == 0 ? .nan : Double(examples.filter(right).count) / Double(n)
    }
}

/// Zero-shot multiple choice as lm-evaluation-harness scores it (`HFLM.loglikelihood` and
/// `Task.process_results` for multiple_choice), on the tasks of `ZeroShotTask`:
/// each choice is a (context, continuation) pair encoded as lm-eval's `_encode_pair` does
/// (trailing context whitespace moves to the continuation; whole = tok(ctx + cont),
/// ctx ids = tok(ctx), cont ids = whole[len(ctx ids):]); the model reads (ctx + cont)[:-1] from
/// an empty cache, with no BOS, and the choice's log-likelihood is the sum of the Float64
/// log-softmax of its continuation tokens. acc takes the best sum; acc_norm the best sum per
/// code point of the choice string. Choices that begin with the same tokens (the shared context)
/// are evaluated once and the rest of each choice from a copy of the KV cache.
public enum ZeroShot {
    /// Scores the first `limit` examples (all when nil) of the task named `task` (see
    /// `ZeroShotTask.names`) read from `dataFolder`. `progress` is called after each example with
    /// (done, total) and may return false to stop; the result then says `cancelled`.
    public static func evaluate(forward: LlamaForward, tokenizer: BPETokenizer, task: String, limit: Int? = nil,
                                dataFolder: String = DataCatalog.folder,
                                progress: ((Int, Int) -> Bool)? = nil) throws -> ZeroShotResult {
        let task = try ZeroShotTask(name: task)
        return try evaluate(forward: forward, tokenizer: tokenizer, task: task,
                            examples: task.examples(limit: limit, dataFolder: dataFolder), progress: progress)
    }

    /// Scores `examples` of `task` (as `ZeroShotTask.examples` gives them), in order.
    public static func evaluate(forward: LlamaForward, tokenizer: BPETokenizer, task: ZeroShotTask,
                                examples: [ZeroShotExample], shareContext: Bool = true,
                                progress: ((Int, Int) -> Bool)? = nil) throws -> ZeroShotResult {
        let clock = ContinuousClock.now
        var result = ZeroShotResult(task: task, requested: examples.count, examples: [], cancelled: false, seconds: 0)
        for (i, example) in examples.enumerated() {
            var prediction = try score(forward: forward, tokenizer: tokenizer, example: example, shareContext: shareContext)
            prediction.index = i
            result.examples.append(prediction)
            if let progress, !progress(i + 1, examples.count) {
                result.cancelled = i + 1 < examples.count
                break
            }
        }
        let elapsed = ContinuousClock.now - clock
        result.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return result
    }

    /// Scores one example: every choice's log-likelihood and the predictions they make.
    /// With `shareContext` the tokens all choices begin with are evaluated once; without, each
    /// choice's input is one batch from an empty cache (lm-eval's way; the numbers agree to
    /// rounding).
    public static func score(forward: LlamaForward, tokenizer: BPETokenizer, example: ZeroShotExample,
                             shareContext: Bool = true) throws -> ZeroShotPrediction {
        let k = example.contexts.count
        guard k >= 1, example.continuations.count == k, example.choices.count == k, example.gold >= 0, example.gold < k else {
            throw ZeroShotError.invalidArgument("an example needs as many contexts, continuations and choices (got \(example.contexts.count), \(example.continuations.count), \(example.choices.count)) and a gold index among them (got \(example.gold))")
        }
        let pairs = zip(example.contexts, example.continuations).map { encodePair(tokenizer: tokenizer, context: $0, continuation: $1) }
        let lls = try logLikelihoods(forward: forward, pairs: pairs, shareContext: shareContext)
        let chars = example.choices.map { $0.unicodeScalars.count }
        let bytes = example.choices.map { $0.utf8.count }
        return ZeroShotPrediction(
            index: 0, id: example.id, gold: example.gold,
            logLikelihoods: lls.map(\.logLikelihood), continuationTokenCounts: pairs.map(\.continuation.count),
            isGreedy: lls.map(\.isGreedy), choiceLengths: chars, choiceByteLengths: bytes,
            predicted: argmax(lls.map(\.logLikelihood)),
            predictedNorm: argmax(zip(lls, chars).map { $0.logLikelihood / Double($1) }),
            predictedNormBytes: argmax(zip(lls, bytes).map { $0.logLikelihood / Double($1) }),
            contextIDs: pairs.map(\.context), continuationIDs: pairs.map(\.continuation))
    }

    /// lm-eval's `_encode_pair` for a causal model: trailing whitespace of the context moves to the
    /// front of the continuation; whole = tok(context + continuation), ctx = tok(context),
    /// cont = whole[len(ctx):]. No BOS; no special-token parsing.
    public static func encodePair(tokenizer: BPETokenizer, context: String,
                                  continuation: String) -> (context: [Int32], continuation: [Int32]) {
        var context = context, continuation = continuation
        let spaces = PythonText.trailingSpaceCount(context)
        if spaces > 0 {
            let scalars = Array(context.unicodeScalars)
            continuation = ZeroShotTask.string(scalars[(scalars.count - spaces)...]) + continuation
            context = ZeroShotTask.string(scalars[..<(scalars.count - spaces)])
        }
        let whole = tokenizer.encode(context + continuation)
        let ctx = tokenizer.encode(context)
        return (ctx, Array(whole[min(ctx.count, whole.count)...]))
    }

    /// The log-likelihood of each (context ids, continuation ids) pair, and whether the
    /// continuation is greedy: the model reads (ctx + cont)[:-1] (left-truncated to the model's
    /// context length, as lm-eval does) and each continuation token is scored by the Float64
    /// log-softmax of the logits at the position before it. With `shareContext` the common
    /// leading tokens of all inputs are evaluated once and each input's rest from a copy of that
    /// cache.
    public static func logLikelihoods(forward: LlamaForward, pairs: [(context: [Int32], continuation: [Int32])],
                                      shareContext: Bool = true) throws -> [(logLikelihood: Double, isGreedy: Bool)] {
        let maxLength = forward.config.contextLength
        var inputs: [[Int32]] = [], targets: [[Int32]] = [], starts: [Int] = []
        for (ctx, cont) in pairs {
            guard !cont.isEmpty else { throw ZeroShotError.invalidArgument("a continuation encodes to no tokens") }
            guard !ctx.isEmpty else { throw ZeroShotError.invalidArgument("a context encodes to no tokens (no BOS is added for this model)") }
            guard cont.count <= maxLength else {
                throw ZeroShotError.invalidArgument("a continuation of \(cont.count) tokens exceeds the context length \(maxLength)")
            }
            var full = ctx + cont
            if full.count > maxLength + 1 { full.removeFirst(full.count - maxLength - 1) }
            let input = Array(full.dropLast())
            inputs.append(input)
            targets.append(cont)
            starts.append(input.count - cont.count)
        }
        let capacity = inputs.map(\.count).max() ?? 0
        var base = forward.makeCache(capacity: capacity)
        // The tokens every input begins with, evaluated once.
        var shared = 0
        var sharedHidden = Matrix(rows: 0, cols: forward.weights.embedding.cols)
        if shareContext, inputs.count > 1 {
            shared = inputs.dropFirst().reduce(inputs[0].count) { length, input in
                zip(inputs[0].prefix(length), input).prefix { $0 == $1 }.count
            }
            // Keep at least one token of each input outside the prefix, so every choice runs.
            shared = min(shared, inputs.map(\.count).min()! - 1)
            if shared > 0 { sharedHidden = try forward.forward(Array(inputs[0][..<shared]), cache: &base) }
        }
        // The logits of the scored rows inside the shared prefix are the same for every input:
        // computed once, with each row's log-sum-exp and argmax.
        let firstScored = starts.min() ?? 0
        var prefix = RowStatistics(logits: Matrix(rows: 0, cols: 0), first: firstScored)
        if firstScored < shared {
            prefix = RowStatistics(logits: forward.logits(sharedHidden, rows: firstScored..<shared), first: firstScored)
        }
        var out: [(logLikelihood: Double, isGreedy: Bool)] = []
        for (c, input) in inputs.enumerated() {
            var cache = base
            let hidden = try forward.forward(Array(input[shared...]), cache: &cache)
            let start = starts[c], from = max(start, shared)
            let own = RowStatistics(logits: forward.logits(hidden, rows: (from - shared)..<(input.count - shared)), first: from)
            var ll = 0.0, greedy = true
            // Row r scores continuation token r − start.
            for r in start..<input.count {
                let (l, g) = (r < shared ? prefix : own).score(row: r, target: targets[c][r - start])
                ll += l
                greedy = greedy && g
            }
            out.append((ll, greedy))
        }
        return out
    }

    /// The first index of the largest value (NumPy's argmax tie rule).
    static func argmax(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices.dropFirst() where values[i] > values[best] { best = i }
        return best
    }
}

/// Logits rows first..<first+rows with each row's Float64 log-sum-exp and argmax, so any target
/// token of a row can be scored without another pass over the vocabulary.
struct RowStatistics {
    let logits: Matrix
    let first: Int
    let logSumExp: [Double]
    let argmax: [Int]

    /// The exponentials are taken in Float32 (after subtracting the row maximum) and summed in
    /// Float64 per block of 64: the log-softmax equals the all-Float64 one to ~1e-7.
    init(logits: Matrix, first: Int) {
        self.logits = logits
        self.first = first
        var lse = [Double](repeating: 0, count: logits.rows), best = [Int](repeating: 0, count: logits.rows)
        let cols = logits.cols
        logits.data.withUnsafeBufferPointer { lp in
            lse.withUnsafeMutableBufferPointer { sp in
                best.withUnsafeMutableBufferPointer { bp in
                    let s = UncheckedSendable(sp.baseAddress!), b = UncheckedSendable(bp.baseAddress!)
                    Kernels.parallelRows(logits.rows) { r in
                        let row = lp.baseAddress! + r * cols
                        var top = 0
                        for j in 1..<cols where row[j] > row[top] { top = j }
                        let m = row[top]
                        var sum = 0.0, j = 0
                        while j < cols {
                            var partial: Float = 0
                            for i in j..<min(j + 64, cols) { partial += exp(row[i] - m) }
                            sum += Double(partial)
                            j += 64
                        }
                        s.value[r] = Double(m) + log(sum)
                        b.value[r] = top
                    }
                }
            }
        }
        logSumExp = lse
        argmax = best
    }

    /// log softmax(row)[target] and whether target is the row's argmax, for absolute row `row`.
    func score(row: Int, target: Int32) -> (Double, Bool) {
        let r = row - first
        return (Double(logits.data[r * logits.cols + Int(target)]) - logSumExp[r], argmax[r] == Int(target))
    }
}
