import Foundation
import Testing
import Numerics
import Models

/// The Float32 llama pass against an independent Float64 numpy pass of the same GGUF weights
/// (Tests/fixtures/make_llama_reference_fixtures.py): without llama.cpp's activation
/// quantisation the two must agree to Float32 accuracy at every position.
@Suite(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
struct LlamaReferenceTests {
    @Test func float32PassEqualsNumpyFloat64() throws {
        let data = try Data(contentsOf: TestSupport.fixtures.appendingPathComponent("llama_reference.json"))
        let obj = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let ids = try #require(obj["input_ids"] as? [Int]).map { Int32($0) }
        let positions = try #require(obj["positions"] as? [[String: Any]])
        let forward = try LlamaGolden.forward.get()
        var cache = forward.makeCache(capacity: ids.count)
        let logits = forward.logits(try forward.forward(ids, cache: &cache), rows: 0..<ids.count)
        let v = logits.cols
        var worstLogit = 0.0, worstLSE = 0.0, top1 = 0
        for (p, entry) in positions.enumerated() {
            let row = Array(logits.data[p * v..<(p + 1) * v])
            let topIDs = entry["top_ids"] as! [Int], topLogits = entry["top_logits"] as! [Double]
            for (id, value) in zip(topIDs, topLogits) { worstLogit = max(worstLogit, abs(Double(row[id]) - value)) }
            let lse = row.withUnsafeBufferPointer { LogSoftmax.logSumExp($0.baseAddress!, count: v) }
            worstLSE = max(worstLSE, abs(lse - (entry["logsumexp"] as! Double)))
            if row.indices.max(by: { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }) == topIDs[0] { top1 += 1 }
        }
        #expect(worstLogit < 5e-3, "max |logit − numpy| \(worstLogit)")
        #expect(worstLSE < 5e-3, "max |logsumexp − numpy| \(worstLSE)")
        #expect(top1 == positions.count, "top-1 equal at \(top1)/\(positions.count)")
    }
}
