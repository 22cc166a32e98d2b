import Foundation
import Models
import Numerics

/// A fine-tuning run's state as a safetensors file: every trainable parameter under its GGUF
/// name (LoRA's as "<weight>.lora_a" / ".lora_b"), Adam's moments as "adam.m.<name>" and
/// "adam.v.<name>", and metadata: the steps finished, Adam's step count, the seed, the options
/// and data geometry the run was started with (a resume must match them), and the curve so far.
/// Values are Float32, so a resumed run continues bit for bit.
public struct LlamaCheckpoint: Sendable {
    /// Steps finished.
    public var step: Int
    /// Adam's step count.
    public var adamStep: Int
    /// The trainable parameters' values by name, in the model's order.
    public var parameters: [(name: String, shape: [Int], values: [Float])]
    /// Adam's moments by parameter name (absent for a parameter not yet updated).
    public var moments: [String: (m: [Float], v: [Float])]
    /// The curve so far.
    public var curve: [FineTuningStep]
    /// What the run was started with, as text (compared on resume).
    public var fingerprint: [String: String]

    /// The metadata keys a resume compares.
    static let comparedKeys = ["seed", "steps", "lr", "warmup", "floor", "weight_decay", "clip", "accumulate", "lora", "distillation",
                               "sequence", "batch", "data_tokens", "data_hash", "trainable"]

    /// The state of a run at `step`.
    public init(model: LlamaTrainingModel, optimizer: Adam, step: Int, options: FineTuningOptions, data: TokenBatches, curve: [FineTuningStep]) {
        self.step = step
        adamStep = optimizer.stepCount
        var params: [(String, [Int], [Float])] = []
        var moments: [String: (m: [Float], v: [Float])] = [:]
        for (slot, p) in model.parameters.enumerated() {
            guard let v = model.value(p.kind) else { continue }
            params.append((p.name, model.shape(of: p.kind), v))
            if let mv = optimizer.moments(of: slot) { moments[p.name] = mv }
        }
        parameters = params
        self.moments = moments
        self.curve = curve
        fingerprint = Self.fingerprint(options: options, data: data, model: model)
    }

    /// The text a run's options, data and trainable parameters read as.
    static func fingerprint(options: FineTuningOptions, data: TokenBatches, model: LlamaTrainingModel) -> [String: String] {
        var f = baseFingerprint(options: options, data: data)
        f["trainable"] = "\(model.parameters.count)"
        return f
    }

    /// Writes the checkpoint to `path` (atomically).
    public func write(to path: String) throws {
        var entries: [SafetensorsWriter.Entry] = []
        for p in parameters {
            entries.append(SafetensorsWriter.Entry(name: p.name, shape: p.shape, floats: p.values))
            if let mv = moments[p.name] {
                entries.append(SafetensorsWriter.Entry(name: "adam.m." + p.name, shape: p.shape, floats: mv.m))
                entries.append(SafetensorsWriter.Entry(name: "adam.v." + p.name, shape: p.shape, floats: mv.v))
            }
        }
        var metadata = fingerprint
        metadata["format"] = "prunelang-finetune-checkpoint-1"
        metadata["step"] = "\(step)"
        metadata["adam_step"] = "\(adamStep)"
        metadata["parameters"] = parameters.map(\.name).joined(separator: " ")
        let curveData = try JSONEncoder().encode(curve)
        metadata["curve"] = String(decoding: curveData, as: UTF8.self)
        try SafetensorsWriter.write(entries, metadata: metadata, to: path)
    }

    /// Reads a checkpoint written by `write(to:)`.
    public static func read(from path: String) throws -> LlamaCheckpoint {
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: path) } catch {
            throw TrainingError.badData("cannot read the checkpoint \(path): \(error)")
        }
        let meta = file.metadata
        guard meta["format"] == "prunelang-finetune-checkpoint-1", let step = meta["step"].flatMap(Int.init),
              let adamStep = meta["adam_step"].flatMap(Int.init), let names = meta["parameters"] else {
            throw TrainingError.badData("\(path) is not a fine-tuning checkpoint (its metadata lacks the step or the parameters)")
        }
        func floats(_ name: String) throws -> (shape: [Int], values: [Float])? {
            guard let t = file.tensor(named: name) else { return nil }
            return (t.shape, try file.floats(of: t))
        }
        var params: [(name: String, shape: [Int], values: [Float])] = []
        var moments: [String: (m: [Float], v: [Float])] = [:]
        for name in names.split(separator: " ").map(String.init) {
            guard let p = try floats(name) else { throw TrainingError.badData("the checkpoint \(path) lacks \(name)") }
            params.append((name, p.shape, p.values))
            if let m = try floats("adam.m." + name), let v = try floats("adam.v." + name) { moments[name] = (m.values, v.values) }
        }
        let curve = try meta["curve"].map { try JSONDecoder().decode([FineTuningStep].self, from: Data($0.utf8)) } ?? []
        var fingerprint: [String: String] = [:]
        for k in comparedKeys { fingerprint[k] = meta[k] }
        return LlamaCheckpoint(step: step, adamStep: adamStep, parameters: params, moments: moments, curve: curve, fingerprint: fingerprint)
    }

    private init(step: Int, adamStep: Int, parameters: [(name: String, shape: [Int], values: [Float])],
                 moments: [String: (m: [Float], v: [Float])], curve: [FineTuningStep], fingerprint: [String: String]) {
        self.step = step
        self.adamStep = adamStep
        self.parameters = parameters
        self.moments = moments
        self.curve = curve
        self.fingerprint = fingerprint
    }

    /// Throws unless the run to resume was started with `options` on the same data.
    func check(options: FineTuningOptions, data: TokenBatches) throws {
        var want = Self.baseFingerprint(options: options, data: data)
        want["trainable"] = fingerprint["trainable"]
        let differing = Self.comparedKeys.filter { fingerprint[$0] != want[$0] }
        guard differing.isEmpty else {
            let what = differing.map { "\($0) \(fingerprint[$0] ?? "?") (now \(want[$0] ?? "?"))" }.joined(separator: ", ")
            throw TrainingError.invalidArgument("the checkpoint was made by a different run: \(what)")
        }
        guard step <= options.steps else { throw TrainingError.invalidArgument("the checkpoint is at step \(step), past the run's \(options.steps) steps") }
    }

    /// Sets `model`'s trainable parameters to the checkpoint's.
    func restore(into model: inout LlamaTrainingModel) throws {
        let names = model.parameters.map(\.name)
        guard names == parameters.map(\.name) else {
            throw TrainingError.invalidArgument("the checkpoint's parameters (\(parameters.count)) are not the model's (\(names.count)): a different model or LoRA setting")
        }
        for p in parameters {
            do { try model.setParameter(named: p.name, to: p.values) }
            catch { throw TrainingError.invalidArgument("the checkpoint does not fit the model: \(error)") }
        }
    }

    /// Adam resumed from the checkpoint's moments and step, with `settings`.
    func optimizer(_ settings: Adam.Settings) -> Adam {
        var slots: [Int: (m: [Float], v: [Float])] = [:]
        for (slot, p) in parameters.enumerated() { if let mv = moments[p.name] { slots[slot] = mv } }
        return Adam(settings, stepCount: adamStep, moments: slots)
    }
}

extension LlamaCheckpoint {
    /// The fingerprint without the model's part.
    static func baseFingerprint(options: FineTuningOptions, data: TokenBatches) -> [String: String] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for t in data.tokens { hash = (hash ^ UInt64(UInt32(bitPattern: t))) &* 0x100_0000_01b3 }
        let o = options
        let lora = o.lora.map { l in "rank \(l.rank) alpha \(l.alpha) targets \(l.targets.map(\.rawValue).sorted().joined(separator: ",")) seed \(l.seed)" } ?? "none"
        return ["seed": "\(o.seed)", "steps": "\(o.steps)", "lr": "\(o.learningRate)", "warmup": "\(o.warmup)", "floor": "\(o.floor)",
                "weight_decay": "\(o.weightDecay)", "clip": o.clip.map { "\($0)" } ?? "none", "accumulate": "\(o.accumulate)", "lora": lora,
                "distillation": o.distillation.map { "T \($0.temperature) alpha \($0.alpha)" } ?? "none",
                "sequence": "\(data.sequence)", "batch": "\(data.batchSize)", "data_tokens": "\(data.tokens.count)",
                "data_hash": String(hash, radix: 16)]
    }
}

extension LlamaTrainingModel {
    /// The shape of parameter `kind` (rows, cols; [n] for a norm).
    func shape(of kind: ParameterKind) -> [Int] {
        switch kind {
        case .embedding: return [weights.embedding.rows, weights.embedding.cols]
        case .head: return [weights.head.outputs, weights.head.inputs]
        case .outputNorm: return [weights.outputNorm.count]
        case let .attentionNorm(b): return [weights.blocks[b].attentionNorm.count]
        case let .ffnNorm(b): return [weights.blocks[b].ffnNorm.count]
        case let .linear(b, p):
            let l = weights.blocks[b][keyPath: Self.keyPath(Self.projections[p])]
            return [l.outputs, l.inputs]
        case let .loraA(b, p): return adapters[b][p].map { [$0.a.rows, $0.a.cols] } ?? []
        case let .loraB(b, p): return adapters[b][p].map { [$0.b.rows, $0.b.cols] } ?? []
        }
    }
}
