import Foundation
import Testing
import Numerics
import Models

/// The GGUF reader on the real SmolLM2-135M-Instruct Q4_1 file (scripts/fetch-models): metadata,
/// shapes, the parameter count and every tensor's dequantisation checksum against the `gguf`
/// package (Tests/fixtures/models/smollm2-135m.json).
@Suite(.enabled(if: GGUFFixtures.hasSmolLM,
                "SmolLM2 GGUF not found at \(GGUFFixtures.smolLMPath); run scripts/fetch-models"))
struct GGUFRealModelTests {
    @Test func metadataAndShapes() throws {
        let file = try GGUFFile(path: GGUFFixtures.smolLMPath)
        let fixture: GGUFFixtures.RealModel = try GGUFFixtures.load("smollm2-135m.json")
        #expect(Int(file.version) == fixture.version)
        #expect(file.tensors.count == fixture.tensor_count)
        #expect(file.metadata.count == fixture.metadata_count)
        #expect(file.dataOffset == fixture.data_offset)
        #expect(file.alignment == 32)
        #expect(file.architecture == "llama")
        #expect(file["llama.block_count"]?.int == 30)
        #expect(file["llama.embedding_length"]?.int == 576)
        #expect(file["llama.feed_forward_length"]?.int == 1536)
        #expect(file["llama.attention.head_count"]?.int == 9)
        #expect(file["llama.attention.head_count_kv"]?.int == 3)
        #expect(file["llama.vocab_size"]?.int == 49152)
        #expect(file["llama.rope.freq_base"]?.double == 100000)
        #expect(file["llama.attention.layer_norm_rms_epsilon"] == .float32(1e-5))
        #expect(file["tokenizer.ggml.model"]?.string == "gpt2")
        #expect(file["tokenizer.ggml.pre"]?.string == "smollm")
        #expect(file["tokenizer.ggml.tokens"]?.array?.count == fixture.token_count)
        #expect(file["tokenizer.ggml.tokens"]?.array?.elementType == .string)
        #expect(file["tokenizer.ggml.merges"]?.array?.count == fixture.merge_count)
        #expect(file["tokenizer.ggml.token_type"]?.array?.elementType == .int32)
        #expect(file.keys.first == "general.architecture")

        let up = try #require(file.tensor(named: "blk.0.ffn_up.weight"))
        #expect(up.type == .q4_1)
        #expect(up.dimensions == [576, 1536])
        #expect(up.rows == 1536 && up.cols == 576)
        let down = try #require(file.tensor(named: "blk.0.ffn_down.weight"))
        #expect(down.rows == 576 && down.cols == 1536)
        let embed = try #require(file.tensor(named: "token_embd.weight"))
        #expect(embed.type == .q8_0)
        #expect(embed.shape == [49152, 576])
        let norm = try #require(file.tensor(named: "blk.29.ffn_norm.weight"))
        #expect(norm.type == .f32 && norm.rows == 1 && norm.cols == 576)

        let m = try file.matrix(up)
        #expect(m.rows == 1536 && m.cols == 576)
    }

    @Test func parameterCountAndEveryTensorIsBitExact() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let file = try GGUFFile(path: GGUFFixtures.smolLMPath)
        let opened = clock.now
        let fixture: GGUFFixtures.RealModel = try GGUFFixtures.load("smollm2-135m.json")
        #expect(file.parameterCount == fixture.parameter_count)
        #expect(file.parameterCount == 134_515_008)
        #expect(file.tensors.map(\.name) == fixture.tensors.map(\.name))

        var dequantiseTime = Duration.zero
        for (info, expected) in zip(file.tensors, fixture.tensors) {
            #expect(info.type.name == expected.type, "\(info.name)")
            #expect(info.dimensions == expected.dims, "\(info.name)")
            #expect(info.elementCount == expected.count, "\(info.name)")
            #expect(info.byteCount == expected.bytes, "\(info.name)")
            let t0 = clock.now
            let values = try file.dequantize(info)
            dequantiseTime += clock.now - t0
            #expect(TestSupport.checksum(values) == expected.checksum, "\(info.name): checksum differs")
            if let first = expected.first {
                #expect(Array(values.prefix(first.count)) == first, "\(info.name): first values")
            }
        }
        print("GGUF SmolLM2: open \(opened - start), dequantise all \(file.tensors.count) tensors \(dequantiseTime)")
    }
}
