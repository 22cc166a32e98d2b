import Testing
@testable import Models

/// Tensor names of the three conventions map to the same architecture-neutral places and back.
struct TensorNamingTests {
    @Test func ffnNamesAgreeAcrossConventions() {
        let up = TensorPlace(.ffnUp, block: 12)
        #expect(TensorNaming.gguf.place(of: "blk.12.ffn_up.weight") == up)
        #expect(TensorNaming.huggingFaceLlama.place(of: "model.layers.12.mlp.up_proj.weight") == up)
        #expect(TensorNaming.huggingFaceBERT.place(of: "encoder.layer.12.intermediate.dense.weight") == up)
        #expect(TensorNaming.huggingFaceBERT.place(of: "bert.encoder.layer.12.intermediate.dense.weight") == up)
        #expect(TensorNaming.huggingFaceBERT.place(of: "encoder.layer.3.output.dense.bias") == TensorPlace(.ffnDown, .bias, block: 3))
        #expect(TensorNaming.gguf.place(of: "token_embd.weight") == TensorPlace(.tokenEmbedding))
        #expect(TensorNaming.huggingFaceLlama.place(of: "lm_head.weight") == TensorPlace(.outputHead))
    }

    @Test func namesRoundTrip() {
        for convention in TensorNaming.allCases {
            for role in TensorRole.allCases {
                for part in [TensorPart.weight, .bias] {
                    let place = TensorPlace(role, part, block: role.isPerBlock ? 7 : nil)
                    guard let name = convention.name(of: place) else { continue }
                    #expect(convention.place(of: name) == place, "\(convention) \(name)")
                }
            }
        }
    }

    @Test func buffersAndStrangersAreNotWeights() {
        #expect(TensorNaming.huggingFaceBERT.place(of: "embeddings.position_ids") == nil)
        #expect(TensorNaming.gguf.place(of: "blk.x.ffn_up.weight") == nil)
        #expect(TensorNaming.gguf.place(of: "blk.-1.ffn_up.weight") == nil)
        #expect(TensorNaming.gguf.place(of: "blk.3.ffn_upp.weight") == nil)
        #expect(TensorNaming.huggingFaceLlama.place(of: "") == nil)
    }

    @Test func detectsTheConvention() {
        #expect(TensorNaming.detect(["token_embd.weight", "blk.0.ffn_up.weight", "output_norm.weight"]) == .gguf)
        #expect(TensorNaming.detect(["model.embed_tokens.weight", "model.layers.0.mlp.up_proj.weight"]) == .huggingFaceLlama)
        #expect(TensorNaming.detect(["embeddings.position_ids", "encoder.layer.0.intermediate.dense.weight"]) == .huggingFaceBERT)
        #expect(TensorNaming.detect(["foo", "bar"]) == nil)
    }
}
