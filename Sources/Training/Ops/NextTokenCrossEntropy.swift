import Foundation
import Models

/// Softmax cross-entropy over the vocabulary for next-token prediction, forward beside backward:
/// the loss is the mean over all predicted positions of −log softmax(logits_r)[target_r]
/// (PyTorch's `F.cross_entropy`, reduction "mean"). Rows run in parallel; each row's softmax
/// is shifted by its maximum and its log-sum-exp summed in Float64.
public enum NextTokenCrossEntropy {
    /// The mean loss of `logits` (rows × vocab) against `targets` (one per row).
    public static func forward(logits: [Float], rows: Int, vocab: Int, targets: [Int32]) -> Double {
        var copy = logits
        return lossAndGradient(logits: &copy, rows: rows, vocab: vocab, targets: targets)
    }

    /// The mean loss, and `logits` replaced in place by its gradient (softmax − one-hot)/rows:
    /// the vocabulary-wide buffer is the largest of the step, so it is not copied.
    public static func lossAndGradient(logits: inout [Float], rows: Int, vocab: Int, targets: [Int32]) -> Double {
        precondition(logits.count == rows * vocab && targets.count == rows, "cross-entropy needs \(rows) × \(vocab) logits and \(rows) targets")
        precondition(targets.allSatisfy { $0 >= 0 && Int($0) < vocab }, "a target is outside the vocabulary")
        var losses = [Double](repeating: 0, count: rows)
        let scale = 1 / Float(max(rows, 1))
        logits.withUnsafeMutableBufferPointer { lb in
            losses.withUnsafeMutableBufferPointer { sb in
                let lp = lb.baseAddress!, sp = sb.baseAddress!
                ForwardKernels.parallelRows(rows) { r in
                    let row = lp + r * vocab
                    var peak = -Float.infinity
                    for c in 0..<vocab where row[c] > peak { peak = row[c] }
                    var sum = 0.0
                    let target = Int(targets[r]), picked = row[target]
                    for c in 0..<vocab { let e = exp(row[c] - peak); row[c] = e; sum += Double(e) }
                    sp[r] = Double(peak) + log(sum) - Double(picked)
                    let inv = Float(1 / sum) * scale
                    for c in 0..<vocab { row[c] *= inv }
                    row[target] -= scale
                }
            }
        }
        return rows > 0 ? losses.reduce(0, +) / Double(rows) : 0
    }
}
