import Foundation
import Testing
import Numerics
import Models

/// MiniLM-L6 and its float64 reference embeddings, loaded once.
enum MiniLMReference {
    /// The model view (weights mapped, not yet dequantised).
    static let model: Result<Model, Error> = Result { try ModelLoader.load(TestSupport.minilmWeights.path) }
    /// The sentence-transformers pipeline over the real model.
    static let embedder: Result<SentenceEmbedder, Error> = Result { try SentenceEmbedder(model: model.get()) }

    /// One reference sentence.
    struct Case {
        let text: String
        let ids: [Int32]
        let meanNorm: Double
        let embedding: [Float]
    }

    /// Tests/fixtures/models/minilm_embeddings.json (make_minilm_embedding_fixtures.py).
    static let fixture: Result<(cases: [Case], pairs: [(Int, Int, Double)]), Error> = Result {
        let data = try Data(contentsOf: TestSupport.fixtures.appendingPathComponent("minilm_embeddings.json"))
        let obj = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try #require(obj["cases"] as? [[String: Any]]).map { c in
            Case(text: c["text"] as! String, ids: (c["ids"] as! [NSNumber]).map { Int32($0.intValue) },
                 meanNorm: (c["mean_norm"] as! NSNumber).doubleValue,
                 embedding: (c["embedding"] as! [NSNumber]).map { $0.floatValue })
        }
        let pairs = try #require(obj["pairs"] as? [[String: Any]]).map { p in
            ((p["a"] as! NSNumber).intValue, (p["b"] as! NSNumber).intValue, (p["cosine"] as! NSNumber).doubleValue)
        }
        return (cases, pairs)
    }

    /// The largest |difference| between two equally long vectors.
    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }
}

/// The BERT forward pass on all-MiniLM-L6-v2 against an independent float64 numpy reference
/// (Tests/fixtures/make_minilm_embedding_fixtures.py): token ids, embeddings to cosine ≥ 0.9999,
/// pairwise similarities (three of them printed in sentence-transformers' README); batch against one at a time; pruned shapes; bad input.
@Suite(.enabled(if: TestSupport.haveMiniLM, "run scripts/fetch-models"))
struct BertForwardTests {
    /// Every fixture sentence, embedded as one batch: ids equal, cosine with the reference
    /// ≥ 0.9999 (measured worst: printed), the norm of the raw mean-pooled vector within 1e-4
    /// relative, and the fixture's pairwise cosine similarities within 1e-4.
    @Test func embeddingsMatchReference() throws {
        let embedder = try MiniLMReference.embedder.get()
        let (cases, pairs) = try MiniLMReference.fixture.get()
        #expect(cases.count >= 20)
        #expect(embedder.pooling == .mean && embedder.normalizes && embedder.maxLength == 256)
        for c in cases {
            #expect(embedder.tokenize(c.text) == c.ids, "ids of \(c.text.debugDescription)")
        }
        let ids = cases.map(\.ids)
        let start = Date()
        let embeddings = try embedder.forward.embed(ids)
        let seconds = Date().timeIntervalSince(start)
        let raw = try embedder.forward.meanPooled(ids)
        #expect(embeddings.rows == cases.count && embeddings.cols == 384)
        var worst = 1.0, worstText = ""
        for (i, c) in cases.enumerated() {
            let cos = try SentenceEmbedding.cosineSimilarity(embeddings.row(i), c.embedding)
            if cos < worst { worst = cos; worstText = c.text }
            #expect(cos >= 0.9999, "cosine \(cos) for \(c.text.debugDescription)")
            let norm = raw.row(i).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            #expect(abs(norm - c.meanNorm) <= 1e-4 * c.meanNorm, "mean-pooled norm \(norm) vs \(c.meanNorm)")
            #expect(MiniLMReference.maxDifference(SentenceEmbedding.l2Normalized(raw.row(i)), embeddings.row(i)) < 1e-6)
        }
        for (a, b, want) in pairs {
            let got = try SentenceEmbedding.cosineSimilarity(embeddings.row(a), embeddings.row(b))
            #expect(abs(got - want) <= 1e-4, "pair (\(a), \(b)): \(got) vs \(want)")
        }
        // sentence-transformers' README quickstart prints these, to 4 decimals, for this model.
        #expect(cases[20].text == "The weather is lovely today." && cases[22].text == "He drove to the stadium.")
        for (text, other, published) in [(20, 21, 0.6660), (20, 22, 0.1046), (21, 22, 0.1411)] {
            let got = try SentenceEmbedding.cosineSimilarity(embeddings.row(text), embeddings.row(other))
            #expect(abs(got - published) <= 1e-4, "\(cases[text].text) / \(cases[other].text): \(got), published \(published)")
        }
        let tokens = ids.reduce(0) { $0 + $1.count }
        print("MiniLM embeddings: worst cosine with the float64 reference \(worst) (\(worstText.prefix(40).debugDescription)); "
              + "\(cases.count) sentences, \(tokens) tokens in \(String(format: "%.1f", seconds * 1000)) ms as one batch")
    }

    /// Text in, embedding out: `SentenceEmbedder.embed` and `similarity` agree with the fixture.
    @Test func embedderFromText() throws {
        let embedder = try MiniLMReference.embedder.get()
        let (cases, pairs) = try MiniLMReference.fixture.get()
        let e = try embedder.embed(cases[2].text)
        #expect(try SentenceEmbedding.cosineSimilarity(e, cases[2].embedding) >= 0.9999)
        let (a, b, want) = pairs[0]
        #expect(abs(try embedder.similarity(cases[a].text, cases[b].text) - want) <= 1e-4)
        // Text past max_seq_length is truncated to 256 ids, not refused.
        #expect(embedder.tokenize(String(repeating: "word ", count: 1000)).count == 256)
        #expect(try embedder.embed(String(repeating: "word ", count: 1000)).count == 384)
    }

    /// A batch (packed, each sentence attending to its own tokens) gives what one sentence at a
    /// time gives, whatever the lengths and order; small batch groups give the same too.
    @Test func batchEqualsOneAtATime() throws {
        let embedder = try MiniLMReference.embedder.get()
        let (cases, _) = try MiniLMReference.fixture.get()
        let ids = cases.map(\.ids).reversed() as [[Int32]]
        var start = Date()
        let batch = try embedder.forward.embed(ids)
        let batchSeconds = Date().timeIntervalSince(start)
        var small = embedder.forward
        small.tokensPerBatch = 40
        var calls = 0
        let grouped = try small.embed(ids, progress: ProgressReporter(report: { e in calls += 1; #expect(e.done <= e.total ?? 0) }))
        #expect(calls > 3)
        var worst: Float = 0
        var single = [[Float]]()
        start = Date()
        for s in ids { single.append(try embedder.forward.embed(s)) }
        let singleSeconds = Date().timeIntervalSince(start)
        for (i, one) in single.enumerated() {
            worst = max(worst, MiniLMReference.maxDifference(one, batch.row(i)))
            worst = max(worst, MiniLMReference.maxDifference(one, grouped.row(i)))
        }
        #expect(worst < 1e-5, "batch vs one at a time: max |difference| \(worst)")
        print("MiniLM \(ids.count) sentences: batch vs one at a time max |difference| \(worst); "
              + String(format: "%.1f ms per sentence as one batch, %.1f ms one at a time", batchSeconds * 1000 / Double(ids.count),
                       singleSeconds * 1000 / Double(ids.count)))
        // Hidden states: the packed spans hold each sentence's tokens.
        let states = try embedder.forward.encode(Array(ids.prefix(3)))
        #expect(states.spans.map(\.count) == ids.prefix(3).map(\.count))
        #expect(states.sentence(1).rows == ids[1].count && states.hidden.rows == ids.prefix(3).reduce(0) { $0 + $1.count })
    }

    /// Pruned shapes run: half of block 2's FFN neurons dropped (rows of up and its bias, columns
    /// of down), a block removed, a block with no FFN neurons left; embeddings stay unit vectors
    /// of the right size and close to the dense ones.
    @Test func prunedShapesRun() throws {
        let model = try MiniLMReference.model.get()
        let (cases, _) = try MiniLMReference.fixture.get()
        let ids = cases.prefix(8).map(\.ids)
        let dense = try BertForward(model: model).embed(ids)

        var pruned = model
        let up = try model.matrix(.ffnUp, block: 2), upBias = try model.matrix(.ffnUp, .bias, block: 2)
        let down = try model.matrix(.ffnDown, block: 2)
        let keep = Array(stride(from: 0, to: up.rows, by: 2))
        pruned.set(.ffnUp, block: 2, to: Matrix(rows: keep.count, cols: up.cols) { i, j in up[keep[i], j] })
        pruned.set(.ffnUp, .bias, block: 2, to: try Matrix(rows: 1, cols: keep.count, data: keep.map { upBias.data[$0] }))
        pruned.set(.ffnDown, block: 2, to: Matrix(rows: down.rows, cols: keep.count) { i, j in down[i, keep[j]] })
        pruned.config.intermediateSizes[2] = keep.count
        let weights = try BertWeights(pruned)
        #expect(weights.blocks.map(\.width) == [1536, 1536, 768, 1536, 1536, 1536])
        let half = try BertForward(weights: weights).embed(ids)
        #expect(half.rows == ids.count && half.cols == 384)

        let fewer = try BertForward(model: model.removingBlocks([5])).embed(ids)
        #expect(fewer.rows == ids.count && fewer.cols == 384)

        var empty = model
        empty.set(.ffnUp, block: 0, to: Matrix(rows: 0, cols: 384))
        empty.set(.ffnUp, .bias, block: 0, to: Matrix(rows: 1, cols: 0))
        empty.set(.ffnDown, block: 0, to: Matrix(rows: 384, cols: 0))
        empty.config.intermediateSizes[0] = 0
        let none = try BertForward(model: empty).embed(ids)

        var report = [String]()
        for (name, m) in [("half of block 2", half), ("without block 5", fewer), ("block 0 FFN empty", none)] {
            var lowest = 1.0
            for i in 0..<ids.count {
                let row = m.row(i)
                #expect(row.allSatisfy { $0.isFinite })
                let norm = row.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                #expect(abs(norm - 1) < 1e-5)
                lowest = min(lowest, try SentenceEmbedding.cosineSimilarity(row, dense.row(i)))
            }
            report.append("\(name) \(String(format: "%.4f", lowest))")
        }
        print("MiniLM pruned, lowest cosine with the dense embeddings: " + report.joined(separator: ", "))
        #expect(report.count == 3)
    }

    /// Bad input is a clear error: too many ids for the position table, an id outside the
    /// vocabulary, an empty id list, a model that is not a BERT, vectors of different lengths.
    @Test func badInputThrows() throws {
        let forward = try MiniLMReference.embedder.get().forward
        let long = [Int32](repeating: 1000, count: 513)
        #expect(throws: InferenceError.contextFull(needed: 513, capacity: 512)) { try forward.embed(long) }
        #expect(throws: InferenceError.contextFull(needed: 513, capacity: 512)) { try forward.embed([[101, 102], long]) }
        #expect(throws: InferenceError.badToken(id: 30522, vocabulary: 30522)) { try forward.embed([101, 30522, 102]) }
        #expect(throws: InferenceError.badToken(id: -1, vocabulary: 30522)) { try forward.embed([101, -1, 102]) }
        #expect(throws: InferenceError.self) { try forward.embed([]) }
        #expect(try forward.embed([[Int32]]()).rows == 0)
        #expect(try forward.embed(Array(long.prefix(512))).count == 384)
        let error = try #require(throws: InferenceError.self) { try forward.embed(long) }
        #expect(error.description == "the context holds 512 tokens, 513 were needed")
        #expect(throws: InferenceError.self) { try SentenceEmbedding.cosineSimilarity([1, 2], [1]) }
        if TestSupport.haveSmolLM {
            #expect(throws: ModelError.self) { try BertWeights(ModelLoader.load(TestSupport.smolLMPath)) }
        }
    }

    /// The observer (calibration capture) sees every block's input, the last block's output and
    /// the four linear-input sites per block, with the batch's packed token rows.
    @Test func observerSeesEveryBlock() throws {
        final class Log: @unchecked Sendable {
            let lock = NSLock()
            var events = [String]()
            func add(_ s: String) { lock.lock(); events.append(s); lock.unlock() }
        }
        let log = Log()
        var forward = try MiniLMReference.embedder.get().forward
        forward.observer = { event in
            switch event {
            case let .blockInput(block, hidden, rows): log.add("in \(block) \(rows) \(hidden.count)")
            case let .linearInput(block, role, input, rows): log.add("\(role.rawValue) \(block) \(rows) \(input.count / rows)")
            }
        }
        let states = try forward.encode([[101, 7592, 102], [101, 2088, 2003, 102]])
        let blocks = forward.weights.blocks.count
        #expect(log.events.count == 5 * blocks + 1)
        #expect(log.events.prefix(5) == ["in 0 7 2688", "attentionQuery 0 7 384", "attentionOutput 0 7 384", "ffnUp 0 7 384", "ffnDown 0 7 1536"])
        #expect(log.events.last == "in \(blocks) 7 2688")
        #expect(states.hidden.rows == 7)
    }

    /// The vector helpers: cosine similarity and L2 normalisation on small known cases.
    @Test func vectorHelpers() throws {
        #expect(try SentenceEmbedding.cosineSimilarity([1, 0], [0, 1]) == 0)
        #expect(abs(try SentenceEmbedding.cosineSimilarity([1, 2, 3], [2, 4, 6]) - 1) < 1e-12)
        #expect(abs(try SentenceEmbedding.cosineSimilarity([1, 0], [-1, 0]) + 1) < 1e-12)
        #expect(try SentenceEmbedding.cosineSimilarity([0, 0], [1, 1]) == 0)
        #expect(SentenceEmbedding.l2Normalized([3, 4]) == [0.6, 0.8])
        #expect(SentenceEmbedding.l2Normalized([0, 0]) == [0, 0])
    }
}
