import Foundation
import Numerics
import Training

/// Structured against unstructured pruning at the same number of remaining weights.
///
/// For each seed a dense network `MLP(sizes, seed:)` is trained `trainEpochs`. For every remaining
/// fraction f of its weights:
///   - "structured": the same fraction of neurons is removed from every hidden layer (by the L2 norm of
///     their incoming weights, `NetworkPruning.neurons`), the fraction chosen so that the smaller dense
///     network has as close to f·(all weights) weights as whole neurons allow;
///   - "unstructured": magnitude masks (`scope`, global by default) leaving the structured network's
///     number of weights (exactly with the global scope; to within a weight per layer layer-wise);
/// both then retrained `retrainEpochs` from the trained dense weights. A "dense" row per seed gives
/// the trained dense network. Progress: one "structure" event per training run; an interrupt is rethrown.
public enum StructureStudy {
    /// One measurement.
    public struct Row: Sendable, Equatable {
        /// The study seed.
        public var seed: UInt64
        /// The target fraction of weights remaining.
        public var remaining: Double
        /// "dense", "structured" or "unstructured".
        public var kind: String
        /// Weights remaining (unmasked; biases not counted).
        public var parameters: Int
        /// The network's widths (smaller for "structured").
        public var sizes: [Int]
        /// Test accuracy after retraining.
        public var accuracy: Double
        /// Test accuracy right after pruning, before retraining.
        public var accuracyBeforeRetrain: Double
    }

    /// The study's settings.
    public struct Options: Sendable, Equatable {
        /// The dense network's widths (LeNet-300-100 on digits by default).
        public var sizes: [Int] = [64, 300, 100, 10]
        /// Fractions of the weights to keep.
        public var remaining: [Double] = [0.5, 0.25, 0.1, 0.05, 0.02]
        /// Epochs of the dense network's training.
        public var trainEpochs: Int = 10
        /// Epochs of retraining after pruning (the structured network starts far from its optimum:
        /// 3 epochs leave it short of what it reaches).
        public var retrainEpochs: Int = 10
        /// Layer-wise or global thresholds for the unstructured masks. Global by default: the
        /// layer-wise rule would leave LeNet's output layer 20 of its 1,000 weights at 2%, where the
        /// structured network keeps its output layer whole (10 × the last hidden width).
        public var scope: NetworkPruning.Scope = .global
        /// Optimiser, batch, activation.
        public var training = StudyTraining()
        /// One run of the whole study per seed.
        public var seeds: [UInt64] = [0, 1, 2, 3, 4]

        /// The defaults above.
        public init() {}
    }

    /// The neuron-removal ratio r (as `NetworkPruning.neurons` takes it) whose smaller network's weight
    /// count is closest to `fraction` of the weights of a network of `sizes`, and that count.
    public static func structuredRatio(sizes: [Int], fraction: Double) -> (ratio: Double, weights: Int) {
        let total = zip(sizes, sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }
        let target = fraction * Double(total)
        var best = (ratio: 0.0, weights: total)
        for step in 0...10_000 {
            let r = Double(step) / 10_000
            let w = weightsAfterRemoving(sizes: sizes, ratio: r)
            if abs(Double(w) - target) < abs(Double(best.weights) - target) { best = (r, w) }
        }
        return best
    }

    static func weightsAfterRemoving(sizes: [Int], ratio: Double) -> Int {
        var s = sizes
        for h in 1..<(sizes.count - 1) { s[h] = sizes[h] - min(Int((ratio * Double(sizes[h])).rounded()), sizes[h] - 1) }
        return zip(s, s.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// Runs the study: rows ordered by seed, then "dense", then per fraction "structured" and "unstructured".
    public static func run(data: StudyData, options: Options = Options(), progress: ProgressReporter = .none) throws -> [Row] {
        try StudySupport.checkSizes(options.sizes, data)
        guard options.sizes.count >= 3 else {
            throw PruningError(option: "sizes", "structured pruning removes hidden neurons: the network needs a hidden layer, got sizes \(options.sizes)")
        }
        try StudySupport.checkSeeds(options.seeds)
        try StudySupport.checkEpochs(options.trainEpochs, "epochs")
        try StudySupport.checkEpochs(options.retrainEpochs, "retrain_epochs")
        try options.training.validate()
        guard !options.remaining.isEmpty, options.remaining.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
            throw PruningError(option: "remaining", "remaining fractions must be in (0, 1], got \(options.remaining.map(PruningError.format))")
        }
        let total = options.seeds.count * (1 + 2 * options.remaining.count)
        var done = 0, rows = [Row]()
        func ran(_ detail: String) throws {
            done += 1
            try progress.report("structure", done: done, total: total, detail: detail)
        }
        let t = options.training
        let allWeights = zip(options.sizes, options.sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }
        for seed in options.seeds {
            let start = try MLP(sizes: options.sizes, activation: t.activation, seed: seed)
            let dense = try StudySupport.train(start, data.train, t.options(epochs: options.trainEpochs, seed: StudySupport.derive(seed, 21)), progress)
            try ran("seed \(seed) · dense")
            let denseAccuracy = dense.accuracy(on: data.test)
            rows.append(Row(seed: seed, remaining: 1, kind: "dense", parameters: allWeights, sizes: dense.sizes,
                            accuracy: denseAccuracy, accuracyBeforeRetrain: denseAccuracy))
            for (i, f) in options.remaining.enumerated() {
                let (ratio, weights) = structuredRatio(sizes: options.sizes, fraction: f)
                let small = try NetworkPruning.neurons(dense, ratio: ratio, criterion: .magnitude)
                let retrainedSmall = try StudySupport.train(small, data.train, t.options(epochs: options.retrainEpochs, seed: StudySupport.derive(seed, 22, i)), progress)
                try ran("seed \(seed) · structured \(PruningError.format(f))")
                rows.append(Row(seed: seed, remaining: f, kind: "structured", parameters: weights, sizes: small.sizes,
                                accuracy: retrainedSmall.accuracy(on: data.test), accuracyBeforeRetrain: small.accuracy(on: data.test)))
                let masked = try NetworkPruning.magnitude(dense, ratio: 1 - Double(weights) / Double(allWeights), scope: options.scope)
                let retrainedMasked = try StudySupport.train(masked, data.train, t.options(epochs: options.retrainEpochs, seed: StudySupport.derive(seed, 22, i)), progress)
                try ran("seed \(seed) · unstructured \(PruningError.format(f))")
                rows.append(Row(seed: seed, remaining: f, kind: "unstructured", parameters: NetworkPruning.remainingWeights(masked),
                                sizes: masked.sizes, accuracy: retrainedMasked.accuracy(on: data.test),
                                accuracyBeforeRetrain: masked.accuracy(on: data.test)))
            }
        }
        return rows
    }
}
