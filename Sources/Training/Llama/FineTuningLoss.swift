import Foundation
import Models

/// What a llama's training step minimises over its vocabulary-wide logits: next-token
/// cross-entropy, or knowledge distillation from a teacher's logits on the same positions.
public enum LlamaLossHead: Sendable {
    /// The mean next-token cross-entropy.
    case crossEntropy
    /// (1 − α)·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + α·CE, each the mean over positions;
    /// `teacher` holds the teacher's logits (rows × vocab, the student's row order).
    case distillation(teacher: [Float], temperature: Double, alpha: Double)

    /// The loss of `logits` (rows × vocab), and `logits` replaced in place by its gradient.
    func lossAndGradient(logits: inout [Float], rows: Int, vocab: Int, targets: [Int32]) -> Double {
        switch self {
        case .crossEntropy:
            return NextTokenCrossEntropy.lossAndGradient(logits: &logits, rows: rows, vocab: vocab, targets: targets)
        case let .distillation(teacher, temperature, alpha):
            return VocabularyDistillation.lossAndGradient(student: &logits, teacher: teacher, rows: rows, vocab: vocab, targets: targets,
                                                          temperature: temperature, alpha: alpha).loss
        }
    }
}

/// Hinton's distillation loss over a language model's vocabulary, the same loss as `Distillation`
/// (the small networks' op, checked against PyTorch) but laid out for rows × 49,152 logits: rows
/// run in parallel, each row's three softmaxes (student at T, teacher at T, student at 1) are
/// shifted by their maxima, their exponentials taken once each in Float32 (one row's, 3 × vocab, held
/// while the row runs) and summed in Float64, and the gradient overwrites the student's logits, so
/// the step holds no batch-wide buffer beyond the two it is given.
public enum VocabularyDistillation {
    /// The loss and its two terms (each the mean over rows).
    public struct Loss: Sendable, Equatable {
        /// (1 − α)·soft + α·hard.
        public var loss: Double
        /// T²·KL(softmax(t/T) ‖ softmax(s/T)).
        public var soft: Double
        /// CE(targets, softmax(s)).
        public var hard: Double
    }

    /// The loss of `student` against `teacher` (both rows × vocab) and `targets`; `student` is
    /// replaced by d loss / d student = ((1 − α)·T·(softmax(s/T) − softmax(t/T)) + α·(softmax(s) − onehot)) / rows.
    public static func lossAndGradient(student: inout [Float], teacher: [Float], rows: Int, vocab: Int, targets: [Int32],
                                       temperature: Double, alpha: Double) -> Loss {
        precondition(student.count == rows * vocab && teacher.count == rows * vocab && targets.count == rows,
                     "distillation needs \(rows) × \(vocab) student and teacher logits and \(rows) targets")
        precondition(targets.allSatisfy { $0 >= 0 && Int($0) < vocab }, "a target is outside the vocabulary")
        var kls = [Double](repeating: 0, count: rows), ces = [Double](repeating: 0, count: rows)
        let invT = 1 / temperature
        let a = (1 - alpha) * temperature / Double(max(rows, 1)), b = alpha / Double(max(rows, 1))
        student.withUnsafeMutableBufferPointer { sb in
            teacher.withUnsafeBufferPointer { tb in
                kls.withUnsafeMutableBufferPointer { kb in
                    ces.withUnsafeMutableBufferPointer { cb in
                        let sp = sb.baseAddress!, tp = tb.baseAddress!, kp = kb.baseAddress!, cp = cb.baseAddress!
                        ForwardKernels.parallelRows(rows) { r in
                            let s = sp + r * vocab, t = tp + r * vocab
                            var sMax = -Float.infinity, tMax = -Float.infinity
                            for c in 0..<vocab {
                                if s[c] > sMax { sMax = s[c] }
                                if t[c] > tMax { tMax = t[c] }
                            }
                            let sm = Double(sMax), tm = Double(tMax), fInvT = Float(invT)
                            // The three shifted exponentials of each logit, once each (in (0, 1], so
                            // Float32 holds them to 1e-7 relative): the sums and the probabilities
                            // both read them.
                            let e = UnsafeMutablePointer<Float>.allocate(capacity: 3 * vocab)
                            defer { e.deallocate() }
                            let eST = e, eTT = e + vocab, eS1 = e + 2 * vocab
                            var sumST = 0.0, sumTT = 0.0, sumS1 = 0.0
                            for c in 0..<vocab {
                                let ds = s[c] - sMax, dt = t[c] - tMax
                                eST[c] = expf(ds * fInvT); sumST += Double(eST[c])
                                eTT[c] = expf(dt * fInvT); sumTT += Double(eTT[c])
                                eS1[c] = expf(ds); sumS1 += Double(eS1[c])
                            }
                            // log-sum-exps of s/T, t/T and s.
                            let lseST = sm * invT + log(sumST), lseTT = tm * invT + log(sumTT), lseS1 = sm + log(sumS1)
                            let target = Int(targets[r])
                            cp[r] = lseS1 - Double(s[target])
                            let invST = 1 / sumST, invTT = 1 / sumTT, invS1 = 1 / sumS1
                            var kl = 0.0
                            for c in 0..<vocab {
                                let p = Double(eTT[c]) * invTT, q = Double(eST[c]) * invST, p1 = Double(eS1[c]) * invS1
                                // log p − log q = (t − s)/T − lseTT + lseST.
                                if p > 0 { kl += p * ((Double(t[c]) - Double(s[c])) * invT - lseTT + lseST) }
                                s[c] = Float(a * (q - p) + b * (p1 - (c == target ? 1 : 0)))
                            }
                            kp[r] = kl
                        }
                    }
                }
            }
        }
        let n = Double(max(rows, 1))
        let soft = temperature * temperature * kls.reduce(0, +) / n, hard = ces.reduce(0, +) / n
        return Loss(loss: (1 - alpha) * soft + alpha * hard, soft: soft, hard: hard)
    }
}
