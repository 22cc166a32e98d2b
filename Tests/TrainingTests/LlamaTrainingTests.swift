import Foundation
import Models
import Numerics
import TestHelpers
import XCTest
@testable import Training

/// Training the llama: AdamW steps lower the loss, masks hold, LoRA leaves the base frozen and
/// merges into a masked model without un-pruning it, and bad input is an error.
final class LlamaTrainingTests: XCTestCase {
    static let batch: [[Int32]] = [[3, 17, 42, 99, 5, 64, 7, 7, 19], [120, 1, 1, 33, 8, 77, 2, 90, 4]]

    func tiny() throws -> LlamaWeights {
        try LlamaFixtures.tinyWeights(LlamaFixtures.config(vocab: 128, d: 32, heads: 4, kvHeads: 2, ffn: [24, 16],
                                                           epsilon: 1e-5, ropeBase: 10000, tied: true))
    }

    /// Zeroes the smaller-magnitude half of every projection and holds those zeros fixed.
    func masked() throws -> LlamaTrainingModel {
        var w = try tiny()
        for b in w.blocks.indices {
            for role in LlamaTrainingModel.projections {
                let data = w.blocks[b][role].weight.data
                let cut = data.map { abs($0) }.sorted()[data.count / 2]
                w.blocks[b][role] = Linear(try Matrix(rows: w.blocks[b][role].outputs, cols: w.blocks[b][role].inputs,
                                                      data: data.map { abs($0) < cut ? 0 : $0 }))
            }
        }
        return try LlamaTrainingModel(w, holdZerosFixed: true)
    }

    func zeros(_ model: LlamaTrainingModel) -> [[Int]] {
        model.weights.blocks.map { block in LlamaTrainingModel.projections.flatMap { role in block[role].weight.data.indices.filter { block[role].weight.data[$0] == 0 } } }
    }

    func testTwentyAdamWStepsLowerTheLossAndMasksStayZero() throws {
        var model = try masked()
        let before = zeros(model)
        XCTAssertGreaterThan(before[0].count, 100)
        var adam = Adam(.adamW(learningRate: 1e-2))
        var losses: [Double] = []
        for _ in 0..<20 {
            let grads = try model.lossAndGradients(Self.batch)
            losses.append(grads.loss)
            for b in model.weights.blocks.indices {
                for (p, role) in LlamaTrainingModel.projections.enumerated() {
                    let g = try XCTUnwrap(grads.blocks[b].linears[p]).data
                    let mask = try XCTUnwrap(model.masks[b][p])
                    XCTAssertTrue(zip(g, mask).allSatisfy { $1 != 0 || $0 == 0 }, "masked weights of \(role) get no gradient")
                }
            }
            model.step(grads, optimizer: &adam)
        }
        let final = try model.loss(Self.batch)
        print("20 AdamW steps (tiny, half of every projection masked): loss \(losses[0]) → \(final)")
        XCTAssertLessThan(final, 0.5 * losses[0])
        XCTAssertLessThan(losses[19], losses[1])
        XCTAssertEqual(zeros(model), before, "the masked weights are exactly zero after every step, and nothing else became zero")
        // The tied head follows the embedding.
        XCTAssertEqual(model.weights.head.weight.data, model.weights.embedding.data)
    }

    func testLoRATrainsOnlyTheAdaptersAndMergesIntoTheMaskedShape() throws {
        let base = try masked()
        var model = try LlamaTrainingModel(base.weights, lora: LoRASettings(rank: 4, alpha: 8, targets: [.attentionQuery, .attentionValue, .ffnDown], seed: 1),
                                           holdZerosFixed: true)
        XCTAssertEqual(model.adapters[0][0]?.b.data.allSatisfy { $0 == 0 }, true, "B starts at zero, as PEFT's")
        let bound = 1 / Float(32).squareRoot()
        XCTAssertTrue(model.adapters[0][0]!.a.data.allSatisfy { abs($0) <= bound } && model.adapters[0][0]!.a.data.contains { $0 != 0 })
        let start = try model.loss(Self.batch)
        XCTAssertEqual(start, try base.loss(Self.batch), "zero B: the adapted model starts as the base")
        var adam = Adam(.adamW(learningRate: 1e-2, weightDecay: 0))
        for _ in 0..<20 { model.step(try model.lossAndGradients(Self.batch), optimizer: &adam) }
        let trained = try model.loss(Self.batch)
        XCTAssertLessThan(trained, start)
        for b in model.weights.blocks.indices {
            for role in LlamaTrainingModel.projections { XCTAssertEqual(model.weights.blocks[b][role].weight.data, base.weights.blocks[b][role].weight.data) }
        }
        XCTAssertEqual(model.weights.embedding.data, base.weights.embedding.data)
        // Merged: the pruned shape and zeros kept; the loss of the merged model is the adapted one's
        // up to the masked entries of the update (which merging drops).
        let merged = model.merged()
        let mergedModel = try LlamaTrainingModel(merged, holdZerosFixed: true)
        XCTAssertEqual(zeros(mergedModel), zeros(base))
        XCTAssertEqual(merged.blocks[1].down.weight.cols, 16)
        let mergedLoss = try mergedModel.loss(Self.batch)
        XCTAssertLessThan(mergedLoss, start, "merging keeps most of what training gained")
        // Unmasked, merging is exact (to rounding).
        var unmasked = try LlamaTrainingModel(try tiny(), lora: LoRASettings(rank: 2, alpha: 4, seed: 2))
        var adam2 = Adam(.adamW(learningRate: 1e-2, weightDecay: 0))
        for _ in 0..<5 { unmasked.step(try unmasked.lossAndGradients(Self.batch), optimizer: &adam2) }
        XCTAssertEqual(try LlamaTrainingModel(unmasked.merged()).loss(Self.batch), try unmasked.loss(Self.batch), accuracy: 1e-4)
    }

    func testNamesAndBadInput() throws {
        var model = try LlamaTrainingModel(try tiny())
        let names = model.parameters.map(\.name)
        XCTAssertEqual(names.first, "token_embd.weight")
        XCTAssertTrue(names.contains("blk.1.ffn_gate.weight") && names.contains("output_norm.weight") && names.contains("blk.0.attn_output.weight"))
        XCTAssertEqual(names.count, 1 + 2 * 9 + 1)
        XCTAssertEqual(model.parameter(named: "blk.1.ffn_down.weight")?.count, 32 * 16)
        XCTAssertNil(model.parameter(named: "blk.7.ffn_down.weight"))
        XCTAssertThrowsError(try model.setParameter(named: "blk.0.attn_q.weight", to: [1, 2]))
        XCTAssertThrowsError(try model.lossAndGradients([[1]]))
        XCTAssertThrowsError(try model.lossAndGradients([[1, 2, 3], [1, 2]]))
        XCTAssertThrowsError(try model.lossAndGradients([[1, 500]])) { XCTAssertTrue("\($0)".contains("500")) }
        XCTAssertThrowsError(try model.setMask([true], block: 0, role: .ffnUp))
        XCTAssertThrowsError(try LlamaTrainingModel(try tiny(), lora: LoRASettings(rank: 0, alpha: 1)))
        var broken = try tiny()
        broken.blocks[1].ffnNorm = [1, 2]
        XCTAssertThrowsError(try LlamaTrainingModel(broken)) { XCTAssertTrue("\($0)".contains("block 1")) }
    }
}
