import Foundation
import Numerics
import Models
import Pruning
import Plots

/// One call of `prune(m, "method", ...)` as a pruning method sees it: the model, one ratio per
/// block, the seed, and the call's arguments (for method-specific keywords and progress).
public struct PruneCall {
    /// The model to prune.
    public let model: ModelObject
    /// The fraction of FFN neurons (or of whatever the method removes) per block.
    public let ratios: [Double]
    /// The seed for random choices.
    public let seed: UInt64
    /// The arguments of the `prune` call (extra keywords land in `arguments.extraKeywords`).
    public let arguments: Arguments

    /// The single ratio when all blocks share one (an error naming `method` otherwise).
    public func uniformRatio(_ method: String) throws -> Double {
        guard let r = ratios.first, ratios.allSatisfy({ $0 == r }) else {
            throw arguments.fail(argument: "ratio", "\(method) takes one ratio for all layers, got a list")
        }
        return r
    }

    /// The value of extra keyword `name`, if given.
    public func keyword(_ name: String) -> Value? { arguments.extraKeywords.first { $0.name == name }?.value }
}

/// The methods `prune(m, "name", ...)` dispatches to: add one with `add(name, summary) { call in ... }`
/// in `registerPruning` and it appears in the builtin's doc, its errors and completion.
public final class PruneMethods {
    /// A method's name, one-line summary and implementation.
    public struct Method {
        /// The name the call uses.
        public let name: String
        /// What it does, for the builtin's doc.
        public let summary: String
        /// The implementation.
        public let run: (PruneCall) throws -> Model
    }
    /// The methods, in the order added.
    public private(set) var methods: [Method] = []

    /// Adds a method.
    public func add(_ name: String, _ summary: String, run: @escaping (PruneCall) throws -> Model) {
        methods.append(Method(name: name, summary: summary, run: run))
    }

    /// The method called `name`.
    public func method(_ name: String) -> Method? { methods.first { $0.name == name } }
}

extension BuiltinRegistry {
    /// Registers the pruning builtins: `prune` (by method name or by a policy), `train_policy`,
    /// `load_policy`, the accounting builtins (`sparsity`, `flops`, `compare`) and the spectral
    /// views of a pruning (`penalty_by_layer`, `ecdf_before_after`).
    public func registerPruning() {
        let methods = PruneMethods()
        methods.add("random-rows", "keep FFN neurons uniformly at random (the paper's Table 16 baseline)") { c in
            try Self.rowPrune(c, .random)
        }
        methods.add("magnitude-rows", "keep the neurons whose state-matrix row (gate for llama, up for BERT) has the largest L2 norm") { c in
            try Self.rowPrune(c, .magnitude)
        }
        methods.add("prunenet", "train a PruneNet policy on the model (keywords episodes=, reward=, gamma=, lr=, variant=, train_ratio=) and apply it") { c in
            var options = PolicyTrainingOptions()
            options.ratio = try c.uniformRatio("prunenet")
            options.seed = c.seed
            for (name, value, _) in c.arguments.extraKeywords {
                try Self.setOption(&options, name, value, c.arguments)
            }
            let policy = try Self.trainPolicy(c.model.model, options, c.arguments)
            return try policy.apply(to: c.model.model, ratios: c.ratios, seed: c.seed)
        }
        registerPrune(methods)
        registerPolicyBuiltins()
        registerAccounting()
        registerPenaltyViews()
    }

    /// Cuts rows by one of `RowPruners`' choices at per-block ratios.
    static func rowPrune(_ c: PruneCall, _ method: RowPruners.Method) throws -> Model {
        let total = c.model.model.blockCount
        return try RowPruners.prune(c.model.model, method: method, ratios: c.ratios, seed: c.seed) { done in
            try c.arguments.progress("pruning blocks", done: done, total: total)
        }
    }

    func registerPrune(_ methods: PruneMethods) {
        let list = methods.methods.map { "\"\($0.name)\" (\($0.summary))" }.joined(separator: "; ")
        register(Builtin(
            name: "prune", params: [.required("model", "model"), .required("method", "string|policy", "a method name or a trained policy"),
                                    .optional("ratio", "number|list", default: .number(0.2), "fraction removed per block in [0, 1), or a list with one ratio per block"),
                                    .optional("seed", "number", default: .number(0), "seed for random choices"),
                                    .optional("deterministic", "bool", default: .bool(false), "with a policy: keep the top-k scores instead of sampling (Table 17)")] + CalibratedPruneMethods.params,
            returns: "model", category: "pruning",
            doc: "Returns `model` pruned by a method or a PruneNet policy. Structured FFN pruning (row methods, PruneNet): in every block, removes `ratio` of the intermediate neurons (rows of gate and up with their biases, the same columns of down) and returns a smaller dense model that saves and reloads. With a policy from `train_policy`, the neurons are drawn from its noisy scores (eq. 4, seeded) or taken by top-k (`deterministic=true`), at any ratio or per-layer ratios (the paper's Tables 6 and 7). Methods: \(list). Method-specific options are keyword arguments. `ratio` is the fraction of FFN neurons removed for the row methods and PruneNet, the sparsity for magnitude/wanda/sparsegpt, the slicing fraction of d for slicegpt, and the fraction of blocks removed for shortgpt/laco. " + CalibratedPruneMethods.doc,
            example: "m = load(\"smollm2-135m\")\nsmall = prune(m, \"random-rows\", ratio=0.1)\nparams(small)",
            acceptsExtraKeywords: true) { a in
                let m = try a.model("model")
                let ratios = try Self.ratios(a, blocks: m.model.blockCount)
                let seed = try a.seed()
                let deterministic = try a.bool("deterministic")
                let label = ratios.allSatisfy({ $0 == ratios[0] }) ? "\(Int((ratios[0] * 100).rounded()))" : "mixed"
                if case .object(let o) = a.value("method"), let p = o as? PolicyObject {
                    if let extra = a.extraKeywords.first { throw a.failKeyword(extra.name, "prune with a policy takes no keyword \(extra.name)") }
                    try CalibratedPruneMethods.rejectOptions(a, method: "a policy")
                    var out: Model
                    do { out = try p.policy.apply(to: m.model, ratios: ratios, seed: seed, deterministic: deterministic) }
                    catch let e as PruningError { throw a.fail(argument: "method", e.message) }
                    out.name = "\(m.model.name)-prunenet\(deterministic ? "-topk" : "")-\(label)"
                    return .object(ModelObject(out))
                }
                guard case .string(let name) = a.value("method") else { throw a.typeError("method", expected: "method name or policy") }
                let calibrated = CalibratedPruneMethods.handles(name)
                if calibrated, let extra = a.extraKeywords.first { throw a.failKeyword(extra.name, "\(name) takes no keyword \(extra.name)") }
                let method = methods.method(name)
                guard calibrated || method != nil else {
                    let known = methods.methods.map(\.name) + CalibratedPruneMethods.names
                    throw a.fail(argument: "method", "method must be a policy or one of \(known.map { "\"\($0)\"" }.joined(separator: ", ")), got \"\(name)\"")
                }
                if deterministic && name != "prunenet" { throw a.fail(argument: "deterministic", "deterministic applies to policies only") }
                try CalibratedPruneMethods.rejectOptions(a, method: name)
                // No row method of that name: it is one of the calibrated methods.
                guard let method else { return try CalibratedPruneMethods.prune(m, method: name, arguments: a) }
                var out: Model
                do { out = try method.run(PruneCall(model: m, ratios: ratios, seed: seed, arguments: a)) }
                catch let e as PruningError { throw a.fail(e.message) }
                out.name = "\(m.model.name)-\(name)-\(label)"
                return .object(ModelObject(out))
            })
    }

    /// `ratio` as one ratio per block (a number for all, or a list of `blocks` numbers in [0, 1)).
    static func ratios(_ a: Arguments, blocks: Int) throws -> [Double] {
        if case .number = a.value("ratio") {
            return Array(repeating: try a.fraction("ratio"), count: blocks)
        }
        let list = try a.numbers("ratio")
        guard list.count == blocks else {
            throw a.fail(argument: "ratio", "ratio must be a number or a list of \(blocks) ratios (one per block), got \(list.count)")
        }
        if let bad = list.first(where: { !($0 >= 0 && $0 < 1) }) {
            throw a.fail(argument: "ratio", "every ratio must be in [0, 1), got \(formatNumber(bad))")
        }
        return list
    }

    /// Sets one training option from a keyword (episodes, reward, gamma, lr, variant, train_ratio).
    static func setOption(_ o: inout PolicyTrainingOptions, _ name: String, _ value: Value, _ a: Arguments) throws {
        func number() throws -> Double {
            guard case .number(let x) = value, x.isFinite else { throw a.failKeyword(name, "\(name) must be a number, got \(value.typeName)") }
            return x
        }
        func string() throws -> String {
            guard case .string(let s) = value else { throw a.failKeyword(name, "\(name) must be a string, got \(value.typeName)") }
            return s
        }
        switch name {
        case "episodes":
            let e = try number()
            guard let n = exactInt(e), n >= 1, n <= 100_000 else { throw a.failKeyword(name, "episodes must be an integer in 1...100000, got \(formatNumber(e))") }
            o.episodes = n
        case "gamma": o.gamma = try number()
        case "lr": o.learningRate = try number()
        case "train_ratio": o.ratio = try number()
        case "reward":
            let s = try string()
            guard let d = SpectralDistance(rawValue: s) else { throw a.failKeyword(name, "reward must be \"ks\" or \"ad\", got \"\(s)\"") }
            o.distance = d
        case "variant":
            let s = try string()
            guard let v = PolicyTrainingOptions.Variant(rawValue: s) else { throw a.failKeyword(name, "variant must be \"paper\" or \"authors\", got \"\(s)\"") }
            o.variant = v
        default:
            throw a.failKeyword(name, "prunenet takes the keywords episodes, reward, gamma, lr, variant, train_ratio; got \(name)")
        }
        do { try o.validate() } catch let e as PruningError { throw a.failKeyword(name, e.message) }
    }

    /// Trains a policy, reporting each episode through the session's progress hook; an
    /// interrupt stops training and keeps the best policy so far (marked interrupted).
    static func trainPolicy(_ model: Model, _ options: PolicyTrainingOptions, _ a: Arguments) throws -> PrunePolicy {
        try a.progress("preparing spectra", done: 0, total: options.episodes)
        do {
            return try PrunePolicy.train(on: model, options: options) { p in
                let label = "episode · mean \(options.distance.rawValue) \(formatShort(p.meanPenalty, digits: 4)) · best \(formatShort(p.best, digits: 4)) · \(String(format: "%.1f", p.elapsed)) s"
                do { try a.progress(label, done: p.episode, total: p.episodes); return true } catch { return false }
            }
        } catch let e as PruningError { throw a.fail(e.message) }
    }

    func registerPolicyBuiltins() {
        register(Builtin(
            name: "train_policy", params: [.required("model", "model"),
                                           .optional("ratio", "number", default: .number(0.3), "fraction of rows removed while training"),
                                           .optional("episodes", "number", default: .number(20), "training episodes"),
                                           .optional("reward", "string", default: .string("ks"), "\"ks\" (Kolmogorov–Smirnov) or \"ad\" (Anderson–Darling)"),
                                           .optional("gamma", "number", default: .number(0.99), "discount of the future penalty (eq. 7)"),
                                           .optional("lr", "number", default: .number(5e-4), "AdamW learning rate"),
                                           .optional("seed", "number", default: .number(0), "seed of the initialisation and the draws"),
                                           .optional("variant", "string", default: .string("paper"), "\"paper\" or \"authors\" (the authors' code)"),
                                           .optional("temperature", "number", default: .number(1), "relaxed-Bernoulli temperature τ: scores σ((z + logit ε)/τ) (1 is eq. 4)"),
                                           .optional("normalize", "bool", default: .bool(false), "divide each episode's advantages by their standard deviation over layers (not in the paper)"),
                                           .optional("init_scale", "number", default: .number(1), "multiplier on the learner's default initialisation")],
            returns: "policy", category: "pruning",
            doc: "Trains a PruneNet policy (Sengupta et al., ICLR 2025, §4 and Algorithm 1) on the model's FFN state matrices (gate for llama, up for BERT), with no calibration data. One learner (W_inter n×d, W_proj 1×n) scores every row of every layer, σ(W·W_interᵀ·W_projᵀ), computed as σ(W·v) without the n×n product. Each episode visits every layer: relaxed-Bernoulli noise on the scores (eq. 4), (1−ratio)·n rows drawn without replacement in proportion to the noisy scores, and the penalty D_l = KS (or AD) distance between the singular values of the original and kept rows (from the Gram matrix of the kept rows). `variant=\"paper\"`: REINFORCE on Σ_l (G_l − b_l)·∇log P(S_l) with G_l = Σ_k γ^k D_{l+k} (eq. 7), the exact log-probability of each draw (sequential draws without replacement, Plackett–Luce, given the noise), a baseline b_l = the mean of layer l's return over earlier episodes (so episode 1 only sets it), one AdamW step per episode, and the learner of the best episode kept. `variant=\"authors\"` follows the authors' code: reward 1/D_l, no return-to-go or baseline, a step after every layer, the last learner kept. Progress shows each episode's mean penalty and the best so far; Ctrl-C stops and returns the best policy so far, marked interrupted.",
            example: "m = load(\"smollm2-135m\")\np = train_policy(m, ratio=0.3, episodes=2, seed=0)\np.curve") { a in
                let m = try a.model("model")
                var o = PolicyTrainingOptions()
                o.ratio = try a.fraction("ratio")
                o.episodes = try a.int("episodes", 1...100_000)
                o.gamma = try a.number("gamma", "in [0, 1]") { $0 >= 0 && $0 <= 1 }
                o.learningRate = try a.number("lr", "positive") { $0 > 0 && $0.isFinite }
                o.seed = try a.seed()
                guard let d = SpectralDistance(rawValue: try a.choice("reward", ["ks", "ad"])) else { throw a.fail(argument: "reward", "reward must be ks or ad") }
                o.distance = d
                guard let v = PolicyTrainingOptions.Variant(rawValue: try a.choice("variant", ["paper", "authors"])) else { throw a.fail(argument: "variant", "variant must be paper or authors") }
                o.variant = v
                o.temperature = try a.number("temperature", "positive") { $0 > 0 && $0.isFinite }
                o.normalizeReturns = try a.bool("normalize")
                o.initScale = try a.number("init_scale", "positive") { $0 > 0 && $0.isFinite }
                return .object(PolicyObject(try Self.trainPolicy(m.model, o, a)))
            })
        register(Builtin(
            name: "load_policy", params: [.required("path", "string")], returns: "policy", category: "pruning",
            doc: "Reads a PruneNet policy saved with `save(p, path)` (a safetensors file: W_inter, W_proj and JSON metadata with the shapes it fits, the ratio, reward, hyperparameters, seed and training curve).",
            example: "p = train_policy(load(\"smollm2-135m\"), episodes=1)\nsave(p, \"/tmp/p.safetensors\")\nload_policy(\"/tmp/p.safetensors\").ratio") { a in
                let path = (try a.string("path") as NSString).expandingTildeInPath
                do { return .object(PolicyObject(try PrunePolicy.load(from: path))) }
                catch let e as PruningError { throw a.fail(argument: "path", e.message) }
                catch let e as SafetensorsError { throw a.fail(argument: "path", "\(e)") }
                catch let e as ModelError { throw a.fail(argument: "path", e.description) }
            })
    }

    func registerAccounting() {
        register(Builtin(
            name: "sparsity", params: [.required("model", "model"), .required("ref", "model", "the dense model")],
            returns: "number", category: "pruning",
            doc: "Effective sparsity 1 − params(model)/params(ref) (the paper's Appendix A.2): the fraction of all parameters removed, embeddings and head included (SmolLM2's tied embedding counted once). Negative when the model is larger than the reference; a reference of another architecture is an error.",
            example: "m = load(\"smollm2-135m\")\nsparsity(prune(m, \"random-rows\", ratio=0.3), m)") { a in
                let model = try a.model("model").model, ref = try a.model("ref").model
                guard let sparsity = Accounting.effectiveSparsity(model, dense: ref) else {
                    throw a.fail(argument: "ref", "ref must be the dense form of the same model; '\(model.name)' is \(model.config.architecture.rawValue), '\(ref.name)' is \(ref.config.architecture.rawValue)")
                }
                return .number(sparsity)
            })
        register(Builtin(
            name: "flops", params: [.required("model", "model"), .optional("ctx", "number", default: .number(512), "tokens of context for attention")],
            returns: "number", category: "pruning",
            doc: "FLOPs per token: 2 per weight of every matrix a token passes through (the blocks' linears and, for causal models, the output head — SmolLM2's tied embedding as head) plus attention's QKᵀ and AV over `ctx` tokens (4·ctx·heads·head_dim per block).",
            example: "flops(load(\"smollm2-135m\"))") { a in
                .number(Accounting.flopsPerToken(try a.model("model").model, context: try a.int("ctx", 1...1 << 24)))
            })
        register(Builtin(
            name: "compare", params: [.variadic("models", "model", "the first is the reference"),
                                      .optional("ppl_windows", "number|none", default: .none, "also perplexity on WikiText-2 (ctx 512) over this many windows")],
            returns: "table", category: "evaluation",
            doc: "A table of models side by side: parameters, effective sparsity against the first model (\"—\" for a model of another architecture), FLOPs per token (ctx 512), and with `ppl_windows=` the WikiText-2 perplexity (ctx 512, that many windows, as `ppl`).",
            example: "m = load(\"smollm2-135m\")\ncompare(m, prune(m, \"random-rows\", ratio=0.2))") { a in
                let models = try a.rest.indices.map { i -> ModelObject in
                    guard case .object(let o) = a.rest[i], let m = o as? ModelObject else {
                        throw a.fail("compare: argument \(i + 1) must be a model, got \(a.rest[i].typeName)")
                    }
                    return m
                }
                guard let ref = models.first else { throw a.fail("compare needs at least one model") }
                let windows = a.has("ppl_windows") ? try a.int("ppl_windows", 1...1 << 20) : nil
                var rows = [[Table.Cell]]()
                for (i, m) in models.enumerated() {
                    // Sparsity against a reference of another architecture means nothing: shown as "—".
                    let sparsity = Accounting.effectiveSparsity(m.model, dense: ref.model).map { String(format: "%.1f%%", 100 * $0) } ?? "—"
                    var row: [Table.Cell] = [.text(m.model.name), .integer(m.model.parameterCount), .text(sparsity),
                                             .text(String(format: "%.3g", Accounting.flopsPerToken(m.model)))]
                    if let windows {
                        guard m.model.config.architecture == .llama else { throw a.fail(argument: "ppl_windows", "perplexity needs causal models; \(m.model.name) is not") }
                        let tokens = try m.tokenizer().encode(try DataCatalog.text(of: "wikitext2"))
                        var stop: Error?
                        let r = try Perplexity.evaluate(try m.forward(), tokens: tokens, context: 512, windows: windows) { done, total in
                            do { try a.progress("perplexity of model \(i + 1)", done: done, total: total); return true } catch { stop = error; return false }
                        }
                        if let stop { throw stop }
                        row.append(.number(r.perplexity))
                    }
                    rows.append(row)
                }
                var headers = ["model", "params", "effective sparsity", "FLOPs/token"]
                if windows != nil { headers.append("ppl") }
                return .object(TableObject(Table(title: "compared with \(ref.model.name)", headers: headers, rows: rows)))
            })
    }

    func registerPenaltyViews() {
        register(Builtin(
            name: "penalty_by_layer", params: [.required("model", "model", "the dense model"), .required("pruned", "model"),
                                               .optional("reward", "string", default: .string("ks"), "\"ks\" or \"ad\"")],
            returns: "figure", category: "pruning",
            doc: "PruneNet's penalty for every layer of a pruning: the KS (or AD) distance between the singular values of the dense and pruned state matrix (gate for llama, up for BERT), as a figure of distance by layer. `.series` and the text plot show it; `penalties(m, pruned)` gives the numbers.",
            example: "m = load(\"smollm2-135m\")\npenalty_by_layer(m, prune(m, \"random-rows\", ratio=0.3))") { a in
                let (m, p) = (try a.model("model").model, try a.model("pruned").model)
                let d = try Self.distance(a)
                let values = try Self.penalties(m, p, d, a)
                return .object(FigureObject(Figure.line(x: values.indices.map(Double.init), y: values, label: "\(p.name)",
                                                        title: "\(d.rawValue.uppercased()) distance of the state matrix's singular values, by layer",
                                                        xLabel: "layer", yLabel: "\(d.rawValue) distance")))
            })
        register(Builtin(
            name: "penalties", params: [.required("model", "model", "the dense model"), .required("pruned", "model"),
                                        .optional("reward", "string", default: .string("ks"), "\"ks\" or \"ad\"")],
            returns: "vector", category: "pruning",
            doc: "The per-layer penalties `penalty_by_layer` plots, as a vector (one per block).",
            example: "m = load(\"smollm2-135m\")\nmean(penalties(m, prune(m, \"magnitude-rows\", ratio=0.3)))") { a in
                .vector(try Self.penalties(try a.model("model").model, try a.model("pruned").model, try Self.distance(a), a))
            })
        register(Builtin(
            name: "ecdf_before_after", params: [.required("model", "model", "the dense model"), .required("pruned", "model"),
                                                .optional("layer", "number", default: .number(0), "the block")],
            returns: "figure", category: "pruning",
            doc: "The ECDFs of one layer's state-matrix singular values before and after pruning (the paper's Figure 1): slicing rows shrinks the range of the spectrum (Corollary 3.3).",
            example: "m = load(\"smollm2-135m\")\necdf_before_after(m, prune(m, \"random-rows\", ratio=0.3), layer=12)") { a in
                let (m, p) = (try a.model("model").model, try a.model("pruned").model)
                let b = try a.int("layer", 0...max(0, m.blockCount - 1))
                let role = RowPruners.stateRole(m.config)
                guard b < p.blockCount else { throw a.fail(argument: "layer", "the pruned model has \(p.blockCount) blocks") }
                let s0 = try singularValues(m.matrix(role, block: b)).map(Double.init)
                let s1 = try singularValues(p.matrix(role, block: b)).map(Double.init)
                return .object(FigureObject(Figure.ecdf([("dense (\(m.config.intermediateSizes[b]) rows)", s0), ("pruned (\(p.config.intermediateSizes[b]) rows)", s1)],
                                                        title: "layer \(b): singular values of \(role == .ffnGate ? "gate" : "up"), KS \(formatShort(try ksStatistic(s0, s1), digits: 4))",
                                                        xLabel: "singular value")))
            })
    }

    static func distance(_ a: Arguments) throws -> SpectralDistance {
        SpectralDistance(rawValue: try a.choice("reward", ["ks", "ad"]))!
    }

    /// Each block's distance between the dense and pruned state matrix singular values.
    static func penalties(_ m: Model, _ p: Model, _ d: SpectralDistance, _ a: Arguments) throws -> [Double] {
        guard m.blockCount == p.blockCount, m.config.hiddenSize == p.config.hiddenSize else {
            throw a.fail(argument: "pruned", "the models do not match: \(m.blockCount) and \(p.blockCount) blocks")
        }
        let role = RowPruners.stateRole(m.config)
        return try (0..<m.blockCount).map { b in
            try a.progress("layers", done: b, total: m.blockCount)
            return try d.distance(try singularValues(m.matrix(role, block: b)).map(Double.init),
                                  try singularValues(p.matrix(role, block: b)).map(Double.init))
        }
    }
}

extension Arguments {
    /// A user error about the extra keyword argument `name`, pointing at it (at the call when absent).
    func failKeyword(_ name: String, _ message: String) -> Error {
        LangError(.value, "\(builtin.name): \(message)", extraKeywords.first { $0.name == name }?.span ?? callSpan)
    }
}
