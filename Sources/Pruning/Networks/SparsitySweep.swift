import Foundation
import Numerics
import Training

/// One-shot against iterative magnitude pruning (Han et al. 2015; the lecture's "gradual magnitude
/// pruning"): accuracy against sparsity.
///
/// For each seed: a dense network (`MLP(sizes, seed:)`) is trained `trainEpochs`. Then, for every
/// target sparsity s in `sparsities`:
///   - "one-shot": the trained dense network pruned to s (magnitude, `scope`) and not retrained;
///   - "one-shot+retrain": the same, then fine-tuned `retrainEpochs` with the mask fixed;
///   - "iterative": the previous round's pruned and retrained network is pruned further to s (weights
///     already pruned stay pruned), then retrained `retrainEpochs`. With the default targets
///     1 − 0.8^k each round prunes 20% of the weights that remain.
/// Targets are visited in increasing order; s = 0 gives the dense network's accuracy under every
/// method (the iterative chain starts from it). Progress: one "sparsity sweep" event per training run
/// (1 + 2 per nonzero target per seed); an interrupt (`progress.check()` throwing, checked before
/// every step) is rethrown.
public enum SparsitySweep {
    /// One measurement.
    public struct Row: Sendable, Equatable {
        /// The study seed (initialisation, shuffles).
        public var seed: UInt64
        /// The target sparsity (fraction of weights pruned).
        public var sparsity: Double
        /// The fraction of all weights (output layer included) the masks actually prune.
        public var measuredSparsity: Double
        /// "one-shot", "one-shot+retrain" or "iterative".
        public var method: String
        /// Test accuracy.
        public var accuracy: Double
    }

    /// The study's settings.
    public struct Options: Sendable, Equatable {
        /// The network's widths (LeNet-300-100 on digits by default).
        public var sizes: [Int] = [64, 300, 100, 10]
        /// Target sparsities (default 1 − 0.8^k for k = 0…17: 0, 0.2, 0.36, … 0.977).
        public var sparsities: [Double] = SparsitySweep.geometric(keep: 0.8, rounds: 17)
        /// Epochs of the dense network's training.
        public var trainEpochs: Int = 10
        /// Epochs of fine-tuning after each pruning (one-shot+retrain and every iterative round).
        public var retrainEpochs: Int = 1
        /// Layer-wise or global magnitude thresholds.
        public var scope: NetworkPruning.Scope = .layer
        /// Whether the output layer is pruned too. Off by default: LeNet's output layer holds 2% of its
        /// weights and is the most sensitive (at 97% layer-wise sparsity it would keep 3 weights per class);
        /// Frankle & Carbin prune it at half the rate for the same reason. Targets then apply to the other
        /// layers and `measuredSparsity` (over all weights) is a little lower.
        public var includeOutputLayer: Bool = false
        /// Optimiser, batch, activation.
        public var training = StudyTraining()
        /// One run of the whole sweep per seed.
        public var seeds: [UInt64] = [0, 1, 2, 3, 4]

        /// The defaults above.
        public init() {}
    }

    /// 1 − keep^k for k = 0…rounds: the sparsities reached by pruning (1 − keep) of the survivors per round.
    public static func geometric(keep: Double, rounds: Int) -> [Double] {
        (0...max(rounds, 0)).map { 1 - pow(keep, Double($0)) }
    }

    /// Runs the sweep: rows ordered by seed, then sparsity, then method.
    public static func run(data: StudyData, options: Options = Options(), progress: ProgressReporter = .none) throws -> [Row] {
        try StudySupport.checkSizes(options.sizes, data)
        try StudySupport.checkSeeds(options.seeds)
        try StudySupport.checkEpochs(options.trainEpochs, "epochs")
        try StudySupport.checkEpochs(options.retrainEpochs, "retrain_epochs")
        try options.training.validate()
        guard !options.sparsities.isEmpty else { throw PruningError(option: "sparsities", "give at least one target sparsity") }
        for s in options.sparsities { try NetworkPruning.checkRatio(s, option: "sparsities") }
        let targets = Array(Set(options.sparsities)).sorted()
        let nonzero = targets.filter { $0 > 0 }.count
        let total = options.seeds.count * (1 + 2 * nonzero)
        var done = 0, rows = [Row]()
        func ran(_ detail: String) throws {
            done += 1
            try progress.report("sparsity sweep", done: done, total: total, detail: detail)
        }
        let t = options.training
        for seed in options.seeds {
            let start = try MLP(sizes: options.sizes, activation: t.activation, seed: seed)
            let dense = try StudySupport.train(start, data.train, t.options(epochs: options.trainEpochs, seed: StudySupport.derive(seed, 1)), progress)
            try ran("seed \(seed) · dense")
            var chain = dense
            for (k, s) in targets.enumerated() {
                if s == 0 {
                    let a = dense.accuracy(on: data.test)
                    for m in ["one-shot", "one-shot+retrain", "iterative"] { rows.append(Row(seed: seed, sparsity: 0, measuredSparsity: 0, method: m, accuracy: a)) }
                    continue
                }
                let oneShot = try NetworkPruning.magnitude(dense, ratio: s, scope: options.scope, includeOutputLayer: options.includeOutputLayer)
                let measured = NetworkPruning.sparsity(oneShot)
                rows.append(Row(seed: seed, sparsity: s, measuredSparsity: measured, method: "one-shot", accuracy: oneShot.accuracy(on: data.test)))
                let tuned = try StudySupport.train(oneShot, data.train, t.options(epochs: options.retrainEpochs, seed: StudySupport.derive(seed, 2, k)), progress)
                try ran("seed \(seed) · one-shot \(percent(s))")
                rows.append(Row(seed: seed, sparsity: s, measuredSparsity: measured, method: "one-shot+retrain", accuracy: tuned.accuracy(on: data.test)))
                chain = try NetworkPruning.magnitude(chain, ratio: s, scope: options.scope, includeOutputLayer: options.includeOutputLayer)
                chain = try StudySupport.train(chain, data.train, t.options(epochs: options.retrainEpochs, seed: StudySupport.derive(seed, 3, k)), progress)
                try ran("seed \(seed) · iterative \(percent(s))")
                rows.append(Row(seed: seed, sparsity: s, measuredSparsity: NetworkPruning.sparsity(chain), method: "iterative", accuracy: chain.accuracy(on: data.test)))
            }
        }
        return rows
    }

    static func percent(_ x: Double) -> String { "\(Int((100 * x).rounded()))%" }
}
