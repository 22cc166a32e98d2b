import Foundation
import Models
import Numerics
import TestHelpers
import XCTest
@testable import Training

/// The fine-tuning loop on the tiny llama: the vocabulary-wide distillation loss and the whole
/// model's distillation gradients, loss going down through the loop, gradient accumulation,
/// masks and LoRA merging, interrupts, checkpoints that resume bit for bit, and the trained
/// weights written back into a `Model`.
final class FineTuningTests: XCTestCase {
    static func config(tied: Bool = true) -> ModelConfig {
        LlamaFixtures.config(vocab: 128, d: 32, heads: 4, kvHeads: 2, ffn: [24, 16], epsilon: 1e-5, ropeBase: 10000, tied: tied)
    }

    func tiny(tied: Bool = true) throws -> LlamaWeights { try LlamaFixtures.tinyWeights(Self.config(tied: tied)) }

    /// A token stream with structure to learn: a repeated pseudo-random phrase of 37 tokens.
    func stream(_ n: Int = 2000) -> [Int32] {
        let phrase = LlamaFixtures.hashed(77, 37).map { Int32(($0 + 1) / 2 * 127) }
        return (0..<n).map { phrase[$0 % 37] }
    }

    func data(sequence: Int = 16, batch: Int = 2, seed: UInt64 = 0) throws -> TokenBatches {
        try TokenBatches(tokens: stream(), sequence: sequence, batchSize: batch, seed: seed)
    }

    func allParameters(_ m: LlamaTrainingModel) -> [[Float]] { m.parameters.map { m.parameter(named: $0.name)! } }

    // MARK: Distillation over the vocabulary

    func testVocabularyDistillationEqualsTheNetworkOp() {
        let rows = 5, vocab = 300
        let s = LlamaFixtures.hashed(11, rows * vocab).map { $0 * 6 }, t = LlamaFixtures.hashed(12, rows * vocab).map { $0 * 6 }
        let targets: [Int32] = [0, 299, 17, 150, 3]
        for (temperature, alpha) in [(2.0, 0.5), (1.0, 0.0), (4.0, 1.0), (0.5, 0.3)] {
            let ref = Distillation.forward(student: s, teacher: t, rows: rows, classes: vocab, labels: targets.map(Int.init),
                                           temperature: temperature, alpha: alpha)
            let refGrad = Distillation.backward(ref, rows: rows, classes: vocab, labels: targets.map(Int.init), temperature: temperature, alpha: alpha)
            var g = s
            let loss = VocabularyDistillation.lossAndGradient(student: &g, teacher: t, rows: rows, vocab: vocab, targets: targets,
                                                              temperature: temperature, alpha: alpha)
            // The vocabulary op takes its exponentials in Float32 (the network op in Float64): the
            // same loss to 1e-7 relative, Float32's own precision.
            XCTAssertEqual(loss.loss, ref.loss, accuracy: 1e-7 * max(1, ref.loss))
            XCTAssertEqual(loss.soft, ref.soft, accuracy: 1e-7 * max(1, ref.soft))
            XCTAssertEqual(loss.hard, ref.hard, accuracy: 1e-7 * max(1, ref.hard))
            let worst = zip(g, refGrad).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-7, "T \(temperature) α \(alpha)")
        }
        // The same logits as teacher and student: the soft term is zero.
        var g = s
        let same = VocabularyDistillation.lossAndGradient(student: &g, teacher: s, rows: rows, vocab: vocab, targets: targets, temperature: 2, alpha: 0)
        XCTAssertEqual(same.soft, 0, accuracy: 1e-9)
        XCTAssertLessThan(g.map { abs($0) }.max()!, 1e-7)
    }

    /// The whole model's gradients under the distillation head against central finite differences
    /// of its loss (Float32 forward; ε = 1e-2 on weights of size ~0.25), teacher a different tiny llama.
    func testDistillationGradientsMatchFiniteDifferences() throws {
        let student = try LlamaTrainingModel(tiny(tied: false))
        let teacherWeights = try LlamaFixtures.weights(Self.config()) { name, rows, cols in
            let u = LlamaFixtures.hashed(LlamaFixtures.seed(of: name) + 1000, rows * max(cols, 1))
            return cols == 0 ? u.map { 1 + 0.25 * $0 } : u.map { 0.5 * $0 }
        }
        let teacher = try LlamaTrainingModel(teacherWeights)
        let batch: [[Int32]] = [[3, 17, 42, 99, 5, 64, 7], [120, 1, 1, 33, 8, 77, 2]]
        let logits = try teacher.logits(batch.map { Array($0.dropLast()) }).data
        let head = LlamaLossHead.distillation(teacher: logits, temperature: 2, alpha: 0.3)
        let grads = try student.lossAndGradients(batch, head: head)
        let ce = try student.loss(batch)
        XCTAssertNotEqual(grads.loss, ce, "the distillation loss is not the cross-entropy")
        var worst = 0.0
        for name in ["output.weight", "token_embd.weight", "blk.0.attn_q.weight", "blk.1.ffn_down.weight", "blk.1.ffn_norm.weight"] {
            let analytic = try XCTUnwrap(grads[name])
            let values = try XCTUnwrap(student.parameter(named: name))
            let top = analytic.indices.sorted { abs(analytic[$0]) > abs(analytic[$1]) }.prefix(3)
            for i in top {
                func loss(_ delta: Float) throws -> Double {
                    var m = student
                    var v = values
                    v[i] += delta
                    try m.setParameter(named: name, to: v)
                    return try m.lossAndGradients(batch, head: head).loss
                }
                let eps: Float = 1e-2
                let fd = (try loss(eps) - loss(-eps)) / Double(2 * eps)
                let err = abs(fd - Double(analytic[i])) / max(abs(fd), 1e-3)
                worst = max(worst, err)
                XCTAssertLessThan(err, 5e-3, "\(name)[\(i)]: analytic \(analytic[i]), finite difference \(fd)")
            }
        }
        print("distillation gradients against finite differences: worst relative error \(worst)")
    }

    // MARK: The loop

    func testTwentyStepsThroughTheLoopLowerTheLossAndReportEachStep() throws {
        var events: [ProgressEvent] = []
        let progress = ProgressReporter(report: { events.append($0) })
        let options = FineTuningOptions(steps: 20, learningRate: 1e-2, warmup: 2)
        let r = try FineTuning.run(try LlamaTrainingModel(tiny()), data: try data(), options: options, progress: progress)
        XCTAssertEqual(r.curve.count, 20)
        XCTAssertEqual(r.curve.map(\.step), Array(1...20))
        XCTAssertEqual(r.curve.last?.tokens, 20 * 16 * 2)
        XCTAssertEqual(r.curve[0].learningRate, 5e-3, accuracy: 1e-12)
        XCTAssertEqual(r.curve[19].learningRate, 1e-3, accuracy: 1e-12, "the cosine ends at the floor, a tenth of the peak")
        XCTAssertFalse(r.interrupted)
        XCTAssertEqual(events.count, 20)
        XCTAssertTrue(events.last?.detail?.contains("tok/s") ?? false)
        let first = r.curve[0].loss, last = r.curve.suffix(3).map(\.loss).reduce(0, +) / 3
        print("tiny llama, 20 loop steps: loss \(first) → \(last)")
        XCTAssertLessThan(last, 0.6 * first)
        XCTAssertTrue(r.curve.allSatisfy { $0.gradientNorm > 0 && $0.gradientNorm.isFinite })
    }

    func testDistillationPullsTheStudentTowardsTheTeacher() throws {
        let teacher = try LlamaTrainingModel(tiny())
        var w = try tiny()
        for b in w.blocks.indices { w.blocks[b].ffnNorm = w.blocks[b].ffnNorm.map { $0 * 0.2 } }
        let student = try LlamaTrainingModel(w)
        let options = FineTuningOptions(steps: 40, learningRate: 3e-3, distillation: .init(temperature: 2, alpha: 0))
        let d = try data()
        func kl(_ m: LlamaTrainingModel) throws -> Double {
            let batch = d.batch(0)
            let t = try teacher.logits(batch.map { Array($0.dropLast()) }).data
            return try m.lossAndGradients(batch, head: .distillation(teacher: t, temperature: 2, alpha: 0)).loss
        }
        let r = try FineTuning.run(student, data: d, options: options, teacher: teacher)
        let before = try kl(student), after = try kl(r.model)
        print("distillation on the tiny llama: T²·KL to the teacher \(before) → \(after)")
        XCTAssertLessThan(after, 0.5 * before)
        XCTAssertThrowsError(try FineTuning.run(student, data: d, options: options)) { e in
            XCTAssertTrue("\(e)".contains("teacher"))
        }
    }

    func testAccumulatingTwoMicroBatchesEqualsOneBatchOfTwo() throws {
        let model = try LlamaTrainingModel(tiny())
        let one = try FineTuning.run(model, data: try data(batch: 2), options: FineTuningOptions(steps: 1, learningRate: 1e-2, clip: nil))
        let two = try FineTuning.run(model, data: try data(batch: 1), options: FineTuningOptions(steps: 1, learningRate: 1e-2, clip: nil, accumulate: 2))
        XCTAssertEqual(one.curve[0].loss, two.curve[0].loss, accuracy: 1e-6)
        XCTAssertEqual(one.curve[0].gradientNorm, two.curve[0].gradientNorm, accuracy: 1e-5 * one.curve[0].gradientNorm)
        XCTAssertEqual(one.curve[0].tokens, two.curve[0].tokens)
        for (a, b) in zip(allParameters(one.model), allParameters(two.model)) {
            XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max()!, 1e-4)
        }
    }

    func testMasksHoldAndLoRAMergesIntoThePrunedShape() throws {
        var w = try tiny()
        for b in w.blocks.indices {
            for role in LlamaTrainingModel.projections {
                let lin = w.blocks[b][role]
                w.blocks[b][role] = Linear(try Matrix(rows: lin.outputs, cols: lin.inputs, data: lin.weight.data.enumerated().map { $0.offset % 3 == 0 ? 0 : $0.element }))
            }
        }
        XCTAssertTrue(FineTuning.hasUnstructuredZeros(w))
        XCTAssertFalse(FineTuning.hasUnstructuredZeros(try tiny()))
        for lora in [nil, LoRASettings(rank: 4, alpha: 8, targets: [.attentionQuery, .attentionValue, .ffnUp])] {
            let options = FineTuningOptions(steps: 5, learningRate: 1e-2, lora: lora)
            let r = try FineTuning.run(try FineTuning.trainingModel(w, options: options), data: try data(), options: options)
            let out = r.weights
            for b in w.blocks.indices {
                for role in LlamaTrainingModel.projections {
                    let before = w.blocks[b][role].weight.data, after = out.blocks[b][role].weight.data
                    XCTAssertTrue(after.indices.allSatisfy { $0 % 3 != 0 || after[$0] == 0 }, "masked weights stay zero (\(role), LoRA \(lora != nil))")
                    if lora == nil || lora!.targets.contains(role) { XCTAssertNotEqual(after, before, "\(role) trained") }
                    else { XCTAssertEqual(after, before, "\(role) is frozen under LoRA") }
                }
            }
        }
    }

    func testAStopReturnsTheModelOfTheLastFinishedStep() throws {
        struct Stop: Error {}
        var checks = 0
        let progress = ProgressReporter(report: { _ in }, check: { checks += 1; if checks > 3 { throw Stop() } })
        let options = FineTuningOptions(steps: 10, learningRate: 1e-2)
        let model = try LlamaTrainingModel(tiny())
        let r = try FineTuning.run(model, data: try data(), options: options, progress: progress)
        XCTAssertTrue(r.interrupted)
        XCTAssertTrue(r.stoppedBy is Stop)
        XCTAssertEqual(r.stepsDone, 3)
        XCTAssertEqual(r.curve.count, 3)
        let straight = try FineTuning.run(model, data: try data(), options: FineTuningOptions(steps: 10, learningRate: 1e-2),
                                          progress: ProgressReporter(report: { e in if e.done == 3 { throw Stop() } }))
        XCTAssertEqual(straight.stepsDone, 3, "a stop thrown by the report keeps the step it reports")
        XCTAssertEqual(allParameters(straight.model), allParameters(r.model))
    }

    func testBadOptionsAreErrors() throws {
        let model = try LlamaTrainingModel(tiny())
        let d = try data()
        XCTAssertThrowsError(try FineTuning.run(model, data: d, options: FineTuningOptions(steps: 0, learningRate: 1e-3)))
        XCTAssertThrowsError(try FineTuning.run(model, data: d, options: FineTuningOptions(steps: 5, learningRate: -1)))
        XCTAssertThrowsError(try FineTuning.run(model, data: d, options: FineTuningOptions(steps: 5, learningRate: 1e-3, warmup: 6)))
        XCTAssertThrowsError(try FineTuning.run(model, data: d, options: FineTuningOptions(steps: 5, learningRate: 1e-3, clip: 0)))
        XCTAssertThrowsError(try FineTuning.run(model, data: d, options: FineTuningOptions(steps: 5, learningRate: 1e-3, accumulate: 0)))
        let long = try TokenBatches(tokens: stream(3000), sequence: 600, batchSize: 1, seed: 0)
        XCTAssertThrowsError(try FineTuning.run(model, data: long, options: FineTuningOptions(steps: 1, learningRate: 1e-3))) { e in
            XCTAssertTrue("\(e)".contains("context"), "\(e)")
        }
        XCTAssertThrowsError(try LlamaTrainingModel(tiny(), lora: LoRASettings(rank: 0, alpha: 1)))
    }

    // MARK: Checkpoints

    func checkResumesExactly(_ options: FineTuningOptions, model: LlamaTrainingModel, split k: Int, label: String) throws {
        let d = try data()
        let straight = try FineTuning.run(model, data: d, options: options)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ft-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        struct Stop: Error {}
        let first = try FineTuning.run(model, data: d, options: options, checkpointPath: path,
                                       progress: ProgressReporter(report: { e in if e.done == k { throw Stop() } }))
        XCTAssertEqual(first.stepsDone, k)
        let checkpoint = try LlamaCheckpoint.read(from: path)
        XCTAssertEqual(checkpoint.step, k)
        XCTAssertEqual(checkpoint.adamStep, k)
        XCTAssertEqual(checkpoint.parameters.map(\.name), model.parameters.map(\.name))
        XCTAssertEqual(checkpoint.moments.count, model.parameters.count, "Adam's moments of every parameter")
        XCTAssertEqual(checkpoint.curve, first.curve)
        let resumed = try FineTuning.run(model, data: d, options: options, resume: checkpoint)
        XCTAssertEqual(resumed.stepsDone, options.steps)
        XCTAssertEqual(resumed.curve.map(\.loss), straight.curve.map(\.loss), "\(label): the same losses")
        XCTAssertEqual(resumed.curve.map(\.gradientNorm), straight.curve.map(\.gradientNorm))
        let a = allParameters(resumed.model), b = allParameters(straight.model)
        XCTAssertTrue(zip(a, b).allSatisfy { zip($0, $1).allSatisfy { $0.bitPattern == $1.bitPattern } }, "\(label): bit-identical parameters")
        XCTAssertEqual(resumed.weights.blocks[1].up.weight.data, straight.weights.blocks[1].up.weight.data)
        // A checkpoint of another run is refused.
        var other = options
        other.seed += 1
        XCTAssertThrowsError(try FineTuning.run(model, data: try data(seed: other.seed), options: other, resume: checkpoint)) { e in
            XCTAssertTrue("\(e)".contains("seed"), "\(e)")
        }
    }

    func testResumingFromACheckpointIsBitIdenticalToRunningStraight() throws {
        let full = FineTuningOptions(steps: 7, learningRate: 1e-2, warmup: 2, weightDecay: 0.01, clip: 0.5, accumulate: 2, seed: 5)
        try checkResumesExactly(full, model: try LlamaTrainingModel(tiny(tied: false)), split: 3, label: "full")
        let lora = FineTuningOptions(steps: 6, learningRate: 1e-2, warmup: 1, lora: LoRASettings(rank: 2, alpha: 4), seed: 1)
        try checkResumesExactly(lora, model: try FineTuning.trainingModel(try tiny(), options: lora), split: 4, label: "LoRA")
    }

    // MARK: Back into a Model

    func testTrainedWeightsGoBackIntoTheModel() throws {
        for tied in [true, false] {
            let w0 = try tiny(tied: tied)
            let base = try Self.model(w0)
            let r = try FineTuning.run(try LlamaTrainingModel(w0), data: try data(), options: FineTuningOptions(steps: 3, learningRate: 1e-2))
            let m = try FineTuning.model(base, with: r.weights)
            XCTAssertEqual(m.has(.outputHead), !tied)
            let back = try LlamaWeights(m)
            XCTAssertEqual(back.embedding.data, r.weights.embedding.data)
            XCTAssertEqual(back.head.weight.data, r.weights.head.weight.data)
            XCTAssertEqual(back.outputNorm, r.weights.outputNorm)
            XCTAssertEqual(m.tensor(.outputNorm)?.shape, [32], "norms stay vectors")
            for b in back.blocks.indices {
                XCTAssertEqual(back.blocks[b].ffnNorm, r.weights.blocks[b].ffnNorm)
                for role in LlamaTrainingModel.projections { XCTAssertEqual(back.blocks[b][role].weight.data, r.weights.blocks[b][role].weight.data) }
            }
            let logits = try LlamaTrainingModel(back).logits([[1, 2, 3]]).data
            XCTAssertEqual(logits, try r.model.logits([[1, 2, 3]]).data)
        }
    }

    /// A Model holding `w`'s tensors (GGUF names and order).
    static func model(_ w: LlamaWeights) throws -> Model {
        var tensors: [TensorPlace: WeightTensor] = [:]
        func put(_ name: String, _ m: Matrix, vector: Bool = false) { tensors[TensorNaming.gguf.place(of: name)!] = WeightTensor(name: name, matrix: m, isVector: vector) }
        func row(_ v: [Float]) -> Matrix { Matrix(rows: 1, cols: v.count) { _, j in v[j] } }
        put("token_embd.weight", w.embedding)
        put("output_norm.weight", row(w.outputNorm), vector: true)
        if !w.config.tiedOutputHead { put("output.weight", w.head.weight) }
        let names = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]
        for (b, block) in w.blocks.enumerated() {
            put("blk.\(b).attn_norm.weight", row(block.attentionNorm), vector: true)
            put("blk.\(b).ffn_norm.weight", row(block.ffnNorm), vector: true)
            for (role, n) in zip(LlamaTrainingModel.projections, names) { put("blk.\(b).\(n).weight", block[role].weight) }
        }
        return Model(name: "tiny", format: .memory, config: w.config, tensors: tensors)
    }
}
