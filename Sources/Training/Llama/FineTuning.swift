import Foundation
import Models
import Numerics

/// How a llama is fine-tuned: the run's length, the optimiser and its schedule, LoRA or full
/// fine-tuning, and distillation. Defaults follow common practice for recovery fine-tuning on a
/// CPU budget (see each property).
public struct FineTuningOptions: Sendable, Equatable {
    /// Knowledge distillation's settings: the temperature T and the weight α of the hard labels.
    public struct DistillationSettings: Sendable, Equatable {
        /// T > 0.
        public var temperature: Double
        /// α in [0, 1]: the loss is (1 − α)·T²·KL + α·CE.
        public var alpha: Double
        /// Settings (checked by `FineTuning.run`).
        public init(temperature: Double, alpha: Double) {
            self.temperature = temperature
            self.alpha = alpha
        }
    }

    /// Optimiser steps.
    public var steps: Int
    /// The peak learning rate (AdamW, β = 0.9, 0.999, ε = 1e-8).
    public var learningRate: Double
    /// Steps of linear warm-up before the cosine decay.
    public var warmup: Int
    /// The cosine decay's final rate as a fraction of the peak.
    public var floor: Double
    /// AdamW's decoupled weight decay (0 by default: a short recovery run should not pull weights to zero).
    public var weightDecay: Double
    /// The largest global gradient norm (L2 over every trainable tensor); nil: no clipping.
    public var clip: Double?
    /// Micro-batches whose gradients are averaged into one step.
    public var accumulate: Int
    /// LoRA adapters (only they train; merged into the weights at the end); nil: every tensor trains.
    public var lora: LoRASettings?
    /// Hold exact zeros of the projections fixed (masks from unstructured pruning); nil: decide
    /// from the weights (`FineTuning.hasUnstructuredZeros`).
    public var holdZerosFixed: Bool?
    /// Recompute each block's activations in the backward pass.
    public var checkpointing: Bool
    /// Distillation from a teacher; nil: next-token cross-entropy.
    public var distillation: DistillationSettings?
    /// Seeds the order of the batches (and LoRA's A matrices, through `lora.seed`).
    public var seed: UInt64

    /// Options; `steps` and `learningRate` have no sensible universal default.
    public init(steps: Int, learningRate: Double, warmup: Int = 0, floor: Double = 0.1, weightDecay: Double = 0,
                clip: Double? = 1.0, accumulate: Int = 1, lora: LoRASettings? = nil, holdZerosFixed: Bool? = nil,
                checkpointing: Bool = false, distillation: DistillationSettings? = nil, seed: UInt64 = 0) {
        self.steps = steps
        self.learningRate = learningRate
        self.warmup = warmup
        self.floor = floor
        self.weightDecay = weightDecay
        self.clip = clip
        self.accumulate = accumulate
        self.lora = lora
        self.holdZerosFixed = holdZerosFixed
        self.checkpointing = checkpointing
        self.distillation = distillation
        self.seed = seed
    }

    /// The default peak learning rate: 1e-4 for full fine-tuning (AdamW on every weight of a
    /// small llama; larger rates undo pretraining in a few steps), 1e-3 for LoRA (adapters start
    /// at zero and need larger steps, as PEFT recipes use 1e-4 to 3e-3).
    public static func defaultLearningRate(lora: Bool) -> Double { lora ? 1e-3 : 1e-4 }

    /// The default warm-up: a tenth of the run (at most 100 steps).
    public static func defaultWarmup(steps: Int) -> Int { min(100, steps / 10) }
}

/// One finished optimiser step of a fine-tuning run.
public struct FineTuningStep: Sendable, Equatable, Codable {
    /// The step (from 1).
    public var step: Int
    /// Tokens predicted so far (all steps, micro-batches included).
    public var tokens: Int
    /// The step's loss (the mean over its micro-batches).
    public var loss: Double
    /// The learning rate the step used.
    public var learningRate: Double
    /// The global gradient norm before clipping.
    public var gradientNorm: Double
    /// Seconds since the run (or its first part, when resumed) began.
    public var seconds: Double
}

/// What a fine-tuning run gives back.
public struct FineTuningResult {
    /// The model as of the last finished step (adapters not yet merged).
    public var model: LlamaTrainingModel
    /// The optimiser as of the last finished step.
    public var optimizer: Adam
    /// Every step, a resumed run's earlier steps included.
    public var curve: [FineTuningStep]
    /// Whether the run stopped early because its progress asked it to.
    public var interrupted: Bool
    /// What the progress threw to stop the run.
    public var stoppedBy: Error?
    /// Steps finished (the last step of `curve`, or the resumed step when none ran).
    public var stepsDone: Int

    /// The trained weights: adapters merged and masks re-applied, so a pruned model keeps its
    /// shape and zeros.
    public var weights: LlamaWeights { model.merged() }
}

/// Fine-tuning and distillation of a llama (`LlamaTrainingModel`): AdamW with linear warm-up and
/// cosine decay, gradient clipping by global norm, gradient accumulation, batches in a seeded
/// order (`TokenBatches`: step k's data depends on the seed and k alone), fixed masks, LoRA,
/// distillation from a frozen teacher whose logits are computed batch by batch, and checkpoints
/// (`LlamaCheckpoint`) from which a run resumes exactly.
public enum FineTuning {
    /// Whether any projection of `weights` has at least `fraction` of its entries exactly zero:
    /// what unstructured pruning (magnitude, Wanda, SparseGPT, n:m) leaves, and what dense or
    /// row-pruned weights almost never have.
    public static func hasUnstructuredZeros(_ weights: LlamaWeights, fraction: Double = 0.05) -> Bool {
        for block in weights.blocks {
            for role in LlamaTrainingModel.projections {
                let data = block[role].weight.data
                guard !data.isEmpty else { continue }
                var zeros = 0
                for x in data where x == 0 { zeros += 1 }
                if Double(zeros) >= fraction * Double(data.count) { return true }
            }
        }
        return false
    }

    /// The trainable model `options` ask for over `weights`.
    public static func trainingModel(_ weights: LlamaWeights, options: FineTuningOptions) throws -> LlamaTrainingModel {
        let hold = options.holdZerosFixed ?? hasUnstructuredZeros(weights)
        return try LlamaTrainingModel(weights, lora: options.lora, holdZerosFixed: hold, checkpointing: options.checkpointing)
    }

    /// Checks `options` against the data and the teacher; throws `TrainingError` naming the problem.
    public static func validate(_ options: FineTuningOptions, model: LlamaTrainingModel, data: TokenBatches, teacher: LlamaTrainingModel?) throws {
        guard options.steps >= 1 else { throw TrainingError.invalidArgument("steps must be at least 1, got \(options.steps)") }
        guard options.accumulate >= 1 else { throw TrainingError.invalidArgument("accumulate must be at least 1, got \(options.accumulate)") }
        guard options.weightDecay >= 0, options.weightDecay.isFinite else {
            throw TrainingError.invalidArgument("the weight decay must be non-negative, got \(options.weightDecay)")
        }
        if let clip = options.clip, !(clip > 0 && clip.isFinite) {
            throw TrainingError.invalidArgument("the clipping norm must be positive, got \(clip)")
        }
        _ = try LearningRateSchedule(peak: options.learningRate, warmup: options.warmup, total: options.steps, floor: options.floor)
        let context = model.weights.config.contextLength
        guard data.sequence <= context else {
            throw TrainingError.invalidArgument("the sequence length \(data.sequence) is longer than the model's context (\(context))")
        }
        let vocab = model.weights.head.outputs
        if let bad = data.tokens.first(where: { $0 < 0 || Int($0) >= vocab }) {
            throw TrainingError.invalidArgument("token id \(bad) is outside the model's vocabulary (0..<\(vocab))")
        }
        if let d = options.distillation {
            try Distillation.validate(temperature: d.temperature, alpha: d.alpha)
            guard let teacher else { throw TrainingError.invalidArgument("distillation needs a teacher") }
            guard teacher.weights.head.outputs == vocab else {
                throw TrainingError.invalidArgument("the teacher's vocabulary (\(teacher.weights.head.outputs)) is not the student's (\(vocab))")
            }
        }
    }

    /// Runs `options.steps` steps on `model` from `data` (the teacher's logits computed per batch
    /// when distilling). `resume` continues a run from its checkpoint (its parameters, Adam's
    /// moments and step, and curve): the steps after it are those the uninterrupted run would
    /// have taken, bit for bit. With `checkpointPath` a checkpoint is written every
    /// `checkpointEvery` steps (when given) and when the run ends or stops.
    ///
    /// Progress: one "fine-tuning" event per step (done = steps finished, total = steps, detail =
    /// loss and tokens/s), with `check()` before every step. A stop thrown by the progress is not
    /// rethrown: the result holds the model as of the last finished step, `interrupted` set.
    public static func run(_ start: LlamaTrainingModel, data: TokenBatches, options: FineTuningOptions, teacher: LlamaTrainingModel? = nil,
                           resume: LlamaCheckpoint? = nil, checkpointPath: String? = nil, checkpointEvery: Int? = nil,
                           progress: ProgressReporter = .none) throws -> FineTuningResult {
        try validate(options, model: start, data: data, teacher: teacher)
        var model = start
        let settings = Adam.Settings(learningRate: options.learningRate, weightDecay: options.weightDecay, decoupledWeightDecay: true)
        var optimizer = Adam(settings)
        var curve: [FineTuningStep] = []
        var done = 0
        if let resume {
            try resume.check(options: options, data: data)
            try resume.restore(into: &model)
            optimizer = resume.optimizer(settings)
            curve = resume.curve
            done = resume.step
        }
        let schedule = try LearningRateSchedule(peak: options.learningRate, warmup: options.warmup, total: options.steps, floor: options.floor)
        let begin = Date()
        let secondsBefore = curve.last?.seconds ?? 0
        var tokens = curve.last?.tokens ?? 0
        var stoppedBy: Error?
        func save() throws {
            guard let checkpointPath else { return }
            try LlamaCheckpoint(model: model, optimizer: optimizer, step: done, options: options, data: data, curve: curve).write(to: checkpointPath)
        }
        while done < options.steps {
            do { try progress.check() } catch { stoppedBy = error; break }
            let stepStart = Date()
            var grads: LlamaGradients? = nil
            var loss = 0.0
            for micro in 0..<options.accumulate {
                let batch = data.batch(done * options.accumulate + micro)
                let head: LlamaLossHead
                if let d = options.distillation, let teacher {
                    let logits = try teacher.logits(batch.map { Array($0.dropLast()) })
                    head = .distillation(teacher: logits.data, temperature: d.temperature, alpha: d.alpha)
                } else {
                    head = .crossEntropy
                }
                let g = try model.lossAndGradients(batch, head: head)
                loss += g.loss
                if grads == nil { grads = g } else { grads!.add(g) }
            }
            var g = grads!
            if options.accumulate > 1 { g.scale(by: 1 / Float(options.accumulate)) }
            loss /= Double(options.accumulate)
            let norm = g.globalNorm()
            if let clip = options.clip, norm > clip { g.scale(by: Float(clip / (norm + 1e-6))) }
            let rate = schedule.rate(at: done + 1)
            optimizer.settings.learningRate = rate
            model.step(g, optimizer: &optimizer)
            done += 1
            let stepTokens = data.tokensPerBatch * options.accumulate
            tokens += stepTokens
            curve.append(FineTuningStep(step: done, tokens: tokens, loss: loss, learningRate: rate, gradientNorm: norm,
                                        seconds: secondsBefore + Date().timeIntervalSince(begin)))
            if let every = checkpointEvery, every > 0, done % every == 0, done < options.steps { try save() }
            let rate1 = Double(stepTokens) / max(Date().timeIntervalSince(stepStart), 1e-9)
            do {
                try progress.report("fine-tuning", done: done, total: options.steps,
                                    detail: "loss \(String(format: "%.4f", loss)) · \(Int(rate1.rounded())) tok/s")
            } catch { stoppedBy = error; break }
        }
        try save()
        return FineTuningResult(model: model, optimizer: optimizer, curve: curve, interrupted: stoppedBy != nil,
                                stoppedBy: stoppedBy, stepsDone: done)
    }

    /// `base` with its llama weights replaced by `weights` (a `LlamaTrainingModel`'s, same shape):
    /// every projection, norm (as 1 × n), the embedding and an untied head, held in memory as
    /// Float32. With `onlyProjections`, only the projections of those blocks and roles are written
    /// (what a LoRA run changes). Queries and keys keep GGUF's RoPE row order, as `Model` holds them.
    public static func model(_ base: Model, with weights: LlamaWeights, onlyProjections: Set<TensorRole>? = nil) throws -> Model {
        guard base.config.architecture == .llama, base.blockCount == weights.blocks.count else {
            throw TrainingError.invalidArgument("the trained weights (\(weights.blocks.count) blocks) do not fit \(base.name)")
        }
        var m = base
        for (b, block) in weights.blocks.enumerated() {
            for role in LlamaTrainingModel.projections where onlyProjections?.contains(role) ?? true {
                let w = block[role].weight
                guard let old = base.tensor(role, block: b), old.rows == w.rows, old.cols == w.cols else {
                    throw TrainingError.invalidArgument("block \(b)'s \(role.rawValue) changed shape in training")
                }
                m.set(role, block: b, to: w)
            }
            if onlyProjections == nil {
                m.set(.attentionNorm, block: b, to: Matrix(rows: 1, cols: block.attentionNorm.count) { _, j in block.attentionNorm[j] })
                m.set(.ffnNorm, block: b, to: Matrix(rows: 1, cols: block.ffnNorm.count) { _, j in block.ffnNorm[j] })
            }
        }
        if onlyProjections == nil {
            m.set(.tokenEmbedding, to: weights.embedding)
            m.set(.outputNorm, to: Matrix(rows: 1, cols: weights.outputNorm.count) { _, j in weights.outputNorm[j] })
            if base.has(.outputHead) { m.set(.outputHead, to: weights.head.weight) }
        }
        m.format = .memory
        return m
    }
}

extension LlamaGradients {
    /// Runs `body` on the gradient of parameter `kind` in place (nothing when it does not train).
    mutating func withValue(_ kind: LlamaTrainingModel.ParameterKind, _ body: (inout [Float]) -> Void) {
        switch kind {
        case .embedding: if embedding != nil { body(&embedding!.data) }
        case .head: if head != nil { body(&head!.data) }
        case .outputNorm: if outputNorm != nil { body(&outputNorm!) }
        case let .attentionNorm(b): if blocks[b].attentionNorm != nil { body(&blocks[b].attentionNorm!) }
        case let .ffnNorm(b): if blocks[b].ffnNorm != nil { body(&blocks[b].ffnNorm!) }
        case let .linear(b, p): if blocks[b].linears[p] != nil { body(&blocks[b].linears[p]!.data) }
        case let .loraA(b, p): if blocks[b].loraA[p] != nil { body(&blocks[b].loraA[p]!.data) }
        case let .loraB(b, p): if blocks[b].loraB[p] != nil { body(&blocks[b].loraB[p]!.data) }
        }
    }

    /// Adds `other`'s gradients (of the same model) into these, and its loss into `loss`.
    public mutating func add(_ other: LlamaGradients) {
        loss += other.loss
        for p in parameters {
            guard let o = other.value(p.kind) else { continue }
            withValue(p.kind) { v in
                v.withUnsafeMutableBufferPointer { vp in o.withUnsafeBufferPointer { op in for i in 0..<vp.count { vp[i] += op[i] } } }
            }
        }
    }

    /// Multiplies every gradient by `factor`.
    public mutating func scale(by factor: Float) {
        for p in parameters {
            withValue(p.kind) { v in v.withUnsafeMutableBufferPointer { vp in for i in 0..<vp.count { vp[i] *= factor } } }
        }
    }

    /// The L2 norm over every trainable tensor's gradient (summed in Float64), as PyTorch's
    /// `clip_grad_norm_` measures it.
    public func globalNorm() -> Double {
        var sum = 0.0
        for p in parameters {
            guard let v = value(p.kind) else { continue }
            v.withUnsafeBufferPointer { vp in
                var s = 0.0
                for x in vp { s += Double(x) * Double(x) }
                sum += s
            }
        }
        return sum.squareRoot()
    }
}
