import Foundation
import Testing
@testable import Models

/// Hugging Face config.json parsing, validation and writing.
struct ModelConfigTests {
    @Test(.enabled(if: TestSupport.haveMiniLM, "run scripts/fetch-models"))
    func readsMiniLM() throws {
        let c = try ModelConfig.fromHuggingFace(json: Data(contentsOf: TestSupport.minilmConfig))
        #expect(c.architecture == .bert && c.hiddenSize == 384 && c.blockCount == 6)
        #expect(c.intermediateSizes == Array(repeating: 1536, count: 6))
        #expect(c.heads == 12 && c.headDimension == 32 && c.vocabSize == 30522 && c.normEpsilon == 1e-12)
        #expect(c.activation == .gelu && !c.tiedOutputHead)
    }

    @Test func roundTripsThroughJSONWithPerLayerWidths() throws {
        var c = ModelConfig(architecture: .llama, hiddenSize: 576, intermediateSizes: Array(repeating: 1536, count: 30),
                            heads: 9, kvHeads: 3, vocabSize: 49152, contextLength: 8192, normEpsilon: 1e-5,
                            ropeBase: 100_000, tiedOutputHead: true, activation: .swiglu)
        var json = c.huggingFaceJSON()
        #expect(json["intermediate_size"] as? Int == 1536)
        c.intermediateSizes[4] = 1075
        json = c.huggingFaceJSON()
        #expect((json["intermediate_size"] as? [Int])?[4] == 1075)
        let back = try ModelConfig.fromHuggingFace(json: JSONSerialization.data(withJSONObject: json))
        #expect(back == c)
    }

    @Test func inconsistentConfigsNameTheField() throws {
        let bad: [(String, String)] = [
            (#"{"model_type":"gpt2","num_hidden_layers":2,"intermediate_size":4,"num_attention_heads":2}"#, "model_type"),
            (#"{"model_type":"llama","num_hidden_layers":2,"intermediate_size":4,"num_attention_heads":3,"hidden_size":8,"vocab_size":10}"#, "attention heads"),
            (#"{"model_type":"llama","num_hidden_layers":2,"intermediate_size":[4],"num_attention_heads":2,"hidden_size":8,"vocab_size":10}"#, "intermediate_size"),
            (#"{"model_type":"bert","num_hidden_layers":2,"intermediate_size":4,"num_attention_heads":2}"#, "hidden_size"),
            ("[1, 2]", "config.json"),
        ]
        for (json, field) in bad {
            #expect { try ModelConfig.fromHuggingFace(json: Data(json.utf8)) } throws: { error in
                (error as? ModelConfigError)?.field == field
            }
        }
    }
}
