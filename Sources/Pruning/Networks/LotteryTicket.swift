import Foundation
import Numerics
import Training

/// The lottery ticket experiment (Frankle & Carbin 2019; rewinding to iteration k from Frankle,
/// Dziugaite, Roy & Carbin 2020) on a small network.
///
/// For each seed, θ₀ = `MLP(sizes, seed:)` is trained for `iterations` steps (round 0, dense). Then for
/// rounds r = 1…`rounds`, iterative magnitude pruning, layer-wise: every layer but the last keeps
/// (1 − rate)^r of its weights and the output layer (1 − rate/2)^r, as the paper prunes LeNet's output
/// layer at half the rate. Each round's mask is found by pruning the previous round's trained network
/// of the same lineage (so masks nest). Variants at every round:
///   - "winning ticket": the mask on θ₀ (survivors rewound to their initial values), trained;
///   - "rewind k" (when `rewindIteration` k > 0): its own lineage, survivors rewound to θ_k, the dense
///     network's weights after k steps of round 0;
///   - "random reinit": the winning ticket's mask on a fresh initialisation (`MLP(sizes, seed:)` with
///     a seed derived from the study seed and the round);
///   - "random mask": a seeded random mask with the winning ticket's sparsity in every layer, on θ₀.
/// Round 0 (all weights) is the one dense run, reported under every variant.
///
/// Every run trains `iterations` steps and evaluates the validation loss every `evaluateEvery` steps
/// (and at the end); the early-stop iteration is the evaluated step of minimum validation loss (the
/// earliest on ties), and the accuracy reported is the test accuracy of the network at that step.
/// Progress: one "lottery" event per training run; an interrupt is rethrown.
public enum LotteryTicket {
    /// One training run's outcome.
    public struct Row: Sendable, Equatable {
        /// The study seed.
        public var seed: UInt64
        /// The pruning round (0: dense).
        public var round: Int
        /// The fraction of weights remaining (biases not counted).
        public var remaining: Double
        /// "winning ticket", "rewind k" (k the iteration), "random reinit" or "random mask".
        public var variant: String
        /// Test accuracy at the early-stop iteration.
        public var accuracy: Double
        /// The step (from 1) of minimum validation loss.
        public var earlyStopIteration: Int
        /// The minimum validation loss.
        public var validationLoss: Double
        /// Test accuracy after all `iterations` steps.
        public var finalAccuracy: Double
    }

    /// The study's settings.
    public struct Options: Sendable, Equatable {
        /// The network's widths (LeNet-300-100 on digits by default).
        public var sizes: [Int] = [64, 300, 100, 10]
        /// Pruning rounds after the dense one (7 at 20%: 21% of the hidden weights left; raise it to go
        /// sparser, at about 4 s a round and seed in a release build here).
        public var rounds: Int = 7
        /// The fraction of the remaining weights each round prunes (the output layer: half of it).
        public var rate: Double = 0.2
        /// Rewinding iteration for the "rewind k" variant; 0 leaves the variant out.
        public var rewindIteration: Int = 0
        /// Steps per training run (800 steps of 60 ≈ 44 epochs of digits' 1,079 training images; the
        /// dense LeNet's validation loss bottoms out near step 700).
        public var iterations: Int = 800
        /// Steps between validation-loss evaluations.
        public var evaluateEvery: Int = 20
        /// Optimiser, batch, activation. The paper's LeNet setting is Adam 1.2e-3, batch 60.
        public var training = StudyTraining(optimizer: .adam(Adam.Settings(learningRate: 1.2e-3)), batchSize: 60)
        /// Whether to include the "random mask" control.
        public var randomMask: Bool = true
        /// Whether to include the "random reinit" control.
        public var randomReinit: Bool = true
        /// One run of the whole study per seed.
        public var seeds: [UInt64] = [0, 1, 2, 3, 4]

        /// The defaults above.
        public init() {}
    }

    /// The remaining fraction of each layer's weights after `round` rounds at `rate` (the last layer at rate/2).
    public static func keep(layers: Int, rate: Double, round: Int) -> [Double] {
        (0..<layers).map { l in pow(1 - (l == layers - 1 ? rate / 2 : rate), Double(round)) }
    }

    /// What one training run with early stopping gives.
    public struct Run: Sendable {
        /// The network after every step.
        public var final: MLP
        /// The network at the early-stop step.
        public var best: MLP
        /// The early-stop step (from 1; 0 when no step ran).
        public var bestIteration: Int
        /// The validation loss there.
        public var bestLoss: Double
        /// The network after `snapshotAt` steps, when asked for.
        public var snapshot: MLP?
    }

    /// Trains `net` for `iterations` steps of mini-batches (a fresh permutation of `train` every
    /// epoch, seeded by `seed`), evaluating the validation loss every `evaluateEvery` steps and after
    /// the last; keeps the network at the minimum. `progress.check()` is called before every step.
    public static func train(_ net: MLP, train: Dataset, validation: Dataset, iterations: Int, evaluateEvery: Int,
                             training: StudyTraining, seed: UInt64, snapshotAt: Int? = nil,
                             progress: ProgressReporter = .none) throws -> Run {
        switch training.optimizer {
        case let .sgd(s):
            var o = SGD(s)
            return try loop(net, train, validation, iterations, evaluateEvery, training.batchSize, seed, snapshotAt, progress, &o)
        case let .adam(s):
            var o = Adam(s)
            return try loop(net, train, validation, iterations, evaluateEvery, training.batchSize, seed, snapshotAt, progress, &o)
        }
    }

    private static func loop<O: Optimizer>(_ start: MLP, _ data: Dataset, _ validation: Dataset, _ iterations: Int, _ every: Int,
                                           _ batch: Int, _ seed: UInt64, _ snapshotAt: Int?, _ progress: ProgressReporter,
                                           _ optimizer: inout O) throws -> Run {
        var net = start
        var rng = SeededRandom(seed: seed)
        var order = [Int](), position = data.count
        let vx = validation.inputs.data, vy = validation.labels
        var best = start, bestIteration = 0, bestLoss = start.loss(vx, rows: validation.count, labels: vy)
        var snapshot: MLP? = snapshotAt == 0 ? start : nil
        for step in stride(from: 1, through: iterations, by: 1) {
            try progress.check()
            if position >= data.count {
                order = Dataset.permutation(data.count, using: &rng)
                position = 0
            }
            let idx = order[position..<min(position + batch, data.count)]
            position += idx.count
            let (x, y) = data.batch(idx)
            let (_, grads) = net.lossAndGradients(x, rows: idx.count, labels: y)
            net.step(&optimizer, gradients: grads)
            if step == snapshotAt { snapshot = net }
            if step % every == 0 || step == iterations {
                let loss = net.loss(vx, rows: validation.count, labels: vy)
                if loss < bestLoss || bestIteration == 0 {
                    best = net
                    bestIteration = step
                    bestLoss = loss
                }
            }
        }
        return Run(final: net, best: best, bestIteration: bestIteration, bestLoss: bestLoss, snapshot: snapshot)
    }

    /// The weights and biases of `values` under the masks of `masked` (the survivors of `masked`
    /// rewound to `values`).
    static func rewind(_ masked: MLP, to values: MLP) throws -> MLP {
        var out = values
        for l in 0..<out.layerCount {
            try out.setMask(nil, layer: l)
            try out.setParameters(layer: l, weight: values.weights[l], bias: values.biases[l])
            try out.setMask(masked.masks[l], layer: l)
        }
        return out
    }

    /// Runs the study: rows ordered by seed, round, variant.
    public static func run(data: StudyData, options: Options = Options(), progress: ProgressReporter = .none) throws -> [Row] {
        try StudySupport.checkSizes(options.sizes, data)
        try StudySupport.checkSeeds(options.seeds)
        try options.training.validate()
        guard options.rounds >= 0 else { throw PruningError(option: "rounds", "rounds must be non-negative, got \(options.rounds)") }
        guard options.rate > 0, options.rate < 1 else {
            throw PruningError(option: "rate", "rate must be in (0, 1), got \(PruningError.format(options.rate))")
        }
        guard options.iterations >= 1 else { throw PruningError(option: "iterations", "iterations must be at least 1, got \(options.iterations)") }
        guard options.evaluateEvery >= 1 else { throw PruningError(option: "evaluate_every", "evaluate_every must be at least 1, got \(options.evaluateEvery)") }
        guard options.rewindIteration >= 0, options.rewindIteration < options.iterations else {
            throw PruningError(option: "rewind", "rewind must be in 0..<iterations (\(options.iterations)), got \(options.rewindIteration)")
        }
        let k = options.rewindIteration
        let perRound = 1 + (k > 0 ? 1 : 0) + (options.randomReinit ? 1 : 0) + (options.randomMask ? 1 : 0)
        let total = options.seeds.count * (1 + options.rounds * perRound)
        var done = 0, rows = [Row]()
        let layers = options.sizes.count - 1
        let totalWeights = zip(options.sizes, options.sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }

        for seed in options.seeds {
            func trainRun(_ net: MLP, _ salt: UInt64, _ round: Int, snapshotAt: Int? = nil) throws -> Run {
                try train(net, train: data.train, validation: data.validation, iterations: options.iterations,
                          evaluateEvery: options.evaluateEvery, training: options.training,
                          seed: StudySupport.derive(seed, salt, round), snapshotAt: snapshotAt, progress: progress)
            }
            func record(_ round: Int, _ variant: String, _ run: Run, _ net: MLP) throws {
                let remaining = Double(NetworkPruning.remainingWeights(net)) / Double(totalWeights)
                rows.append(Row(seed: seed, round: round, remaining: remaining, variant: variant,
                                accuracy: run.best.accuracy(on: data.test), earlyStopIteration: run.bestIteration,
                                validationLoss: run.bestLoss, finalAccuracy: run.final.accuracy(on: data.test)))
                done += 1
                try progress.report("lottery", done: done, total: total,
                                    detail: "seed \(seed) · round \(round) · \(variant) · \(String(format: "%.1f", 100 * remaining))% left")
            }
            let theta0 = try MLP(sizes: options.sizes, activation: options.training.activation, seed: seed)
            // Round 0: the dense run, with θ_k kept for rewinding. Every variant shares the same training
            // seed per round, so variants differ only in mask and starting values.
            let dense = try trainRun(theta0, 1, 0, snapshotAt: k > 0 ? k : nil)
            let variants = ["winning ticket"] + (k > 0 ? ["rewind \(k)"] : []) + (options.randomReinit ? ["random reinit"] : []) + (options.randomMask ? ["random mask"] : [])
            for v in variants {
                let remaining = 1.0
                rows.append(Row(seed: seed, round: 0, remaining: remaining, variant: v, accuracy: dense.best.accuracy(on: data.test),
                                earlyStopIteration: dense.bestIteration, validationLoss: dense.bestLoss,
                                finalAccuracy: dense.final.accuracy(on: data.test)))
            }
            done += 1
            try progress.report("lottery", done: done, total: total, detail: "seed \(seed) · round 0 · dense")
            let thetaK = dense.snapshot
            var ticketTrained = dense.final, rewindTrained = dense.final
            for round in stride(from: 1, through: options.rounds, by: 1) {
                let ratios = keep(layers: layers, rate: options.rate, round: round).map { 1 - $0 }
                // Winning ticket: prune the last trained ticket, rewind the survivors to θ₀.
                let mask = try NetworkPruning.magnitude(ticketTrained, layerRatios: ratios)
                let ticket = try rewind(mask, to: theta0)
                let ticketRun = try trainRun(ticket, 1, round)
                try record(round, "winning ticket", ticketRun, ticket)
                ticketTrained = ticketRun.final
                if k > 0, let thetaK {
                    let rmask = try NetworkPruning.magnitude(rewindTrained, layerRatios: ratios)
                    let rewound = try rewind(rmask, to: thetaK)
                    let r = try trainRun(rewound, 1, round)
                    try record(round, "rewind \(k)", r, rewound)
                    rewindTrained = r.final
                }
                if options.randomReinit {
                    let fresh = try MLP(sizes: options.sizes, activation: options.training.activation,
                                        seed: StudySupport.derive(seed, 7, round))
                    let reinit = try rewind(mask, to: fresh)
                    try record(round, "random reinit", try trainRun(reinit, 1, round), reinit)
                }
                if options.randomMask {
                    let sparsities = NetworkPruning.layerSparsities(mask)
                    let random = try NetworkPruning.random(theta0, layerRatios: sparsities, seed: StudySupport.derive(seed, 8, round))
                    try record(round, "random mask", try trainRun(random, 1, round), random)
                }
            }
        }
        return rows
    }
}
