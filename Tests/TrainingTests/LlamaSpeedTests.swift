import Foundation
import Models
import Numerics
import TestHelpers
import XCTest
@testable import Training

/// One full forward + backward of SmolLM2 at seq 256 × batch 4 (issue 21's bench shape): prints
/// seconds, tokens/s, the activations kept and the process's peak RSS. A measurement, not a
/// check of speed: it runs only with PRUNELANG_LLAMA_TRAIN_SPEED=1, in a release build, alone.
final class LlamaSpeedTests: XCTestCase {
    func testForwardBackwardAtSeq256Batch4() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["PRUNELANG_LLAMA_TRAIN_SPEED"] == "1", "set PRUNELANG_LLAMA_TRAIN_SPEED=1 to measure")
        try XCTSkipUnless(TestSupport.haveSmolLM, "SmolLM2 is not in models/")
        let weights = try LlamaWeights(ModelLoader.load(TestSupport.smolLMPath))
        let seq = 256, batch = 4
        var rng = SeededRandom(seed: 5)
        let ids: [[Int32]] = (0..<batch).map { _ in (0...seq).map { _ in Int32(rng.next() % 49152) } }
        for (label, lora, checkpointing) in [("full", nil, false), ("full, checkpointing", nil, true),
                                              ("LoRA r8 q,v", LoRASettings(rank: 8, alpha: 16), false)] as [(String, LoRASettings?, Bool)] {
            let model = try LlamaTrainingModel(weights, lora: lora, checkpointing: checkpointing)
            var times: [Double] = []
            var loss = 0.0
            for _ in 0..<2 {
                let start = Date()
                let g = try model.lossAndGradients(ids)
                times.append(Date().timeIntervalSince(start))
                loss = g.loss
                XCTAssertTrue(g.loss.isFinite)
            }
            if lora == nil, !checkpointing {   // the AdamW step over every parameter (moments allocated on the first)
                var trained = model, adam = Adam(.adamW(learningRate: 1e-4))
                let g = try model.lossAndGradients(ids)
                var steps: [Double] = []
                for _ in 0..<2 {
                    let start = Date()
                    trained.step(g, optimizer: &adam)
                    steps.append(Date().timeIntervalSince(start))
                }
                print(String(format: "SmolLM2 AdamW step over %d parameters: %.2f s first, %.2f s after", model.parameters.count, steps[0], steps[1]))
            }
            let bytes = model.activationBytes(sequences: batch, length: seq)
            print(String(format: "SmolLM2 %@: forward+backward %.2f s (best of 2; %.0f tokens/s), loss %.3f, activations kept %.0f MiB (peak %.0f MiB)",
                         label, times.min()!, Double(seq * batch) / times.min()!, loss, Double(bytes.kept) / 1048576, Double(bytes.peak) / 1048576))
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        print("peak RSS \(usage.ru_maxrss / 1024) MiB")
    }
}
