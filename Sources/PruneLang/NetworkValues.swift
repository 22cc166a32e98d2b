import Foundation
import Numerics
import Plots
import Pruning
import Training

/// A small network (an MLP) as a language value, with what trained it when it was trained: its
/// loss curve, epochs, optimiser and whether it was interrupted. Values are immutable: `train`
/// returns a new network.
public final class NetworkObject: HostObject {
    /// The network.
    public let network: MLP
    /// The training that produced it (nil for a freshly initialised network).
    public let training: TrainingResult?
    /// The options it was trained with (nil when untrained).
    public let options: TrainingOptions?
    /// How it was made when not by training (e.g. "magnitude 0.9 of a trained network").
    public let origin: String?

    /// Wraps `network`, with the training that produced it when there was one, or how it was made.
    public init(_ network: MLP, training: TrainingResult? = nil, options: TrainingOptions? = nil, origin: String? = nil) {
        self.network = network
        self.training = training
        self.options = options
        self.origin = origin
    }

    /// "network".
    public var typeName: String { "network" }
    /// Members of a network.
    public var memberNames: [String] {
        ["activation", "biases", "curve", "epochs", "figure", "interrupted", "layer_sparsity", "loss", "lr", "masks", "optimizer",
         "params", "remaining", "seconds", "sizes", "sparsity", "weights"]
    }

    /// The member `name`.
    public func member(_ name: String) throws -> Value? {
        switch name {
        case "activation": return .string(network.activation.rawValue)
        case "biases": return .list(network.biases.map { .vector($0.map(Double.init)) })
        case "curve":
            return .list((training?.steps ?? []).map { s in
                .record(Record([("step", .number(Double(s.step))), ("epoch", .number(Double(s.epoch))),
                                ("examples", .number(Double(s.examples))), ("loss", .number(s.loss)), ("seconds", .number(s.seconds))]))
            })
        case "epochs":
            return .list((training?.epochs ?? []).map { e in
                .record(Record([("epoch", .number(Double(e.epoch))), ("loss", .number(e.meanLoss)),
                                ("validation_accuracy", e.validationAccuracy.map { .number($0) } ?? .none), ("seconds", .number(e.seconds))]))
            })
        case "figure": return .object(FigureObject(curveFigure()))
        case "interrupted": return .bool(training?.interrupted ?? false)
        case "layer_sparsity": return .vector(NetworkPruning.layerSparsities(network))
        case "masks": return .list(network.masks.map { $0.map { .matrix($0) } ?? .none })
        case "remaining": return .number(Double(NetworkPruning.remainingWeights(network)))
        case "sparsity": return .number(NetworkPruning.sparsity(network))
        case "loss": return training?.steps.last.map { .number($0.loss) } ?? .none
        case "lr": return options.map { .number($0.optimizer.learningRate) } ?? .none
        case "optimizer": return options.map { .string($0.optimizer.name) } ?? .none
        case "params": return .number(Double(network.parameterCount))
        case "seconds": return .number(training?.seconds ?? 0)
        case "sizes": return .list(network.sizes.map { .number(Double($0)) })
        case "weights": return .list(network.weights.map { .matrix($0) })
        default: return nil
        }
    }

    /// The loss of every step against the step, and the epochs' mean loss at their last step.
    public func curveFigure() -> Figure {
        let steps = training?.steps ?? []
        var f = Figure.line(x: steps.map { Double($0.step) }, y: steps.map(\.loss), label: "batch loss",
                            title: "training loss, network \(sizesText)", xLabel: "step", yLabel: "cross-entropy")
        let ends = (training?.epochs ?? []).compactMap { e in steps.last(where: { $0.epoch == e.epoch }).map { (Double($0.step), e.meanLoss) } }
        if !ends.isEmpty { f.addLine(x: ends.map(\.0), y: ends.map(\.1), label: "epoch mean") }
        return f
    }

    private var sizesText: String { "[" + network.sizes.map(String.init).joined(separator: ", ") + "]" }

    /// One line: sizes, activation, parameters, and how it was trained.
    public func display() -> MIMEBundle {
        var text = "<network \(sizesText) \(network.activation.rawValue), \(network.parameterCount) params"
        let sparsity = NetworkPruning.sparsity(network)
        if sparsity > 0 { text += ", \(formatNumber((sparsity * 1000).rounded() / 10))% of weights masked" }
        if let training, let options {
            text += ", trained \(training.epochs.count) epoch\(training.epochs.count == 1 ? "" : "s") (\(training.steps.count) steps, \(options.optimizer.name), lr \(formatNumber(options.optimizer.learningRate)), batch \(options.batchSize))"
            if training.interrupted { text += ", interrupted" }
        } else {
            text += ", " + (origin ?? "untrained")
        }
        return MIMEBundle(text: text + ">")
    }

    /// Help on networks.
    public var helpText: String? {
        "network: a multilayer perceptron (linear layers with bias, an activation between them, logits out). Make one with mlp(sizes), train it with train(net, data) (a new network carrying .curve), score it with accuracy(net, split), prune it with prune(net, \"magnitude\", ratio=0.8) (masks, which stay zero as it trains) or prune(net, \"magnitude-rows\", ratio=0.5) (a smaller network). masks holds each layer's 0/1 mask (none for a dense layer): heatmap(net.masks[0]) shows it. Members: " + memberNames.joined(separator: ", ")
    }
}

/// A labelled data set (examples × features and a class per example) as a language value.
public final class DatasetObject: HostObject {
    /// The data.
    public let data: Dataset

    /// Wraps `data`.
    public init(_ data: Dataset) { self.data = data }

    /// "dataset".
    public var typeName: String { "dataset" }
    /// Members of a data set.
    public var memberNames: [String] { ["classes", "count", "features", "name", "x", "y"] }

    /// The member `name`.
    public func member(_ name: String) throws -> Value? {
        switch name {
        case "classes": return .number(Double(data.classes))
        case "count": return .number(Double(data.count))
        case "features": return .number(Double(data.features))
        case "name": return .string(data.name)
        case "x": return .matrix(data.inputs)
        case "y": return .vector(data.labels.map(Double.init))
        default: return nil
        }
    }

    /// One line.
    public func display() -> MIMEBundle {
        MIMEBundle(text: "<dataset \(data.name): \(data.count) examples, \(data.features) features, \(data.classes) classes>")
    }

    /// Help on data sets.
    public var helpText: String? {
        "dataset: labelled examples for train(net, data) and accuracy(net, data). Members: " + memberNames.joined(separator: ", ")
    }
}
