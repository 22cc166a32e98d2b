import Numerics

/// A multilayer perceptron: linear layers with bias of widths `sizes` (input first, classes last),
/// the activation between them and none after the last (its outputs are logits for
/// `SoftmaxCrossEntropy`). Value semantics: training returns a new network.
///
/// Masks: each weight matrix may carry a fixed 0/1 mask of its shape. A masked weight is zero and
/// stays zero through training: the gradient is masked and the weight re-masked after every
/// optimiser step.
public struct MLP: Sendable, Equatable {
    /// Layer widths, input first: [64, 300, 100, 10] is LeNet-300-100 on 8×8 digits.
    public let sizes: [Int]
    /// The activation after every layer but the last.
    public var activation: Activation
    /// Layer l's weight, sizes[l+1] × sizes[l] (out × in, as `nn.Linear` holds it).
    public private(set) var weights: [Matrix]
    /// Layer l's bias, sizes[l+1] entries.
    public private(set) var biases: [[Float]]
    /// Layer l's mask (1 keeps, 0 prunes), or nil when the layer is dense.
    public private(set) var masks: [Matrix?]

    /// Number of linear layers.
    public var layerCount: Int { weights.count }
    /// Number of parameters (weights and biases, masked ones included).
    public var parameterCount: Int { zip(weights, biases).reduce(0) { $0 + $1.0.count + $1.1.count } }
    /// Number of weights a mask keeps plus every bias.
    public var unmaskedParameterCount: Int {
        (0..<layerCount).reduce(0) { acc, l in
            acc + biases[l].count + (masks[l].map { $0.data.reduce(0) { $0 + ($1 != 0 ? 1 : 0) } } ?? weights[l].count)
        }
    }

    /// A network with PyTorch's `nn.Linear` default initialisation, seeded: every weight and bias of
    /// layer l uniform on [−1/√in, 1/√in) (kaiming_uniform with a = √5 gives this bound for the
    /// weights), drawn layer by layer, weight (row-major) before bias, from one `SeededRandom(seed)`.
    public init(sizes: [Int], activation: Activation = .relu, seed: UInt64 = 0) throws {
        guard sizes.count >= 2 else {
            throw TrainingError.invalidArgument("an MLP needs at least two sizes (inputs and outputs), got \(sizes)")
        }
        guard sizes.allSatisfy({ $0 > 0 }) else {
            throw TrainingError.invalidArgument("every MLP size must be positive, got \(sizes)")
        }
        var rng = SeededRandom(seed: seed)
        var ws = [Matrix](), bs = [[Float]]()
        for l in 0..<(sizes.count - 1) {
            let bound = 1 / Float(sizes[l]).squareRoot()
            ws.append(rng.uniformMatrix(rows: sizes[l + 1], cols: sizes[l], lower: -bound, upper: bound))
            bs.append((0..<sizes[l + 1]).map { _ in -bound + 2 * bound * rng.uniformFloat() })
        }
        self.sizes = sizes
        self.activation = activation
        weights = ws
        biases = bs
        masks = Array(repeating: nil, count: ws.count)
    }

    /// A network with the given parameters (shapes checked against `sizes`).
    public init(sizes: [Int], activation: Activation, weights: [Matrix], biases: [[Float]]) throws {
        guard sizes.count >= 2, weights.count == sizes.count - 1, biases.count == weights.count else {
            throw TrainingError.invalidArgument("an MLP of sizes \(sizes) needs \(max(sizes.count - 1, 0)) weights and biases, got \(weights.count) and \(biases.count)")
        }
        for l in weights.indices where weights[l].rows != sizes[l + 1] || weights[l].cols != sizes[l] || biases[l].count != sizes[l + 1] {
            throw TrainingError.invalidArgument("layer \(l) of an MLP of sizes \(sizes) needs a \(sizes[l + 1]) × \(sizes[l]) weight and \(sizes[l + 1]) biases, got \(weights[l].rows) × \(weights[l].cols) and \(biases[l].count)")
        }
        self.sizes = sizes
        self.activation = activation
        self.weights = weights
        self.biases = biases
        masks = Array(repeating: nil, count: weights.count)
    }

    /// Sets layer `layer`'s mask (nil removes it) and zeroes the weights it prunes. Mask entries
    /// must be 0 or 1.
    public mutating func setMask(_ mask: Matrix?, layer: Int) throws {
        guard weights.indices.contains(layer) else {
            throw TrainingError.invalidArgument("layer \(layer) is outside 0..<\(layerCount)")
        }
        if let mask {
            guard mask.rows == weights[layer].rows, mask.cols == weights[layer].cols else {
                throw TrainingError.invalidArgument("layer \(layer)'s mask must be \(weights[layer].rows) × \(weights[layer].cols), got \(mask.rows) × \(mask.cols)")
            }
            guard mask.data.allSatisfy({ $0 == 0 || $0 == 1 }) else {
                throw TrainingError.invalidArgument("a mask holds only 0 and 1")
            }
        }
        masks[layer] = mask
        applyMask(layer)
    }

    /// Replaces layer `layer`'s weight and bias (shapes must match); the layer's mask is re-applied.
    public mutating func setParameters(layer: Int, weight: Matrix, bias: [Float]) throws {
        guard weights.indices.contains(layer) else {
            throw TrainingError.invalidArgument("layer \(layer) is outside 0..<\(layerCount)")
        }
        guard weight.rows == weights[layer].rows, weight.cols == weights[layer].cols, bias.count == biases[layer].count else {
            throw TrainingError.invalidArgument("layer \(layer) needs a \(weights[layer].rows) × \(weights[layer].cols) weight and \(biases[layer].count) biases")
        }
        weights[layer] = weight
        biases[layer] = bias
        applyMask(layer)
    }

    private mutating func applyMask(_ layer: Int) {
        guard let mask = masks[layer] else { return }
        for i in 0..<mask.count where mask.data[i] == 0 { weights[layer].data[i] = 0 }
    }

    // MARK: Forward and backward

    /// What the forward pass keeps for the backward pass: each layer's input and each hidden
    /// layer's pre-activation, and the logits.
    public struct Activations: Sendable {
        /// Rows in the batch.
        public let rows: Int
        /// inputs[l]: layer l's input (rows × sizes[l]); inputs[0] is the batch itself.
        public var inputs: [[Float]]
        /// preActivations[l]: layer l's output before the activation (hidden layers only).
        public var preActivations: [[Float]]
        /// The last layer's output (rows × classes).
        public var logits: [Float]
    }

    /// The forward pass on `rows` examples x (rows × sizes[0], row-major).
    public func forward(_ x: [Float], rows: Int) -> Activations {
        precondition(x.count == rows * sizes[0], "an MLP with \(sizes[0]) inputs needs \(rows) × \(sizes[0]) values")
        var inputs = [x], pre = [[Float]]()
        var h = x
        for l in 0..<layerCount {
            let z = BiasedLinear.forward(h, rows: rows, weight: weights[l], bias: biases[l])
            if l == layerCount - 1 { return Activations(rows: rows, inputs: inputs, preActivations: pre, logits: z) }
            pre.append(z)
            h = activation.forward(z)
            inputs.append(h)
        }
        fatalError("unreachable: an MLP has at least one layer")
    }

    /// The logits for a batch held as a matrix (rows × sizes[0]).
    public func logits(_ x: Matrix) -> Matrix {
        let a = forward(x.data, rows: x.rows)
        return try! Matrix(rows: x.rows, cols: sizes.last!, data: a.logits)
    }

    /// Gradients of every parameter, in the shapes of `weights` and `biases`.
    public struct Gradients: Sendable, Equatable {
        /// d loss / d weights[l].
        public var weights: [Matrix]
        /// d loss / d biases[l].
        public var biases: [[Float]]
    }

    /// The backward pass from dlogits (rows × classes) through the saved activations; masked
    /// weights get a zero gradient.
    public func backward(_ dlogits: [Float], through saved: Activations) -> Gradients {
        var gw = weights.map { Matrix(rows: $0.rows, cols: $0.cols) }
        var gb = biases.map { [Float](repeating: 0, count: $0.count) }
        var d = dlogits
        for l in stride(from: layerCount - 1, through: 0, by: -1) {
            let dx = BiasedLinear.backward(d, x: saved.inputs[l], rows: saved.rows, weight: weights[l],
                                           weightGradient: &gw[l], biasGradient: &gb[l], inputGradient: l > 0)
            if let mask = masks[l] {
                for i in 0..<mask.count where mask.data[i] == 0 { gw[l].data[i] = 0 }
            }
            if l > 0 { d = activation.backward(dx!, x: saved.preActivations[l - 1], y: saved.inputs[l]) }
        }
        return Gradients(weights: gw, biases: gb)
    }

    /// The mean cross-entropy of a batch and the gradients of every parameter.
    public func lossAndGradients(_ x: [Float], rows: Int, labels: [Int]) -> (loss: Double, gradients: Gradients) {
        let saved = forward(x, rows: rows)
        let classes = sizes.last!
        let (loss, probs) = SoftmaxCrossEntropy.forward(logits: saved.logits, rows: rows, classes: classes, labels: labels)
        let d = SoftmaxCrossEntropy.backward(probabilities: probs, rows: rows, classes: classes, labels: labels)
        return (loss, backward(d, through: saved))
    }

    /// The mean cross-entropy of a batch (no gradients).
    public func loss(_ x: [Float], rows: Int, labels: [Int]) -> Double {
        SoftmaxCrossEntropy.forward(logits: forward(x, rows: rows).logits, rows: rows, classes: sizes.last!, labels: labels).loss
    }

    // MARK: Optimiser steps

    /// One optimiser step: parameter slot 2l is weights[l], slot 2l + 1 is biases[l]. Masks are
    /// re-applied afterwards (weight decay or momentum cannot revive a pruned weight).
    public mutating func step<O: Optimizer>(_ optimizer: inout O, gradients: Gradients) {
        optimizer.beginStep()
        for l in 0..<layerCount {
            optimizer.update(&weights[l].data, gradient: gradients.weights[l].data, slot: 2 * l)
            optimizer.update(&biases[l], gradient: gradients.biases[l], slot: 2 * l + 1)
            applyMask(l)
        }
    }

    // MARK: Evaluation

    /// The predicted class (argmax of the logits, the first on ties) of every row of x.
    public func predict(_ x: Matrix) -> [Int] {
        let c = sizes.last!
        let z = forward(x.data, rows: x.rows).logits
        return (0..<x.rows).map { r in
            var best = 0
            for j in 1..<c where z[r * c + j] > z[r * c + best] { best = j }
            return best
        }
    }

    /// The fraction of `data`'s examples predicted right (0 for an empty set).
    public func accuracy(on data: Dataset) -> Double {
        guard data.count > 0 else { return 0 }
        let p = predict(data.inputs)
        return Double(zip(p, data.labels).filter { $0 == $1 }.count) / Double(data.count)
    }

    /// counts[true][predicted] over `data`.
    public func confusionMatrix(on data: Dataset) -> [[Int]] {
        let c = sizes.last!
        var m = Array(repeating: [Int](repeating: 0, count: c), count: c)
        for (p, t) in zip(predict(data.inputs), data.labels) { m[t][p] += 1 }
        return m
    }
}
