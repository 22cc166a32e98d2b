import Foundation
import Numerics
import Models

/// How a PruneNet policy is trained. Defaults are the paper's §5.1: KS penalty, γ = 0.99,
/// AdamW at lr 5e-4, 20 episodes.
public struct PolicyTrainingOptions: Sendable, Equatable, Codable {
    /// Which algorithm: the paper's (§4.3, Algorithm 1) or the authors' public code.
    public enum Variant: String, Sendable, CaseIterable, Codable {
        /// Discounted future penalty G_l (eq. 7), a per-layer baseline, one AdamW step per
        /// episode on Σ_l (G_l − b_l)·∇log P(S_l), the best policy kept.
        case paper
        /// As the authors' code does: reward 1/D_l of the layer alone (no return-to-go, no
        /// baseline), an AdamW step after every layer, the last policy kept.
        case authors
    }

    /// Fraction of FFN rows removed per layer while training, in [0, 1).
    public var ratio: Double = 0.3
    /// Training episodes (one pass over all layers each).
    public var episodes: Int = 20
    /// The penalty: KS (paper) or Anderson–Darling (Table 18).
    public var distance: SpectralDistance = .ks
    /// Discount γ of eq. 7.
    public var gamma: Double = 0.99
    /// AdamW learning rate.
    public var learningRate: Double = 5e-4
    /// Seed of the learner's initialisation and of every draw.
    public var seed: UInt64 = 0
    /// The paper's algorithm or the authors' code.
    public var variant: Variant = .paper
    /// Whether the pruned spectra take their eigenvalues in Float32 (twice as fast; the Gram
    /// matrix is Float64 either way). See `LayerSpectrum.singularValues(keeping:fast:)`.
    public var fastEigenvalues = true
    /// Temperature τ of the relaxed-Bernoulli noise: noisy scores σ((z + logit ε)/τ). The paper's
    /// eq. 4 is τ = 1; a smaller τ lets the learner's logits outweigh the logistic noise.
    public var temperature: Double = 1
    /// Whether each episode's advantages G_l − b_l are divided by their standard deviation over
    /// the layers (a common REINFORCE normalisation; not in the paper, off by default).
    public var normalizeReturns = false
    /// Multiplier on the learner's initial parameters (1: PyTorch's default `nn.Linear` init).
    public var initScale: Double = 1
    /// How each layer's spectrum is computed: `exact` (the Gram matrix and all its eigenvalues,
    /// `LayerSpectrum`), `sketch` (stochastic block Lanczos, `sketchGramSpectrum`, with the state
    /// matrices read per layer in Float32 rather than held in Float64), or `auto` (exact below
    /// `SpectrumMode.sketchDimension` columns: SmolLM2 and MiniLM train exactly as before).
    public var spectrum: SpectrumMode = .auto
    /// The sketch's probes and steps when the spectrum is sketched (its seed is derived from the
    /// training seed and the layer, so the original and pruned spectra share their probes).
    public var sketch = SpectrumSketchOptions(probes: 4, steps: 48)
    /// Weight λ ≥ 0 of the contribution penalty: each layer's draw is penalised
    /// D_l + λ·(the share of the layer's total `ContributionScores` score that the removed neurons
    /// carry, in [0, 1]), so the learner is pushed to keep the neurons that write most into the
    /// residual stream. 0 (the default) is the spectral penalty alone, as before; λ > 0 needs a
    /// llama model (SwiGLU FFN).
    public var contribution: Double = 0
    /// The FFN input the contribution scores assume (read only when `contribution` > 0): one pass
    /// over the data-free prompt (default, as "contribution-rows"; its weight-only form is
    /// catastrophic on SmolLM2, docs/RESULTS.md) or the weights alone.
    public var contributionProxy: ContributionScores.Proxy = .prompt

    /// The paper's defaults.
    public init() {}

    private enum CodingKeys: String, CodingKey {
        case ratio, episodes, distance, gamma, learningRate, seed, variant, fastEigenvalues, temperature, normalizeReturns, initScale
        case spectrum, sketch
        case contribution, contributionProxy
    }

    /// Decodes options; keys added later (temperature, normalizeReturns, initScale, spectrum,
    /// sketch, contribution, contributionProxy) take their defaults when absent, so policies saved
    /// before them still load.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ratio = try c.decode(Double.self, forKey: .ratio)
        episodes = try c.decode(Int.self, forKey: .episodes)
        distance = try c.decode(SpectralDistance.self, forKey: .distance)
        gamma = try c.decode(Double.self, forKey: .gamma)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        seed = try c.decode(UInt64.self, forKey: .seed)
        variant = try c.decode(Variant.self, forKey: .variant)
        fastEigenvalues = try c.decodeIfPresent(Bool.self, forKey: .fastEigenvalues) ?? true
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature) ?? 1
        normalizeReturns = try c.decodeIfPresent(Bool.self, forKey: .normalizeReturns) ?? false
        initScale = try c.decodeIfPresent(Double.self, forKey: .initScale) ?? 1
        spectrum = try c.decodeIfPresent(SpectrumMode.self, forKey: .spectrum) ?? .auto
        sketch = try c.decodeIfPresent(SpectrumSketchOptions.self, forKey: .sketch) ?? SpectrumSketchOptions(probes: 4, steps: 48)
        contribution = try c.decodeIfPresent(Double.self, forKey: .contribution) ?? 0
        contributionProxy = try c.decodeIfPresent(ContributionScores.Proxy.self, forKey: .contributionProxy) ?? .prompt
    }

    /// Throws a `PruningError` naming the first option out of range (the ranges `declarations` check).
    public func validate() throws {
        func check(_ name: String, _ x: Double, _ expected: String, _ valid: (Double) -> Bool) throws {
            guard x.isFinite, valid(x) else { throw PruningError(option: name, "\(name) must be \(expected), got \(PruningError.format(x))") }
        }
        try check("ratio", ratio, "in [0, 1)", Self.isFraction)
        try check("episodes", Double(episodes), "at least 1", { $0 >= 1 })
        try check("gamma", gamma, "in [0, 1]", Self.isDiscount)
        try check("lr", learningRate, "positive", Self.isPositive)
        try check("temperature", temperature, "positive", Self.isPositive)
        try check("init_scale", initScale, "positive", Self.isPositive)
        try check("contribution", contribution, "at least 0", Self.isNonNegative)
    }

    /// A training ratio: in [0, 1).
    static let isFraction: @Sendable (Double) -> Bool = { $0 >= 0 && $0 < 1 }
    /// A discount γ: in [0, 1].
    static let isDiscount: @Sendable (Double) -> Bool = { $0 >= 0 && $0 <= 1 }
    /// A rate, temperature or scale: positive.
    static let isPositive: @Sendable (Double) -> Bool = { $0 > 0 }
    /// A penalty weight: at least 0.
    static let isNonNegative: @Sendable (Double) -> Bool = { $0 >= 0 }

    /// The training options as named options (episodes, reward, gamma, lr, variant, temperature,
    /// normalize, init_scale, spectrum, contribution, contribution_proxy), each storing into a
    /// request's `policy`: the one parser of these names, for `train_policy` and for the "prunenet"
    /// method alike.
    public static let declarations: [MethodOption] = [
        MethodOption("episodes", .integer(1...100_000), default: .number(20), "training episodes") { r, v in r.policy.episodes = Int(v.number) },
        MethodOption("reward", .choice(SpectralDistance.allCases.map(\.rawValue)), default: .string("ks"),
                     "the spectral distance penalised: \"ks\" (Kolmogorov–Smirnov) or \"ad\" (Anderson–Darling)") { r, v in
            r.policy.distance = SpectralDistance(rawValue: v.string) ?? .ks
        },
        MethodOption("gamma", .number(expected: "in [0, 1]", valid: isDiscount), default: .number(0.99),
                     "discount of the future penalty (eq. 7)") { r, v in r.policy.gamma = v.number },
        MethodOption("lr", .number(expected: "positive", valid: isPositive), default: .number(5e-4), "AdamW learning rate") { r, v in
            r.policy.learningRate = v.number
        },
        MethodOption("variant", .choice(Variant.allCases.map(\.rawValue)), default: .string("paper"),
                     "\"paper\" or \"authors\" (the authors' code)") { r, v in r.policy.variant = Variant(rawValue: v.string) ?? .paper },
        MethodOption("temperature", .number(expected: "positive", valid: isPositive), default: .number(1),
                     "relaxed-Bernoulli temperature τ: scores σ((z + logit ε)/τ) (1 is eq. 4)") { r, v in r.policy.temperature = v.number },
        MethodOption("normalize", .bool, default: .bool(false),
                     "divide each episode's advantages by their standard deviation over layers (not in the paper)") { r, v in
            r.policy.normalizeReturns = v.bool
        },
        MethodOption("init_scale", .number(expected: "positive", valid: isPositive), default: .number(1),
                     "multiplier on the learner's default initialisation") { r, v in r.policy.initScale = v.number },
        MethodOption("spectrum", .choice(SpectrumMode.allCases.map(\.rawValue)), default: .string("auto"),
                     "how each layer's singular values are computed: \"exact\" (Gram matrix, all eigenvalues), \"sketch\" (stochastic block Lanczos: the top ones exact, the rest estimated; 4 probes × 48 steps, half of analyze's; state matrices read per layer in Float32), \"auto\" (exact below \(SpectrumMode.sketchDimension) columns, sketch from there)") { r, v in
            r.policy.spectrum = SpectrumMode(rawValue: v.string) ?? .auto
        },
        MethodOption("contribution", .number(expected: "at least 0", valid: isNonNegative), default: .number(0),
                     "weight λ of a contribution penalty (llama only): each layer's draw costs D_l + λ·(the share of the layer's total contribution score, as contribution-rows scores neurons, that the removed neurons carry); 0 is the spectral penalty alone") { r, v in
            r.policy.contribution = v.number
        },
        MethodOption("contribution_proxy", .choice(ContributionScores.Proxy.allCases.map(\.rawValue)), default: .string("prompt"),
                     "the FFN input the contribution scores assume: \"prompt\" (one pass over a fixed data-free prompt, as contribution-rows) or \"weights\" (Gaussian input scaled by the FFN norm; no forward pass)") { r, v in
            r.policy.contributionProxy = ContributionScores.Proxy(rawValue: v.string) ?? .prompt
        },
    ]
}
