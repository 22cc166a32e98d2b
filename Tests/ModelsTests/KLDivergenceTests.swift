import Foundation
import Testing
import Numerics
@testable import Models

/// KL divergence as llama.cpp's `perplexity --kl-divergence` reports it, on small hand-made logits
/// whose expected values come from an independent numpy computation
/// (Tests/fixtures/make_kld_fixtures.py → Tests/fixtures/models/kld.json): per token KL(base ‖ model),
/// top-1 agreement and both negative log-likelihoods; over the tokens the mean, maximum, llama.cpp's
/// percentiles and median, the top-1 fraction, both perplexities and Δppl.
struct KLDivergenceTests {
    struct Fixture: Decodable {
        struct Row: Decodable {
            let base: [Float], model: [Float], target: Int32
            let kl: Double, same_top: Bool, nll: Double, base_nll: Double
        }
        struct Summary: Decodable {
            let tokens: Int
            let mean: Double, max: Double, min: Double, median: Double
            let percentiles: [String: Double]
            let top1: Double, ppl: Double, base_ppl: Double, delta_ppl: Double
        }
        let vocab: Int
        let rows: [Row]
        let summary: Summary
    }

    static func fixture() throws -> Fixture {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: TestSupport.fixtures.appendingPathComponent("kld.json")))
    }

    /// |a − b| within 1e-12 absolute plus 1e-10 relative (both sides are Float64 sums over six terms
    /// of the same Float32 logits).
    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 + 1e-10 * abs(b) }

    /// The fixture's rows as the two logit matrices `compare` takes, split into chunks of `chunk`
    /// rows (evaluate scores up to 64 positions at a time), accumulated into a result the way
    /// `KLDivergence.evaluate` accumulates its windows.
    static func accumulate(_ f: Fixture, chunk: Int) throws -> KLDivergenceResult {
        var result = KLDivergenceResult(context: 0, windows: 1)
        var start = 0
        while start < f.rows.count {
            let rows = Array(f.rows[start..<min(start + chunk, f.rows.count)])
            let model = try Matrix(rows: rows.count, cols: f.vocab, data: rows.flatMap(\.model))
            let base = try Matrix(rows: rows.count, cols: f.vocab, data: rows.flatMap(\.base))
            let s = KLDivergence.compare(model: model, base: base, targets: rows.map(\.target))
            result.perToken += s.kl
            result.sameTop += s.sameTop.filter { $0 }.count
            result.nll += s.nll.reduce(0, +)
            result.baseNLL += s.baseNLL.reduce(0, +)
            start += chunk
        }
        return result
    }

    @Test func perTokenValuesMatchNumpy() throws {
        let f = try Self.fixture()
        #expect(f.rows.count == f.summary.tokens && f.rows.count >= 10)
        let model = try Matrix(rows: f.rows.count, cols: f.vocab, data: f.rows.flatMap(\.model))
        let base = try Matrix(rows: f.rows.count, cols: f.vocab, data: f.rows.flatMap(\.base))
        let s = KLDivergence.compare(model: model, base: base, targets: f.rows.map(\.target))
        #expect(s.kl.count == f.rows.count)
        for (i, r) in f.rows.enumerated() {
            #expect(Self.close(s.kl[i], r.kl), "row \(i): KL \(s.kl[i]) against numpy's \(r.kl)")
            #expect(s.sameTop[i] == r.same_top, "row \(i): same top")
            #expect(Self.close(s.nll[i], r.nll), "row \(i): nll \(s.nll[i]) against \(r.nll)")
            #expect(Self.close(s.baseNLL[i], r.base_nll), "row \(i): base nll \(s.baseNLL[i]) against \(r.base_nll)")
            #expect(s.kl[i] > -1e-12, "row \(i): KL is never negative beyond rounding")
        }
        // The fixture exercises both outcomes of top-1 and a row whose logits would overflow exp in Float32.
        #expect(f.rows.contains { !$0.same_top } && f.rows.contains { $0.same_top })
        #expect(f.rows.contains { ($0.base.max() ?? 0) > 88 })
    }

    @Test(arguments: [1, 5, 64])
    func summaryMatchesNumpy(chunk: Int) throws {
        let f = try Self.fixture()
        let r = try Self.accumulate(f, chunk: chunk)
        let e = f.summary
        #expect(r.tokens == e.tokens)
        #expect(Self.close(r.mean, e.mean), "mean \(r.mean) against \(e.mean)")
        #expect(Self.close(r.maximum, e.max))
        #expect(Self.close(r.sameTopFraction, e.top1), "top-1 \(r.sameTopFraction) against \(e.top1)")
        #expect(Self.close(r.perplexity, e.ppl), "ppl \(r.perplexity) against \(e.ppl)")
        #expect(Self.close(r.basePerplexity, e.base_ppl), "base ppl \(r.basePerplexity) against \(e.base_ppl)")
        #expect(Self.close(r.perplexity - r.basePerplexity, e.delta_ppl), "Δppl against \(e.delta_ppl)")
        for level in KLDivergenceResult.levels {
            let key = level == level.rounded() ? String(Int(level)) : String(level)
            let expected = try #require(e.percentiles[key], "percentile \(key) missing from kld.json")
            #expect(Self.close(r.percentile(level), expected), "percentile \(key): \(r.percentile(level)) against \(expected)")
        }
        // llama.cpp prints the median as the mean of the two middle values (an even count here):
        // the 50th percentile by interpolation is that same value.
        #expect(e.tokens % 2 == 0)
        #expect(Self.close(r.percentile(50), e.median))
        #expect(Self.close(r.percentile(0), e.min) && Self.close(r.percentile(100), e.max))
    }

    @Test func percentileInterpolatesBetweenRanks() {
        // Closed form: sorted [0, 10, 20, 30, 40]; p = f·4, so 90% → 36, 10% → 4, 62.5% → 25, 50% → 20.
        let v: [Double] = [0, 10, 20, 30, 40]
        #expect(KLDivergenceResult.percentile(v, 90) == 36)
        #expect(KLDivergenceResult.percentile(v, 10) == 4)
        #expect(KLDivergenceResult.percentile(v, 62.5) == 25)
        #expect(KLDivergenceResult.percentile(v, 50) == 20)
        #expect(KLDivergenceResult.percentile(v, 0) == 0 && KLDivergenceResult.percentile(v, 100) == 40)
        // Even count: the median is the mean of the middle pair; one value is every percentile; none gives 0.
        #expect(KLDivergenceResult.percentile([1, 2, 4, 8], 50) == 3)
        #expect(KLDivergenceResult.percentile([7], 99.9) == 7 && KLDivergenceResult.percentile([7], 0.1) == 7)
        #expect(KLDivergenceResult.percentile([], 50) == 0)
        // The instance method sorts first.
        let r = KLDivergenceResult(perToken: [40, 0, 30, 10, 20])
        #expect(r.percentile(90) == 36)
    }

    @Test func closedFormTwoTokens() throws {
        // base logits (0, 0): p = (1/2, 1/2); model logits (ln 3, 0): q = (3/4, 1/4).
        // KL(p ‖ q) = ½ ln(½ / ¾) + ½ ln(½ / ¼) = ½ ln(4/3); −log q(token 1) = ln 4; −log p(token 1) = ln 2.
        let ln3 = Float(log(3.0))
        let s = KLDivergence.compare(model: try Matrix(rows: 1, cols: 2, data: [ln3, 0]),
                                     base: try Matrix(rows: 1, cols: 2, data: [0, 0]), targets: [1])
        // ln 3 rounded to Float32 moves q by at most ~1e-7, so the closed forms hold to 1e-6.
        #expect(abs(s.kl[0] - 0.5 * log(4.0 / 3.0)) < 1e-6)
        #expect(abs(s.nll[0] - log(4.0)) < 1e-6)
        #expect(abs(s.baseNLL[0] - log(2.0)) < 1e-15)
        // Base has a tie at the top: its first maximum (token 0) is its top, as numpy's argmax.
        #expect(s.sameTop[0])
        // KL is not symmetric: KL(q ‖ p) = ¾ ln(3/2) + ¼ ln(1/2) differs.
        let swapped = KLDivergence.compare(model: try Matrix(rows: 1, cols: 2, data: [0, 0]),
                                           base: try Matrix(rows: 1, cols: 2, data: [ln3, 0]), targets: [1])
        #expect(abs(swapped.kl[0] - (0.75 * log(1.5) + 0.25 * log(0.5))) < 1e-6)
        #expect(abs(swapped.kl[0] - s.kl[0]) > 1e-3)
    }
}
