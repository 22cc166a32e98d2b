import Numerics
import Models

/// The "heads" method's declaration (listed in `PruneMethods.all`).
extension PruneMethods {
    /// What head pruning scores heads by.
    static let headScore = MethodOption("by", .choice(HeadPruning.Score.allCases.map(\.rawValue)), default: .string("norm"),
                                        "heads: \"norm\" (‖W_O,h·W_V,g‖, no data), \"gradient\" (head-mask importance E|∂L/∂ξ_h| on calib windows; llama) or \"random\" (seeded)") { r, v in
        r.heads.score = HeadPruning.Score(rawValue: v.string) ?? .norm
    }
    /// What head pruning removes.
    static let headUnit = MethodOption("unit", .choice(HeadPruning.Unit.allCases.map(\.rawValue)), default: .string("heads"),
                                       "heads: \"heads\" (query heads, as many from every key/value group) or \"groups\" (whole key/value groups)") { r, v in
        r.heads.unit = HeadPruning.Unit(rawValue: v.string) ?? .heads
    }
    /// Calibration windows the gradient score uses when `calib` is not given.
    static let headGradientWindows = 4

    /// Attention-head pruning (issue 24): see `HeadPruning`.
    static let heads = PruneMethod(
        name: "heads", summary: "remove attention heads, keeping grouped-query attention: query heads inside their key/value groups, or whole groups",
        ratioMeaning: "the fraction of query heads removed (rounded to whole heads per group, or to whole groups with unit=\"groups\")",
        details: "unit=\"heads\" (the default) removes round(ratio·group size) query heads from every key/value group of a block, so groups stay equal and every key/value head stays (SmolLM2: ratio=1/3 keeps 2 of the 3 query heads of each of the 3 groups); unit=\"groups\" removes round(ratio·groups) whole groups with their key and value heads (a smaller KV cache; ratio=1/3 drops 1 of 3 groups). scope=\"global\" instead removes the lowest-scored units wherever they are, until round(ratio·all query heads) have gone, so blocks keep different head counts (every block keeps at least one group and one head per group). by=\"norm\" scores head h by ‖W_O,h·W_V,g·diag(γ)‖_F (what it can write into the residual stream, no data); by=\"gradient\" by the head-mask importance of Michel et al. 2019 (McCarley et al. 2019's masks): the mean over calibration windows of |∂L/∂ξ_h|, one backward pass per window (calib windows of 512 C4 tokens, 4 unless calib is given; llama only); a group's score is its heads' sum. The result saves as GGUF (per-layer head counts make it llama.cpp's deci architecture) or safetensors. On BERT, a block's heads form one group.",
        options: [headScore, headUnit, scope] + PruneMethods.calibration, suffix: { r in "heads-\(r.heads.unit == .groups ? "groups-" : "")\(r.heads.score.rawValue)-" + PruneMethod.ratioLabel(r) }
    ) { m, r, p in
        var samples = [[Int32]]()
        if r.heads.score == .gradient {
            var settings = r.calibration
            if !r.given.contains("calib") { settings.windows = headGradientWindows }
            samples = try settings.windows(for: m, seed: r.seed)
        }
        return try HeadPruning.prune(m, ratio: r.ratios[0], options: r.heads, scope: r.scope, samples: samples, seed: r.seed, progress: p)
    }
}
