import Foundation
import Testing
@testable import Numerics

/// SeededRandom against its Python twin in make_linalg_fixtures.py: same seed, same numbers.
struct RandomTests {
    struct Case: Decodable { let seed: String; let raw_hex: [String]; let uniform: [Double]; let normal: [Double]; let gumbel: [Double] }
    struct File: Decodable { let cases: [Case] }

    @Test func streamsMatchTheReference() throws {
        for c in try Fixtures.load("rng.json", as: File.self).cases {
            let seed = UInt64(c.seed)!
            var r = SeededRandom(seed: seed)
            #expect((0..<8).map { _ in String(r.next(), radix: 16).leftPadded(16) } == c.raw_hex, "seed \(seed)")
            r = SeededRandom(seed: seed)
            #expect((0..<8).map { _ in r.uniform() } == c.uniform)
            r = SeededRandom(seed: seed)
            for (got, want) in zip((0..<9).map { _ in r.normal() }, c.normal) {
                #expect(abs(got - want) <= 1e-14 * max(1, abs(want)))
            }
            r = SeededRandom(seed: seed)
            for (got, want) in zip((0..<8).map { _ in r.gumbel() }, c.gumbel) {
                #expect(abs(got - want) <= 1e-14 * max(1, abs(want)))
            }
        }
    }

    @Test func samplingWithoutReplacementIsDistinctAndWeighted() throws {
        var r = SeededRandom(seed: 5)
        let weights: [Double] = [8, 4, 2, 1, 0]
        var firstCounts = [Int](repeating: 0, count: 5)
        for _ in 0..<15_000 {
            let draw = try r.sampleWithoutReplacement(weights: weights, count: 4)
            #expect(Set(draw).count == 4)
            #expect(!draw.contains(4), "a zero-weight item is drawn only after every positive one")
            firstCounts[draw[0]] += 1
        }
        // P(first = i) = wᵢ / Σw: 8/15, 4/15, 2/15, 1/15 (± 4 standard errors).
        for i in 0..<4 {
            let p = weights[i] / 15
            let se = (p * (1 - p) / 15_000).squareRoot()
            #expect(abs(Double(firstCounts[i]) / 15_000 - p) < 4 * se, "item \(i)")
        }
        // P(second = 1 | first = 0) = 4/7: check the sequential (Plackett–Luce) law, not just the first draw.
        var afterZero = 0, secondIsOne = 0
        for _ in 0..<15_000 {
            let d = try r.sampleWithoutReplacement(weights: weights, count: 2)
            if d[0] == 0 { afterZero += 1; if d[1] == 1 { secondIsOne += 1 } }
        }
        let p = 4.0 / 7
        #expect(abs(Double(secondIsOne) / Double(afterZero) - p) < 4 * (p * (1 - p) / Double(afterZero)).squareRoot())
    }

    @Test func samplingRejectsImpossibleRequests() {
        var r = SeededRandom(seed: 1)
        #expect(throws: NumericsError.self) { try r.sampleWithoutReplacement(weights: [1, 2], count: 3) }
        #expect(throws: NumericsError.self) { try r.sampleWithoutReplacement(weights: [1, -2], count: 1) }
        #expect(throws: NumericsError.self) { try r.sampleWithoutReplacement(weights: [1, .nan], count: 1) }
    }

    @Test func normalMomentsAreStandard() {
        var r = SeededRandom(seed: 3)
        let xs = (0..<200_000).map { _ in r.normal() }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)
        #expect(abs(mean) < 0.01)
        #expect(abs(variance - 1) < 0.01)
    }
}

extension String {
    /// Left-pads with zeros to `width` characters.
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
