import Foundation
import Numerics
import Models

/// One weight matrix's row of a model's spectral analysis (`analyzeSpectra`).
public struct MatrixSpectrum: Sendable {
    /// The block the matrix sits in.
    public let block: Int
    /// Its role (q, k, v, o, gate, up, down).
    public let role: TensorRole
    /// Its shape as stored: rows × cols.
    public let rows: Int, cols: Int
    /// WeightWatcher's metrics.
    public let metrics: SpectralMetrics
    /// With a base model: the same matrix's metrics there, when the base has it.
    public let base: SpectralMetrics?
    /// With a base model: the two-sample KS distance of this ESD from the base's.
    public let ksFromBase: Double?

    /// α − α(base).
    public var deltaAlpha: Double? { base.map { metrics.alpha - $0.alpha } }
    /// D − D(base).
    public var deltaD: Double? { base.map { metrics.fit.D - $0.fit.D } }
}

/// A model's spectral analysis: a row per analysed weight matrix, the skipped ones, and the means.
public struct ModelSpectralAnalysis: Sendable {
    /// The analysed matrices, block by block in role order.
    public let rows: [MatrixSpectrum]
    /// Matrices left out (fewer eigenvalues than min_evals), as (block, role).
    public let skipped: [(block: Int, role: TensorRole)]

    /// The mean of `value` over the rows (nil when there are none), as WeightWatcher's get_summary.
    public func mean(_ value: (MatrixSpectrum) -> Double?) -> Double? {
        let v = rows.compactMap(value)
        return v.isEmpty ? nil : v.reduce(0, +) / Double(v.count)
    }
}

/// The roles `analyzeSpectra` walks by default: the seven linear projections of every block.
public let spectralRoles: [TensorRole] = PrunableLinears.roles

/// WeightWatcher's analysis of every weight matrix of `model` with a role in `roles` (every block's
/// q, k, v, o, gate, up, down by default): one `analyzeSpectrum` per matrix, reporting progress per
/// matrix and checking `progress` for a stop inside each. With `base` (the dense original of a pruned
/// model), each matrix is matched by block and role and its base's metrics and the KS distance of the
/// two ESDs are added; pruned shapes may differ, and a matrix equal to its base's reuses its own
/// metrics (Δα = ΔD = KS = 0 exactly, one eigensolve instead of two). Matrices with fewer eigenvalues than
/// `options.minEvals` are skipped (listed in `skipped`). Each matrix's shuffle seed is derived from
/// options.seed, its block and its role, so a row does not depend on which other roles were asked for.
/// `options.spectrum` chooses exact or sketched eigenvalues per matrix (`auto`: sketched from
/// `SpectrumMode.sketchDimension` on, as every matrix of a 7B-shaped model; `MatrixSpectrum`'s
/// metrics say which). One matrix is read (dequantised) at a time, so memory stays at one matrix
/// in Float32 plus its spectrum's work (the exact path's Float64 Gram, or the sketch's basis).
public func analyzeSpectra(_ model: Model, base: Model? = nil, roles: [TensorRole] = spectralRoles,
                           options: SpectralOptions = SpectralOptions(),
                           progress: ProgressReporter = .none) throws -> ModelSpectralAnalysis {
    var places: [(Int, TensorRole)] = []
    for b in 0..<model.blockCount {
        for r in roles where model.has(r, block: b) { places.append((b, r)) }
    }
    var rows: [MatrixSpectrum] = [], skipped: [(block: Int, role: TensorRole)] = []
    let stage = base == nil ? "analyze" : "analyze (with base)"
    try progress.report(stage, done: 0, total: places.count)
    for (i, (b, role)) in places.enumerated() {
        try progress.check()
        let w = try model.matrix(role, block: b)
        var opts = options
        opts.seed = options.seed &+ UInt64(1000 * (b * TensorRole.allCases.count + (TensorRole.allCases.firstIndex(of: role) ?? 0)))
        guard let metrics = try analyzeSpectrum(w, options: opts, check: progress.check) else {
            skipped.append((b, role))
            try progress.report(stage, done: i + 1, total: places.count, detail: "block \(b) \(role.rawValue) skipped")
            continue
        }
        var baseMetrics: SpectralMetrics?, ks: Double?
        if let base, base.has(role, block: b) {
            let bw = try base.matrix(role, block: b)
            if bw == w {
                // An untouched matrix: its ESD is the model's own, so Δα, ΔD and KS are exactly 0
                // (a second eigensolve could differ in the last bits with BLAS threading).
                (baseMetrics, ks) = (metrics, 0)
            } else {
                var baseOpts = opts
                baseOpts.randomize = false
                baseOpts.minEvals = 1
                baseMetrics = try analyzeSpectrum(bw, options: baseOpts, check: progress.check)
                if let bm = baseMetrics { ks = try ksStatistic(metrics.eigenvalues, bm.eigenvalues) }
            }
        }
        rows.append(MatrixSpectrum(block: b, role: role, rows: w.rows, cols: w.cols, metrics: metrics, base: baseMetrics, ksFromBase: ks))
        try progress.report(stage, done: i + 1, total: places.count,
                            detail: String(format: "block %d %@ alpha %.2f", b, role.rawValue, metrics.alpha) + (metrics.sketched ? " (sketched)" : ""))
    }
    return ModelSpectralAnalysis(rows: rows, skipped: skipped)
}
