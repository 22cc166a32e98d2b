import Foundation
import Models

/// Times the llama forward pass on `tokens`: a prompt of `promptLength` tokens as one batch
/// and `decode` single-token steps after it with the KV cache (each best of `repeats`); reports tokens
/// per second and the greedy ids decoded, so the driver can compare with llama.cpp's. `arithmetic`
/// nil is the default a user gets.
func runInference(_ path: String, tokens: [Int32], promptLength: Int, decode: Int, repeats: Int, arithmetic: ForwardArithmetic?) throws {
    let model = try ModelLoader.load(path)
    let forward = try LlamaForward(weights: arithmetic.map { try LlamaWeights(model, arithmetic: $0) } ?? LlamaWeights(model))
    let prompt = Array(tokens.prefix(promptLength))
    var cache = forward.makeCache(capacity: promptLength + decode)
    let promptSeconds = try time(repeats: repeats) {
        cache.reset()
        _ = try forward.forward(prompt, cache: &cache)
    }
    // Decode: greedy steps after the prompt, best of `repeats` (the prompt rerun untimed before each).
    var generated = [Int32](), decodeSeconds = Double.infinity
    for _ in 0..<max(repeats, 1) {
        cache.reset()
        let hidden = try forward.forward(prompt, cache: &cache)
        var next = argmax(forward.logits(hidden, rows: (prompt.count - 1)..<prompt.count).data)
        generated = []
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<decode {
            generated.append(next)
            let h = try forward.forward([next], cache: &cache)
            next = argmax(forward.logits(h, rows: 0..<1).data)
        }
        decodeSeconds = min(decodeSeconds, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    // Where a decode step's time goes: each block linear and the head alone on one row (20 times).
    let w = forward.weights, roles: [TensorRole] = [.attentionQuery, .attentionKey, .attentionValue, .attentionOutput, .ffnGate, .ffnUp, .ffnDown]
    var linearNanos: UInt64 = 0, headNanos: UInt64 = 0
    for _ in 0..<20 {
        for b in w.blocks {
            for role in roles {
                let l = b[role], x = [Float](repeating: 0.01, count: l.inputs)
                let t = DispatchTime.now().uptimeNanoseconds
                _ = l.apply(x, rows: 1)
                linearNanos += DispatchTime.now().uptimeNanoseconds - t
            }
        }
        let x = [Float](repeating: 0.01, count: w.head.inputs), t = DispatchTime.now().uptimeNanoseconds
        _ = w.head.apply(x, rows: 1)
        headNanos += DispatchTime.now().uptimeNanoseconds - t
    }
    report("llama_inference", promptSeconds, [
        "decode_ms_per_token": decodeSeconds / Double(decode) * 1e3,
        "block_linears_ms_per_token": Double(linearNanos) / 20e6, "head_ms_per_token": Double(headNanos) / 20e6,
        "prompt_tokens": prompt.count, "prompt_tok_s": Double(prompt.count) / promptSeconds,
        "decode_tokens": decode, "decode_tok_s": Double(decode) / decodeSeconds,
        "generated": generated.map(Int.init), "arithmetic": forward.weights.arithmetic.rawValue,
        "weights_resident_bytes": forward.weights.residentBytes, "peak_rss_bytes": peakResidentBytes(),
    ])
}

/// The greedy choice (ties to the lower id), as generation makes it.
func argmax(_ x: [Float]) -> Int32 { Int32(Generation.greedy(x)) }

/// The process's peak resident set (getrusage's ru_maxrss, KiB on Linux) in bytes.
func peakResidentBytes() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_maxrss * 1024
}
