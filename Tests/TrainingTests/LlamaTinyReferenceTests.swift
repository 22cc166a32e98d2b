import Foundation
import Models
import Numerics
import TestHelpers
import XCTest
@testable import Training

/// The llama's loss and gradients on a tiny random config against PyTorch's `LlamaForCausalLM`
/// (float64, CPU), every entry of every gradient (Tests/fixtures/training/llama_tiny.json, from
/// Tests/fixtures/make_llama_grad_fixtures.py). Runs without any model file.
///
/// Tolerance: per tensor, max |ours − reference| ≤ 1e-4 · max |reference|, and the loss to 1e-5
/// relative. Ours is Float32 against a float64 reference on the same float32 weights: rounding
/// over two blocks and a 128-way softmax stays near 1e-6 of a tensor's scale (the worst tensor is
/// printed), while a wrong or missing term is of the order of the gradient itself.
final class LlamaTinyReferenceTests: XCTestCase {
    static let tolerance = 1e-4

    func fixture() throws -> LlamaFixtures.Tiny { try LlamaFixtures.load("llama_tiny.json", as: LlamaFixtures.Tiny.self) }

    /// Worst error over the fixture's tensors; fails on any tensor beyond tolerance or a name mismatch.
    func compare(_ grads: LlamaGradients, _ reference: [String: String], file: StaticString = #filePath, line: UInt = #line) -> Double {
        XCTAssertEqual(Set(grads.names), Set(reference.keys), "the trainable parameters are the reference's", file: file, line: line)
        var worst = 0.0
        for (name, encoded) in reference {
            let ref = LlamaFixtures.floats(base64: encoded)
            guard let ours = grads[name] else { XCTFail("no gradient for \(name)", file: file, line: line); continue }
            XCTAssertEqual(ours.count, ref.count, name, file: file, line: line)
            let scale = Double(ref.map { abs($0) }.max() ?? 0)
            XCTAssertGreaterThan(scale, 0, "\(name): the reference gradient is zero, the check would be empty", file: file, line: line)
            let err = zip(ours, ref).map { Double(abs($0 - $1)) }.max() ?? 0
            worst = max(worst, err / scale)
            XCTAssertLessThanOrEqual(err, Self.tolerance * scale, "\(name): max error \(err) against scale \(scale)", file: file, line: line)
        }
        return worst
    }

    func testDenseLossAndEveryGradientMatchPyTorch() throws {
        let f = try fixture()
        let model = try LlamaTrainingModel(LlamaFixtures.tinyWeights(f.config.model))
        let c = try XCTUnwrap(f.cases["dense"])
        let grads = try model.lossAndGradients(f.ids)
        XCTAssertEqual(grads.loss, c.loss, accuracy: 1e-5 * c.loss)
        let worst = compare(grads, c.gradients)
        print("tiny dense: loss \(grads.loss) vs \(c.loss); worst gradient error \(worst) of the tensor's max")
    }

    func testLoRAAdapterGradientsMatchPyTorch() throws {
        let f = try fixture()
        let c = try XCTUnwrap(f.cases["lora"])
        let targets = try XCTUnwrap(c.targets)
        var model = try LlamaTrainingModel(LlamaFixtures.tinyWeights(f.config.model),
                                           lora: LoRASettings(rank: try XCTUnwrap(c.rank), alpha: try XCTUnwrap(c.alpha),
                                                              targets: Set(targets.map(LlamaFixtures.role))))
        LlamaFixtures.installAdapters(&model, targets: targets, aScale: 0.25, bScale: 0.125)
        let grads = try model.lossAndGradients(f.ids)
        XCTAssertEqual(grads.loss, c.loss, accuracy: 1e-5 * c.loss)
        let worst = compare(grads, c.gradients)
        print("tiny LoRA: loss \(grads.loss) vs \(c.loss); worst gradient error \(worst) of the tensor's max")
    }

    /// Recomputing each block in the backward pass (checkpointing) gives the same gradients, bit
    /// for bit (the same kernels on the same inputs), and keeps fewer activations.
    func testCheckpointingGivesTheSameGradients() throws {
        let f = try fixture()
        let weights = try LlamaFixtures.tinyWeights(f.config.model)
        let plain = try LlamaTrainingModel(weights)
        let recomputing = try LlamaTrainingModel(weights, checkpointing: true)
        let a = try plain.lossAndGradients(f.ids), b = try recomputing.lossAndGradients(f.ids)
        XCTAssertEqual(a.loss, b.loss)
        for name in a.names { XCTAssertEqual(a[name], b[name], name) }
        XCTAssertLessThan(b.keptActivationBytes, a.keptActivationBytes / 2)
    }

    /// The accounting function predicts the bytes the forward pass actually keeps.
    func testActivationAccountingMatchesWhatIsKept() throws {
        let f = try fixture()
        let weights = try LlamaFixtures.tinyWeights(f.config.model)
        for checkpointing in [false, true] {
            for lora in [nil, LoRASettings(rank: 4, alpha: 8, targets: [.attentionQuery, .ffnDown])] {
                let model = try LlamaTrainingModel(weights, lora: lora, checkpointing: checkpointing)
                let grads = try model.lossAndGradients(f.ids)
                let predicted = model.activationBytes(sequences: f.ids.count, length: f.ids[0].count - 1)
                XCTAssertEqual(predicted.kept, grads.keptActivationBytes, "checkpointing \(checkpointing), lora \(lora != nil)")
                XCTAssertGreaterThanOrEqual(predicted.peak, predicted.kept)
            }
        }
    }

    /// The training forward pass is the inference pass: its logits equal `LlamaForward`'s
    /// Float32 logits bit for bit on the same batch.
    func testForwardLogitsEqualInference() throws {
        let f = try fixture()
        let weights = try LlamaFixtures.tinyWeights(f.config.model)
        try assertForwardMatchesInference(weights, sequences: f.ids.map { Array($0.dropLast()) })
    }
}

/// Fails unless the training model's logits equal `LlamaForward`'s on `sequences` bit for bit.
func assertForwardMatchesInference(_ weights: LlamaWeights, sequences: [[Int32]], file: StaticString = #filePath, line: UInt = #line) throws {
    let model = try LlamaTrainingModel(weights)
    let ours = try model.logits(sequences)
    let forward = LlamaForward(weights: weights)
    var caches = sequences.map { forward.makeCache(capacity: $0.count) }
    let hidden = try forward.forward(batch: sequences, caches: &caches)
    let reference = forward.logits(hidden, rows: 0..<hidden.rows)
    XCTAssertEqual(ours.rows, reference.rows, file: file, line: line)
    XCTAssertEqual(ours.cols, reference.cols, file: file, line: line)
    let differing = zip(ours.data, reference.data).filter { $0 != $1 }.count
    let worst = zip(ours.data, reference.data).map { abs($0 - $1) }.max() ?? 0
    XCTAssertEqual(differing, 0, "\(differing) logits differ, worst by \(worst)", file: file, line: line)
}
