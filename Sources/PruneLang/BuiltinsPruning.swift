import Foundation
import Numerics
import Models
import Pruning
import Plots

extension BuiltinRegistry {
    /// Registers the pruning builtins: `prune` (by method name or by a policy) and `prune_methods`,
    /// `train_policy`, `load_policy`, the accounting builtins (`sparsity`, `flops`, `compare`) and
    /// the spectral views of a pruning (`penalty_by_layer`, `ecdf_before_after`). The methods, their
    /// options and their checks are Pruning's `PruneMethods`: nothing here knows a method.
    public func registerPruning() {
        registerPrune()
        registerPolicyBuiltins()
        registerAccounting()
        registerPenaltyViews()
        registerWhatToKeep()
    }

    func registerPrune() {
        let list = PruneMethods.all.map { "`\($0.name)`" }.joined(separator: ", ")
        register(Builtin(
            name: "prune", params: [.required("model", "model|network"), .optional("method", "string|policy|none", default: .none, "a method name or a trained policy (none with scores=)"),
                                    .optional("ratio", "number|list", default: .number(0.2), "fraction removed (what it counts depends on the method), or a list with one ratio per block"),
                                    .optional("seed", "number", default: .number(0), "seed for random choices and calibration windows"),
                                    .optional("scores", "function|none", default: .none, "fn(block) returning one score per FFN neuron of the block; the lowest scores are removed"),
                                    .optional("exact", "bool", default: .bool(false), "row methods: true keeps exactly (1−ratio)·width neurons; false (the default) keeps the nearest multiple of a quantised GGUF's block size, so a save keeps the type and the file shrinks")]
                + PruneMethods.sharedOptions.map(Self.param),
            returns: "model", category: "pruning",
            doc: "Returns `model` pruned by a method (\(list)) or by a trained PruneNet policy (from `train_policy`). `ratio` is what the method removes: neurons, sparsity, a fraction of d or blocks. `prune_methods()` lists every method with what its ratio means and its options; `help(\"wanda\")` gives one method's details. A small network (from `mlp`) is pruned the same way: masks (`net.masks`) for the unstructured methods, a smaller network for the row methods. Instead of a method, `scores=fn(block) {...}` prunes FFN neurons by a score of your own: the function gets each block as a layer (`block.index`, `block.width`, `block.ffn.gate|up|down`: views of the model's weights, not copies) and returns one number per neuron; each block keeps its (1−ratio)·width neurons of highest score, so the lowest scores are removed (ties keep the lower index). `protect=` (a list of [block, neuron] pairs, or the table of `super_weights(m)`) keeps neurons whatever a row method, policy or score says, and the ratio is still met; `ratios=\"owl\"` or `\"owl-weights\"` spreads one ratio over the blocks by OWL's outlier rule. On a model whose FFN down projections are a quantised GGUF type, the row methods, policies and scores keep by default the multiple of the type's block size (32 for Q4_0 and Q4_1, 256 for k-quants) nearest to (1−ratio)·width (at least one block fewer than the width), so a save keeps the type and the pruned file is smaller than its source; a note says what was kept, once per session. `exact=true` keeps exactly (1−ratio)·width neurons: a down projection whose rows are then not whole blocks is saved as Q8_0 or F16, and the file can be larger than the source. Models in Float32 or F16 (safetensors) keep the exact count either way.",
            example: "m = load(\"smollm2-135m\")\nsmall = prune(m, \"random-rows\", ratio=0.1)\nparams(small)",
            acceptsExtraKeywords: true) { a in
                if case .object(let o as NetworkObject) = a.value("model") { return try Self.pruneNetwork(o, a) }
                let m = try a.model("model")
                var request = PruneRequest(ratios: try Self.ratioList(a), seed: try a.seed())
                do { _ = try request.blockRatios(m.model.blockCount) } catch let e as PruningError { throw a.fail(argument: "ratio", e.message) }
                if a.has("scores") { return try Self.pruneByScores(m, a, request: request) }
                let method: PruneMethod
                switch a.value("method") {
                case .none:
                    throw a.fail("give a method (a name or a policy) or scores=fn(block) {...}")
                case .string(let name):
                    do { method = try PruneMethods.method(named: name) } catch let e as PruningError { throw a.fail(argument: "method", e.message) }
                case .object(let o as PolicyObject):
                    method = PruneMethods.applying(o.policy)
                default:
                    throw a.typeError("method", expected: "method name or policy")
                }
                try Self.setOptions(a, method: method, in: &request)
                request.alignKept = !(try a.bool("exact"))
                if method.needsCalibration, method.architectures.contains(m.model.config.architecture) {
                    request.calibration.tokenizer = try m.tokenizer()
                }
                if request.given.contains("calib_data"), let warning = request.calibration.warning {
                    a.interpreter.errorOutput("warning: \(warning)\n")
                }
                do {
                    let pruned = try PruneMethods.prune(m.model, method: method, request: request, progress: a.reporter(of: "\(m.model.name) (\(method.name))"))
                    if method.prunesNeurons, let note = Self.alignmentNote(m.model, pruned, request) { a.interpreter.noteOnce(note) }
                    let spilled = pruned.tensors.values.filter(\.isSpilled)
                    if !spilled.isEmpty {
                        let float32 = spilled.reduce(0) { $0 + $1.elementCount * 4 }, stored = spilled.reduce(0) { $0 + $1.storedBytes }
                        a.interpreter.errorOutput("note: the \(spilled.count) pruned matrices are kept on disk as \(spilled[0].typeName) (\(MemoryBudget.describe(stored)), memory-mapped from a temporary file) because as Float32 they would need \(MemoryBudget.describe(float32)), more than half the memory available\n")
                    }
                    return .object(ModelObject(pruned))
                } catch let e as PruningError {
                    throw Self.located(e, a)
                }
            })
        register(Builtin(
            name: "prune_methods", params: [.optional("name", "string|none", default: .none, "one method's name")],
            returns: "table|string", category: "pruning",
            doc: "The methods `prune` knows, as a table: name, what it does, what `ratio` means, its options, whether it draws calibration data, and the architectures it runs on. With a name, that method's details and options as text.",
            example: "prune_methods(\"wanda\")") { a in
                guard a.has("name") else {
                    let rows: [[Table.Cell]] = PruneMethods.all.map { m in
                        [.text(m.name), .text(m.summary), .text(m.ratioMeaning), .text(m.options.map(\.name).joined(separator: ", ")),
                         .text(m.needsCalibration ? "C4" : "—"), .text(m.runsOn.joined(separator: ", "))]
                    }
                    return .object(TableObject(Table(title: "pruning methods", headers: ["method", "what it does", "ratio", "options", "calibration", "runs on"], rows: rows)))
                }
                let name = try a.string("name")
                guard let m = PruneMethods.named(name) else {
                    throw a.fail(argument: "name", "no method \(Render.quote(name))\(didYouMean(name, PruneMethods.all.map(\.name)))")
                }
                return .string(Self.methodHelp(m))
            })
    }

    /// What block alignment (`PruneRequest.alignKept`) did to a row pruning, as a note for the
    /// user: the kept count against the exact one; nil when it changed nothing or was not asked.
    static func alignmentNote(_ source: Model, _ pruned: Model, _ request: PruneRequest) -> String? {
        guard request.alignKept, let n = source.config.intermediateSizes.first else { return nil }
        let q = FFNPruning.keptMultiple(source, block: 0)
        guard q > 1 else { return nil }
        let why = "so a save keeps the model's quantised type"
        if request.layerRatios != nil {
            return "note: each block keeps a multiple of \(q) neurons (its OWL ratio rounded to whole blocks), \(why); exact=true keeps the exact counts\n"
        }
        guard let ratios = try? request.blockRatios(source.blockCount) else { return nil }
        let exact = zip(source.config.intermediateSizes, ratios).map { (try? FFNPruning.keptCount(width: $0, ratio: $1)) ?? $0 }
        let kept = pruned.config.intermediateSizes
        guard kept != exact else { return nil }
        if Set(kept).count == 1, Set(exact).count == 1, Set(source.config.intermediateSizes).count == 1 {
            let removed = Double(n - kept[0]) / Double(n) * 100
            return "note: prune keeps \(kept[0]) of \(n) neurons per block (\(String(format: "%.1f", removed))% removed), a multiple of \(q), \(why); exact=true keeps \(exact[0])\n"
        }
        return "note: each block keeps the multiple of \(q) neurons nearest to its ratio, \(why); exact=true keeps the exact counts\n"
    }

    /// `prune` on a small network: one ratio, a method name (a policy prunes models only), the
    /// options the method reads; the result is a new network (masked, or smaller).
    static func pruneNetwork(_ net: NetworkObject, _ a: Arguments) throws -> Value {
        if a.has("scores") { throw a.fail(argument: "scores", "scores= prunes a language model's FFN neurons; prune a network by a method name") }
        var request = PruneRequest(ratios: try Self.ratioList(a), seed: try a.seed())
        guard case .string(let name) = a.value("method") else {
            if a.value("method").typeName == "policy" { throw a.fail(argument: "method", "a policy prunes language models; prune a network by a method name") }
            throw a.typeError("method", expected: "method name")
        }
        let method: PruneMethod
        do { method = try PruneMethods.method(named: name) } catch let e as PruningError { throw a.fail(argument: "method", e.message) }
        try Self.setOptions(a, method: method, in: &request)
        for name in ["protect", "ratios"] where request.given.contains(name) {
            throw a.fail(argument: name, "\(name) applies to language models, not networks")
        }
        do {
            let pruned = try PruneMethods.prune(net.network, method: method, request: request)
            let from = net.training != nil ? "a trained network" : (net.origin.map { "a network \($0)" } ?? "an untrained network")
            return .object(NetworkObject(pruned, origin: "pruned by \(method.name) at \(formatNumber(request.ratios[0])) from \(from)"))
        } catch let e as PruningError {
            throw Self.located(e, a)
        }
    }

    /// A method's help: summary, ratio, calibration, architectures, details and options.
    static func methodHelp(_ m: PruneMethod) -> String {
        var out = "\(m.name): \(m.summary).\nratio: \(m.ratioMeaning)\(m.perBlockRatios ? " (a list gives each block its own)" : "").\n"
        out += "calibration: " + (m.needsCalibration ? "calib windows of \(CalibrationSettings.defaultLength) tokens from calib_data (C4 unless given), drawn with calib_seed (seed unless given)" : "none") + "\n"
        out += "runs on: " + m.runsOn.joined(separator: ", ")
        if m.runsOnNetworks { out += "\non a network, ratio is " + m.networkRatioMeaning }
        if !m.details.isEmpty { out += "\n\n" + m.details }
        if !m.options.isEmpty {
            out += "\n\nOptions:"
            for o in m.options { out += "\n  \(o.name)=\(Render.inline(value(o.defaultValue), depth: 1)) (\(o.kind.typeName)): \(o.doc)" }
        }
        return out
    }

    /// A declared option as a builtin parameter (its default, its type, its doc).
    static func param(_ o: MethodOption) -> Param {
        .optional(o.name, o.kind.typeName + (o.defaultValue == .none ? "|none" : ""), default: value(o.defaultValue), o.doc)
    }

    /// An option's value as the language shows it.
    static func value(_ v: OptionValue) -> Value {
        switch v {
        case .number(let x): return .number(x)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .neurons(let n): return .list(n.sorted { $0.key < $1.key }.flatMap { b, ns in ns.map { .list([.number(Double(b)), .number(Double($0))]) } })
        case .none: return .none
        }
    }

    /// `ratio` as given: one number, or a list of numbers (checked against the model by the library).
    static func ratioList(_ a: Arguments) throws -> [Double] {
        if case .number(let x) = a.value("ratio") { return [x] }
        return try a.numbers("ratio")
    }

    /// Sets every option written in the call (the shared parameters given, then any other keyword)
    /// on `request` through `method`'s declaration, in the order written; errors point at the option.
    static func setOptions(_ a: Arguments, method: PruneMethod, in request: inout PruneRequest) throws {
        var written = PruneMethods.sharedOptions.filter { a.given($0.name) }.map { (name: $0.name, value: a.value($0.name), span: a.span($0.name)) }
        written += a.extraKeywords
        for (name, value, span) in written.sorted(by: { $0.span.start < $1.span.start }) {
            let v = try Self.optionValue(name, value, span: span, a)
            do { try method.set(name, v, in: &request) } catch let e as PruningError { throw Self.located(e, a, value: value) }
        }
    }

    /// A value written for option `name` as the library takes it (a type error for a list, a model…).
    static func optionValue(_ name: String, _ value: Value, span: Span, _ a: Arguments) throws -> OptionValue {
        if case .neurons? = PruneMethods.option(named: name)?.kind, !value.isNone {
            return .neurons(try neurons(name, value, span: span, a))
        }
        switch value {
        case .number(let x): return .number(x)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .none: return .none
        default:
            let expected = PruneMethods.option(named: name)?.kind.expected ?? "a number, string or bool"
            throw LangError(.type, "\(a.builtin.name): argument \(name) must be \(expected), got \(value.typeName)", span)
        }
    }

    /// A library error as a located user error: at the option or argument it names when the call
    /// wrote it, at the call otherwise; a bad choice gets a "did you mean".
    static func located(_ e: PruningError, _ a: Arguments, value: Value? = nil) -> Error {
        var message = e.message
        if let name = e.option, case .string(let s)? = value, case .choice(let choices)? = PruneMethods.option(named: name)?.kind {
            message += didYouMean(s, choices)
        }
        guard let name = e.option else { return a.fail(message) }
        if let k = a.extraKeywords.first(where: { $0.name == name }) { return LangError(.value, "\(a.builtin.name): \(message)", k.span) }
        if a.builtin.params.contains(where: { $0.name == name }) { return a.fail(argument: name, message) }
        return a.fail(message)
    }

    func registerPolicyBuiltins() {
        let options = PolicyTrainingOptions.declarations
        register(Builtin(
            name: "train_policy", params: [.required("model", "model"),
                                           .optional("ratio", "number", default: .number(0.3), "fraction of rows removed while training")]
                + options.prefix(4).map(Self.param) + [.optional("seed", "number", default: .number(0), "seed of the initialisation and the draws")]
                + options.dropFirst(4).map(Self.param),
            returns: "policy", category: "pruning",
            doc: "Trains a PruneNet policy (Sengupta et al., ICLR 2025, §4 and Algorithm 1) on the model's FFN state matrices (gate for llama, up for BERT), with no calibration data. One learner (W_inter n×d, W_proj 1×n) scores every row of every layer, σ(W·W_interᵀ·W_projᵀ), computed as σ(W·v) without the n×n product. Each episode visits every layer: relaxed-Bernoulli noise on the scores (eq. 4), (1−ratio)·n rows drawn without replacement in proportion to the noisy scores, and the penalty D_l = KS (or AD) distance between the singular values of the original and kept rows (from the Gram matrix of the kept rows). `variant=\"paper\"`: REINFORCE on Σ_l (G_l − b_l)·∇log P(S_l) with G_l = Σ_k γ^k D_{l+k} (eq. 7), the exact log-probability of each draw (sequential draws without replacement, Plackett–Luce, given the noise), a baseline b_l = the mean of layer l's return over earlier episodes (so episode 1 only sets it), one AdamW step per episode, and the learner of the best episode kept. `variant=\"authors\"` follows the authors' code: reward 1/D_l, no return-to-go or baseline, a step after every layer, the last learner kept. `contribution=λ` (λ > 0, llama only) adds to each D_l λ times the share of the layer's total contribution score (contribution-rows' score, computed once before training from one pass over the data-free prompt, or from the weights alone with `contribution_proxy=\"weights\"`) that the removed neurons carry, so the policy is pushed to keep the neurons that write most into the residual stream (on SmolLM2 it does not help: docs/RESULTS.md). Progress shows each episode's mean penalty and the best so far; Ctrl-C stops training and returns the best policy so far, marked interrupted (so `p = train_policy(...)` keeps it), and the cell stops at its next step.",
            example: "m = load(\"smollm2-135m\")\np = train_policy(m, ratio=0.3, episodes=2, seed=0)\np.curve") { a in
                let m = try a.model("model")
                var request = PruneRequest(ratio: try a.fraction("ratio"), seed: try a.seed())
                for o in options {
                    let v = try Self.optionValue(o.name, a.value(o.name), span: a.span(o.name), a)
                    do { try o.store(v, in: &request) } catch let e as PruningError { throw Self.located(e, a, value: a.value(o.name)) }
                }
                var o = request.policy
                o.ratio = request.ratios[0]
                o.seed = request.seed
                let policy: PrunePolicy
                do { policy = try PrunePolicy.train(on: m.model, options: o, progress: a.reporter(of: m.model.name)) }
                catch let e as PruningError { throw a.fail(e.message) }
                // Interrupted: the best policy so far is the value, and the cell stops at its next step.
                if policy.info.interrupted { a.interpreter.interrupt() }
                return .object(PolicyObject(policy))
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
                        let r = try Perplexity.evaluate(try m.forward(), tokens: tokens, context: 512, windows: windows,
                                                        progress: a.reporter("perplexity of \(m.model.name)"))
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
