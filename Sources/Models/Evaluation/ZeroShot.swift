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
    /// `ZeroShotTask.names`) read from `dataFolder`, `batchSize` examples per pass. `progress` hears of
    /// each finished batch and stops the run by throwing.
    public static func evaluate(forward: LlamaForward, tokenizer: BPETokenizer, task: String, limit: Int? = nil,
                                dataFolder: String = DataCatalog.folder, batchSize: Int = 8,
                                progress: ProgressReporter = .none) throws -> ZeroShotResult {
        let task = try ZeroShotTask(name: task)
        return try evaluate(forward: forward, tokenizer: tokenizer, task: task,
                            examples: task.examples(limit: limit, dataFolder: dataFolder), batchSize: batchSize, progress: progress)
    }

    /// Scores `examples` of `task` (as `ZeroShotTask.examples` gives them), in order,
    /// `batchSize` examples per pair of passes (see `scores`); `progress` hears of each finished
    /// batch and is checked before each.
    public static func evaluate(forward: LlamaForward, tokenizer: BPETokenizer, task: ZeroShotTask,
                                examples: [ZeroShotExample], shareContext: Bool = true, batchSize: Int = 8,
                                progress: ProgressReporter = .none) throws -> ZeroShotResult {
        guard batchSize >= 1 else { throw ZeroShotError.invalidArgument("batch size must be at least 1, got \(batchSize)") }
        let clock = ContinuousClock.now
        var result = ZeroShotResult(task: task, requested: examples.count, examples: [], seconds: 0)
        var next = 0
        while next < examples.count {
            try progress.check()
            let end = min(next + batchSize, examples.count)
            var predictions = try scores(forward: forward, tokenizer: tokenizer, examples: Array(examples[next..<end]), shareContext: shareContext,
                                         checkpoint: progress.check)
            for i in predictions.indices { predictions[i].index = next + i }
            result.examples += predictions
            next = end
            try progress.report("zeroshot \(task.rawValue)", done: next, total: examples.count)
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
        try scores(forward: forward, tokenizer: tokenizer, examples: [example], shareContext: shareContext)[0]
    }

    /// Scores several examples in one pair of passes (see `logLikelihoods(forward:batch:)`);
    /// each prediction equals what `score` gives its example alone, up to rounding. Their
    /// `index` is their position in `examples`.
    /// `checkpoint` is called before each block of both passes.
    public static func scores(forward: LlamaForward, tokenizer: BPETokenizer, examples: [ZeroShotExample],
                              shareContext: Bool = true, checkpoint: () throws -> Void = {}) throws -> [ZeroShotPrediction] {
        var batch: [[(context: [Int32], continuation: [Int32])]] = []
        for example in examples {
            let k = example.contexts.count
            guard k >= 1, example.continuations.count == k, example.choices.count == k, example.gold >= 0, example.gold < k else {
                throw ZeroShotError.invalidArgument("an example needs as many contexts, continuations and choices (got \(example.contexts.count), \(example.continuations.count), \(example.choices.count)) and a gold index among them (got \(example.gold))")
            }
            batch.append(zip(example.contexts, example.continuations).map { encodePair(tokenizer: tokenizer, context: $0, continuation: $1) })
        }
        let scored = try logLikelihoods(forward: forward, batch: batch, shareContext: shareContext, checkpoint: checkpoint)
        return examples.indices.map { e in
            let example = examples[e], pairs = batch[e], lls = scored[e]
            let chars = example.choices.map { $0.unicodeScalars.count }
            let bytes = example.choices.map { $0.utf8.count }
            return ZeroShotPrediction(
                index: e, id: example.id, gold: example.gold,
                logLikelihoods: lls.map(\.logLikelihood), continuationTokenCounts: pairs.map(\.continuation.count),
                isGreedy: lls.map(\.isGreedy), choiceLengths: chars, choiceByteLengths: bytes,
                predicted: argmax(lls.map(\.logLikelihood)),
                predictedNorm: argmax(zip(lls, chars).map { $0.logLikelihood / Double($1) }),
                predictedNormBytes: argmax(zip(lls, bytes).map { $0.logLikelihood / Double($1) }),
                contextIDs: pairs.map(\.context), continuationIDs: pairs.map(\.continuation))
        }
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
        try logLikelihoods(forward: forward, batch: [pairs], shareContext: shareContext)[0]
    }

    /// `logLikelihoods(forward:pairs:)` for several groups of pairs (one group per example) at
    /// once: one packed pass runs every group's shared prefix, a second every choice's rest
    /// (each from a copy of its group's cache), and one product gives the logits of every scored
    /// row. The weights are read twice per batch instead of once per choice.
    public static func logLikelihoods(forward: LlamaForward, batch: [[(context: [Int32], continuation: [Int32])]],
                                      shareContext: Bool = true, checkpoint: () throws -> Void = {}) throws -> [[(logLikelihood: Double, isGreedy: Bool)]] {
        let plans = try batch.map { try ScoringPlan(pairs: $0, maxLength: forward.config.contextLength, shareContext: shareContext) }
        // Pass 1: each group's shared prefix (possibly empty) into a cache of its own.
        var bases = plans.map { forward.makeCache(capacity: $0.capacity) }
        let prefixHidden = try forward.forward(batch: plans.map { Array($0.inputs[0][..<$0.shared]) }, caches: &bases, checkpoint: checkpoint)
        // Pass 2: each choice's rest, from a copy of its group's cache.
        var caches: [KVCache] = [], rests: [[Int32]] = []
        for (g, plan) in plans.enumerated() {
            for input in plan.inputs {
                caches.append(bases[g])
                rests.append(Array(input[plan.shared...]))
            }
        }
        bases = []
        let restHidden = try forward.forward(batch: rests, caches: &caches, checkpoint: checkpoint)
        // The scored rows of both passes, gathered for one output-head product. A scored row in
        // the shared prefix is the same for every choice of its group: gathered once.
        let d = forward.weights.embeddingWidth
        var gathered: [Float] = [], count = 0
        func gather(_ hidden: Matrix, _ rows: Range<Int>) -> Int {
            let first = count
            gathered += hidden.data[rows.lowerBound * d..<rows.upperBound * d]
            count += rows.count
            return first
        }
        var prefixRow: [Int] = [], restRow: [[Int]] = []   // gathered index of each group's/choice's first scored row
        var prefixOffset = 0, restOffset = 0
        for plan in plans {
            let firstScored = plan.starts.min() ?? 0
            prefixRow.append(firstScored < plan.shared
                             ? gather(prefixHidden, prefixOffset + firstScored..<prefixOffset + plan.shared) - firstScored : 0)
            prefixOffset += plan.shared
            var rows: [Int] = []
            for (c, input) in plan.inputs.enumerated() {
                let from = max(plan.starts[c], plan.shared)
                rows.append(gather(restHidden, restOffset + from - plan.shared..<restOffset + input.count - plan.shared) - from)
                restOffset += input.count - plan.shared
            }
            restRow.append(rows)
        }
        let stats = RowStatistics(logits: forward.logits(try Matrix(rows: count, cols: d, data: gathered), rows: 0..<count), first: 0)
        return plans.indices.map { g in
            let plan = plans[g]
            return plan.inputs.indices.map { c in
                var ll = 0.0, greedy = true
                // Input row r scores continuation token r − start.
                for r in plan.starts[c]..<plan.inputs[c].count {
                    let row = r < plan.shared ? prefixRow[g] + r : restRow[g][c] + r
                    let (l, isTop) = stats.score(row: row, target: plan.targets[c][r - plan.starts[c]])
                    ll += l
                    greedy = greedy && isTop
                }
                return (ll, greedy)
            }
        }
    }

    /// The first index of the largest value (NumPy's argmax tie rule).
    static func argmax(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices.dropFirst() where values[i] > values[best] { best = i }
        return best
    }
}

/// One example's choices made ready for scoring: each choice's model input (ctx + cont)[:-1]
/// (left-truncated to the context length), its continuation ids, the input row that scores the
/// first of them, and how many leading input tokens all choices share.
struct ScoringPlan {
    var inputs: [[Int32]] = []
    var targets: [[Int32]] = []
    var starts: [Int] = []
    /// Leading tokens evaluated once for all choices (0 without context sharing); every choice
    /// keeps at least one token of its own.
    var shared = 0
    /// The positions the longest input needs.
    var capacity: Int { inputs.map(\.count).max() ?? 0 }

    init(pairs: [(context: [Int32], continuation: [Int32])], maxLength: Int, shareContext: Bool) throws {
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
        if shareContext, inputs.count > 1 {
            shared = inputs.dropFirst().reduce(inputs[0].count) { length, input in
                zip(inputs[0].prefix(length), input).prefix { $0 == $1 }.count
            }
            shared = min(shared, inputs.map(\.count).min()! - 1)
        }
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
                    ForwardKernels.parallelRows(logits.rows) { r in
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
