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
        try check(student, on: data, validation: validation, options: options)
        guard teacher.sizes.first! == student.sizes.first!, teacher.sizes.last! == student.sizes.last! else {
            throw TrainingError.invalidArgument("the teacher (sizes \(teacher.sizes)) and the student (sizes \(student.sizes)) must have the same inputs and classes")
        }
        return run(student, data, validation, options, progress, lossName: "distillation loss") { net, x, rows, labels in
            let t = teacher.forward(x, rows: rows).logits
            return net.distillationLossAndGradients(x, rows: rows, labels: labels, teacherLogits: t,
                                                    temperature: temperature, alpha: alpha)
        }
    }
}
