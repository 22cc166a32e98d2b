import Foundation
import Models
import Numerics
import Training

extension BuiltinRegistry {
    /// Registers the small-network builtins: data (digits, spirals, blobs), `mlp`, `train`,
    /// `accuracy` and `confusion`.
    public func registerNetworks() {
        register(Builtin(
            name: "digits",
            params: [.optional("seed", "number", default: .number(0), "seeds the split"),
                     .optional("validation", "number", default: .number(0.2), "fraction held out for validation"),
                     .optional("test", "number", default: .number(0.2), "fraction held out for testing")],
            returns: "record", category: "small networks",
            doc: "scikit-learn's handwritten digits (8×8 images, 1,797 examples, classes 0–9; BSD-3), as a record of `train`, `validation` and `test` datasets split by a seeded shuffle (by default 1,079 / 359 / 359). Pixels are scaled to [0, 1]. Read from the models folder, where `scripts/fetch-models` puts it (from the scikit-learn wheel on PyPI, checksummed); never fetched at run time.",
            example: "d = digits(seed=0)\nd.train.count") { a in
                let path = URL(fileURLWithPath: ModelCatalog.folder).appendingPathComponent("digits/digits.csv").path
                guard FileManager.default.fileExists(atPath: path) else {
                    throw a.fail("the digits are not fetched (expected \(path)); run scripts/fetch-models")
                }
                let v = try a.number("validation", "in [0, 1)") { $0 >= 0 && $0 < 1 }
                let t = try a.number("test", "in [0, 1)") { $0 >= 0 && $0 < 1 }
                guard v + t < 1 else { throw a.fail("validation + test must be below 1, got \(formatNumber(v + t))") }
                do {
                    let s = try Digits.load(csv: path).split(validation: v, test: t, seed: try a.seed())
                    return .record(Record([("train", .object(DatasetObject(s.train))), ("validation", .object(DatasetObject(s.validation))),
                                           ("test", .object(DatasetObject(s.test)))]))
                } catch let e as TrainingError { throw a.fail(e.description) }
            })
        register(Builtin(
            name: "spirals",
            params: [.optional("n", "number", default: .number(100), "points per class"),
                     .optional("classes", "number", default: .number(2), "number of arms"),
                     .optional("noise", "number", default: .number(0.05), "standard deviation added to each coordinate"),
                     .optional("turns", "number", default: .number(1.5), "turns of each arm"),
                     .optional("seed", "number", default: .number(0))],
            returns: "dataset", category: "small networks",
            doc: "Interleaved spirals in the plane, a set no straight line separates: point i of arm c at radius t = i/n and angle turns·2π·t + 2π·c/classes, plus seeded normal noise. Plot it with `plot(d.x[:, 0], d.x[:, 1])` style slices or train on it directly.",
            example: "s = spirals(n=50, seed=1)\n[s.count, s.classes]") { a in
                do {
                    return .object(DatasetObject(try SyntheticData.spirals(perClass: try a.int("n", 1...1_000_000), classes: try a.int("classes", 2...100),
                                                                           turns: try a.finiteNumber("turns"),
                                                                           noise: try a.number("noise", "non-negative") { $0 >= 0 && $0.isFinite }, seed: try a.seed())))
                } catch let e as TrainingError { throw a.fail(e.description) }
            })
        register(Builtin(
            name: "blobs",
            params: [.optional("n", "number", default: .number(100), "points per class"),
                     .optional("centers", "number", default: .number(3), "number of classes"),
                     .optional("features", "number", default: .number(2), "dimensions"),
                     .optional("spread", "number", default: .number(1), "standard deviation around each centre"),
                     .optional("seed", "number", default: .number(0))],
            returns: "dataset", category: "small networks",
            doc: "Gaussian blobs, as scikit-learn's make_blobs draws them: centres uniform in [−10, 10] per coordinate, then n points per centre at centre + spread·N(0, 1), all from one seeded generator.",
            example: "b = blobs(n=20, centers=4, seed=2)\n[b.count, b.features, b.classes]") { a in
                do {
                    return .object(DatasetObject(try SyntheticData.blobs(perClass: try a.int("n", 1...1_000_000), centers: try a.int("centers", 2...1000),
                                                                         features: try a.int("features", 1...10_000),
                                                                         spread: try a.number("spread", "non-negative") { $0 >= 0 && $0.isFinite }, seed: try a.seed())))
                } catch let e as TrainingError { throw a.fail(e.description) }
            })
        register(Builtin(
            name: "mlp",
            params: [.required("sizes", "list", "layer widths, inputs first and classes last"),
                     .optional("activation", "string", default: .string("relu"), "\"relu\", \"tanh\" or \"gelu\" (exact)"),
                     .optional("seed", "number", default: .number(0))],
            returns: "network", category: "small networks",
            doc: "A multilayer perceptron: a linear layer with bias between each pair of sizes, the activation after every layer but the last (whose outputs are logits for softmax cross-entropy). Initialised as PyTorch's nn.Linear is, weights and biases uniform on [−1/√in, 1/√in], from a seeded generator: the same seed gives the same network. `mlp([64, 300, 100, 10])` is LeNet-300-100 on the digits.",
            example: "net = mlp([64, 300, 100, 10], seed=0)\nnet.params") { a in
                let sizes = try a.numbers("sizes").enumerated().map { k, x -> Int in
                    guard let i = exactInt(x), i >= 1 else { throw a.fail(argument: "sizes", "sizes must be positive integers, got \(formatNumber(x)) at position \(k)") }
                    return i
                }
                guard sizes.count >= 2 else { throw a.fail(argument: "sizes", "sizes needs at least two widths (inputs and classes), got \(sizes.count)") }
                let act = Training.Activation(rawValue: try a.choice("activation", Training.Activation.allCases.map(\.rawValue)))!
                do { return .object(NetworkObject(try MLP(sizes: sizes, activation: act, seed: try a.seed()))) }
                catch let e as TrainingError { throw a.fail(e.description) }
            })
        register(Builtin(
            name: "train",
            params: [.required("net", "network"),
                     .required("data", "dataset|record", "a dataset, or a record with `train` (and `validation`, scored after each epoch)"),
                    ] + Self.optimiserParams,
            returns: "network", category: "small networks",
            doc: "Trains a copy of the network on softmax cross-entropy with mini-batches in a seeded order (a fresh permutation every epoch; the last batch may be smaller) and returns the new network, which carries its training: `.curve` (a record per step: step, epoch, examples, loss, seconds), `.epochs` (mean loss and validation accuracy per epoch), `.figure`, `.loss`. Optimisers follow PyTorch's SGD (momentum, dampening 0) and Adam/AdamW (β = 0.9, 0.999, ε = 1e-8). Weights a mask prunes stay zero through every step. Progress shows each step's loss; Ctrl-C stops training and returns the network as of the last finished step, marked interrupted (so `net = train(...)` keeps it), and the cell stops at its next step.",
            example: "s = spirals(n=50, seed=1)\nnet = train(mlp([2, 16, 2], seed=0), s, epochs=2, batch=20)\nlen(net.curve)") { a in
                let net = try a.network("net")
                let (trainSet, validation) = try a.trainingData("data")
                let options = try Self.trainingOptions(a)
                try Self.checkTrains(net, on: trainSet, a)
                let result: TrainingResult
                do { result = try Trainer.train(net.network, on: trainSet, validation: validation, options: options, progress: a.reporter()) }
                catch let e as TrainingError { throw a.fail(e.description) }
                // Interrupted: the network of the last finished step is the value, and the cell stops at its next step.
                if result.interrupted { a.interpreter.interrupt() }
                return .object(NetworkObject(result.network, training: result, options: options))
            })
        register(Builtin(
            name: "distill",
            params: [.required("student", "network|model"), .required("teacher", "network|model"),
                     .optional("data", "dataset|record|string", default: .none, "networks: a dataset, or a record with `train` (and `validation`); models: a text, \"c4\" when none"),
                     .optional("temperature", "number", default: .none, "T: both logits are divided by T before the softmax; none: 4 for networks, 2 for models"),
                     .optional("alpha", "number", default: .number(0.1), "weight of the hard-label cross-entropy; 1 − alpha weighs the soft targets")]
                + Self.distillParams,
            returns: "network", category: "small networks",
            doc: "Knowledge distillation (Hinton et al. 2015): trains a copy of the student on the teacher's outputs softened at temperature T, with loss (1 − α)·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + α·CE(labels, softmax(student)). The teacher is frozen; its logits are computed batch by batch. T² keeps the soft term's gradients the same size as T changes; α = 1 is plain training on the labels, α = 0 learns from the teacher alone (its \"dark knowledge\": how much it thinks a 3 looks like an 8). For networks everything else (batches, optimiser, masks, `.curve`, Ctrl-C) is as in `train`. With a llama student (a pruned model, say) and its dense teacher, it trains as `finetune` does (steps, seq, batch, lr, lora, targets, warmup, accumulate, clip, checkpoint, resume; data \"c4\" by default) on this loss over the vocabulary, T = 2 by default, the teacher's logits computed for every batch as the student trains; it returns a model carrying `.curve`.",
            example: "b = blobs(n=30, seed=3)\nteacher = train(mlp([2, 32, 3], seed=0), b, epochs=5)\nstudent = distill(mlp([2, 4, 3], seed=1), teacher, b, temperature=2, epochs=5)\naccuracy(student, b) > 0.8") { a in
                if case .object(let o) = a.value("student"), o is ModelObject { return try Self.trainModel(a, distillation: true) }
                try Self.rejectModelOptions(a)
                let student = try a.network("student"), teacher = try a.network("teacher")
                guard a.has("data") else { throw a.fail(argument: "data", "distilling a network needs data: a dataset, or a record with `train`") }
                let (trainSet, validation) = try a.trainingData("data")
                let options = try Self.trainingOptions(a)
                try Self.checkTrains(student, on: trainSet, a)
                let t = a.has("temperature") ? try a.number("temperature", "positive") { $0 > 0 && $0.isFinite } : 4
                let alpha = try a.number("alpha", "in [0, 1]") { $0 >= 0 && $0 <= 1 }
                let result: TrainingResult
                do {
                    result = try Trainer.distill(student.network, teacher: teacher.network, on: trainSet, temperature: t, alpha: alpha,
                                                 options: options, validation: validation, progress: a.reporter())
                } catch let e as TrainingError { throw a.fail(e.description) }
                if result.interrupted { a.interpreter.interrupt() }
                return .object(NetworkObject(result.network, training: result, options: options))
            })
        register(Builtin(
            name: "accuracy",
            params: [.required("net", "network"), .required("split", "dataset")],
            returns: "number", category: "small networks",
            doc: "The fraction of the split's examples whose largest logit is the right class (the first class on ties).",
            example: "b = blobs(n=30, seed=3)\nnet = train(mlp([2, 8, 3], seed=0), b, epochs=5)\naccuracy(net, b) > 0.9") { a in
                let net = try a.network("net"), d = try a.dataset("split")
                try a.checkFits(net, d, "split")
                return .number(net.network.accuracy(on: d))
            })
        register(Builtin(
            name: "confusion",
            params: [.required("net", "network"), .required("split", "dataset")],
            returns: "matrix", category: "small networks",
            doc: "The confusion matrix on a split: element (i, j) counts the examples of class i predicted as class j (so the diagonal is what is right, and its sum over the split's size is `accuracy`).",
            example: "b = blobs(n=30, seed=3)\nnet = train(mlp([2, 8, 3], seed=0), b, epochs=5)\nsum(confusion(net, b))") { a in
                let net = try a.network("net"), d = try a.dataset("split")
                try a.checkFits(net, d, "split")
                let c = net.network.confusionMatrix(on: d)
                return .matrix(Matrix(rows: c.count, cols: c.count) { Float(c[$0][$1]) })
            })
    }
}

extension Arguments {
    /// Argument `name` as a network.
    func network(_ name: String) throws -> NetworkObject {
        if case .object(let o) = value(name), let n = o as? NetworkObject { return n }
        throw typeError(name, expected: "a network")
    }

    /// Argument `name` as a dataset.
    func dataset(_ name: String) throws -> Dataset {
        if case .object(let o) = value(name), let d = o as? DatasetObject { return d.data }
        throw typeError(name, expected: "a dataset")
    }

    /// Argument `name` as training data: a dataset, or a record with a `train` dataset and an
    /// optional `validation` one.
    func trainingData(_ name: String) throws -> (train: Dataset, validation: Dataset?) {
        switch value(name) {
        case .object(let o as DatasetObject): return (o.data, nil)
        case .record(let r):
            guard case .object(let t as DatasetObject)? = r["train"] else {
                throw fail(argument: name, "a record of data needs a `train` dataset (as digits() gives)", kind: .type)
            }
            if case .object(let v as DatasetObject)? = r["validation"] { return (t.data, v.data) }
            return (t.data, nil)
        default: throw typeError(name, expected: "a dataset or a record with `train`")
        }
    }

    /// Fails unless `d` has the network's inputs and no more classes than its outputs.
    func checkFits(_ net: NetworkObject, _ d: Dataset, _ name: String) throws {
        guard d.features == net.network.sizes.first!, d.classes <= net.network.sizes.last! else {
            throw fail(argument: name, "\(d.name) (\(d.features) features, \(d.classes) classes) does not fit a network of sizes [\(net.network.sizes.map(String.init).joined(separator: ", "))]")
        }
    }
}

extension BuiltinRegistry {
    /// The training options `train` and `distill` share.
    static var optimiserParams: [Param] { [
        .optional("epochs", "number", default: .number(10)),
        .optional("lr", "number", default: .none, "learning rate; none: 0.001 for adam/adamw, 0.05 for sgd"),
        .optional("batch", "number", default: .number(32), "examples per step"),
        .optional("optimizer", "string", default: .string("adam"), "\"adam\", \"adamw\" or \"sgd\""),
        .optional("momentum", "number", default: .number(0.9), "sgd's momentum"),
        .optional("weight_decay", "number", default: .number(0), "L2 for sgd and adam, decoupled for adamw"),
        .optional("seed", "number", default: .number(0), "seeds the order of the mini-batches"),
    ] }

    /// The epochs, batch, optimiser and seed a call to `train` or `distill` asks for.
    static func trainingOptions(_ a: Arguments) throws -> TrainingOptions {
        let name = try a.choice("optimizer", ["adam", "adamw", "sgd"])
        let lr = a.has("lr") ? try a.number("lr", "positive") { $0 > 0 && $0.isFinite } : (name == "sgd" ? 0.05 : 1e-3)
        let wd = try a.number("weight_decay", "non-negative") { $0 >= 0 && $0.isFinite }
        let choice: OptimizerChoice
        switch name {
        case "sgd": choice = .sgd(SGD.Settings(learningRate: lr, momentum: try a.number("momentum", "in [0, 1)") { $0 >= 0 && $0 < 1 }, weightDecay: wd))
        case "adamw": choice = .adam(.adamW(learningRate: lr, weightDecay: wd))
        default: choice = .adam(Adam.Settings(learningRate: lr, weightDecay: wd))
        }
        return TrainingOptions(epochs: try a.int("epochs", 0...1_000_000), batchSize: a.has("batch") ? try a.int("batch", 1...1_000_000) : 32,
                               optimizer: choice, seed: try a.seed())
    }

    /// Fails on `data` when the network cannot train on it (features or classes do not fit).
    static func checkTrains(_ net: NetworkObject, on set: Dataset, _ a: Arguments) throws {
        guard set.features == net.network.sizes.first! else {
            throw a.fail(argument: "data", "\(set.name) has \(set.features) features, the network takes \(net.network.sizes.first!)")
        }
        guard set.classes <= net.network.sizes.last! else {
            throw a.fail(argument: "data", "\(set.name) has \(set.classes) classes, the network has \(net.network.sizes.last!) outputs")
        }
    }
}
