import Foundation
import Numerics
import Models

/// A trained PruneNet policy as a reusable value: the learner, what it fits (architecture, hidden
/// size, FFN width, blocks), how it was trained (options, curve, kept episode, whether it was
/// interrupted). It prunes a model at any ratio, or per-layer ratios (paper Tables 6 and 7),
/// sampled with a seed or deterministically by top-k of the scores (Table 17), and saves as a
/// safetensors file whose metadata holds the rest as JSON.
public struct PrunePolicy: Sendable {
    /// The learner (W_inter, W_proj).
    public var learner: PolicyLearner
    /// The metadata saved beside the learner.
    public var info: Info

    /// A policy from a learner and its metadata.
    public init(learner: PolicyLearner, info: Info) {
        self.learner = learner
        self.info = info
    }

    /// Everything about a policy but its parameters (the JSON in the saved file).
    public struct Info: Sendable, Codable, Equatable {
        /// Always "prunenet-policy".
        public var format = "prunenet-policy"
        /// Format version.
        public var version = 1
        /// The model it was trained on.
        public var modelName: String
        /// Architecture name ("llama", "bert").
        public var architecture: String
        /// Hidden size d of the model.
        public var hiddenSize: Int
        /// FFN width n of every block.
        public var intermediateSize: Int
        /// Blocks of the model.
        public var blocks: Int
        /// How it was trained (ratio, episodes, reward, γ, lr, seed, variant).
        public var options: PolicyTrainingOptions
        /// The training curve.
        public var curve: [EpisodeRecord]
        /// The episode whose learner was kept.
        public var keptEpisode: Int
        /// Whether training was interrupted.
        public var interrupted: Bool
        /// Training time in seconds.
        public var seconds: Double

        /// Metadata for a learner trained on `modelName` (format and version filled in).
        public init(modelName: String, architecture: String, hiddenSize: Int, intermediateSize: Int, blocks: Int,
                    options: PolicyTrainingOptions, curve: [EpisodeRecord], keptEpisode: Int, interrupted: Bool, seconds: Double) {
            self.modelName = modelName
            self.architecture = architecture
            self.hiddenSize = hiddenSize
            self.intermediateSize = intermediateSize
            self.blocks = blocks
            self.options = options
            self.curve = curve
            self.keptEpisode = keptEpisode
            self.interrupted = interrupted
            self.seconds = seconds
        }
    }

    /// Trains a policy on `model` (see `PolicyTraining.train`); a stop asked for by `progress`
    /// returns the best policy so far, marked interrupted.
    public static func train(on model: Model, options: PolicyTrainingOptions,
                             progress: ProgressReporter = .none) throws -> PrunePolicy {
        PrunePolicy(trained: try PolicyTraining.train(model: model, options: options, progress: progress), on: model, options: options)
    }

    /// The policy a training run on `model` with `options` kept.
    public init(trained r: PolicyTrainingResult, on model: Model, options: PolicyTrainingOptions) {
        self.init(learner: r.learner, info: Info(
            modelName: model.name, architecture: model.config.architecture.rawValue, hiddenSize: model.config.hiddenSize,
            intermediateSize: r.learner.n, blocks: model.blockCount, options: options, curve: r.curve,
            keptEpisode: r.keptEpisode, interrupted: r.interrupted, seconds: r.seconds))
    }

    /// Throws a clear error unless `model` is one this policy can prune: same architecture, hidden
    /// size and FFN width in every block (the learner is n×d).
    public func requireFits(_ model: Model) throws {
        let c = model.config
        if c.architecture.rawValue != info.architecture {
            throw PruningError("the policy was trained on a \(info.architecture) model (\(info.modelName)); \(model.name) is \(c.architecture.rawValue)")
        }
        if c.hiddenSize != info.hiddenSize {
            throw PruningError("the policy fits hidden size \(info.hiddenSize) (\(info.modelName)); \(model.name) has hidden size \(c.hiddenSize)")
        }
        if let b = c.intermediateSizes.firstIndex(where: { $0 != info.intermediateSize }) {
            throw PruningError("the policy fits FFN width \(info.intermediateSize) in every block; \(model.name) block \(b) has width \(c.intermediateSizes[b]) (prune the dense model, not a pruned one)")
        }
    }

    /// The logits z = W·v of every block's state matrix of `model`.
    public func logits(_ model: Model) throws -> [[Double]] {
        try requireFits(model)
        let v = learner.direction()
        let role = RowPruners.stateRole(model.config)
        return try (0..<model.blockCount).map { b in
            let w = try model.matrix(role, block: b)
            return learner.logits(state: w.data.map(Double.init), rows: w.rows, direction: v)
        }
    }

    /// The neurons each block keeps at `ratios` (one per block): a draw of eq. 4 from
    /// `SeededRandom(seed)` at the temperature the policy was trained with, or the top-k scores
    /// when `deterministic`.
    /// `protected` neurons are always kept: the draw (or top-k) then ranks k + |protected| neurons
    /// and the block keeps its protected ones and the first others of that ranking.
    public func keptNeurons(_ model: Model, ratios: [Double], seed: UInt64, deterministic: Bool,
                            protected: ProtectedNeurons = .none) throws -> [Int: [Int]] {
        guard ratios.count == model.blockCount else {
            throw PruningError("need one ratio per block (\(model.blockCount)), got \(ratios.count)")
        }
        try protected.check(model, ratios: ratios)
        let z = try logits(model)
        var rng = SeededRandom(seed: seed)
        var kept = [Int: [Int]]()
        for b in 0..<model.blockCount {
            let k = try FFNPruning.keptCount(width: z[b].count, ratio: ratios[b])
            let count = min(z[b].count, k + protected[b].count)
            let ranked = deterministic ? PolicySampling.topK(logits: z[b], count: count)
                                       : try PolicySampling.act(logits: z[b], count: count, rng: &rng, temperature: info.options.temperature).kept
            kept[b] = ProtectedNeurons.choose(ranked: ranked, keep: k, protected: protected[b])
        }
        return kept
    }

    /// `model` pruned by this policy at `ratios` (one per block, or one for all), keeping `protected`.
    public func apply(to model: Model, ratios: [Double], seed: UInt64 = 0, deterministic: Bool = false,
                      protected: ProtectedNeurons = .none) throws -> Model {
        let r = ratios.count == 1 ? Array(repeating: ratios[0], count: model.blockCount) : ratios
        return try FFNPruning.keep(model, neurons: try keptNeurons(model, ratios: r, seed: seed, deterministic: deterministic, protected: protected))
    }

    /// The metadata key under which the JSON is stored in the safetensors header.
    public static let metadataKey = "prunenet"

    /// Writes the policy to `path` (safetensors: `W_inter` n×d and `W_proj` 1×n as F32, the
    /// info as JSON in the header metadata), atomically.
    public func save(to path: String) throws {
        let json = String(decoding: try JSONEncoder().encode(info), as: UTF8.self)
        try SafetensorsWriter.write([
            .init(name: "W_inter", shape: [learner.n, learner.d], floats: learner.wInter.map(Float.init)),
            .init(name: "W_proj", shape: [1, learner.n], floats: learner.wProj.map(Float.init)),
        ], metadata: [PrunePolicy.metadataKey: json], to: path)
    }

    /// Reads a policy written by `save`; a clear error for any other file.
    public static func load(from path: String) throws -> PrunePolicy {
        if let h = FileHandle(forReadingAtPath: path) {
            let magic = h.readData(ofLength: 4)
            try? h.close()
            if magic == Data("GGUF".utf8) {
                throw PruningError("\(path) is a GGUF model, not a PruneNet policy (a policy is the .safetensors file save(p, path) writes)")
            }
        }
        let file = try SafetensorsFile(path: path)
        guard let json = file.metadata[metadataKey] else {
            throw PruningError("\(path) is not a PruneNet policy (its safetensors header has no \"\(metadataKey)\" metadata)")
        }
        let info: Info
        do { info = try JSONDecoder().decode(Info.self, from: Data(json.utf8)) }
        catch { throw PruningError("\(path): the policy metadata is not valid (\(error))") }
        guard let wi = file.tensor(named: "W_inter"), let wp = file.tensor(named: "W_proj") else {
            throw PruningError("\(path) lacks the W_inter or W_proj tensor")
        }
        guard wi.shape == [info.intermediateSize, info.hiddenSize], wp.shape == [1, info.intermediateSize] else {
            throw PruningError("\(path): W_inter is \(wi.shape) and W_proj \(wp.shape), the metadata says n=\(info.intermediateSize), d=\(info.hiddenSize)")
        }
        let learner = try PolicyLearner(n: info.intermediateSize, d: info.hiddenSize,
                                        wInter: try file.floats(of: wi).map(Double.init),
                                        wProj: try file.floats(of: wp).map(Double.init))
        return PrunePolicy(learner: learner, info: info)
    }
}
