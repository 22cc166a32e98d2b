import Numerics
import Training

/// The data of a network study: a training set, a validation set (early stopping) and a test set
/// (the accuracy every row reports). `Digits.splits(csv:seed:)` gives one.
public struct StudyData: Sendable {
    /// What the networks train on.
    public var train: Dataset
    /// What early stopping watches (the lottery study); the others ignore it.
    public var validation: Dataset
    /// What every row's accuracy is measured on.
    public var test: Dataset

    /// The three sets (same features and classes).
    public init(train: Dataset, validation: Dataset, test: Dataset) throws {
        guard train.features == validation.features, train.features == test.features else {
            throw PruningError(option: "data", "the train, validation and test sets must have the same features, got \(train.features), \(validation.features) and \(test.features)")
        }
        guard train.count > 0, validation.count > 0, test.count > 0 else {
            throw PruningError(option: "data", "the train, validation and test sets must not be empty")
        }
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// From `Digits.splits` or `Dataset.split`.
    public init(_ splits: (train: Dataset, validation: Dataset, test: Dataset)) throws {
        try self.init(train: splits.train, validation: splits.validation, test: splits.test)
    }

    /// A seeded subset of round(fraction·n) training examples (at least one), the other sets unchanged.
    public func trainingFraction(_ fraction: Double, seed: UInt64) -> StudyData {
        guard fraction < 1 else { return self }
        var rng = SeededRandom(seed: seed ^ 0x5EED_F4AC)
        let n = max(1, Int((fraction * Double(train.count)).rounded()))
        let pick = Array(Dataset.permutation(train.count, using: &rng).prefix(n))
        var out = self
        out.train = train.subset(pick, name: train.name + "/\(PruningError.format(fraction))")
        return out
    }
}

/// How a study trains each network: optimiser, batch size, activation (shared by every study).
public struct StudyTraining: Sendable, Equatable {
    /// The optimiser of every run (a fresh state each run).
    public var optimizer: OptimizerChoice
    /// Examples per step.
    public var batchSize: Int
    /// The activation of every network the study builds.
    public var activation: Activation

    /// Adam at lr 1e-3, batch 32, ReLU unless given.
    public init(optimizer: OptimizerChoice = .adam(Adam.Settings(learningRate: 1e-3)), batchSize: Int = 32, activation: Activation = .relu) {
        self.optimizer = optimizer
        self.batchSize = batchSize
        self.activation = activation
    }

    func options(epochs: Int, seed: UInt64) -> TrainingOptions {
        TrainingOptions(epochs: epochs, batchSize: batchSize, optimizer: optimizer, seed: seed)
    }

    func validate() throws {
        guard batchSize >= 1 else { throw PruningError(option: "batch", "the batch size must be at least 1, got \(batchSize)") }
        guard optimizer.learningRate > 0, optimizer.learningRate.isFinite else {
            throw PruningError(option: "lr", "the learning rate must be positive, got \(PruningError.format(optimizer.learningRate))")
        }
    }
}

/// Shared machinery of the studies.
enum StudySupport {
    /// A seed for run `k` of purpose `salt` within a study seed (so runs draw independent streams).
    static func derive(_ seed: UInt64, _ salt: UInt64, _ k: Int = 0) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* (salt &+ 1) &+ UInt64(k) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Trains with `Trainer.train`, passing the study's interrupt check through; a stop is rethrown.
    static func train(_ net: MLP, _ data: Dataset, _ options: TrainingOptions, _ progress: ProgressReporter) throws -> MLP {
        let inner = ProgressReporter(report: { _ in }, check: { try progress.check() })
        let r = try Trainer.train(net, on: data, options: options, progress: inner)
        if let stop = r.stoppedBy { throw stop }
        return r.network
    }

    static func checkSizes(_ sizes: [Int], _ data: StudyData) throws {
        guard sizes.count >= 2, sizes.allSatisfy({ $0 > 0 }) else {
            throw PruningError(option: "sizes", "network sizes must be at least two positive widths, got \(sizes)")
        }
        guard sizes.first! == data.train.features, sizes.last! >= data.train.classes else {
            throw PruningError(option: "sizes", "a network of sizes \(sizes) cannot learn \(data.train.name) (\(data.train.features) features, \(data.train.classes) classes)")
        }
    }

    static func checkSeeds(_ seeds: [UInt64]) throws {
        guard !seeds.isEmpty else { throw PruningError(option: "seeds", "give at least one seed") }
    }

    static func checkEpochs(_ epochs: Int, _ option: String) throws {
        guard epochs >= 0 else { throw PruningError(option: option, "\(option) must be non-negative, got \(epochs)") }
    }
}
