import Foundation
import Testing
import Numerics
import Models

/// PruneLang's ggml quantisers against llama.cpp's own (`llama_model_quantize`, pure, no importance
/// matrix) on the weights of Tests/fixtures/make_ggml_quant_fixtures.py: every tensor's bytes, for
/// the legacy types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and the k-quants Q2_K … Q6_K.
struct GGMLQuantizerTests {
    struct Fixture: Decodable {
        struct Tensor: Decodable { let name: String; let shape: [Int] }
        struct Quantized: Decodable { let name: String; let type: String; let checksum: String }
        let tensors: [Tensor]
        let types: [String: [Quantized]]
    }

    static func fixture() throws -> (Fixture, [[Float]]) {
        let dir = TestSupport.fixtures
        let spec = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: dir.appendingPathComponent("ggml_quant.json")))
        let raw = try Data(contentsOf: dir.appendingPathComponent("ggml_quant_input.f32"))
        let all: [Float] = raw.withUnsafeBytes { p in
            (0..<raw.count / 4).map { Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
        var tensors: [[Float]] = [], offset = 0
        for t in spec.tensors {
            let n = t.shape.reduce(1, *)
            tensors.append(Array(all[offset..<offset + n]))
            offset += n
        }
        #expect(offset == all.count)
        return (spec, tensors)
    }

    /// Σ_i b_i·(2i+1) mod 2⁶⁴ over the bytes, as 16 hex digits (the fixture script's checksum).
    static func checksum(_ d: Data) -> String {
        var s: UInt64 = 0
        for (i, b) in d.enumerated() { s = s &+ UInt64(b) &* (2 &* UInt64(i) &+ 1) }
        let hex = String(s, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    @Test(arguments: ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"])
    func bytesEqualLlamaCpp(typeName: String) throws {
        let (spec, tensors) = try Self.fixture()
        let expected = try #require(spec.types[typeName], "\(typeName) missing from ggml_quant.json")
        let type = try #require(GGMLType(name: typeName))
        #expect(expected.count == tensors.count)
        for (values, ref) in zip(tensors, expected) {
            #expect(ref.type == typeName)
            let ours = try GGMLQuantizer.encode(values, as: type)
            #expect(ours.count == values.count / type.blockSize * type.bytesPerBlock)
            #expect(Self.checksum(ours) == ref.checksum, "\(typeName) \(ref.name): bytes differ from llama.cpp's")
        }
    }

    @Test func checksumSeesASingleByte() {
        let a = Data(repeating: 7, count: 300)
        var b = a
        b[123] = 8
        #expect(Self.checksum(a) != Self.checksum(b))
        #expect(Self.checksum(Data([1, 2])) == "0000000000000007")
    }

    /// Quantising then dequantising stays close to the input: the error of each type on Gaussian
    /// weights is below a fraction of their standard deviation that falls with the bit width.
    @Test(arguments: [("Q2_K", 0.6), ("Q3_K", 0.3), ("Q4_0", 0.2), ("Q4_K", 0.12), ("Q5_K", 0.06), ("Q6_K", 0.03), ("Q8_0", 0.008)])
    func roundTripErrorShrinksWithBits(typeName: String, bound: Double) throws {
        var rng = SeededRandom(seed: 7)
        let x = (0..<4096).map { _ in Float(rng.normal()) }
        let type = try #require(GGMLType(name: typeName))
        let bytes = try GGMLQuantizer.encode(x, as: type)
        let y = try bytes.withUnsafeBytes { try GGMLDequantizer.dequantize($0, type: type, count: x.count) }
        let rms = (zip(x, y).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +) / Double(x.count)).squareRoot()
        #expect(rms < bound, "\(typeName) rms error \(rms)")
        #expect(rms > bound / 20, "\(typeName) rms error \(rms) is implausibly small")
    }
}
