import Foundation
import Testing
import Numerics
import Models

/// Several sequences in one pass (`forward(batch:caches:)`) against each sequence alone: the
/// packed rows are each sequence's own (Float32: to the rounding of a differently blocked
/// product; llama.cpp arithmetic: bit for bit, its products being row by row), each cache ends
/// where a lone pass leaves it, and sequences that continue different caches do not see each
/// other. Zero-shot scored in batches gives the same log-likelihoods and predictions.
@Suite(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"), .serialized)
struct PackedForwardTests {
    /// Three sequences of different lengths, the second continuing a cache that already holds
    /// 7 positions (so its rows sit at positions 7…, not 0…), and an empty one.
    static func compare(_ forward: LlamaForward) throws -> (worst: Float, bitExact: Bool) {
        let tokens = try LlamaGolden.tokens.get()
        let history = Array(tokens[200..<207])
        let sequences = [Array(tokens[0..<19]), Array(tokens[300..<305]), [], Array(tokens[1000..<1033])]
        var caches = sequences.map { _ in forward.makeCache(capacity: 48) }
        _ = try forward.forward(history, cache: &caches[1])
        var alone = caches
        let packed = try forward.forward(batch: sequences, caches: &caches)
        #expect(packed.rows == sequences.map(\.count).reduce(0, +))
        var offset = 0, worst: Float = 0, exact = true
        for (i, sequence) in sequences.enumerated() {
            let own = try forward.forward(sequence, cache: &alone[i])
            #expect(caches[i].count == alone[i].count, "sequence \(i): cache holds \(caches[i].count), alone \(alone[i].count)")
            let a = forward.logits(packed, rows: offset..<offset + sequence.count).data
            let b = forward.logits(own, rows: 0..<sequence.count).data
            worst = max(worst, zip(a, b).map { abs($0 - $1) }.max() ?? 0)
            exact = exact && a == b
            offset += sequence.count
        }
        // The caches continue as a lone pass's would: one more token each gives the same logits.
        let next: [[Int32]] = [[tokens[19]], [tokens[305]], [tokens[0]], [tokens[1033]]]
        let after = try forward.forward(batch: next, caches: &caches)
        for i in next.indices {
            let own = try forward.forward(next[i], cache: &alone[i])
            let a = forward.logits(after, rows: i..<i + 1).data, b = forward.logits(own, rows: 0..<1).data
            worst = max(worst, zip(a, b).map { abs($0 - $1) }.max()!)
            exact = exact && a == b
        }
        return (worst, exact)
    }

    @Test func float32PackedRowsAreEachSequencesOwn() throws {
        let (worst, _) = try Self.compare(try LlamaGolden.forward.get())
        #expect(worst < 1e-3, "packed vs lone logits differ by \(worst)")
    }

    @Test func llamaCppPackedRowsAreBitExact() throws {
        let forward = try LlamaForward(weights: LlamaWeights(ModelLoader.load(TestSupport.smolLMPath), arithmetic: .llamaCpp))
        let (worst, exact) = try Self.compare(forward)
        #expect(exact, "packed vs lone logits differ by \(worst)")
    }

    @Test func mismatchedCachesAndFullCachesAreErrors() throws {
        let forward = try LlamaGolden.forward.get()
        var one = [forward.makeCache(capacity: 4)]
        #expect(throws: InferenceError.invalidArgument("2 sequences need as many caches, got 1")) {
            try forward.forward(batch: [[1], [2]], caches: &one)
        }
        var two = [forward.makeCache(capacity: 4), forward.makeCache(capacity: 2)]
        #expect(throws: InferenceError.contextFull(needed: 3, capacity: 2)) { try forward.forward(batch: [[1], [1, 2, 3]], caches: &two) }
        #expect(two.map(\.count) == [0, 0], "a refused batch changes no cache")
    }

    /// Batches of 8 and of 1 example: equal token ids and predictions, log-likelihoods within
    /// rounding, on the first examples of every task (HellaSwag and ARC share long contexts,
    /// WinoGrande shares only the words before the blank).
    @Test(arguments: ["piqa", "hellaswag", "arc_easy", "winogrande"])
    func batchedZeroShotEqualsOneAtATime(task: String) throws {
        let forward = try LlamaGolden.forward.get(), tokenizer = try ZeroShotTests.tokenizer.get()
        let examples = try ZeroShotTask(name: task).examples(limit: 12, dataFolder: TestSupport.data.path)
        let batched = try ZeroShot.evaluate(forward: forward, tokenizer: tokenizer, task: ZeroShotTask(name: task), examples: examples, batchSize: 8)
        let single = try ZeroShot.evaluate(forward: forward, tokenizer: tokenizer, task: ZeroShotTask(name: task), examples: examples, batchSize: 1)
        #expect(batched.n == 12 && single.n == 12)
        for (a, b) in zip(batched.examples, single.examples) {
            #expect(a.index == b.index && a.contextIDs == b.contextIDs && a.continuationIDs == b.continuationIDs)
            for (x, y) in zip(a.logLikelihoods, b.logLikelihoods) {
                #expect(abs(x - y) < 2e-3, "\(task) example \(a.index): \(x) batched vs \(y) alone")
            }
            #expect(a.predicted == b.predicted && a.predictedNorm == b.predictedNorm && a.isGreedy == b.isGreedy)
        }
        struct Stop: Error {}
        var stops = 0
        #expect(throws: Stop.self) {
            try ZeroShot.evaluate(forward: forward, tokenizer: tokenizer, task: ZeroShotTask(name: task), examples: examples, batchSize: 5,
                                  progress: ProgressReporter(report: { e in
                                      stops += 1
                                      #expect(e.total == 12 && e.done == 5)
                                      throw Stop()
                                  }))
        }
        #expect(stops == 1)
    }
}
