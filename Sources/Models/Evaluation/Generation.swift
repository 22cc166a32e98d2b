import Foundation
import Numerics

/// How fast a forward pass ran: the prompt as one batch, then one token per decode step.
public struct Throughput: Sendable, Equatable {
    /// Prompt tokens evaluated (one batch).
    public var promptTokens: Int
    /// Seconds the prompt batch took (forward pass and the last row's logits).
    public var promptSeconds: Double
    /// Single-token decode steps run (each a forward pass of one token and its logits).
    public var decodeTokens: Int
    /// Seconds those decode steps took, sampling included.
    public var decodeSeconds: Double

    /// Prompt tokens per second (0 when nothing was timed).
    public var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(promptTokens) / promptSeconds : 0 }
    /// Decode tokens per second (0 when nothing was timed).
    public var decodeTokensPerSecond: Double { decodeSeconds > 0 ? Double(decodeTokens) / decodeSeconds : 0 }

    /// A throughput record from its counts and times.
    public init(promptTokens: Int, promptSeconds: Double, decodeTokens: Int, decodeSeconds: Double) {
        self.promptTokens = promptTokens
        self.promptSeconds = promptSeconds
        self.decodeTokens = decodeTokens
        self.decodeSeconds = decodeSeconds
    }
}

/// What `Generation.generate` produced.
public struct GenerationResult: Sendable {
    /// The prompt's token ids.
    public var promptIDs: [Int32]
    /// The new token ids, in order (the EOS token included when generation stopped at it).
    public var ids: [Int32]
    /// The new tokens as text (control tokens such as `<|im_end|>` left out, as llama.cpp's
    /// detokenizer does without `special`).
    public var text: String
    /// The logit (before temperature) of the token chosen at each step.
    public var chosenLogits: [Float]
    /// Whether generation ended at the end-of-sequence token.
    public var stoppedAtEOS: Bool
    /// Prompt and decode speed of this run.
    public var throughput: Throughput
}

/// Text generation with a llama forward pass and its KV cache: the prompt is evaluated as one
/// batch from an empty cache (no BOS, as SmolLM2's GGUF asks), then one token per step.
/// Greedy decoding (temperature 0) takes the argmax of the Float32 logits, ties to the lower id,
/// as the golden references do; otherwise the next token is drawn from softmax(logits / T),
/// optionally restricted to the `topK` largest logits, with `SeededRandom(seed:)`, so a seed
/// gives the same text on every machine.
public enum Generation {
    /// Generates up to `maxTokens` new tokens after `prompt` (tokenised with control tokens parsed
    /// when `special`, e.g. for ChatML). Stops early at the EOS token when `stopAtEOS`.
    /// `progress` hears of each new token and stops generation by throwing.
    /// Throws on a prompt that encodes to nothing, maxTokens < 1, a negative or non-finite
    /// temperature, topK < 1, or prompt + maxTokens beyond the model's context length.
    public static func generate(forward: LlamaForward, tokenizer: BPETokenizer, prompt: String, maxTokens: Int,
                                temperature: Double = 0, topK: Int? = nil, seed: UInt64 = 0, special: Bool = false,
                                stopAtEOS: Bool = true, progress: ProgressReporter = .none) throws -> GenerationResult {
        let ids = tokenizer.encode(prompt, special: special)
        guard !ids.isEmpty else { throw InferenceError.invalidArgument("the prompt encodes to no tokens") }
        var result = try generate(forward: forward, promptIDs: ids, maxTokens: maxTokens, temperature: temperature,
                                  topK: topK, seed: seed, eos: stopAtEOS ? tokenizer.eosID : nil, progress: progress)
        result.text = tokenizer.decode(result.ids)
        return result
    }

    /// Generates from prompt token ids (see the string form); stops at `eos` when given. The
    /// result's `text` is empty (no tokenizer).
    public static func generate(forward: LlamaForward, promptIDs: [Int32], maxTokens: Int, temperature: Double = 0,
                                topK: Int? = nil, seed: UInt64 = 0, eos: Int32? = nil,
                                progress: ProgressReporter = .none) throws -> GenerationResult {
        guard !promptIDs.isEmpty else { throw InferenceError.invalidArgument("the prompt has no tokens") }
        guard maxTokens >= 1 else { throw InferenceError.invalidArgument("tokens must be at least 1, got \(maxTokens)") }
        guard temperature.isFinite, temperature >= 0 else {
            throw InferenceError.invalidArgument("temperature must be a finite number ≥ 0, got \(temperature)")
        }
        if let topK, topK < 1 { throw InferenceError.invalidArgument("top_k must be at least 1, got \(topK)") }
        let limit = forward.config.contextLength
        guard promptIDs.count + maxTokens <= limit else {
            throw InferenceError.invalidArgument("prompt (\(promptIDs.count) tokens) + \(maxTokens) new tokens exceeds the model's context length \(limit)")
        }
        var cache = forward.makeCache(capacity: promptIDs.count + maxTokens)
        var rng = SeededRandom(seed: seed)
        var result = GenerationResult(promptIDs: promptIDs, ids: [], text: "", chosenLogits: [], stoppedAtEOS: false,
                                      throughput: Throughput(promptTokens: 0, promptSeconds: 0, decodeTokens: 0, decodeSeconds: 0))
        let clock = ContinuousClock()
        var start = clock.now
        var hidden = try forward.forward(promptIDs, cache: &cache, checkpoint: progress.check)
        var logits = forward.logits(hidden, rows: (hidden.rows - 1)..<hidden.rows)
        result.throughput.promptTokens = promptIDs.count
        result.throughput.promptSeconds = seconds(clock.now - start)
        start = clock.now
        while true {
            let next = temperature == 0 ? greedy(logits.data) : sample(logits.data, temperature: temperature, topK: topK, rng: &rng)
            result.ids.append(Int32(next))
            result.chosenLogits.append(logits.data[next])
            if let eos, Int32(next) == eos { result.stoppedAtEOS = true; break }
            try progress.report("generate", done: result.ids.count, total: maxTokens)
            if result.ids.count >= maxTokens { break }
            hidden = try forward.forward([Int32(next)], cache: &cache)
            logits = forward.logits(hidden, rows: 0..<1)
            result.throughput.decodeTokens += 1
        }
        if result.throughput.decodeTokens > 0 { result.throughput.decodeSeconds = seconds(clock.now - start) }
        return result
    }

    /// The index of the largest logit, ties to the lower id.
    public static func greedy(_ logits: [Float]) -> Int {
        var best = 0
        for j in logits.indices.dropFirst() where logits[j] > logits[best] { best = j }
        return best
    }

    /// A draw from softmax(logits / temperature) in Float64, over the `topK` largest logits when
    /// given (ties to the lower id): one uniform from `rng` against the cumulative
    /// probabilities in id order.
    public static func sample(_ logits: [Float], temperature: Double, topK: Int?, rng: inout SeededRandom) -> Int {
        var candidates = Array(logits.indices)
        if let topK, topK < logits.count {
            candidates.sort { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
            candidates = Array(candidates.prefix(topK)).sorted()
        }
        let top = candidates.map { Double(logits[$0]) }.max() ?? 0
        let weights = candidates.map { exp((Double(logits[$0]) - top) / temperature) }
        let total = weights.reduce(0, +)
        let u = rng.uniform() * total
        var cumulative = 0.0
        for (i, w) in weights.enumerated() {
            cumulative += w
            if u < cumulative { return candidates[i] }
        }
        // Rounding left u at the very top: the last candidate with any weight.
        return candidates[weights.lastIndex { $0 > 0 } ?? 0]
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
