import Foundation

/// Knowledge distillation's loss (Hinton, Vinyals & Dean 2015), forward beside backward: a student
/// learns from the teacher's outputs softened at temperature T and from the hard labels,
///
///     loss = (1 − α)·T²·KL(softmax(t/T) ‖ softmax(s/T)) + α·CE(labels, softmax(s)),
///
/// each term the mean over the batch (s: student logits, t: teacher logits, rows × classes). α = 1 is
/// plain hard-label training, α = 0 pure soft targets. The T² keeps the soft term's gradient on the
/// scale of the hard term's as T changes (its gradient is T·(softmax(s/T) − softmax(t/T))/rows). The
/// soft term is PyTorch's `F.kl_div(F.log_softmax(s/T), F.softmax(t/T), reduction="batchmean")·T²`.
public enum Distillation {
    /// What the forward pass gives: the loss, its two terms, and the probabilities the backward needs.
    public struct Forward: Sendable {
        /// (1 − α)·soft + α·hard.
        public var loss: Double
        /// T²·KL(softmax(t/T) ‖ softmax(s/T)), the batch mean.
        public var soft: Double
        /// The cross-entropy of the labels under softmax(s), the batch mean.
        public var hard: Double
        /// softmax(s/T) (rows × classes).
        public var studentSoft: [Float]
        /// softmax(t/T) (rows × classes).
        public var teacherSoft: [Float]
        /// softmax(s) (rows × classes).
        public var studentProbabilities: [Float]
    }

    /// Checks a temperature (finite, > 0) and a weight α (in [0, 1]).
    public static func validate(temperature: Double, alpha: Double) throws {
        guard temperature.isFinite, temperature > 0 else {
            throw TrainingError.invalidArgument("the temperature must be positive, got \(temperature)")
        }
        guard alpha.isFinite, alpha >= 0, alpha <= 1 else {
            throw TrainingError.invalidArgument("alpha must be in [0, 1], got \(alpha)")
        }
    }

    /// The loss of student logits `student` against teacher logits `teacher` (both rows × classes)
    /// and `labels`. Softmaxes are shifted by the row maximum; sums are in Float64.
    public static func forward(student: [Float], teacher: [Float], rows: Int, classes: Int, labels: [Int],
                               temperature: Double, alpha: Double) -> Forward {
        precondition(student.count == rows * classes && teacher.count == rows * classes && labels.count == rows,
                     "distillation needs \(rows) × \(classes) student and teacher logits and \(rows) labels")
        let invT = 1 / temperature
        var q = [Float](repeating: 0, count: student.count), p = q, s1 = q
        var kl = 0.0, ce = 0.0
        for r in 0..<rows {
            let base = r * classes
            let logQ = logSoftmax(student, base, classes, scale: invT)
            let logP = logSoftmax(teacher, base, classes, scale: invT)
            let log1 = logSoftmax(student, base, classes, scale: 1)
            for c in 0..<classes {
                q[base + c] = Float(exp(logQ[c]))
                let pc = exp(logP[c])
                p[base + c] = Float(pc)
                s1[base + c] = Float(exp(log1[c]))
                if pc > 0 { kl += pc * (logP[c] - logQ[c]) }
            }
            precondition(labels[r] >= 0 && labels[r] < classes, "label \(labels[r]) is outside 0..<\(classes)")
            ce -= log1[labels[r]]
        }
        let n = Double(max(rows, 1))
        let soft = temperature * temperature * kl / n, hard = ce / n
        return Forward(loss: (1 - alpha) * soft + alpha * hard, soft: soft, hard: hard,
                       studentSoft: q, teacherSoft: p, studentProbabilities: s1)
    }

    /// d loss / d student logits: ((1 − α)·T·(softmax(s/T) − softmax(t/T)) + α·(softmax(s) − onehot)) / rows.
    /// The teacher gets no gradient (it is frozen).
    public static func backward(_ f: Forward, rows: Int, classes: Int, labels: [Int], temperature: Double, alpha: Double) -> [Float] {
        precondition(f.studentSoft.count == rows * classes && labels.count == rows, "distillation's backward needs \(rows) × \(classes) probabilities and \(rows) labels")
        let n = Float(max(rows, 1))
        let a = Float((1 - alpha) * temperature) / n, b = Float(alpha) / n
        var d = [Float](repeating: 0, count: rows * classes)
        for r in 0..<rows {
            for c in 0..<classes {
                let i = r * classes + c
                d[i] = a * (f.studentSoft[i] - f.teacherSoft[i]) + b * (f.studentProbabilities[i] - (labels[r] == c ? 1 : 0))
            }
        }
        return d
    }

    /// log softmax(scale·z) of one row (classes values from `base`), in Float64.
    static func logSoftmax(_ z: [Float], _ base: Int, _ classes: Int, scale: Double) -> [Double] {
        var peak = -Double.infinity
        for c in 0..<classes { peak = max(peak, scale * Double(z[base + c])) }
        var sum = 0.0
        for c in 0..<classes { sum += exp(scale * Double(z[base + c]) - peak) }
        let lse = peak + log(sum)
        return (0..<classes).map { scale * Double(z[base + $0]) - lse }
    }
}
