import Foundation
import Testing
import Numerics
import Models

/// llama.cpp's zero-shot scores (../shared/golden/smollm2-135m/zeroshot.json), read once.
enum ZeroShotGolden {
    /// One golden example's per-choice data.
    struct Example {
        var gold: Int
        var ll: [Double]
        var pred: Int
        var predNorm: Int
        var ctxIDs: [[Int32]]
        var contIDs: [[Int32]]
    }

    static let tasks: Result<[String: [Example]], Error> = Result {
        let root = try LlamaGolden.json("zeroshot.json")
        let tasks = try #require(root["tasks"] as? [String: Any])
        var out: [String: [Example]] = [:]
        for (name, value) in tasks {
            let task = try #require(value as? [String: Any])
            let examples = try #require(task["examples"] as? [[String: Any]])
            out[name] = examples.map { e in
                let ids = { (key: String) in ((e[key] as? [[NSNumber]]) ?? []).map { $0.map { Int32($0.intValue) } } }
                return Example(gold: (e["gold"] as! NSNumber).intValue, ll: (e["ll"] as! [NSNumber]).map(\.doubleValue),
                               pred: (e["pred"] as! NSNumber).intValue, predNorm: (e["pred_norm"] as! NSNumber).intValue,
                               ctxIDs: ids("ctx_ids"), contIDs: ids("cont_ids"))
            }
        }
        return out
    }

    static func task(_ name: String) throws -> [Example] { try #require(try tasks.get()[name], "golden task \(name)") }
}

/// The task loaders on the real data files (no model needed).
@Suite struct ZeroShotTaskTests {
    @Test func promptFormatsFollowLmEval() throws {
        let data = TestSupport.data.path
        let piqa = try ZeroShotTask.piqa.examples(limit: 1, dataFolder: data)[0]
        #expect(piqa.contexts == Array(repeating: "Question: How do I ready a guinea pig cage for it's new occupants?\nAnswer:", count: 2))
        #expect(piqa.continuations[0].hasPrefix(" Provide the guinea pig with a cage full of a few inches of bedding made of ripped paper"))
        #expect(piqa.choices.map { " " + $0 } == piqa.continuations)
        #expect(piqa.gold == 0)

        let wino = try ZeroShotTask.winogrande.examples(limit: 2, dataFolder: data)
        #expect(wino[0].contexts == ["Sarah was a much better surgeon than Maria so Sarah", "Sarah was a much better surgeon than Maria so Maria"])
        #expect(wino[0].continuations == [" always got the easier cases.", " always got the easier cases."])
        #expect(wino[0].choices == wino[0].contexts)
        #expect(wino.map(\.gold) == [1, 0])

        let hella = try ZeroShotTask.hellaswag.examples(limit: 1, dataFolder: data)[0]
        #expect(hella.contexts[0] == "Roof shingle removal: A man is sitting on a roof. he")
        #expect(hella.continuations[3] == " starts pulling up roofing on a roof.")
        #expect(hella.gold == 3 && hella.id == "0")

        let arc = try ZeroShotTask.arcEasy.examples(limit: 1, dataFolder: data)[0]
        #expect(arc.contexts[0] == "Question: Which statement best explains why photosynthesis is the foundation of most food webs?\nAnswer:")
        #expect(arc.choices.count == 4 && arc.gold == 0 && arc.id == "Mercury_417466")
    }

    @Test func wholeTasksLoad() throws {
        let data = TestSupport.data.path
        let counts: [ZeroShotTask: Int] = [.piqa: 1838, .hellaswag: 10042, .arcEasy: 2376, .arcChallenge: 1172, .winogrande: 1267]
        for task in ZeroShotTask.allCases {
            let examples = try task.examples(dataFolder: data)
            #expect(examples.count == counts[task], "\(task)")
            #expect(examples.allSatisfy { $0.gold >= 0 && $0.gold < $0.choices.count })
        }
        #expect(try ZeroShotTask.arcChallenge.examples(limit: 7, dataFolder: data).count == 7)
    }

    @Test func badNamesAndFoldersAreClearErrors() throws {
        #expect(try ZeroShotTask(name: "ARC-Easy") == .arcEasy)
        #expect(try ZeroShotTask(name: "winogrande") == .winogrande)
        let error = #expect(throws: ZeroShotError.self) { try ZeroShotTask(name: "boolq") }
        let message = error.map(String.init(describing:)) ?? ""
        #expect(message.contains("boolq") && message.contains("piqa, hellaswag, arc_easy, arc_challenge, winogrande"))
        let missing = #expect(throws: ZeroShotError.self) { try ZeroShotTask.piqa.examples(dataFolder: "/nonexistent/data") }
        #expect(missing.map(String.init(describing:))?.contains("/nonexistent/data/piqa/valid.jsonl") == true)
        #expect(throws: ZeroShotError.invalidArgument("limit must be at least 1, got 0")) {
            try ZeroShotTask.piqa.examples(limit: 0, dataFolder: TestSupport.data.path)
        }
    }

    @Test func malformedDataNamesTheLine() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("winogrande"), withIntermediateDirectories: true)
        try Data("{\"sentence\": \"no blank here\", \"option1\": \"a\", \"option2\": \"b\"}\n".utf8)
            .write(to: dir.appendingPathComponent("winogrande/dev.jsonl"))
        try Data("1\n".utf8).write(to: dir.appendingPathComponent("winogrande/dev-labels.lst"))
        let error = #expect(throws: ZeroShotError.self) { try ZeroShotTask.winogrande.examples(dataFolder: dir.path) }
        #expect(error == .malformedData(path: dir.appendingPathComponent("winogrande/dev.jsonl").path, line: 1, message: "the sentence has no blank '_'"))
    }
}

/// Zero-shot scores of SmolLM2 against llama.cpp's (golden zeroshot.json) on the same first
/// examples of each task. The forward pass here is Float32 over dequantised weights while
/// llama.cpp quantises activations to 8 bits inside its products and keeps K/V in fp16: a
/// choice's log-likelihood differs from llama.cpp's by 0.2–0.5 nats (standard deviation) and
/// near-tied choices flip. Measured on all 200 golden examples per task (run with
/// `PRUNELANG_ZEROSHOT_LIMIT=200`): acc / acc_norm piqa 0.640 / 0.655 (llama.cpp 0.635 / 0.665),
/// arc_easy 0.510 / 0.465 (0.520 / 0.465), arc_challenge 0.235 / 0.280 (0.225 / 0.285),
/// hellaswag 0.395 / 0.465 (0.390 / 0.465), winogrande 0.515 (0.520); acc predictions equal on
/// 197, 195, 194, 199 and 183 of 200 (WinoGrande's partial scores differ by a single word of
/// context, so its margins are tiny); every differing prediction is one that a shift of each
/// choice's log-likelihood by at most 0.38 nats would make agree.
///
/// Checks: context and continuation ids equal llama.cpp's exactly; each log-likelihood within
/// 1 nat + 5%; every differing prediction (acc and acc_norm) is such a near tie (shift ≤ 0.5
/// nats); predictions equal on ≥ 95% of examples (≥ 90% for WinoGrande); acc and acc_norm
/// within 2 points of llama.cpp's on the same examples, or one example when one example is
/// worth more than 2 points. CI scores the first 40 / 30 / 30 / 25 / 50 examples of piqa /
/// arc_easy / arc_challenge / hellaswag / winogrande (about equal time each);
/// `PRUNELANG_ZEROSHOT_LIMIT=N` scores the first N of every task instead.
@Suite(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"), .serialized)
struct ZeroShotTests {
    static let limits = ["piqa": 40, "arc_easy": 30, "arc_challenge": 30, "hellaswag": 25, "winogrande": 50]
    static let limitOverride = ProcessInfo.processInfo.environment["PRUNELANG_ZEROSHOT_LIMIT"].flatMap(Int.init)
    /// The largest shift of each log-likelihood (nats) that may explain a differing prediction.
    static let nearTie = 0.5

    static let tokenizer: Result<BPETokenizer, Error> = Result { try BPETokenizer(gguf: GGUFFile(path: TestSupport.smolLMPath)) }

    /// The shift t of every log-likelihood (golden's pick down by t, ours up by t, after
    /// dividing by the lengths) at which llama.cpp's scores would tie between its pick and ours.
    static func shiftToTie(_ ll: [Double], lengths: [Double], theirs: Int, ours: Int) -> Double {
        (ll[theirs] / lengths[theirs] - ll[ours] / lengths[ours]) / (1 / lengths[theirs] + 1 / lengths[ours])
    }

    @Test(arguments: ["piqa", "arc_easy", "arc_challenge", "hellaswag", "winogrande"])
    func agreesWithLlamaCpp(task: String) throws {
        let forward = try LlamaGolden.forward.get(), tokenizer = try Self.tokenizer.get()
        let golden = Array(try ZeroShotGolden.task(task).prefix(Self.limitOverride ?? Self.limits[task]!))
        let result = try ZeroShot.evaluate(forward: forward, tokenizer: tokenizer, task: task, limit: golden.count,
                                           dataFolder: TestSupport.data.path)
        #expect(result.n == golden.count)
        var samePred = 0, sameNorm = 0, worstLL = 0.0, worstShift = 0.0
        for (ours, theirs) in zip(result.examples, golden) {
            #expect(ours.gold == theirs.gold)
            #expect(ours.contextIDs == theirs.ctxIDs, "example \(ours.index): context ids")
            #expect(ours.continuationIDs == theirs.contIDs, "example \(ours.index): continuation ids")
            for (a, b) in zip(ours.logLikelihoods, theirs.ll) {
                worstLL = max(worstLL, abs(a - b))
                #expect(abs(a - b) <= 1 + 0.05 * abs(b), "example \(ours.index): log-likelihood \(a) vs llama.cpp \(b)")
            }
            let ones = [Double](repeating: 1, count: theirs.ll.count)
            if ours.predicted == theirs.pred { samePred += 1 } else {
                let shift = Self.shiftToTie(theirs.ll, lengths: ones, theirs: theirs.pred, ours: ours.predicted)
                worstShift = max(worstShift, shift)
                #expect(shift <= Self.nearTie, "example \(ours.index): acc picks \(ours.predicted), llama.cpp \(theirs.pred) by a clear margin")
            }
            if ours.predictedNorm == theirs.predNorm { sameNorm += 1 } else if task != "winogrande" {
                let shift = Self.shiftToTie(theirs.ll, lengths: ours.choiceLengths.map(Double.init), theirs: theirs.predNorm, ours: ours.predictedNorm)
                worstShift = max(worstShift, shift)
                #expect(shift <= Self.nearTie, "example \(ours.index): acc_norm picks \(ours.predictedNorm), llama.cpp \(theirs.predNorm) by a clear margin")
            }
        }
        let n = Double(golden.count)
        let goldenAcc = Double(golden.filter { $0.pred == $0.gold }.count) / n
        let goldenNorm = Double(golden.filter { $0.predNorm == $0.gold }.count) / n
        let tolerance = max(0.02, 1 / n) + 1e-9
        let agreement = task == "winogrande" ? 0.90 : 0.95
        print("zeroshot \(task) n=\(result.n): acc \(result.acc) (llama.cpp \(goldenAcc)), acc_norm \(result.accNorm.map { "\($0)" } ?? "—") (llama.cpp \(task == "winogrande" ? "—" : "\(goldenNorm)")), predictions equal \(samePred)/\(golden.count) (norm \(sameNorm)), worst |Δll| \(worstLL), worst near-tie shift \(worstShift), \(String(format: "%.1f", result.seconds)) s")
        #expect(Double(samePred) >= agreement * n, "acc predictions equal on \(samePred)/\(golden.count)")
        #expect(abs(result.acc - goldenAcc) <= tolerance, "acc \(result.acc) vs llama.cpp \(goldenAcc)")
        if task == "winogrande" {
            #expect(result.accNorm == nil)
        } else {
            #expect(Double(sameNorm) >= agreement * n, "acc_norm predictions equal on \(sameNorm)/\(golden.count)")
            #expect(abs((result.accNorm ?? -1) - goldenNorm) <= tolerance, "acc_norm \(result.accNorm ?? -1) vs llama.cpp \(goldenNorm)")
        }
    }

    /// In llama.cpp's arithmetic every choice's log-likelihood is llama.cpp's to a few float32 ulps
    /// of the logits (≤ 1e-5 nats; the float32 pass is ~0.1 nats away) and every prediction is the
    /// same. Not bit for bit (up to 2.4e-6 nats apart): the golden script's choices were not each one
    /// batch from an empty cache as the window was (llama-cpp-python may reuse a cached prefix, and
    /// llama.cpp sums one-column products in another order); not investigated further.
    @Test func llamaCppArithmeticLogLikelihoodsAreLlamaCpps() throws {
        let forward = try LlamaForward(weights: LlamaWeights(ModelLoader.load(TestSupport.smolLMPath), arithmetic: .llamaCpp))
        let tokenizer = try Self.tokenizer.get()
        for task in ["piqa", "hellaswag", "arc_challenge", "winogrande"] {
            let golden = Array(try ZeroShotGolden.task(task).prefix(6))
            let result = try ZeroShot.evaluate(forward: forward, tokenizer: tokenizer, task: task, limit: golden.count,
                                               dataFolder: TestSupport.data.path)
            for (ours, theirs) in zip(result.examples, golden) {
                for (a, b) in zip(ours.logLikelihoods, theirs.ll) {
                    #expect(abs(a - b) <= 1e-5, "\(task) example \(ours.index): log-likelihood \(a) vs llama.cpp \(b)")
                }
                #expect(ours.predicted == theirs.pred && (task == "winogrande" || ours.predictedNorm == theirs.predNorm))
            }
        }
    }

    /// Evaluating the shared context once and each continuation from a copy of the cache gives
    /// the log-likelihoods of one batch per choice from an empty cache (lm-eval's way).
    @Test func sharedContextEqualsSeparateBatches() throws {
        let forward = try LlamaGolden.forward.get(), tokenizer = try Self.tokenizer.get()
        for task in [ZeroShotTask.piqa, .winogrande] {
            let examples = try task.examples(limit: 2, dataFolder: TestSupport.data.path)
            for example in examples {
                let shared = try ZeroShot.score(forward: forward, tokenizer: tokenizer, example: example, shareContext: true)
                let separate = try ZeroShot.score(forward: forward, tokenizer: tokenizer, example: example, shareContext: false)
                for (a, b) in zip(shared.logLikelihoods, separate.logLikelihoods) {
                    #expect(abs(a - b) < 1e-3, "\(task): \(a) vs \(b)")
                }
                #expect(shared.isGreedy == separate.isGreedy)
            }
        }
    }

    @Test func progressStopsEarlyAndBadArgumentsThrow() throws {
        let forward = try LlamaGolden.forward.get(), tokenizer = try Self.tokenizer.get()
        struct Stop: Error {}
        var calls: [(Int, Int?)] = []
        #expect(throws: Stop.self) {
            try ZeroShot.evaluate(forward: forward, tokenizer: tokenizer, task: "arc_challenge", limit: 5,
                                  dataFolder: TestSupport.data.path, batchSize: 1,
                                  progress: ProgressReporter(report: { e in
                                      calls.append((e.done, e.total))
                                      if e.done >= 2 { throw Stop() }
                                  }))
        }
        #expect(calls.map(\.0) == [1, 2] && calls.allSatisfy { $0.1 == 5 })
        // A stop asked for before any work is answered before the first batch.
        var checked = 0
        #expect(throws: Stop.self) {
            try ZeroShot.evaluate(forward: forward, tokenizer: tokenizer, task: "arc_challenge", limit: 5, dataFolder: TestSupport.data.path,
                                  progress: ProgressReporter(report: { _ in Issue.record("no batch should finish") },
                                                             check: { checked += 1; throw Stop() }))
        }
        #expect(checked == 1)
        #expect(throws: ZeroShotError.self) {
            try ZeroShot.evaluate(forward: forward, tokenizer: tokenizer, task: "mmlu", dataFolder: TestSupport.data.path)
        }
        #expect(throws: ZeroShotError.self) {
            try ZeroShot.evaluate(forward: forward, tokenizer: tokenizer, task: "piqa", limit: -3, dataFolder: TestSupport.data.path)
        }
        #expect(throws: ZeroShotError.self) {
            try ZeroShot.score(forward: forward, tokenizer: tokenizer,
                               example: ZeroShotExample(contexts: ["a", "b"], continuations: [" c"], choices: ["c"], gold: 0))
        }
        #expect(throws: ZeroShotError.self) {
            try ZeroShot.score(forward: forward, tokenizer: tokenizer,
                               example: ZeroShotExample(contexts: ["Question:"], continuations: [""], choices: [""], gold: 0))
        }
    }

    /// lm-eval's `_encode_pair`: trailing context whitespace moves to the continuation.
    @Test func encodePairMovesTrailingSpace() throws {
        let tokenizer = try Self.tokenizer.get()
        let moved = ZeroShot.encodePair(tokenizer: tokenizer, context: "Answer: ", continuation: "yes")
        let plain = ZeroShot.encodePair(tokenizer: tokenizer, context: "Answer:", continuation: " yes")
        #expect(moved.context == plain.context && moved.continuation == plain.continuation)
        #expect(plain.context + plain.continuation == tokenizer.encode("Answer: yes"))
    }
}
