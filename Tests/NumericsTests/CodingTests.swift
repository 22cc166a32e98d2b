import Foundation
import XCTest
@testable import Numerics

/// The entropy coders and the teaching quantiser against scipy/numpy references
/// (Tests/fixtures/make_coding_fixtures.py), round trips, bounds and corrupt-input fuzzing.
final class CodingTests: XCTestCase {
    struct Fixture: Decodable {
        struct EntropyCase: Decodable { let counts: [Int]; let bits: Double }
        struct M: Decodable { let rows: Int; let cols: Int; let data: [Double] }
        struct Q: Decodable {
            let matrix: String; let bits: Int; let symmetric: Bool; let groups: String
            let codes: [Int]; let scales: [Double]; let zero_points: [Int]; let dequantized: [Double]
            let mse: Double; let snr_db: Double?; let max_error: Double
        }
        let entropy: [EntropyCase]
        let matrices: [String: M]
        let quantize: [Q]
    }

    func testEntropyMatchesScipy() throws {
        let f: Fixture = try Fixtures.load("coding.json")
        for c in f.entropy {
            XCTAssertEqual(shannonEntropy(counts: c.counts), c.bits, accuracy: 1e-12, "\(c.counts)")
        }
        XCTAssertEqual(shannonEntropy(counts: []), 0)
        XCTAssertEqual(try shannonEntropy([3, 3, -0.0, 0.0]), 1, accuracy: 1e-15)  // -0 and 0 are one symbol
        XCTAssertThrowsError(try shannonEntropy([1, .nan]))
    }

    func testQuantizationMatchesNumpy() throws {
        let f: Fixture = try Fixtures.load("coding.json")
        XCTAssertEqual(f.quantize.count, 36)
        for r in f.quantize {
            let m = f.matrices[r.matrix]!
            let w = try Matrix(rows: m.rows, cols: m.cols, data: m.data.map { Float($0) })
            let groups: QuantizationGroups = r.groups == "tensor" ? .tensor : r.groups == "row" ? .row : .block(Int(r.groups.dropFirst(5))!)
            let q = try quantizeRTN(w, bits: r.bits, symmetric: r.symmetric, groups: groups)
            let tag = "\(r.matrix) \(r.bits) bits \(r.symmetric ? "sym" : "asym") \(r.groups)"
            XCTAssertEqual(q.codes.map(Int.init), r.codes, tag)
            XCTAssertEqual(q.scales.map(Double.init), r.scales, tag)
            XCTAssertEqual(q.zeroPoints.map(Int.init), r.zero_points, tag)
            XCTAssertEqual(q.dequantized.data.map(Double.init), r.dequantized, tag)
            XCTAssertEqual(q.mse, r.mse, accuracy: 1e-12 * max(1, r.mse), tag)
            XCTAssertEqual(q.maxError, r.max_error, accuracy: 1e-12, tag)
            if let snr = r.snr_db { XCTAssertEqual(q.snrDB, snr, accuracy: 1e-9, tag) } else { XCTAssertEqual(q.snrDB, .infinity, tag) }
            // Pruned zeros stay exactly zero, in both forms.
            for (x, y) in zip(w.data, q.dequantized.data) where x == 0 { XCTAssertEqual(y, 0, tag) }
        }
    }

    func testQuantizationErrorsAndExactCases() throws {
        let w = try Matrix([[1, -2], [3, 4]])
        XCTAssertThrowsError(try quantizeRTN(w, bits: 1))
        XCTAssertThrowsError(try quantizeRTN(w, bits: 9))
        XCTAssertThrowsError(try quantizeRTN(w, bits: 4, groups: .block(0)))
        XCTAssertThrowsError(try quantizeRTN(try Matrix([[1, .nan]]), bits: 4))
        // 8-bit symmetric of integers within ±127 with max 127 is exact.
        let ints = try Matrix([[127, -3, 0, 5]])
        let q = try quantizeRTN(ints, bits: 8)
        XCTAssertEqual(q.dequantized, ints)
        XCTAssertEqual(q.snrDB, .infinity)
        XCTAssertEqual(q.codedCount, 3)
    }

    // MARK: Huffman

    func lcg(_ n: Int, seed: UInt64, _ f: (Double) -> Int) -> [Int] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return f(Double(s >> 11) / Double(1 << 53))
        }
    }

    func counts(_ xs: [Int], _ alphabet: Int) -> [Int] {
        var c = [Int](repeating: 0, count: alphabet)
        for x in xs { c[x] += 1 }
        return c
    }

    func testHuffmanRoundTripsAndBound() throws {
        // Empty.
        let empty = try HuffmanCode(counts: [])
        XCTAssertEqual(try empty.decode(try empty.encode([])), [])
        XCTAssertEqual(try empty.encode([]), [0])
        // One symbol: one bit each.
        let one = try HuffmanCode(counts: [0, 0, 9])
        XCTAssertEqual(one.lengths, [0, 0, 1])
        let nine = [Int](repeating: 2, count: 9)
        XCTAssertEqual(try one.decode(try one.encode(nine)), nine)
        XCTAssertEqual(try one.encode(nine).count, 1 + 2)
        // All equal counts: a complete code of equal-ish lengths.
        let eq = try HuffmanCode(counts: [Int](repeating: 5, count: 8))
        XCTAssertEqual(eq.lengths, [Int](repeating: 3, count: 8))
        XCTAssertEqual((0..<8).map { eq.codeString($0) }, ["000", "001", "010", "011", "100", "101", "110", "111"])
        // Random 1e5 from a quantised Gaussian: round trip and entropy ≤ average < entropy + 1.
        let xs = lcg(100_000, seed: 1) { u in
            let g = sqrt(-2 * log(max(u, 1e-300))) * cos(2 * .pi * u * 7.77)
            return min(15, max(0, Int((g * 2.5 + 8).rounded())))
        }
        let code = try HuffmanCode(counts: counts(xs, 16))
        let bytes = try code.encode(xs)
        XCTAssertEqual(try code.decode(bytes), xs)
        XCTAssertLessThanOrEqual(code.entropy, code.averageLength)
        XCTAssertLessThan(code.averageLength, code.entropy + 1)
        XCTAssertEqual(bytes.count, (code.payloadBits + 7) / 8 + 3)
        // Kraft equality for a complete code.
        let kraft = code.lengths.filter { $0 > 0 }.reduce(0.0) { $0 + pow(2, -Double($1)) }
        XCTAssertEqual(kraft, 1, accuracy: 1e-12)
        // A symbol that was not counted cannot be encoded.
        XCTAssertThrowsError(try one.encode([0]))
    }

    func testHuffmanLengthLimitOnFibonacciCounts() throws {
        var fib = [1, 1]
        while fib.count < 40 { fib.append(fib[fib.count - 1] + fib[fib.count - 2]) }
        let free = try HuffmanCode(counts: fib, maxLength: 57)
        XCTAssertEqual(free.lengths.max(), 39)  // the optimal tree is a chain
        XCTAssertFalse(free.wasLengthLimited)
        let capped = try HuffmanCode(counts: fib)
        XCTAssertLessThanOrEqual(capped.lengths.max()!, 32)
        XCTAssertTrue(capped.wasLengthLimited)
        let small = try HuffmanCode(counts: fib, maxLength: 8)
        XCTAssertLessThanOrEqual(small.lengths.max()!, 8)
        let xs = (0..<40).flatMap { [Int](repeating: $0, count: 1 + $0 % 3) }
        for c in [capped, small] { XCTAssertEqual(try c.decode(try c.encode(xs)), xs) }
        XCTAssertThrowsError(try HuffmanCode(counts: [Int](repeating: 1, count: 300), maxLength: 8))
    }

    // MARK: rANS

    func testRANSWithinOnePercentOfEntropy() throws {
        for (seed, alphabet, spread) in [(UInt64(2), 16, 2.5), (3, 256, 30.0), (4, 4, 0.6)] {
            let xs = lcg(200_000, seed: seed) { u in
                let g = sqrt(-2 * log(max(u, 1e-300))) * cos(2 * .pi * u * 13.1)
                return min(alphabet - 1, max(0, Int((g * spread + Double(alphabet) / 2).rounded())))
            }
            let r = try RANSCode(counts: counts(xs, alphabet))
            let bytes = try r.encode(xs)
            XCTAssertEqual(try r.decode(bytes), xs)
            let ideal = r.entropy * Double(xs.count) / 8
            XCTAssertLessThan(Double(bytes.count), ideal * 1.01, "alphabet \(alphabet): \(bytes.count) bytes against \(ideal)")
            XCTAssertGreaterThan(Double(bytes.count), ideal * 0.999)
            XCTAssertGreaterThan(r.tableBytes, 0)
        }
    }

    func testRANSEdgeCases() throws {
        let empty = try RANSCode(counts: [])
        XCTAssertEqual(try empty.decode(try empty.encode([])), [])
        let one = try RANSCode(counts: [0, 5])
        let ones = [Int](repeating: 1, count: 1000)
        let b = try one.encode(ones)
        XCTAssertEqual(b.count, 2 + 4)  // a one-symbol alphabet costs nothing but the state
        XCTAssertEqual(try one.decode(b), ones)
        // Very skewed: one symbol 1e5 times, others once.
        var xs = [Int](repeating: 0, count: 100_000)
        for k in 1..<50 { xs[k * 1999] = k }
        let skew = try RANSCode(counts: counts(xs, 50))
        XCTAssertEqual(try skew.decode(try skew.encode(xs)), xs)
        let h = try HuffmanCode(counts: counts(xs, 50))
        XCTAssertEqual(try h.decode(try h.encode(xs)), xs)
        XCTAssertThrowsError(try one.encode([0]))
    }

    /// Corrupt streams give a CodingError, never a crash or hang.
    func testDecodersRejectCorruptBytes() throws {
        let xs = lcg(5000, seed: 9) { Int($0 * $0 * 12) }
        let hc = try HuffmanCode(counts: counts(xs, 12))
        let rc = try RANSCode(counts: counts(xs, 12))
        let hb = try hc.encode(xs), rb = try rc.encode(xs)
        var rng = SeededRandom(seed: 5)
        var huffErrors = 0, ransErrors = 0
        for trial in 0..<300 {
            for (isHuff, good) in [(true, hb), (false, rb)] {
                var bad = good
                switch trial % 4 {
                case 0: bad = Array(bad.prefix(Int(rng.next() % UInt64(bad.count))))
                case 1: let i = Int(rng.next() % UInt64(bad.count)); bad[i] ^= UInt8(1 << (rng.next() % 8))
                case 2: bad.append(UInt8(rng.next() & 0xFF))
                default: bad = (0..<Int(rng.next() % 64)).map { _ in UInt8(rng.next() & 0xFF) }
                }
                do {
                    let out = isHuff ? try hc.decode(bad) : try rc.decode(bad)
                    // A flip inside Huffman code words can decode to other symbols of the same count.
                    if out == xs { XCTAssertEqual(bad, good) }
                } catch is CodingError {
                    if isHuff { huffErrors += 1 } else { ransErrors += 1 }
                }
            }
        }
        XCTAssertGreaterThan(huffErrors, 150)
        XCTAssertGreaterThan(ransErrors, 250)
        XCTAssertThrowsError(try hc.decode([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]))
        XCTAssertThrowsError(try rc.decode([0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0x80, 0]))
    }

    // MARK: Pattern and stages

    func testPatternCosts() throws {
        // 10% non-zero at random positions: run-length beats the bitmap and positions.
        var rng = SeededRandom(seed: 11)
        let mask = (0..<100_000).map { _ in rng.next() % 10 == 0 }
        let p = PatternCost(mask: mask)
        XCTAssertEqual(p.bitmapBits, 100_000)
        XCTAssertEqual(p.positionBits, p.nonzeros * 17)
        XCTAssertEqual(p.cheapest.method, "run-length")
        XCTAssertGreaterThan(Double(p.runLengthBits), p.boundBits)
        XCTAssertLessThan(Double(p.runLengthBits), p.boundBits * 1.05)
        // Regular, very sparse: ten survivors with equal gaps cost a few bytes by run-length.
        let sparse = PatternCost(mask: (0..<10_000).map { $0 % 1000 == 999 })
        XCTAssertEqual(sparse.cheapest.method, "run-length")
        XCTAssertLessThan(sparse.runLengthBits, 100)
        // The exercise's arithmetic form: 1e8 weights, 10% kept.
        let e = PatternCost(count: 100_000_000, nonzeros: 10_000_000)
        XCTAssertEqual(e.bitmapBits, 100_000_000)
        XCTAssertEqual(e.positionBits, 10_000_000 * 27)
        XCTAssertEqual(Double(e.runLengthBits) / 8e6, 5.8624, accuracy: 1e-3)  // 1e8 · H(0.1) bits ≈ 5.86 MB
    }

    func testCompressionStages() throws {
        var rng = SeededRandom(seed: 3)
        let w = Matrix(rows: 64, cols: 128) { _, _ in
            let u = Float(rng.uniform())
            return u < 0.5 ? 0 : Float(rng.uniform() - 0.5)
        }
        let s = try CompressionStages(w, bits: 4, groups: .row)
        XCTAssertEqual(s.denseBytes, 64 * 128 * 4)
        XCTAssertEqual(s.prunedBytes, s.nonzeros * 4 + s.patternBytes)
        XCTAssertEqual(s.quantizedBytes, (s.nonzeros * 4 + 7) / 8 + s.patternBytes + 64 * 4)
        XCTAssertLessThan(s.codedBytes, s.quantizedBytes)
        // With an entropy coder, 0 as a symbol costs about what the pattern does (n·H(p)): the
        // stage takes whichever is smaller, and its stream is within 1% of its codes' entropy.
        let codedCount = s.codedUsesPattern ? s.nonzeros : s.elements
        XCTAssertLessThan(Double(s.ransStreamBytes), s.codeEntropy * Double(codedCount) / 8 * 1.01 + 6)
        XCTAssertTrue(s.quantizedUsesPattern)
        // A stray zero is cheaper coded as a value than with a pattern.
        var d = Matrix(rows: 64, cols: 128) { i, j in Float(i * 128 + j % 17) * 0.001 + 0.01 }
        d[3, 3] = 0
        let ds = try CompressionStages(d, bits: 4, groups: .row)
        XCTAssertFalse(ds.quantizedUsesPattern)
        XCTAssertFalse(ds.codedUsesPattern)
        XCTAssertEqual(ds.prunedBytes, ds.denseBytes)
        XCTAssertEqual(ds.quantizedBytes, 64 * 128 / 2 + 64 * 4)
        XCTAssertEqual(packCodes([1, -1, 7, 0], bits: 4), [0xF1, 0x07])
        XCTAssertEqual(packCodes([1, 2, 3], bits: 3), [0b11_010_001, 0])
    }
}
