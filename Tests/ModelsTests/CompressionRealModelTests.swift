import Foundation
import Models
import Numerics
import TestHelpers
import XCTest

/// The entropy-coded stage against the general-purpose compressors a user would try (zstd -19,
/// xz -9) on the same k-bit quantised bytes: every weight's code packed 4 bits wide plus the
/// Float32 scales. On SmolLM2's block-0 gate (dense, and magnitude-pruned to 50% in the matrix)
/// and on a synthetic Gaussian matrix (ours: the rANS-coded codes, the pattern when cheaper, and
/// the scales coded by byte planes; theirs: the packed file, scales included); needs the `zstd` and `xz` tools (scripts/ensure-deps).
final class CompressionRealModelTests: XCTestCase {
    func compare(_ name: String, _ w: Matrix, zstd: String, xz: String) throws -> (ours: Int, zstd: Int, xz: Int) {
        let s = try CompressionStages(w, bits: 4, groups: .block(32))
        let all = try quantizeRTN(w, bits: 4, groups: .block(32), keepZeros: false)
        var file = packCodes(all.codes, bits: 4)
        for x in all.scales { withUnsafeBytes(of: x.bitPattern.littleEndian) { file.append(contentsOf: $0) } }
        XCTAssertEqual(file.count, (w.count * 4 + 7) / 8 + all.scales.count * 4)
        let z = try TestSupport.compressedSize(zstd, ["-19", "-q"], file)
        let x = try TestSupport.compressedSize(xz, ["-9"], file)
        print("compression \(name): \(w.count) weights, \(s.nonzeros) non-zero; 4-bit file \(file.count) B; entropy \(String(format: "%.3f", s.codeEntropy)) bits/code; ours \(s.codedBytes) B (rANS \(s.ransStreamBytes) + table \(s.ransTableBytes) + pattern \(s.codedUsesPattern ? s.patternBytes : 0) + scales \(s.codedScaleBytes) of \(s.scaleBytes)); Huffman \(s.huffmanBytes) B; zstd -19 \(z) B; xz -9 \(x) B")
        return (s.codedBytes, z, x)
    }

    func testEntropyCodingBeatsZstdAndXzOnQuantisedWeights() throws {
        guard let zstd = TestSupport.tool("zstd"), let xz = TestSupport.tool("xz") else { throw XCTSkip("zstd or xz is not installed (scripts/ensure-deps installs them)") }
        var rng = SeededRandom(seed: 23)
        let g = rng.normalMatrix(rows: 512, cols: 512)
        let r = try compare("gaussian 512×512", g, zstd: zstd, xz: xz)
        XCTAssertLessThan(r.ours, r.zstd)
        XCTAssertLessThan(r.ours, r.xz)
        guard TestSupport.haveSmolLM else { throw XCTSkip("SmolLM2 is not fetched (scripts/fetch-models)") }
        let model = try ModelLoader.load(TestSupport.smolLMPath)
        let gate = try model.matrix(.ffnGate, block: 0)
        let d = try compare("SmolLM2 blk.0.ffn_gate (Q4_1 source)", gate, zstd: zstd, xz: xz)
        XCTAssertLessThan(d.ours, d.zstd)
        // SmolLM2's weights come from Q4_1 blocks (16 levels per 32 weights): xz's context model
        // finds some of that structure, which an order-0 coder cannot; ours stays within 2% of it.
        XCTAssertLessThan(Double(d.ours), Double(d.xz) * 1.02)
        // Magnitude-pruned to 50% within the matrix.
        let threshold = gate.data.map(abs).sorted()[gate.count / 2]
        let pruned = gate.map { abs($0) < threshold ? 0 : $0 }
        let p = try compare("SmolLM2 blk.0.ffn_gate, 50% magnitude-pruned", pruned, zstd: zstd, xz: xz)
        XCTAssertLessThan(p.ours, p.zstd)
        XCTAssertLessThan(Double(p.ours), Double(p.xz) * 1.02)
    }
}
