import Foundation
import Testing
import Numerics
import TestHelpers
@testable import Models

/// GGUF blocks entropy-coded as stored, field by field (`StoredBlockCoding`): lossless for every
/// type with a layout, never larger than the blocks, and smaller than zstd -19 on the same bytes.
struct StoredBlockCodingTests {
    /// Random weights with a few large ones, as trained weights have.
    static func weights(_ n: Int, seed: UInt64) -> [Float] {
        var random = SeededRandom(seed: seed)
        return (0..<n).map { i in Float(random.normal()) * 0.02 * (i % 97 == 0 ? 6 : 1) }
    }

    /// Every layout's fields tile its block exactly, in byte order.
    @Test func layoutsTileTheirBlocks() {
        for type in GGMLType.allCases {
            guard let fields = StoredBlockCoding.fields(of: type) else { continue }
            var next = 0
            for f in fields {
                #expect(f.offset == next, "\(type.name) \(f.name) starts at \(f.offset), not \(next)")
                next = f.offset + f.length
            }
            #expect(next == type.bytesPerBlock, "\(type.name): fields cover \(next) of \(type.bytesPerBlock) bytes")
        }
    }

    /// Encoded by the quantiser (llama.cpp's bytes), coded and decoded: the same bytes, and the
    /// coded size at most the stored size. 1 block (a stream of few symbols) and 64 rows of 512.
    @Test(arguments: [GGMLType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .f16])
    func decodesToTheStoredBytes(type: GGMLType) throws {
        for count in [type.blockSize == 1 ? 1 : type.blockSize, 64 * 512] {
            let bytes = [UInt8](try GGMLQuantizer.encode(Self.weights(count, seed: UInt64(count)), as: type))
            let coding = try bytes.withUnsafeBytes { try StoredBlockCoding($0, type: type) }
            #expect(coding.storedBytes == bytes.count)
            #expect(coding.codedBytes <= coding.storedBytes, "\(type.name): \(coding.codedBytes) > \(coding.storedBytes)")
            #expect(try coding.decode() == bytes, "\(type.name), \(count) weights")
        }
    }

    @Test func refusesBytesItCannotRead() {
        #expect(throws: CodingError.self) { try [UInt8](repeating: 0, count: 17).withUnsafeBytes { try StoredBlockCoding($0, type: .q4_0) } }
        #expect(throws: CodingError.self) { try [UInt8](repeating: 0, count: 8).withUnsafeBytes { try StoredBlockCoding($0, type: .i64) } }
    }

    /// Against zstd -19 on the same stored bytes (scripts/ensure-deps installs zstd): SmolLM2's
    /// block-0 gate as its file stores it (Q4_1), and the same gate 50% magnitude-pruned as Q4_0
    /// (the zeros are one nibble, 8, which the order-0 code prices at about a bit).
    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func smallerThanZstdOnTheStoredBytes() throws {
        guard let zstd = TestSupport.tool("zstd") else {
            Issue.record("zstd is not installed (scripts/ensure-deps installs it)")
            return
        }
        let model = try ModelLoader.load(TestSupport.smolLMPath)
        let tensor = try #require(model.tensor(.ffnGate, block: 0))
        guard case let .gguf(file, info) = tensor.storage else { Issue.record("the gate is not a GGUF tensor"); return }
        let stored = try file.rawBytes(of: info).withUnsafeBytes { [UInt8]($0) }
        let gate = try tensor.matrix()
        let threshold = gate.data.map(abs).sorted()[gate.count / 2]
        let pruned = [UInt8](try GGMLQuantizer.encode(gate.data.map { abs($0) < threshold ? 0 : $0 }, as: .q4_0))
        for (name, type, bytes) in [("Q4_1 as stored", info.type, stored), ("50% pruned, Q4_0", GGMLType.q4_0, pruned)] {
            let ours = try bytes.withUnsafeBytes { try StoredBlockCoding($0, type: type) }.codedBytes
            let theirs = try TestSupport.compressedSize(zstd, ["-19", "-q"], bytes)
            let bits = { (b: Int) in String(format: "%.3f", Double(b) * 8 / Double(gate.count)) }
            print("stored-block coding, SmolLM2 blk.0.ffn_gate \(name): \(bytes.count) B (\(bits(bytes.count)) bits/w), ours \(ours) B (\(bits(ours))), zstd -19 \(theirs) B (\(bits(theirs)))")
            #expect(ours < theirs, "\(name): ours \(ours) B, zstd -19 \(theirs) B")
        }
    }
}
