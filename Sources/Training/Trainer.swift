import Foundation
import Numerics

/// How to train: epochs, batch size, optimiser, and the seed of the mini-batch order.
public struct TrainingOptions: Sendable, Equatable {
    /// Passes over the training set.
    public var epochs: Int
    /// Examples per step.
    public var batchSize: Int
    /// The optimiser and its settings.
    public var optimizer: OptimizerChoice
    /// Seeds the shuffle: each epoch visits the examples in a fresh permutation drawn from one
    /// `SeededRandom(seed)` (the last batch of an epoch may be smaller, as PyTorch's DataLoader keeps it).
    public var seed: UInt64

    /// Options with these defaults unless given.
    public init(epochs: Int = 10, batchSize: Int = 64, optimizer: OptimizerChoice = .adam(Adam.Settings()), seed: UInt64 = 0) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.seed = seed
    }
}

/// One optimiser step of the loss curve.
public struct TrainingStep: Sendable, Equatable {
    /// Steps finished, counting this one (from 1).
    public var step: Int
    /// The epoch the step belongs to (from 1).
    public var epoch: Int
    /// The batch's mean cross-entropy before the step.
    public var loss: Double
    /// Examples seen so far, this batch included.
    public var examples: Int
    /// Seconds since training began.
    public var seconds: Double
}

/// One finished epoch.
public struct TrainingEpoch: Sendable, Equatable {
    /// The epoch (from 1).
    public var epoch: Int
    /// The mean of its batches' losses, weighted by batch size.
    public var meanLoss: Double
    /// Accuracy on the validation set after the epoch, when one was given.
    public var validationAccuracy: Double?
    /// Seconds since training began.
    public var seconds: Double
}

/// What `Trainer.train` gives back: the network as of the last finished step and its curves.
public struct TrainingResult: Sendable {
    /// The trained network (as of the last finished step when stopped early).
    public var network: MLP
    /// Every step's loss.
    public var steps: [TrainingStep]
    /// Every finished epoch.
    public var epochs: [TrainingEpoch]
    /// Whether training stopped early because its progress asked it to (by throwing).
    public var interrupted: Bool
    /// What the progress threw to stop training (nil when it ran to the end).
    public var stoppedBy: Error?
    /// Wall-clock seconds.
    public var seconds: Double
}

/// Mini-batch training of an `MLP` on softmax cross-entropy.
public enum Trainer {
    /// Trains a copy of `network` on `data` as `options` say; `validation`, when given, is scored
    /// after every epoch. Progress: one "training" event per step (done = steps finished, total =
    /// all steps, detail = epoch and loss), with `check()` before every step. A stop thrown by the
    /// progress is not rethrown: training ends and the result holds the network as of the last
    /// finished step, `interrupted` set and the error in `stoppedBy`.
    public static func train(_ network: MLP, on data: Dataset, validation: Dataset? = nil, options: TrainingOptions,
                             progress: ProgressReporter = .none) throws -> TrainingResult {
        try check(network, on: data, validation: validation, options: options)
        return run(network, data, validation, options, progress, lossName: "loss") { net, x, rows, labels in
            net.lossAndGradients(x, rows: rows, labels: labels)
        }
    }

    /// Checks what every training run needs: epochs, batch size, a non-empty set that fits the
    /// network, a validation set of the same features, a positive learning rate.
    static func check(_ network: MLP, on data: Dataset, validation: Dataset?, options: TrainingOptions) throws {
        guard options.epochs >= 0 else { throw TrainingError.invalidArgument("epochs must be non-negative, got \(options.epochs)") }
        guard options.batchSize >= 1 else { throw TrainingError.invalidArgument("the batch size must be at least 1, got \(options.batchSize)") }
        guard data.count > 0 else { throw TrainingError.invalidArgument("\(data.name) has no examples") }
        guard data.features == network.sizes.first!, data.classes <= network.sizes.last! else {
            throw TrainingError.invalidArgument("a network of sizes \(network.sizes) cannot train on \(data.name) (\(data.features) features, \(data.classes) classes)")
        }
        if let validation, validation.features != data.features {
            throw TrainingError.invalidArgument("\(validation.name) has \(validation.features) features, \(data.name) \(data.features)")
        }
        guard options.optimizer.learningRate > 0, options.optimizer.learningRate.isFinite else {
            throw TrainingError.invalidArgument("the learning rate must be positive, got \(options.optimizer.learningRate)")
        }
    }

    /// The loss of a batch and the gradients of every parameter of the network being trained.
    typealias BatchLoss = (MLP, [Float], Int, [Int]) -> (loss: Double, gradients: MLP.Gradients)

    /// The mini-batch loop every trainer shares, on a fresh optimiser of `options`' choice: seeded
    /// shuffles, one step per batch with `loss`, progress and stops as `train` documents.
    static func run(_ start: MLP, _ data: Dataset, _ validation: Dataset?, _ options: TrainingOptions,
                    _ progress: ProgressReporter, lossName: String, loss: BatchLoss) -> TrainingResult {
        switch options.optimizer {
        case let .sgd(s):
            var o = SGD(s)
            return loop(start, data, validation, options, progress, &o, lossName, loss)
        case let .adam(s):
            var o = Adam(s)
            return loop(start, data, validation, options, progress, &o, lossName, loss)
        }
    }

    private static func loop<O: Optimizer>(_ start: MLP, _ data: Dataset, _ validation: Dataset?, _ options: TrainingOptions,
                                           _ progress: ProgressReporter, _ optimizer: inout O, _ lossName: String,
                                           _ batchLoss: BatchLoss) -> TrainingResult {
        let begin = Date()
        var net = start
        var rng = SeededRandom(seed: options.seed)
        let perEpoch = (data.count + options.batchSize - 1) / options.batchSize
        let total = perEpoch * options.epochs
        var steps = [TrainingStep](), epochs = [TrainingEpoch]()
        steps.reserveCapacity(total)
        var examples = 0
        var stoppedBy: Error?
        training: for epoch in stride(from: 1, through: options.epochs, by: 1) {
            let order = Dataset.permutation(data.count, using: &rng)
            var lossSum = 0.0
            for b in 0..<perEpoch {
                do { try progress.check() } catch { stoppedBy = error; break training }
                let idx = order[(b * options.batchSize)..<min((b + 1) * options.batchSize, data.count)]
                let (x, y) = data.batch(idx)
                let (loss, grads) = batchLoss(net, x, idx.count, y)
                net.step(&optimizer, gradients: grads)
                examples += idx.count
                lossSum += loss * Double(idx.count)
                let record = TrainingStep(step: steps.count + 1, epoch: epoch, loss: loss, examples: examples,
                                          seconds: Date().timeIntervalSince(begin))
                steps.append(record)
                do {
                    try progress.report("training", done: record.step, total: total,
                                        detail: "epoch \(epoch)/\(options.epochs) · \(lossName) \(String(format: "%.4f", loss))")
                } catch { stoppedBy = error; break training }
            }
            epochs.append(TrainingEpoch(epoch: epoch, meanLoss: lossSum / Double(data.count),
                                        validationAccuracy: validation.map { net.accuracy(on: $0) },
                                        seconds: Date().timeIntervalSince(begin)))
        }
        return TrainingResult(network: net, steps: steps, epochs: epochs, interrupted: stoppedBy != nil,
                              stoppedBy: stoppedBy, seconds: Date().timeIntervalSince(begin))
    }
}
