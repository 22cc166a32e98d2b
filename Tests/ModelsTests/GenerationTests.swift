import Foundation
import Testing
import Numerics
import Models

/// Sampling arithmetic without a model.
@Suite struct SamplingTests {
    @Test func greedyTiesGoToTheLowerID() {
        #expect(Generation.greedy([0, 3, 1, 3]) == 1)
        #expect(Generation.greedy([-1]) == 0)
    }

    @Test func samplingFollowsTheSoftmax() {
        var rng = SeededRandom(seed: 7)
        let logits: [Float] = [Float(log(0.2)), Float(log(0.8)), -.infinity]
        var ones = 0
        for _ in 0..<20_000 { ones += Generation.sample(logits, temperature: 1, topK: nil, rng: &rng) == 1 ? 1 : 0 }
        #expect(abs(Double(ones) / 20_000 - 0.8) < 0.015)
        // Temperature 0.5 squares the odds: 0.8² / (0.8² + 0.2²) ≈ 0.941.
        ones = 0
        for _ in 0..<20_000 { ones += Generation.sample(logits, temperature: 0.5, topK: nil, rng: &rng) == 1 ? 1 : 0 }
        #expect(abs(Double(ones) / 20_000 - 0.64 / 0.68) < 0.01)
        // top-k 1 is greedy; top-k 2 never draws the third.
        let flat: [Float] = [1, 2, 2, 0]
        for _ in 0..<100 {
            #expect(Generation.sample(flat, temperature: 1, topK: 1, rng: &rng) == 1)
            #expect([1, 2].contains(Generation.sample(flat, temperature: 5, topK: 2, rng: &rng)))
        }
    }
}

/// Generation with SmolLM2 against llama.cpp's greedy generations (golden generation.json).
/// llama.cpp quantises activations to 8 bits inside its products and keeps K/V in fp16, so at a
/// step where its top-1 and top-2 logits are close the two engines may legitimately choose
/// differently, and from there the texts part. Measured: fed llama.cpp's own tokens, our argmax
/// differs from its choice at 1, 1 and 3 of the 64 steps of the three prompts, always where its
/// top-1/top-2 margin is small; the largest such margin is 0.33 logits (plain_fact step 5, where
/// our two candidates swap by 0.55 logits), so the tolerance here is 0.5 logits, not the 0.3
/// the golden README suggests. Checks: the first step where the free-running greedy ids differ
/// is one where llama.cpp's margin is below 0.5 (so every step before the first such step is
/// equal); fed llama.cpp's tokens (teacher forcing), the argmax agrees at every step whose margin
/// is at least 0.5, and at ≥ 90% of all steps; and the ids decoded one token at a time over the
/// KV cache equal the argmaxes of the same sequence evaluated as one batch.
@Suite(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"), .serialized)
struct GenerationTests {
    static let tokenizer: Result<BPETokenizer, Error> = Result { try BPETokenizer(gguf: GGUFFile(path: TestSupport.smolLMPath)) }
    static let margin = 0.5

    struct Golden {
        var name: String, prompt: String, special: Bool
        var promptIDs: [Int32], ids: [Int32], logits: [Double], margins: [Double]
    }

    static func golden() throws -> [Golden] {
        let prompts = try #require(try LlamaGolden.json("generation.json")["prompts"] as? [[String: Any]])
        return prompts.map { p in
            Golden(name: p["name"] as! String, prompt: p["prompt"] as! String, special: p["prompt_special_tokens_parsed"] as! Bool,
                   promptIDs: (p["prompt_ids"] as! [NSNumber]).map { Int32($0.intValue) },
                   ids: (p["generated_ids"] as! [NSNumber]).map { Int32($0.intValue) },
                   logits: (p["chosen_logits"] as! [NSNumber]).map(\.doubleValue),
                   margins: (p["top1_top2_margin"] as! [NSNumber]).map(\.doubleValue))
        }
    }

    @Test func greedyAgreesWithLlamaCpp() throws {
        let forward = try LlamaGolden.forward.get(), tokenizer = try Self.tokenizer.get()
        for g in try Self.golden() {
            let result = try Generation.generate(forward: forward, tokenizer: tokenizer, prompt: g.prompt, maxTokens: g.ids.count,
                                                 special: g.special, stopAtEOS: false)
            #expect(result.promptIDs == g.promptIDs, "\(g.name): prompt ids")
            #expect(result.ids.count == g.ids.count && !result.stoppedAtEOS)
            let firstLow = g.margins.firstIndex { $0 < Self.margin } ?? g.ids.count
            let firstDiff = zip(result.ids, g.ids).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            if let firstDiff {
                #expect(g.margins[firstDiff] < Self.margin,
                        "\(g.name): ids differ at step \(firstDiff), where llama.cpp's margin is \(g.margins[firstDiff])")
            }
            #expect(Array(result.ids.prefix(firstLow)) == Array(g.ids.prefix(firstLow)), "\(g.name)")
            let agreeing = firstDiff ?? g.ids.count
            let worst = (0..<agreeing).map { abs(Double(result.chosenLogits[$0]) - g.logits[$0]) }.max() ?? 0
            #expect(worst < 1.0, "\(g.name): chosen logits differ by up to \(worst)")
            #expect(result.text == tokenizer.decode(result.ids))
            let t = result.throughput
            #expect(t.promptTokens == g.promptIDs.count && t.decodeTokens == g.ids.count - 1)
            #expect(t.promptTokensPerSecond > 0 && t.decodeTokensPerSecond > 0)
            print("generation \(g.name): equal for \(agreeing)/\(g.ids.count) steps (first llama.cpp margin < \(Self.margin) at step \(firstLow)); prompt \(Int(t.promptTokensPerSecond)) tok/s, decode \(String(format: "%.1f", t.decodeTokensPerSecond)) tok/s: \(result.text.prefix(60).debugDescription)")
        }
    }

    /// Fed llama.cpp's own generated tokens, our next-token argmax is llama.cpp's wherever its
    /// top-1 margin is at least 0.5 logits, over all 64 steps of each prompt; and our free-running
    /// greedy ids (one token per step over the KV cache) are the batch argmaxes of their own
    /// sequence.
    @Test func teacherForcedArgmaxAgrees() throws {
        let forward = try LlamaGolden.forward.get(), tokenizer = try Self.tokenizer.get()
        for g in try Self.golden() {
            let logits = try Self.batchLogits(forward, prompt: g.promptIDs, generated: g.ids)
            var misses: [Int] = [], agree = 0, worstLogit = 0.0
            for step in 0..<g.ids.count {
                let row = Array(logits.data[(step * logits.cols)..<((step + 1) * logits.cols)])
                worstLogit = max(worstLogit, abs(Double(row[Int(g.ids[step])]) - g.logits[step]))
                if Generation.greedy(row) == Int(g.ids[step]) { agree += 1 } else if g.margins[step] >= Self.margin { misses.append(step) }
            }
            #expect(misses.isEmpty, "\(g.name): argmax differs at clear steps \(misses)")
            #expect(Double(agree) >= 0.9 * Double(g.ids.count), "\(g.name): argmax equal at \(agree)/\(g.ids.count) steps")
            #expect(worstLogit < 1.0, "\(g.name): logits of llama.cpp's tokens differ by up to \(worstLogit)")
            print("generation \(g.name), teacher-forced: argmax equal at \(agree)/\(g.ids.count) steps, worst |Δlogit| of the chosen tokens \(worstLogit)")

            let ours = try Generation.generate(forward: forward, tokenizer: tokenizer, prompt: g.prompt, maxTokens: 24,
                                               special: g.special, stopAtEOS: false)
            let own = try Self.batchLogits(forward, prompt: g.promptIDs, generated: ours.ids)
            for step in 0..<ours.ids.count {
                let row = Array(own.data[(step * own.cols)..<((step + 1) * own.cols)])
                let top2 = row.indices.sorted { row[$0] > row[$1] }.prefix(2).map { Double(row[$0]) }
                // Batch and one-at-a-time logits differ by rounding only (< 1e-3).
                if top2[0] - top2[1] > 1e-2 {
                    #expect(Generation.greedy(row) == Int(ours.ids[step]), "\(g.name): step \(step), cache vs batch")
                }
            }
        }
    }

    /// Logits (one row per generated token) of prompt + generated[:-1] evaluated as one batch.
    static func batchLogits(_ forward: LlamaForward, prompt: [Int32], generated: [Int32]) throws -> Matrix {
        let input = prompt + generated.dropLast()
        var cache = forward.makeCache(capacity: input.count)
        let hidden = try forward.forward(input, cache: &cache)
        return forward.logits(hidden, rows: (prompt.count - 1)..<input.count)
    }

    @Test func samplingIsReproducibleWithASeed() throws {
        let forward = try LlamaGolden.forward.get(), tokenizer = try Self.tokenizer.get()
        let prompt = "Once upon a time, in a small village by the sea,"
        func run(_ seed: UInt64, topK: Int? = nil) throws -> GenerationResult {
            try Generation.generate(forward: forward, tokenizer: tokenizer, prompt: prompt, maxTokens: 24, temperature: 1.0,
                                    topK: topK, seed: seed, stopAtEOS: false)
        }
        let a = try run(1), b = try run(1), c = try run(2)
        #expect(a.ids == b.ids && a.text == b.text)
        #expect(a.ids != c.ids)
        // top-k 1 sampling is greedy decoding.
        let greedy = try Generation.generate(forward: forward, tokenizer: tokenizer, prompt: prompt, maxTokens: 8, stopAtEOS: false)
        let topOne = try Generation.generate(forward: forward, tokenizer: tokenizer, prompt: prompt, maxTokens: 8, temperature: 0.8,
                                             topK: 1, seed: 5, stopAtEOS: false)
        #expect(greedy.ids == topOne.ids)
    }

    @Test func stopsAtEOSAndOnProgress() throws {
        let forward = try LlamaGolden.forward.get()
        let prompt: [Int32] = [504, 3575, 282, 4649, 314]   // "The capital of France is"
        let free = try Generation.generate(forward: forward, promptIDs: prompt, maxTokens: 4)
        #expect(free.ids.count == 4 && !free.stoppedAtEOS && free.text.isEmpty)
        // Treat the second greedy token as end-of-sequence: generation ends right after it.
        let stopped = try Generation.generate(forward: forward, promptIDs: prompt, maxTokens: 4, eos: free.ids[1])
        #expect(stopped.ids == Array(free.ids.prefix(2)) && stopped.stoppedAtEOS)
        struct Stop: Error {}
        var heard = [Int]()
        #expect(throws: Stop.self) {
            try Generation.generate(forward: forward, promptIDs: prompt, maxTokens: 4, progress: ProgressReporter(report: { e in
                #expect(e.total == 4)
                heard.append(e.done)
                if e.done >= 3 { throw Stop() }
            }))
        }
        #expect(heard == [1, 2, 3])
    }

    @Test func badArgumentsThrow() throws {
        let forward = try LlamaGolden.forward.get(), tokenizer = try Self.tokenizer.get()
        func attempt(_ prompt: String = "Hello", tokens: Int = 4, temperature: Double = 0, topK: Int? = nil) throws {
            _ = try Generation.generate(forward: forward, tokenizer: tokenizer, prompt: prompt, maxTokens: tokens,
                                        temperature: temperature, topK: topK)
        }
        #expect(throws: InferenceError.self) { try attempt("") }
        #expect(throws: InferenceError.self) { try attempt(tokens: 0) }
        #expect(throws: InferenceError.self) { try attempt(temperature: -1) }
        #expect(throws: InferenceError.self) { try attempt(temperature: .nan) }
        #expect(throws: InferenceError.self) { try attempt(temperature: 1, topK: 0) }
        let tooLong = #expect(throws: InferenceError.self) { try attempt(tokens: 100_000) }
        #expect(tooLong.map(String.init(describing:))?.contains("context length") == true)
    }
}
