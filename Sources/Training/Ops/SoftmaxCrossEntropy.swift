import Foundation

/// Softmax cross-entropy over a batch of logits, averaged over the batch (PyTorch's
/// `F.cross_entropy` with its default `reduction="mean"`), forward beside backward.
public enum SoftmaxCrossEntropy {
    /// The mean of −log softmax(logits_r)[label_r] over the rows, and the softmax probabilities
    /// (rows × classes) the backward pass needs. Logits are shifted by each row's maximum; the loss
    /// is summed in Float64.
    public static func forward(logits: [Float], rows: Int, classes: Int, labels: [Int]) -> (loss: Double, probabilities: [Float]) {
        precondition(logits.count == rows * classes && labels.count == rows, "cross-entropy needs \(rows) × \(classes) logits and \(rows) labels")
        var probs = [Float](repeating: 0, count: logits.count)
        var total = 0.0
        for r in 0..<rows {
            let base = r * classes
            var peak = -Float.infinity
            for c in 0..<classes { peak = max(peak, logits[base + c]) }
            var sum: Float = 0
            for c in 0..<classes {
                let e = exp(logits[base + c] - peak)
                probs[base + c] = e
                sum += e
            }
            for c in 0..<classes { probs[base + c] /= sum }
            let label = labels[r]
            precondition(label >= 0 && label < classes, "label \(label) is outside 0..<\(classes)")
            total += Double(peak) + log(Double(sum)) - Double(logits[base + label])
        }
        return (rows > 0 ? total / Double(rows) : 0, probs)
    }

    /// dlogits = (softmax − one-hot(label)) / rows: the gradient of the mean loss.
    public static func backward(probabilities: [Float], rows: Int, classes: Int, labels: [Int]) -> [Float] {
        precondition(probabilities.count == rows * classes && labels.count == rows, "cross-entropy's backward needs \(rows) × \(classes) probabilities and \(rows) labels")
        var d = probabilities
        let scale = 1 / Float(max(rows, 1))
        for r in 0..<rows {
            d[r * classes + labels[r]] -= 1
            for c in 0..<classes { d[r * classes + c] *= scale }
        }
        return d
    }
}
