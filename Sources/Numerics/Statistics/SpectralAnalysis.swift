import Foundation

/// How `analyzeSpectrum` guards the power-law fit against "fingers": a few very large eigenvalues
/// that pull the fitted tail towards a spuriously large α (WeightWatcher's `fix_fingers`).
public enum FingerFix: String, Sendable, CaseIterable {
    /// Restrict xmin to the neighbourhood of the ESD's peak on a log scale: within [0.95, 1.5] × the
    /// left edge of the fullest of 100 histogram bins of log10 λ.
    case xminPeak = "xmin_peak"
    /// Refit with the largest 2, 3, …, 9 eigenvalues clipped off, and keep the first refit whose α
    /// is more than 1 below the unclipped one (stopping early once α ≤ 2).
    case clipXmax = "clip_xmax"
}

/// The settings of a WeightWatcher-style spectral analysis of one weight matrix.
public struct SpectralOptions: Sendable, Equatable {
    /// Matrices whose smaller dimension (the number of eigenvalues) is below this are skipped.
    public var minEvals: Int
    /// How to guard the fit against fingers; nil fits plainly (WeightWatcher's default).
    public var fixFingers: FingerFix?
    /// Also compare with the spectrum of the element-wise shuffled matrix (rand_distance, traps).
    public var randomize: Bool
    /// The seed of the shuffle.
    public var seed: UInt64
    /// Eigenvalues at or below this are left out of the power-law fit (WeightWatcher's 1e-5).
    public var evalsThreshold: Double
    /// Exact eigenvalues, the stochastic block Lanczos sketch (`sketchGramSpectrum`), or by size
    /// (`auto`: exact below `SpectrumMode.sketchDimension`, so SmolLM2 and MiniLM stay exact).
    public var spectrum: SpectrumMode = .auto

    /// Options with WeightWatcher's defaults (but min_evals 50, as its documentation gives).
    public init(minEvals: Int = 50, fixFingers: FingerFix? = nil, randomize: Bool = false, seed: UInt64 = 0,
                evalsThreshold: Double = 1e-5) {
        self.minEvals = minEvals
        self.fixFingers = fixFingers
        self.randomize = randomize
        self.seed = seed
        self.evalsThreshold = evalsThreshold
    }
}

/// A power-law fit of an ESD's tail as WeightWatcher's own fitter (`WWFit`, its default) makes it.
public struct ESDPowerLawFit: Sendable, Equatable {
    /// The exponent α = 1 + n / Σ ln(λ/xmin) over the n tail values λ ≥ xmin.
    public let alpha: Double
    /// Where the tail starts (an eigenvalue).
    public let xmin: Double
    /// The largest eigenvalue fitted.
    public let xmax: Double
    /// The Kolmogorov–Smirnov distance of the tail from the fitted law.
    public let D: Double
    /// The standard error of α, (α − 1)/√n.
    public let sigma: Double
    /// The number of eigenvalues in the tail (WeightWatcher's num_pl_spikes, counted over all of them).
    public let tailCount: Int
    /// The eigenvalues clipped off by `clip_xmax` (0 otherwise).
    public let fingers: Int
    /// The α before clipping (equals `alpha` unless `clip_xmax` clipped).
    public let rawAlpha: Double
}

/// Fits a power law to the tail of `evals` as WeightWatcher 0.7's default fitter does: the values
/// above `threshold` are sorted, every one but the largest is tried as xmin, α is the continuous
/// maximum-likelihood estimate over the values ≥ xmin (xmin itself included), D is the largest gap
/// |1 − (λ/xmin)^(1−α) − k/n| over the k-th of the n tail values, a candidate with α ≤ 1 gets D = 1,
/// and the smallest D wins (the first on ties). `xminRange` restricts the candidates (`xmin_peak`);
/// `fixFingers` applies WeightWatcher's finger fixes. Needs at least 3 values above the threshold.
/// Cost: O(n²) for n eigenvalues.
///
/// This differs from `fitPowerLaw` (the `powerlaw` package's search): that one tries distinct values
/// only, never the second largest as xmin, and clamps α at 1 instead of rejecting the candidate.
public func fitESDPowerLaw(_ evals: [Double], fixFingers: FingerFix? = nil, threshold: Double = 1e-5) throws -> ESDPowerLawFit {
    try requireFiniteSample(evals, "eigenvalues")
    let data = ascending(evals.filter { $0 > threshold })
    guard data.count >= 3 else {
        throw NumericsError.invalidArgument("a power-law fit of an ESD needs at least 3 eigenvalues above \(threshold), got \(data.count)")
    }
    func counted(_ f: (alpha: Double, xmin: Double, xmax: Double, D: Double, sigma: Double), fingers: Int, raw: Double) -> ESDPowerLawFit {
        ESDPowerLawFit(alpha: f.alpha, xmin: f.xmin, xmax: f.xmax, D: f.D, sigma: f.sigma,
                       tailCount: evals.reduce(0) { $0 + ($1 >= f.xmin ? 1 : 0) }, fingers: fingers, rawAlpha: raw)
    }
    switch fixFingers {
    case nil:
        let f = wwFit(data[...], xminRange: nil)
        return counted(f, fingers: 0, raw: f.alpha)
    case .xminPeak?:
        let peak = log10HistogramPeak(data)
        let f = wwFit(data[...], xminRange: (0.95 * peak)...(1.5 * peak))
        return counted(f, fingers: 0, raw: f.alpha)
    case .clipXmax?:
        // WeightWatcher's fit_clipped_powerlaw: refits on evals[:-idx] for idx = 2..9.
        let first = wwFit(data[...], xminRange: nil)
        var best = first, fingers = 0
        for idx in 2..<10 where data.count - idx >= 3 {
            let f = wwFit(data[..<(data.count - idx)], xminRange: nil)
            if f.alpha + 1.0 < first.alpha {
                best = f
                fingers = idx - 1
                break
            }
            if f.alpha <= 2.0 { break }
        }
        return counted(best, fingers: fingers, raw: first.alpha)
    }
}

/// WWFit on sorted data: the best (smallest-D) candidate among the xmins in `xminRange` (all but the
/// last value when nil). A range that holds no value falls back to the value nearest its lower end.
private func wwFit(_ data: ArraySlice<Double>, xminRange: ClosedRange<Double>?) -> (alpha: Double, xmin: Double, xmax: Double, D: Double, sigma: Double) {
    let values = Array(data)
    let n = values.count
    let logs = values.map { log($0) }
    // Suffix sums of the logarithms, so each candidate's α costs O(1).
    var suffix = [Double](repeating: 0, count: n + 1)
    for i in stride(from: n - 1, through: 0, by: -1) { suffix[i] = suffix[i + 1] + logs[i] }
    var candidates = Array(0..<(n - 1))
    if let r = xminRange {
        let inside = candidates.filter { r.contains(values[$0]) }
        if inside.isEmpty {
            let nearest = candidates.min { abs(values[$0] - r.lowerBound) < abs(values[$1] - r.lowerBound) } ?? 0
            candidates = [nearest]
        } else {
            candidates = inside
        }
    }
    var bestI = candidates[0], bestD = Double.infinity, bestAlpha = 0.0
    for i in candidates {
        let tail = Double(n - i)
        let alpha = 1 + tail / (suffix[i] - tail * logs[i])
        var d = 1.0
        if alpha > 1 {
            d = 0
            let e = 1 - alpha
            for k in i..<n {
                let theoretical = 1 - exp(e * (logs[k] - logs[i]))
                d = max(d, abs(theoretical - Double(k - i) / tail))
            }
        }
        if d < bestD { bestD = d; bestI = i; bestAlpha = alpha }   // the first of equal Ds wins, as argmin
    }
    let tail = Double(n - bestI)
    return (bestAlpha, values[bestI], values[n - 1], bestD, (bestAlpha - 1) / tail.squareRoot())
}

/// 10^(left edge of the fullest of 100 equal bins of log10 of sorted positive data), as numpy's
/// histogram bins it (the last bin closed).
func log10HistogramPeak(_ data: [Double]) -> Double {
    let logs = data.map { log10($0) }
    let lo = logs.first!, hi = logs.last!
    guard hi > lo else { return data[0] }
    var counts = [Int](repeating: 0, count: 100)
    let width = (hi - lo) / 100
    for v in logs {
        var b = Int((v - lo) / width)
        if b >= 100 { b = 99 }
        counts[b] += 1
    }
    let fullest = counts.indices.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) }!
    return pow(10, lo + Double(fullest) * width)
}

/// The empirical spectral density's eigenvalues of a weight matrix as WeightWatcher takes them:
/// λᵢ = σᵢ² for the min(rows, cols) singular values (no 1/N normalisation; WeightWatcher's
/// `normalize` is off), ascending. Computed from the Float64 Gram matrix of the smaller side.
public func esdEigenvalues(_ w: Matrix) throws -> [Double] {
    try w.requireFinite("esd input")
    let side: GramSide = w.cols <= w.rows ? .columns : .rows
    let k = w.minDimension
    if k == 0 { return [] }
    var g = gramFloat64(w, side: side)
    let eig = try symmetricEigenvaluesFloat64(&g, n: k)
    return ascending(eig.map { Swift.max($0, 0) })
}

/// `w` with its elements shuffled uniformly (Fisher–Yates) by `seed`: same values, same shape, no
/// correlations (WeightWatcher's randomized matrix).
public func shuffledElements(_ w: Matrix, seed: UInt64) -> Matrix {
    var g = SeededRandom(seed: seed)
    var data = w.data
    if data.count > 1 {
        for i in stride(from: data.count - 1, to: 0, by: -1) {
            let j = Int(g.next() % UInt64(i + 1))
            data.swapAt(i, j)
        }
    }
    return try! Matrix(rows: w.rows, cols: w.cols, data: data)
}

/// The Jensen–Shannon distance WeightWatcher reports as rand_distance: the two sorted eigenvalue
/// arrays are treated as (unnormalised) distributions over their index, m = (p + q)/2, and the
/// distance is √((KL(p‖m) + KL(q‖m))/2) in nats, each array normalised to sum 1 first.
public func jensenShannonDistance(_ p: [Double], _ q: [Double]) throws -> Double {
    guard p.count == q.count, !p.isEmpty else {
        throw NumericsError.invalidArgument("jensen-shannon distance needs two arrays of one length, got \(p.count) and \(q.count)")
    }
    let m = zip(p, q).map { ($0 + $1) / 2 }
    func kl(_ a: [Double], _ b: [Double]) -> Double {
        let sa = a.reduce(0, +), sb = b.reduce(0, +)
        var s = 0.0
        for (x, y) in zip(a, b) where x > 0 {
            let px = x / sa, py = y / sb
            s += px * log(px / py)
        }
        return s
    }
    return ((kl(p, m) + kl(q, m)) / 2).squareRoot()
}

/// One weight matrix's spectral metrics, WeightWatcher's columns.
public struct SpectralMetrics: Sendable, Equatable {
    /// The larger and smaller dimension (WeightWatcher's N and M); M eigenvalues.
    public let n: Int, m: Int
    /// The power-law fit of the tail (alpha, xmin, D, …).
    public let fit: ESDPowerLawFit
    /// The largest eigenvalue σ_max².
    public let lambdaMax: Double
    /// log10 Σλ = log10 ‖W‖_F².
    public let logNorm: Double
    /// log10 λ_max = log10 ‖W‖₂².
    public let logSpectralNorm: Double
    /// α · log10 λ_max (WeightWatcher's α̂).
    public let alphaWeighted: Double
    /// log10 Σ λ^α.
    public let logAlphaNorm: Double
    /// Σλ / λ_max.
    public let stableRank: Double
    /// The Marchenko–Pastur fit of the bulk.
    public let mp: MarchenkoPasturFit
    /// With randomize: the Jensen–Shannon distance of the ESD from the shuffled matrix's.
    public let randDistance: Double?
    /// With randomize: the shuffled matrix's eigenvalues above its own MP bulk edge (correlation traps).
    public let traps: Int?
    /// With randomize: λ_max of the shuffled matrix over λ_max (WeightWatcher's ww_softrank).
    public let randSoftRank: Double?
    /// With randomize: the shuffled matrix's eigenvalues, ascending (for figures).
    public let randomEigenvalues: [Double]?
    /// The eigenvalues, ascending.
    public let eigenvalues: [Double]
    /// Whether the eigenvalues were sketched (`SpectrumMode`) rather than computed exactly.
    public var sketched = false

    /// α.
    public var alpha: Double { fit.alpha }
    /// WeightWatcher's warning: "over-trained" below α 2, "under-trained" above 6, else "".
    public var warning: String { alpha < 2 ? "over-trained" : (alpha > 6 ? "under-trained" : "") }
}

/// The spectral analysis of one weight matrix, as WeightWatcher's analyze(mp_fit=True) computes
/// each row: the ESD λ = σ² (`esdEigenvalues`), its power-law tail (`fitESDPowerLaw`), the norm
/// metrics, the Marchenko–Pastur fit and, with `randomize`, the comparison with the element-wise
/// shuffled matrix (5 shuffles pooled for the trap count when there are fewer than 100 eigenvalues,
/// as WeightWatcher does). Returns nil when the matrix has fewer than `minEvals` eigenvalues.
public func analyzeSpectrum(_ w: Matrix, options: SpectralOptions = SpectralOptions(), check: () throws -> Void = {}) throws -> SpectralMetrics? {
    let m = w.minDimension, n = Swift.max(w.rows, w.cols)
    guard m >= Swift.max(options.minEvals, 1) else { return nil }
    let sketchOptions = SpectrumSketchOptions(seed: options.seed)
    let (evals, sketched) = try esdEigenvalues(w, mode: options.spectrum, sketch: sketchOptions, check: check)
    try check()
    let fit = try fitESDPowerLaw(evals, fixFingers: options.fixFingers, threshold: options.evalsThreshold)
    let total = evals.reduce(0, +), lambdaMax = evals.last!
    let mp = fitMarchenkoPastur(evals, n: n, m: m)
    var randDistance: Double?, traps: Int?, randSoft: Double?, randEvals: [Double]?
    if options.randomize {
        try check()
        let replicas = m < 100 ? 5 : 1
        var pooled: [Double] = []
        var first: [Double] = []
        for r in 0..<replicas {
            let e = try esdEigenvalues(shuffledElements(w, seed: options.seed &+ UInt64(r)), mode: options.spectrum, sketch: sketchOptions, check: check).values
            if r == 0 { first = e }
            pooled += e
            try check()
        }
        pooled = ascending(pooled)
        randDistance = try jensenShannonDistance(evals, first)
        traps = fitMarchenkoPastur(pooled, n: n, m: m).spikes
        randSoft = pooled.last! / lambdaMax
        randEvals = first
    }
    let alpha = fit.alpha
    var metrics = SpectralMetrics(
        n: n, m: m, fit: fit, lambdaMax: lambdaMax, logNorm: log10(total), logSpectralNorm: log10(lambdaMax),
        alphaWeighted: alpha * log10(lambdaMax), logAlphaNorm: log10(evals.reduce(0) { $0 + pow($1, alpha) }),
        stableRank: total / lambdaMax, mp: mp, randDistance: randDistance, traps: traps, randSoftRank: randSoft,
        randomEigenvalues: randEvals, eigenvalues: evals)
    metrics.sketched = sketched
    return metrics
}
