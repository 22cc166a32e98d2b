import Foundation
import Models
import Numerics
import Plots
import Training

extension BuiltinRegistry {
    /// Registers `finetune` (the model form of `distill` lives beside the network form, in
    /// `registerNetworks`, and calls `distillModel`).
    public func registerTraining() {
        register(Builtin(
            name: "finetune",
            params: [.required("model", "model", "a llama (dense or pruned)"),
                     .optional("data", "string", default: .string("c4"), "\"c4\" (the C4 sample) or a text file; never WikiText-2's test split")]
                + Self.modelTrainingParams,
            returns: "model", category: "training",
            doc: "Fine-tunes a copy of a llama on next-token cross-entropy and returns it: the text is tokenised once and cut into windows of `seq` + 1 tokens, `batch` windows per step in a seeded order; AdamW (β = 0.9, 0.999, weight decay 0 unless given) with a linear warm-up over `warmup` steps (default a tenth of the run, at most 100) and a cosine decay to a tenth of `lr`; gradients clipped to global norm `clip` (default 1.0, none: no clipping) and averaged over `accumulate` micro-batches. `lora=none` trains every weight (lr 1e-4 by default); `lora=r` trains rank-r adapters on `targets` (default q and v, as PEFT's llama default and the paper's RFT; lr 1e-3, `lora_alpha` 2r by default) and merges them into the weights at the end. A model whose projections hold exact zeros (magnitude, Wanda, SparseGPT, n:m) keeps them: masked weights stay zero through every step and after merging; row-pruned and sliced models keep their shapes. The result carries `.curve` (a record per step: step, tokens, loss, lr, grad_norm, seconds) and `.figure`; `save` writes it like any model. `checkpoint=path` writes a safetensors checkpoint (trainable weights, Adam's moments and step) every 25 steps and at the end; `resume=path` continues such a run exactly. Progress shows each step's loss and tokens/s; Ctrl-C returns the model as of the last finished step, marked interrupted.",
            example: "m = finetune(load(\"smollm2-135m\"), steps=1, seq=16, batch=1, lora=4)\nlen(m.curve)") { a in
                try Self.trainModel(a, distillation: false)
            })
    }

    /// The parameters of the model forms of `finetune` and `distill` (after `data`).
    static var modelTrainingParams: [Param] { [
        .optional("steps", "number", default: .number(50), "optimiser steps"),
        .optional("seq", "number", default: .number(256), "tokens predicted per sequence"),
        .optional("batch", "number", default: .number(4), "sequences per micro-batch"),
        .optional("lr", "number", default: .none, "peak learning rate; none: 1e-4 full, 1e-3 LoRA"),
        .optional("lora", "number", default: .none, "LoRA rank; none: full fine-tuning"),
        .optional("lora_alpha", "number", default: .none, "LoRA's alpha (updates scaled by alpha / rank); none: 2 × rank"),
        .optional("targets", "list", default: .list([.string("q"), .string("v")]), "projections LoRA adapts, among q k v o gate up down"),
        .optional("warmup", "number", default: .none, "warm-up steps; none: steps / 10, at most 100"),
        .optional("accumulate", "number", default: .number(1), "micro-batches per step"),
        .optional("clip", "number", default: .number(1), "largest global gradient norm; none: no clipping"),
        .optional("weight_decay", "number", default: .number(0), "AdamW's decoupled weight decay"),
        .optional("checkpointing", "bool", default: .bool(false), "recompute activations in the backward pass (less memory, ~1.3× the time)"),
        .optional("checkpoint", "string", default: .none, "path of a safetensors checkpoint to write"),
        .optional("resume", "string", default: .none, "path of a checkpoint to continue from"),
        .optional("seed", "number", default: .number(0), "seeds the batch order and LoRA's initialisation"),
    ] }

    /// `distill`'s parameters after alpha: the networks' (`optimiserParams`, batch defaulting by
    /// form) and the models' not already among them.
    static var distillParams: [Param] {
        let network = optimiserParams.map { p in
            p.name == "batch" ? Param.optional("batch", "number", default: .none, "examples (networks) or sequences (models) per step; none: 32 for networks, 4 for models") : p
        }
        let taken = Set(network.map(\.name))
        return network + modelTrainingParams.filter { !taken.contains($0.name) }
    }

    /// Fails when a call distilling networks gives an option only models take.
    static func rejectModelOptions(_ a: Arguments) throws {
        let networkNames = Set(optimiserParams.map(\.name))
        for p in modelTrainingParams where !networkNames.contains(p.name) && a.given(p.name) {
            throw a.fail(argument: p.name, "\(p.name) is for distilling models; a network trains for `epochs`")
        }
    }

    /// Tokens of training texts already tokenised, by tokenizer and data name.
    private static let tokenCache = TokenCache()

    /// The model form of `finetune` and `distill`.
    static func trainModel(_ a: Arguments, distillation: Bool) throws -> Value {
        let name = distillation ? "student" : "model"
        let m = try a.model(name)
        guard m.model.config.architecture == .llama else {
            throw a.fail(argument: name, "\(a.builtin.name) trains llama models; \(m.model.name) is a \(m.model.config.architecture.rawValue) encoder")
        }
        var teacher: ModelObject?
        if distillation {
            let t = try a.model("teacher")
            guard t.model.config.architecture == .llama else {
                throw a.fail(argument: "teacher", "the teacher must be a llama model; \(t.model.name) is a \(t.model.config.architecture.rawValue) encoder")
            }
            guard t.model.config.vocabSize == m.model.config.vocabSize else {
                throw a.fail(argument: "teacher", "the teacher's vocabulary (\(t.model.config.vocabSize)) is not the student's (\(m.model.config.vocabSize))")
            }
            teacher = t
        }
        let steps = try a.int("steps", 1...10_000_000)
        let context = m.model.config.contextLength
        let seq = try a.int("seq", 1...1 << 20)
        guard seq <= context else { throw a.fail(argument: "seq", "seq must be at most the model's context length \(context), got \(seq)") }
        let batch = a.has("batch") ? try a.int("batch", 1...1 << 16) : 4
        if distillation {
            for n in ["epochs", "optimizer", "momentum"] where a.given(n) {
                throw a.fail(argument: n, "\(n) is for distilling networks; a model trains for `steps` with AdamW")
            }
        }
        var lora: LoRASettings?
        if a.has("lora") {
            let rank = try a.number("lora")
            guard let r = exactInt(rank), r >= 1 else {
                throw a.fail(argument: "lora", "lora must be a rank of at least 1 (or none for full fine-tuning), got \(formatNumber(rank))")
            }
            let alpha = a.has("lora_alpha") ? try a.number("lora_alpha", "positive") { $0 > 0 && $0.isFinite } : Double(2 * r)
            let names = ["q": TensorRole.attentionQuery, "k": .attentionKey, "v": .attentionValue, "o": .attentionOutput,
                         "gate": .ffnGate, "up": .ffnUp, "down": .ffnDown]
            guard case .list(let items) = a.value("targets"), !items.isEmpty else { throw a.typeError("targets", expected: "a non-empty list of projection names") }
            var targets: Set<TensorRole> = []
            for item in items {
                guard case .string(let s) = item, let role = names[s] else {
                    throw a.fail(argument: "targets", "targets must be among q k v o gate up down, got \(Render.inline(item, depth: 1))")
                }
                targets.insert(role)
            }
            lora = LoRASettings(rank: r, alpha: alpha, targets: targets, seed: try a.seed())
        } else if a.given("lora_alpha") {
            throw a.fail(argument: "lora_alpha", "lora_alpha needs lora=rank")
        }
        let lr = a.has("lr") ? try a.number("lr", "positive") { $0 > 0 && $0.isFinite } : FineTuningOptions.defaultLearningRate(lora: lora != nil)
        let warmup = a.has("warmup") ? try a.int("warmup", 0...steps) : FineTuningOptions.defaultWarmup(steps: steps)
        let clip: Double? = a.has("clip") ? try a.number("clip", "positive") { $0 > 0 && $0.isFinite } : nil
        var options = FineTuningOptions(steps: steps, learningRate: lr, warmup: warmup,
                                        weightDecay: try a.number("weight_decay", "non-negative") { $0 >= 0 && $0.isFinite },
                                        clip: clip, accumulate: try a.int("accumulate", 1...1 << 16), lora: lora,
                                        checkpointing: try a.bool("checkpointing"), seed: try a.seed())
        if distillation {
            let t = a.has("temperature") ? try a.number("temperature", "positive") { $0 > 0 && $0.isFinite } : 2
            let alpha = a.has("alpha") ? try a.number("alpha", "in [0, 1]") { $0 >= 0 && $0 <= 1 } : 0.1
            options.distillation = .init(temperature: t, alpha: alpha)
        }
        let checkpointPath = a.has("checkpoint") ? try a.string("checkpoint") : nil
        var resume: LlamaCheckpoint?
        if a.has("resume") {
            do { resume = try LlamaCheckpoint.read(from: try a.string("resume")) }
            catch let e as TrainingError { throw a.fail(argument: "resume", e.description) }
        }

        // The text, as tokens of the model's tokenizer.
        let dataName = a.has("data") ? try a.string("data") : "c4"
        let tokens: [Int32]
        do { tokens = try tokenCache.tokens(of: dataName, tokenizer: try m.tokenizer(), key: "\(m.model.path ?? m.model.name)|\(m.model.config.vocabSize)") }
        catch let e as TrainingError { throw a.fail(argument: "data", e.description) }
        let data: TokenBatches
        do { data = try TokenBatches(tokens: tokens, sequence: seq, batchSize: batch, seed: options.seed) }
        catch let e as TrainingError { throw a.fail(argument: "seq", "\(e.description) (a shorter seq or a smaller batch fits)") }

        let result: FineTuningResult
        do {
            let weights = try LlamaWeights(m.model)
            let student = try FineTuning.trainingModel(weights, options: options)
            let teacherModel = try teacher.map { try LlamaTrainingModel(LlamaWeights($0.model)) }
            result = try FineTuning.run(student, data: data, options: options, teacher: teacherModel, resume: resume,
                                        checkpointPath: checkpointPath, checkpointEvery: checkpointPath == nil ? nil : 25,
                                        progress: a.reporter("\(a.builtin.name) \(m.model.name)"))
        } catch let e as TrainingError {
            throw a.fail(e.description)
        } catch let e as LlamaTrainingError {
            throw a.fail(e.description)
        }
        let trained = try FineTuning.model(m.model, with: result.weights, onlyProjections: lora?.targets)
        if result.interrupted { a.interpreter.interrupt() }
        let what = (distillation ? "distilled" : "fine-tuned") + (lora.map { " (LoRA rank \($0.rank))" } ?? "")
        return .object(ModelObject(trained, training: ModelTraining(what: what, curve: result.curve, interrupted: result.interrupted,
                                                                     learningRate: lr, sequence: seq, batch: batch, data: dataName)))
    }
}

/// Token streams of training texts, kept so a second run on the same text does not tokenise it again.
final class TokenCache: @unchecked Sendable {
    private var cache: [String: [Int32]] = [:]
    private let lock = NSLock()

    func tokens(of data: String, tokenizer: BPETokenizer, key: String) throws -> [Int32] {
        let k = key + "|" + data
        lock.lock()
        if let t = cache[k] { lock.unlock(); return t }
        lock.unlock()
        let t = try TrainingText.tokens(of: data, tokenizer: tokenizer)
        lock.lock()
        if cache.count > 8 { cache.removeAll() }
        cache[k] = t
        lock.unlock()
        return t
    }
}
