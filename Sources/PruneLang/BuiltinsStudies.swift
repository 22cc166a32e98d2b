import Foundation
import Numerics
import Plots
import Pruning
import Training

extension BuiltinRegistry {
    /// Registers the pruning studies on small networks: `sparsity_sweep` (one-shot against
    /// iterative), `lottery`, `distill_study` and `structure_study`. Each trains many small networks
    /// over several seeds and returns a study (figure, summary table, every run as a record).
    func registerStudies() {
        let common: [Param] = [
            .optional("seeds", "number|list", default: .number(5), "how many seeds (0, 1, …) or a list of seeds"),
            .optional("lr", "number", default: .none, "Adam's learning rate (default: the study's)"),
            .optional("batch", "number", default: .none, "examples per step (default: the study's)"),
        ]
        let dataParam = Param.required("data", "record", "a record with train, validation and test datasets, as digits() gives")
        register(Builtin(
            name: "sparsity_sweep",
            params: [.optional("sizes", "list", default: .list([64, 300, 100, 10].map { .number(Double($0)) }), "the network's widths"), dataParam,
                     .optional("sparsities", "list|none", default: .none, "target sparsities (default 1 − 0.8^k, k = 0…17: 0 to 97.7%)"),
                     .optional("epochs", "number", default: .number(10), "dense training epochs"),
                     .optional("retrain", "number", default: .number(1), "epochs of retraining after each pruning step"),
                     .optional("scope", "string", default: .string("layer"), "\"layer\" or \"global\" magnitude thresholds"),
                     .optional("output_layer", "bool", default: .bool(false), "prune the output layer too")] + common,
            returns: "study", category: "small networks",
            doc: "One-shot against iterative (gradual) magnitude pruning, accuracy against sparsity. Per seed a dense network is trained; for each target sparsity: \"one-shot\" prunes the trained network to it with no retraining, \"one-shot+retrain\" retrains it `retrain` epochs with the mask fixed, and \"iterative\" prunes the previous step's retrained network further (20% of what remains per step with the default targets) and retrains. Test accuracy; lines are the mean over seeds, faint points each seed.",
            example: "d = digits()\ns = sparsity_sweep([64, 32, 10], d, sparsities=[0, 0.5, 0.9], epochs=2, seeds=1)\nlen(s.rows)") { a in
                var o = SparsitySweep.Options()
                o.sizes = try Self.sizes(a)
                if a.has("sparsities") { o.sparsities = try a.numbers("sparsities") }
                o.trainEpochs = try a.int("epochs", 0...100_000)
                o.retrainEpochs = try a.int("retrain", 0...100_000)
                o.scope = NetworkPruning.Scope(rawValue: try a.choice("scope", ["layer", "global"]))!
                o.includeOutputLayer = try a.bool("output_layer")
                o.seeds = try Self.seeds(a)
                try Self.studyTraining(a, &o.training)
                let begin = Date()
                let rows = try Self.runStudy(a) { try SparsitySweep.run(data: try Self.studyData(a), options: o, progress: a.reporter("sparsity sweep")) }
                let records = rows.map { r in
                    Record([("seed", .number(Double(r.seed))), ("sparsity", .number(r.sparsity)), ("measured_sparsity", .number(r.measuredSparsity)),
                            ("method", .string(r.method)), ("accuracy", .number(r.accuracy))])
                }
                let points = rows.map { StudyObject.Point(series: $0.method, x: 100 * $0.sparsity, y: $0.accuracy, seed: $0.seed) }
                return .object(StudyObject(title: "one-shot against iterative magnitude pruning, \(Self.sizesText(o.sizes))", runs: records, points: points,
                                           xLabel: "sparsity (% of weights pruned)", yLabel: "test accuracy", xHeader: "sparsity %",
                                           seconds: Date().timeIntervalSince(begin)))
            })
        register(Builtin(
            name: "lottery",
            params: [.optional("sizes", "list", default: .list([64, 300, 100, 10].map { .number(Double($0)) }), "the network's widths (LeNet-300-100)"), dataParam,
                     .optional("rounds", "number", default: .number(7), "pruning rounds after the dense run"),
                     .optional("rate", "number", default: .number(0.2), "fraction of the remaining weights pruned per round (the output layer: half)"),
                     .optional("rewind", "number", default: .number(0), "also rewind survivors to their values after this many steps (0: only to initialisation)"),
                     .optional("iterations", "number", default: .number(800), "training steps per run"),
                     .optional("every", "number", default: .number(20), "steps between validation-loss checks (early stopping)"),
                     .optional("controls", "bool", default: .bool(true), "include the random-reinit and random-mask controls")] + common,
            returns: "study", category: "small networks",
            doc: "The lottery ticket experiment (Frankle & Carbin 2019): iterative magnitude pruning, `rate` of the remaining weights per round, the survivors rewound to their initial values (\"winning ticket\"), or with rewind=k to their values after k steps (\"rewind k\", Frankle et al. 2020), against the same mask on a fresh initialisation (\"random reinit\") and a random mask of the same sparsity (\"random mask\"). Each run trains `iterations` steps; the early-stop iteration is the step of lowest validation loss, and the accuracy is the test accuracy there. The figure is accuracy against the fraction of weights left (log axis, as the paper's); `.iterations` plots the early-stop iteration.",
            example: "d = digits()\nt = lottery([64, 32, 10], d, rounds=1, iterations=40, every=20, seeds=1)\nlen(t.rows)") { a in
                var o = LotteryTicket.Options()
                o.sizes = try Self.sizes(a)
                o.rounds = try a.int("rounds", 0...60)
                o.rate = try a.number("rate", "in (0, 1)") { $0 > 0 && $0 < 1 }
                o.rewindIteration = try a.int("rewind", 0...1_000_000)
                o.iterations = try a.int("iterations", 1...10_000_000)
                o.evaluateEvery = try a.int("every", 1...10_000_000)
                let controls = try a.bool("controls")
                o.randomMask = controls
                o.randomReinit = controls
                o.seeds = try Self.seeds(a)
                try Self.studyTraining(a, &o.training)
                let begin = Date()
                let rows = try Self.runStudy(a) { try LotteryTicket.run(data: try Self.studyData(a), options: o, progress: a.reporter("lottery")) }
                let records = rows.map { r in
                    Record([("seed", .number(Double(r.seed))), ("round", .number(Double(r.round))), ("remaining", .number(r.remaining)),
                            ("variant", .string(r.variant)), ("accuracy", .number(r.accuracy)), ("early_stop", .number(Double(r.earlyStopIteration))),
                            ("validation_loss", .number(r.validationLoss)), ("final_accuracy", .number(r.finalAccuracy))])
                }
                let points = rows.map { StudyObject.Point(series: $0.variant, x: 100 * $0.remaining, y: $0.accuracy, seed: $0.seed) }
                let stops = rows.map { StudyObject.Point(series: $0.variant, x: 100 * $0.remaining, y: Double($0.earlyStopIteration), seed: $0.seed) }
                let title = "lottery tickets, \(Self.sizesText(o.sizes)), \(PruningError.format(o.rate * 100))% per round"
                var (iterations, _) = StudyObject.summarise(stops, title: title + ": early stopping", xLabel: "weights remaining (%)",
                                                            yLabel: "early-stop iteration", xScale: .log10, xHeader: "remaining %")
                iterations.xAxis.limits = nil
                return .object(StudyObject(title: title, runs: records, points: points, xLabel: "weights remaining (%)", yLabel: "test accuracy at early stop",
                                           xScale: .log10, xHeader: "remaining %", extraFigures: [("iterations", iterations)],
                                           seconds: Date().timeIntervalSince(begin)))
            })
        register(Builtin(
            name: "distill_study",
            params: [.optional("sizes", "list", default: .list([64, 32, 10].map { .number(Double($0)) }), "the student's widths"), dataParam,
                     .optional("teacher", "network|none", default: .none, "a trained teacher (default: one trained per seed)"),
                     .optional("teacher_sizes", "list", default: .list([64, 300, 100, 10].map { .number(Double($0)) }), "the widths of the teacher trained when none is given"),
                     .optional("teacher_epochs", "number", default: .number(15)),
                     .optional("temperatures", "list", default: .list([1, 2, 4, 8].map { .number(Double($0)) })),
                     .optional("fractions", "list", default: .list([1, 0.1].map { .number($0) }), "fractions of the training set (a seeded subset; fewer examples get proportionally more epochs)"),
                     .optional("epochs", "number", default: .number(40), "student epochs on the full set"),
                     .optional("alpha", "number", default: .number(0), "weight of the hard labels in the soft runs")] + common,
            returns: "study", category: "small networks",
            doc: "Knowledge distillation against training on the labels (Hinton et al. 2015): per seed and training fraction, the same student (same initialisation) trained on hard labels (\"hard\") and on the teacher's outputs at each temperature (\"soft T\"). The figure is test accuracy against temperature, one line per kind and fraction, with the teacher's accuracy for reference.",
            example: "d = digits()\ns = distill_study([64, 8, 10], d, temperatures=[2], fractions=[0.1], epochs=2, teacher_epochs=1, seeds=1)\nlen(s.rows)") { a in
                var o = DistillationStudy.Options()
                o.studentSizes = try Self.sizes(a)
                if a.has("teacher") { o.teacher = try a.network("teacher").network }
                o.teacherSizes = try Self.sizes(a, "teacher_sizes")
                o.teacherEpochs = try a.int("teacher_epochs", 0...100_000)
                o.temperatures = try a.numbers("temperatures")
                o.fractions = try a.numbers("fractions")
                o.studentEpochs = try a.int("epochs", 0...100_000)
                o.alpha = try a.number("alpha", "in [0, 1]") { $0 >= 0 && $0 <= 1 }
                o.seeds = try Self.seeds(a)
                try Self.studyTraining(a, &o.training)
                let begin = Date()
                let rows = try Self.runStudy(a) { try DistillationStudy.run(data: try Self.studyData(a), options: o, progress: a.reporter("distillation")) }
                let records = rows.map { r in
                    Record([("seed", .number(Double(r.seed))), ("fraction", .number(r.fraction)), ("temperature", r.temperature.map { .number($0) } ?? .none),
                            ("kind", .string(r.kind)), ("accuracy", .number(r.accuracy)), ("parameters", .number(Double(r.parameters)))])
                }
                // Hard-label and teacher runs have no temperature: drawn flat across the temperatures.
                let ts = o.temperatures.sorted()
                var points = [StudyObject.Point]()
                for r in rows {
                    let label = "\(r.kind) (\(PruningError.format(r.fraction * 100))% of the data)"
                    if let t = r.temperature { points.append(.init(series: label, x: t, y: r.accuracy, seed: r.seed)) }
                    else { points += ts.map { StudyObject.Point(series: r.kind == "teacher" ? "teacher" : label, x: $0, y: r.accuracy, seed: r.seed) } }
                }
                return .object(StudyObject(title: "distillation, student \(Self.sizesText(o.studentSizes))", runs: records, points: points,
                                           xLabel: "temperature T", yLabel: "test accuracy", xScale: .log10, xHeader: "T",
                                           seconds: Date().timeIntervalSince(begin)))
            })
        register(Builtin(
            name: "structure_study",
            params: [.optional("sizes", "list", default: .list([64, 300, 100, 10].map { .number(Double($0)) }), "the network's widths"), dataParam,
                     .optional("remaining", "list", default: .list([0.5, 0.25, 0.1, 0.05, 0.02].map { .number($0) }), "fractions of the weights kept"),
                     .optional("epochs", "number", default: .number(10), "dense training epochs"),
                     .optional("retrain", "number", default: .number(10), "retraining epochs after pruning"),
                     .optional("scope", "string", default: .string("global"), "the unstructured threshold: \"global\" or \"layer\"")] + common,
            returns: "study", category: "small networks",
            doc: "Structured against unstructured pruning at the same number of remaining weights: from the same trained dense network, \"structured\" removes whole hidden neurons (a smaller dense network, by the L2 norm of their incoming weights) and \"unstructured\" masks the smallest weights, both to the same weight count, then both retrain. Test accuracy against the fraction of weights kept (log axis).",
            example: "d = digits()\ns = structure_study([64, 32, 10], d, remaining=[0.5], epochs=1, retrain=1, seeds=1)\nlen(s.rows)") { a in
                var o = StructureStudy.Options()
                o.sizes = try Self.sizes(a)
                o.remaining = try a.numbers("remaining")
                o.trainEpochs = try a.int("epochs", 0...100_000)
                o.retrainEpochs = try a.int("retrain", 0...100_000)
                o.scope = NetworkPruning.Scope(rawValue: try a.choice("scope", ["layer", "global"]))!
                o.seeds = try Self.seeds(a)
                try Self.studyTraining(a, &o.training)
                let begin = Date()
                let rows = try Self.runStudy(a) { try StructureStudy.run(data: try Self.studyData(a), options: o, progress: a.reporter("structure")) }
                let records = rows.map { r in
                    Record([("seed", .number(Double(r.seed))), ("remaining", .number(r.remaining)), ("kind", .string(r.kind)),
                            ("weights", .number(Double(r.parameters))), ("sizes", .list(r.sizes.map { .number(Double($0)) })),
                            ("accuracy", .number(r.accuracy)), ("before_retrain", .number(r.accuracyBeforeRetrain))])
                }
                let points = rows.filter { $0.kind != "dense" }.map { StudyObject.Point(series: $0.kind, x: 100 * $0.remaining, y: $0.accuracy, seed: $0.seed) }
                return .object(StudyObject(title: "structured against unstructured, \(Self.sizesText(o.sizes))", runs: records, points: points,
                                           xLabel: "weights remaining (%)", yLabel: "test accuracy after retraining", xScale: .log10, xHeader: "remaining %",
                                           seconds: Date().timeIntervalSince(begin)))
            })
    }

    /// Layer widths from the list argument `name`.
    static func sizes(_ a: Arguments, _ name: String = "sizes") throws -> [Int] {
        let sizes = try a.numbers(name).enumerated().map { k, x -> Int in
            guard let i = exactInt(x), i >= 1 else { throw a.fail(argument: name, "\(name) must be positive integers, got \(formatNumber(x)) at position \(k)") }
            return i
        }
        guard sizes.count >= 2 else { throw a.fail(argument: name, "\(name) needs at least two widths (inputs and classes), got \(sizes.count)") }
        return sizes
    }

    /// "[64, 300, 100, 10]".
    static func sizesText(_ sizes: [Int]) -> String { "[" + sizes.map(String.init).joined(separator: ", ") + "]" }

    /// `seeds=n` (0..<n) or a list of seeds.
    static func seeds(_ a: Arguments) throws -> [UInt64] {
        if case .number = a.value("seeds") {
            let n = try a.int("seeds", 1...1000)
            return (0..<n).map(UInt64.init)
        }
        return try a.numbers("seeds").map { x in
            guard let i = exactInt(x), i >= 0 else { throw a.fail(argument: "seeds", "seeds must be non-negative integers, got \(formatNumber(x))") }
            return UInt64(i)
        }
    }

    /// The study's optimiser and batch, with `lr` and `batch` when given.
    static func studyTraining(_ a: Arguments, _ t: inout StudyTraining) throws {
        if a.has("lr") {
            let lr = try a.number("lr", "positive") { $0 > 0 && $0.isFinite }
            if case var .adam(s) = t.optimizer { s.learningRate = lr; t.optimizer = .adam(s) } else { t.optimizer = .adam(Adam.Settings(learningRate: lr)) }
        }
        if a.has("batch") { t.batchSize = try a.int("batch", 1...1_000_000) }
    }

    /// The train/validation/test sets of the record argument `data`.
    static func studyData(_ a: Arguments) throws -> StudyData {
        guard case .record(let r) = a.value("data") else { throw a.typeError("data", expected: "record with train, validation and test") }
        func set(_ key: String) throws -> Dataset {
            guard case .object(let o as DatasetObject)? = r[key] else {
                throw a.fail(argument: "data", "data needs a \(key) dataset (a record as digits() gives: train, validation, test)")
            }
            return o.data
        }
        do { return try StudyData(train: try set("train"), validation: try set("validation"), test: try set("test")) }
        catch let e as PruningError { throw a.fail(argument: "data", e.message) }
    }

    /// Runs a study, turning its argument errors into located diagnostics.
    static func runStudy<T>(_ a: Arguments, _ body: () throws -> T) throws -> T {
        do { return try body() }
        catch let e as PruningError { throw Self.located(e, a) }
        catch let e as TrainingError { throw a.fail(e.description) }
    }
}
