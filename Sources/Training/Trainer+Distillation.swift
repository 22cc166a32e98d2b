import Foundation
import Numerics

extension MLP {
    /// The distillation loss (`Distillation`) of a batch against the teacher's logits for it, and the
    /// gradients of every parameter of this (the student) network.
    public func distillationLossAndGradients(_ x: [Float], rows: Int, labels: [Int], teacherLogits: [Float],
                                             temperature: Double, alpha: Double) -> (loss: Double, gradients: Gradients) {
        let saved = forward(x, rows: rows)
        let classes = sizes.last!
        let f = Distillation.forward(student: saved.logits, teacher: teacherLogits, rows: rows, classes: classes,
                                     labels: labels, temperature: temperature, alpha: alpha)
        let d = Distillation.backward(f, rows: rows, classes: classes, labels: labels, temperature: temperature, alpha: alpha)
        return (f.loss, backward(d, through: saved))
    }
}

extension Trainer {
    /// Trains a copy of `student` on `data` to match `teacher` (Hinton et al. 2015): each batch's
    /// loss is `Distillation`'s, (1 − α)·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + α·CE(labels,
    /// softmax(student)), with the teacher's logits computed for that batch by the frozen teacher
    /// (never updated). Batches, shuffling, optimiser, masks (a pruned student stays pruned) and the
    /// result are as in `Trainer.train`; `steps[i].loss` is the batch's distillation loss and
    /// `epochs[i].meanLoss` their mean. Progress: the same contract as `train` — one "training" event per
    /// step (done = steps finished, total = all steps), `check()` before every step, and a stop thrown
    /// by the progress ends training with the network of the last finished step, `interrupted` set.
    public static func distill(_ student: MLP, teacher: MLP, on data: Dataset, temperature: Double, alpha: Double,
                               options: TrainingOptions, validation: Dataset? = nil,
                               progress: ProgressReporter = .none) throws -> TrainingResult {
        try Distillation.validate(temperature: temperature, alpha: alpha)
        guard options.epochs >= 0 else { throw TrainingError.invalidArgument("epochs must be non-negative, got \(options.epochs)") }
        guard options.batchSize >= 1 else { throw TrainingError.invalidArgument("the batch size must be at least 1, got \(options.batchSize)") }
        guard data.count > 0 else { throw TrainingError.invalidArgument("\(data.name) has no examples") }
        guard data.features == student.sizes.first!, data.classes <= student.sizes.last! else {
            throw TrainingError.invalidArgument("a network of sizes \(student.sizes) cannot train on \(data.name) (\(data.features) features, \(data.classes) classes)")
        }
        guard teacher.sizes.first! == student.sizes.first!, teacher.sizes.last! == student.sizes.last! else {
            throw TrainingError.invalidArgument("the teacher (sizes \(teacher.sizes)) and the student (sizes \(student.sizes)) must have the same inputs and classes")
        }
        if let validation, validation.features != data.features {
            throw TrainingError.invalidArgument("\(validation.name) has \(validation.features) features, \(data.name) \(data.features)")
        }
        guard options.optimizer.learningRate > 0, options.optimizer.learningRate.isFinite else {
            throw TrainingError.invalidArgument("the learning rate must be positive, got \(options.optimizer.learningRate)")
        }
        switch options.optimizer {
        case let .sgd(s):
            var o = SGD(s)
            return distillLoop(student, teacher, data, validation, temperature, alpha, options, progress, &o)
        case let .adam(s):
            var o = Adam(s)
            return distillLoop(student, teacher, data, validation, temperature, alpha, options, progress, &o)
        }
    }

    private static func distillLoop<O: Optimizer>(_ start: MLP, _ teacher: MLP, _ data: Dataset, _ validation: Dataset?,
                                                  _ temperature: Double, _ alpha: Double, _ options: TrainingOptions,
                                                  _ progress: ProgressReporter, _ optimizer: inout O) -> TrainingResult {
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
                let t = teacher.forward(x, rows: idx.count).logits
                let (loss, grads) = net.distillationLossAndGradients(x, rows: idx.count, labels: y, teacherLogits: t,
                                                                     temperature: temperature, alpha: alpha)
                net.step(&optimizer, gradients: grads)
                examples += idx.count
                lossSum += loss * Double(idx.count)
                let record = TrainingStep(step: steps.count + 1, epoch: epoch, loss: loss, examples: examples,
                                          seconds: Date().timeIntervalSince(begin))
                steps.append(record)
                do {
                    try progress.report("training", done: record.step, total: total,
                                        detail: "epoch \(epoch)/\(options.epochs) · distillation loss \(String(format: "%.4f", loss))")
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
