import Numerics
import Models
import Training

/// Every pruning method, each declared once, and the one way into them: `prune(model, method:,
/// request:, progress:)`. The language's `prune` builtin, its help and its errors, the benches and
/// the tests all come through here. To add a method, write its algorithm in its own file and
/// declare it in `all` below.
public enum PruneMethods {
    /// The shared options: settings several methods read, shown in the language's `prune` signature.
    public static let pattern = MethodOption("pattern", .text, default: .none, shared: true,
                                             "N:M semi-structured pattern, e.g. \"2:4\" (keep 2 of every 4 consecutive input weights); ratio is then ignored") { r, v in
        r.pattern = try SparsityPattern.parse(v.string)
    }
    /// Where magnitude pruning compares weights.
    public static let scope = MethodOption("scope", .choice(MagnitudePruning.Scope.allCases.map(\.rawValue)), default: .string("layer"), shared: true,
                                           "\"layer\" (each matrix loses ratio) or \"global\" (one threshold over all matrices)") { r, v in
        r.scope = MagnitudePruning.Scope(rawValue: v.string) ?? .layer
    }
    /// How many calibration windows.
    public static let calib = MethodOption("calib", .integer(1...4096), default: .number(Double(CalibrationSettings.defaultWindows)), shared: true,
                                           "calibration windows of \(CalibrationSettings.defaultLength) tokens from calib_data, drawn with calib_seed") { r, v in
        r.calibration.windows = Int(v.number)
    }
    /// Where calibration windows come from.
    public static let calibData = MethodOption("calib_data", .text, default: .string("c4"), shared: true,
                                               "the calibration text: \"c4\" (the C4 sample), \"wikitext2\" (WikiText-2's train split; refused when the data folder has only the test split), \"wikitext2-test\" (the test text ppl scores: leakage, warns) or a text file's path") { r, v in
        r.calibration.source = CalibrationSource(v.string)
        try r.calibration.checkSource()
    }
    /// The seed of the calibration draw, apart from `seed`.
    public static let calibSeed = MethodOption("calib_seed", .integer(0...(1 << 53)), default: .none, shared: true,
                                               "seed of the calibration windows' draw (none: seed)") { r, v in
        r.calibration.seed = UInt64(v.number)
    }
    /// The options of every calibrated method.
    public static let calibration = [calib, calibData, calibSeed]
    /// Top-k instead of sampling for PruneNet.
    public static let deterministic = MethodOption("deterministic", .bool, default: .bool(false), shared: true,
                                                   "PruneNet: keep the top-k scores instead of sampling (the paper's Table 17)") { r, v in
        r.deterministic = v.bool
    }
    /// The ratio PruneNet trains at when it differs from the one it prunes at.
    static let trainRatio = MethodOption("train_ratio", .number(expected: "in [0, 1)", valid: PolicyTrainingOptions.isFraction), default: .none,
                                         "the ratio the policy is trained at (default: ratio)") { r, v in
        r.policy.ratio = v.number
    }

    /// Neurons the row methods always keep.
    public static let protect = MethodOption("protect", .neurons, default: .none, shared: true,
                                             "FFN neurons never removed: a list of [block, neuron] pairs or super_weights(m); the ratio is still met") { r, v in
        r.protected = ProtectedNeurons(v.neurons.mapValues(Set.init))
    }
    /// OWL's per-block ratios.
    public static let layerRatios = MethodOption("ratios", .choice(["uniform"] + OWLRatios.Form.allCases.map(\.rawValue)), default: .string("uniform"), shared: true,
                                                 "\"uniform\", or OWL's per-block ratios around ratio (±0.08, fewer removed where more outliers): \"owl\" scores |W|·‖X‖ on the data-free prompt, \"owl-weights\" |W| alone") { r, v in
        r.layerRatios = OWLRatios.Form(rawValue: v.string)
    }
    /// The input model of "contribution-rows".
    static let proxy = MethodOption("proxy", .choice(ContributionScores.Proxy.allCases.map(\.rawValue)), default: .string("prompt"),
                                    "the FFN input the score assumes: \"prompt\" (one pass over a fixed data-free prompt) or \"weights\" (Gaussian input scaled by the FFN norm; no forward pass)") { r, v in
        r.proxy = ContributionScores.Proxy(rawValue: v.string) ?? .prompt
    }

    /// The methods, in the order help lists them.
    public static let all: [PruneMethod] = [
        PruneMethod(name: "random-rows", summary: "keep FFN neurons uniformly at random (the paper's Table 16 baseline)",
                    ratioMeaning: "the fraction of FFN neurons removed in each block", options: [protect, layerRatios], perBlockRatios: true, prunesNeurons: true,
                    network: { n, r in try NetworkPruning.neurons(n, ratio: r.ratios[0], criterion: .random, seed: r.seed) },
                    networkRatioMeaning: "the fraction of each hidden layer's neurons removed (a smaller network)") { m, r, p in
            try RowPruners.prune(m, method: .random, ratios: r.blockRatios(m.blockCount), seed: r.seed, protected: r.protected, progress: p)
        },
        PruneMethod(name: "magnitude-rows", summary: "keep the neurons whose state-matrix row (gate for llama, up for BERT, incoming weights for a network) has the largest L2 norm",
                    ratioMeaning: "the fraction of FFN neurons removed in each block", options: [protect, layerRatios], perBlockRatios: true, prunesNeurons: true,
                    network: { n, r in try NetworkPruning.neurons(n, ratio: r.ratios[0], criterion: .magnitude, seed: r.seed) },
                    networkRatioMeaning: "the fraction of each hidden layer's neurons removed (a smaller network)") { m, r, p in
            try RowPruners.prune(m, method: .magnitude, ratios: r.blockRatios(m.blockCount), seed: r.seed, protected: r.protected, progress: p)
        },
        PruneMethod(name: "contribution-rows", summary: "keep the FFN neurons that write most into the residual stream: ‖W_down[:,j]‖·√E[(SiLU(g_j·h)·(u_j·h))²], gate, up and down together (no calibration data)",
                    ratioMeaning: "the fraction of FFN neurons removed in each block",
                    details: "Scores the whole neuron, not its gate row alone: with a small gate SiLU(z) ≈ z/2 is nearly linear, so a neuron with a small gate norm still passes (g·h)(u·h)/2 on, and magnitude rows misses it. proxy=\"prompt\" takes h from one pass over a fixed data-free prompt (the mean over its tokens); proxy=\"weights\" takes h = s⊙z with s the FFN norm's scale and z of unit variance, so g·h and u·h are jointly Gaussian and the expectation is a 1-D integral (no forward pass). The lowest scores go.",
                    options: [proxy, protect, layerRatios], architectures: [.llama], perBlockRatios: true, prunesNeurons: true) { m, r, p in
            try RowPruners.prune(m, method: .contribution, ratios: r.blockRatios(m.blockCount), seed: r.seed, protected: r.protected, proxy: r.proxy, progress: p)
        },
        PruneMethod(name: "prunenet", summary: "train a PruneNet policy on the model (no calibration data) and apply it",
                    ratioMeaning: "the fraction of FFN neurons removed in each block",
                    details: "Trains a policy as train_policy does (its keywords are train_policy's, with train_ratio for its ratio, which defaults to ratio), then draws the kept neurons from its noisy scores with seed, or takes the top-k scores with deterministic=true. Per-block ratios need train_ratio.",
                    options: PolicyTrainingOptions.declarations + [trainRatio, deterministic, protect], perBlockRatios: true, prunesNeurons: true,
                    suffix: policySuffix) { m, r, p in
            var options = r.policy
            options.seed = r.seed
            if !r.given.contains("train_ratio") {
                guard let ratio = r.uniformRatio else {
                    throw PruningError(option: "ratio", "prunenet takes one ratio for all layers unless train_ratio is given, got a list")
                }
                options.ratio = ratio
            }
            let trained = try PolicyTraining.train(model: m, options: options, progress: p)
            if let stop = trained.stoppedBy { throw stop }
            let policy = PrunePolicy(trained: trained, on: m, options: options)
            return try policy.apply(to: m, ratios: r.blockRatios(m.blockCount), seed: r.seed, deterministic: r.deterministic, protected: r.protected)
        },
        PruneMethod(name: "magnitude", summary: "zero the smallest |w| of the seven linears of every block, per matrix or over all of them",
                    ratioMeaning: "the fraction of weights zeroed (the sparsity)",
                    details: "Unstructured: the seven linears q/k/v/o/gate/up/down of every block; embeddings and head stay dense. scope=\"layer\" zeroes ratio of each matrix, scope=\"global\" one threshold over all of them; pattern=\"2:4\" keeps the 2 largest of every 4 consecutive input weights instead.",
                    options: [pattern, scope, layerRatios], suffix: unstructuredSuffix("magnitude"),
                    network: { n, r in
                        if r.pattern != nil { throw PruningError(option: "pattern", "pattern applies to models; a network is pruned by ratio") }
                        return try NetworkPruning.magnitude(n, ratio: r.ratios[0], scope: r.scope == .global ? .global : .layer)
                    },
                    networkRatioMeaning: "the fraction of weights masked (of each layer, or of all of them with scope=\"global\"); masked weights stay zero through training") { m, r, p in
            if r.layerRatios != nil {
                if r.scope == .global { throw PruningError(option: "ratios", "ratios=\"\(r.layerRatios!.rawValue)\" gives each block its own ratio; it does not combine with scope=\"global\"") }
                return try OWLRatios.magnitude(m, ratios: r.blockRatios(m.blockCount), progress: p)
            }
            return try MagnitudePruning.prune(m, pattern: r.pattern ?? .fraction(r.ratios[0]), scope: r.scope, progress: p)
        },
        calibratedUnstructured(.wanda, summary: "zero the lowest |W_ij|·‖X_j‖₂ of each output row (Wanda; calibration activations, no update)"),
        calibratedUnstructured(.sparsegpt, summary: "prune with SparseGPT's OBS weight reconstruction (H = 2XᵀX/n, 1% dampening, blocks of 128 columns)"),
        PruneMethod(name: "random", summary: "mask a seeded uniformly random fraction of each layer's weights (the unstructured control)",
                    ratioMeaning: "the fraction of each layer's weights masked",
                    network: { n, r in try NetworkPruning.random(n, ratio: r.ratios[0], seed: r.seed) },
                    networkRatioMeaning: "the fraction of each layer's weights masked", run: nil),
        heads,
        PruneMethod(name: "slicegpt", summary: "rotate the residual stream onto its principal components and slice it (SliceGPT)",
                    ratioMeaning: "the fraction of the hidden size d sliced away",
                    details: "Folds the RMSNorm scales into the linears (untying a tied head), rotates the residual stream onto the principal components of calibration activations and slices it to (1−ratio)·d, rounded down to a multiple of 8, with shortcut matrices on the residual connections. The result saves as safetensors only: llama.cpp cannot load the shortcut form. Sequential over blocks: where the model's Float32 linears would take more than half the available memory (a 7B-shaped model), memory holds one block's at a time and each block's rotated, sliced linears are kept on disk as Q8_0 (F16 where a row is not whole blocks of 32) as soon as they are made (a note says so); the rotations are the same either way.",
                    options: calibration, needsCalibration: true, architectures: [.llama]) { m, r, p in
            try SliceGPT.prune(m, ratio: r.ratios[0], samples: try r.calibration.windows(for: m, seed: r.seed), progress: p)
        },
        PruneMethod(name: "shortgpt", summary: "remove the blocks of lowest Block Influence 1 − cos(h_in, h_out) (ShortGPT)",
                    ratioMeaning: "the fraction of blocks removed (round(ratio·blocks))",
                    options: calibration, needsCalibration: true, architectures: [.llama]) { m, r, p in
            let count = try ShortGPT.removedCount(blocks: m.blockCount, ratio: r.ratios[0])
            let samples = try r.calibration.windows(for: m, seed: r.seed)
            return try ShortGPT.prune(m, removing: count, samples: samples, progress: p.renamed("shortgpt block influence")).model
        },
        PruneMethod(name: "laco", summary: "merge neighbouring blocks while the output stays similar to the dense model's (LaCo)",
                    ratioMeaning: "the most blocks removed (round(ratio·blocks)); fewer when no merge passes",
                    details: "Collapses blocks by merging one block into its neighbour at a time (RDSC, θ_l + Σ(θ_{l+k} − θ_l)), scanning down from the top, and keeps a merge only while the final hidden states, centred by the dense model's mean, stay above cosine 0.65 of the dense model's; when no merge passes it stops short (the model's block count says how many went). Scores merges on min(calib, 4) windows.",
                    options: calibration, needsCalibration: true, architectures: [.llama]) { m, r, p in
            let count = try ShortGPT.removedCount(blocks: m.blockCount, ratio: r.ratios[0])
            let samples = Array(try r.calibration.windows(for: m, seed: r.seed).prefix(4))
            return try LaCo.prune(m, removing: count, samples: samples, progress: p).model
        },
    ]

    /// The options of a trained policy (see `applying`).
    static let policyOptions = [deterministic, protect]

    /// A trained policy as a method: it prunes at any ratio or per-block ratios (the paper's
    /// Tables 6 and 7), sampling with the seed or by top-k (`deterministic`).
    public static func applying(_ policy: PrunePolicy) -> PruneMethod {
        PruneMethod(name: "policy", described: "a policy", summary: "apply a trained PruneNet policy",
                    ratioMeaning: "the fraction of FFN neurons removed in each block", options: policyOptions,
                    perBlockRatios: true, prunesNeurons: true, suffix: policySuffix) { m, r, _ in
            do { try policy.requireFits(m) } catch let e as PruningError { throw PruningError(option: "method", e.message) }
            return try policy.apply(to: m, ratios: r.blockRatios(m.blockCount), seed: r.seed, deterministic: r.deterministic, protected: r.protected)
        }
    }

    /// The method called `name`.
    public static func named(_ name: String) -> PruneMethod? { all.first { $0.name == name } }

    /// Every method's options and a policy's, in declaration order (an option read by several methods repeats).
    static let declaredOptions = all.flatMap(\.options) + policyOptions

    /// The option called `name` of any method.
    public static func option(named name: String) -> MethodOption? {
        declaredOptions.first { $0.name == name }
    }

    /// The shared options in first-declared order (for `prune`'s signature).
    public static let sharedOptions: [MethodOption] = {
        var seen = Set<String>()
        return declaredOptions.filter { $0.shared && seen.insert($0.name).inserted }
    }()

    /// How messages list the methods reading option `name` ("magnitude", "a policy").
    static func readers(of name: String) -> [String] {
        all.filter { $0.reads(name) }.map(\.described) + (policyOptions.contains { $0.name == name } ? ["a policy"] : [])
    }

    /// `model` pruned by `method` as `request` asks: checks the architecture and the ratios against
    /// the declaration, runs the method with `progress`, and names the result
    /// "<model>-<method>-<ratio%>". Options reach the request through `PruneMethod.set`.
    public static func prune(_ model: Model, method: PruneMethod, request: PruneRequest,
                             progress: ProgressReporter = .none) throws -> Model {
        let arch = model.config.architecture
        guard let run = method.run else {
            throw PruningError(option: "method", "\(method.name) prunes networks only; '\(model.name)' is a \(arch.rawValue) model")
        }
        guard method.architectures.contains(arch) else {
            let names = method.architectures.map(\.rawValue).joined(separator: " and ")
            throw PruningError(option: "method", "\(method.name) runs on \(names) models; '\(model.name)' is a \(arch.rawValue) model")
        }
        if !method.perBlockRatios, request.uniformRatio == nil {
            throw PruningError(option: "ratio", "\(method.name) takes one ratio for all blocks, got a list")
        }
        _ = try request.blockRatios(model.blockCount)
        var request = request
        let suffix = method.suffix(request) + (request.layerRatios.map { "-" + $0.rawValue } ?? "")
        if request.alignKept, method.prunesNeurons, request.layerRatios == nil,
           method.reads(trainRatio.name), !request.given.contains(trainRatio.name), let asked = request.uniformRatio {
            // PruneNet trains at the ratio asked for and keeps whole blocks when it applies the policy.
            request.policy.ratio = asked
            request.given.insert(trainRatio.name)
        }
        request.ratios = try removedRatios(model, request: request, prunesNeurons: method.prunesNeurons)
        var out = try run(model, request, progress)
        out.name = "\(model.name)-\(suffix)"
        return out
    }

    /// The ratio each block of `model` loses, as `request` asks: its ratio or ratios; OWL's
    /// per-block ratios with the same mean when `layerRatios` is set; then, for a pruning that
    /// removes FFN neurons (`prunesNeurons`) with `alignKept` set, rounded so each block keeps
    /// whole quantisation blocks (`FFNPruning.blockAlignedRatios`). The method registry and a
    /// pruning by the user's own scores both resolve their ratios here.
    public static func removedRatios(_ model: Model, request: PruneRequest, prunesNeurons: Bool) throws -> [Double] {
        var ratios = request.ratios
        if let form = request.layerRatios {
            guard let target = request.uniformRatio else {
                throw PruningError(option: "ratios", "ratios=\"\(form.rawValue)\" sets each block's ratio from one ratio, got a list")
            }
            if request.pattern != nil { throw PruningError(option: "ratios", "ratios=\"\(form.rawValue)\" sets ratios; it does not combine with pattern") }
            ratios = try OWLRatios.ratios(model, target: target, form: form)
        }
        if request.alignKept, prunesNeurons { ratios = try FFNPruning.blockAlignedRatios(model, ratios: ratios) }
        return ratios
    }

    /// The methods that prune small networks.
    public static var networkMethods: [PruneMethod] { all.filter(\.runsOnNetworks) }

    /// `network` pruned by `method` as `request` asks (one ratio; seed, scope as the method reads
    /// them). Unstructured methods return the network with masks, structured ones a smaller network.
    public static func prune(_ network: MLP, method: PruneMethod, request: PruneRequest) throws -> MLP {
        guard let run = method.network else {
            let names = networkMethods.map { "\"\($0.name)\"" }.joined(separator: ", ")
            throw PruningError(option: "method", "\(method.described) prunes language models, not networks; a network is pruned by \(names)")
        }
        guard let ratio = request.uniformRatio, request.ratios.count == 1 else {
            throw PruningError(option: "ratio", "a network is pruned at one ratio, not a list")
        }
        guard ratio >= 0, ratio < 1 else {
            throw PruningError(option: "ratio", "ratio must be in [0, 1), got \(PruningError.format(ratio))")
        }
        do {
            return try run(network, request)
        } catch let e as TrainingError {
            throw PruningError(option: "ratio", e.description)
        }
    }

    /// `model` pruned by the method called `name` (see `prune(_:method:request:progress:)`).
    public static func prune(_ model: Model, method name: String, request: PruneRequest,
                             progress: ProgressReporter = .none) throws -> Model {
        try prune(model, method: try method(named: name), request: request, progress: progress)
    }

    /// The method called `name`, or an error listing the names.
    public static func method(named name: String) throws -> PruneMethod {
        guard let m = named(name) else {
            throw PruningError(option: "method", "method must be a policy or one of \(all.map { "\"\($0.name)\"" }.joined(separator: ", ")), got \"\(name)\"")
        }
        return m
    }

    /// Wanda or SparseGPT: calibrated unstructured pruning, sequential over blocks.
    static func calibratedUnstructured(_ kind: CalibratedUnstructured.Method, summary: String) -> PruneMethod {
        PruneMethod(name: kind.rawValue, summary: summary, ratioMeaning: "the fraction of weights zeroed (the sparsity)",
                    details: "Unstructured, over the seven linears of every block, calibrated sequentially: each block sees the outputs of the already-pruned blocks before it. pattern=\"2:4\" keeps 2 of every 4 consecutive input weights instead. Each pass of 16 windows through SmolLM2-135M costs about a 16-window perplexity and it makes two: use calib=2 to try things out. Memory holds one block's activations and Float32 linears at a time: where the pruned linears would take more than half the available memory as Float32 (a 7B-shaped model), each block's are kept on disk as Q8_0 as soon as they are made (zeros stay zeros; a note says so) and the calibration continues through them as stored.",
                    options: [pattern] + calibration + [layerRatios], needsCalibration: true, architectures: [.llama],
                    suffix: unstructuredSuffix(kind.rawValue)) { m, r, p in
            let samples = try r.calibration.windows(for: m, seed: r.seed)
            if r.layerRatios != nil {
                return try OWLRatios.calibrated(m, method: kind, ratios: r.blockRatios(m.blockCount), samples: samples,
                                                progress: p.renamed("\(kind.rawValue) with OWL ratios (sequential, \(samples.count) windows)"))
            }
            return try CalibratedUnstructured.prune(m, method: kind, pattern: r.pattern ?? .fraction(r.ratios[0]), samples: samples,
                                                    progress: p.renamed("\(kind.rawValue) (sequential, \(samples.count) windows)"))
        }
    }

    /// "<method>-2of4" with a pattern, "<method>-50" otherwise.
    static func unstructuredSuffix(_ name: String) -> @Sendable (PruneRequest) -> String {
        { r in
            if case let .nOfM(keep, group)? = r.pattern { return "\(name)-\(keep)of\(group)" }
            return "\(name)-" + PruneMethod.ratioLabel(r)
        }
    }

    /// "prunenet-20", or "prunenet-topk-20" when deterministic.
    static let policySuffix: @Sendable (PruneRequest) -> String = { r in
        "prunenet\(r.deterministic ? "-topk" : "")-" + PruneMethod.ratioLabel(r)
    }
}
