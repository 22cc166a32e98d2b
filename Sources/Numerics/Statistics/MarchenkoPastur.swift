import Foundation

/// A Marchenko–Pastur fit of an ESD's bulk, as WeightWatcher's `mp_fit` makes it.
public struct MarchenkoPasturFit: Sendable, Equatable {
    /// The fitted σ of the MP law, in the units of the rescaled ESD (mean eigenvalue 1).
    public let sigma: Double
    /// The bulk's edges λ₋ = (σ(1 − 1/√Q))² and λ₊ = (σ(1 + 1/√Q))², back in the ESD's own units.
    public let bulkMin: Double, bulkMax: Double
    /// Eigenvalues above λ₊ plus the Tracy–Widom margin (WeightWatcher's num_spikes).
    public let spikes: Int
    /// λ₊ / λ_max, both rescaled (WeightWatcher's mp_softrank).
    public let softRank: Double
    /// The rescaling: the ESD is multiplied by scale² so that its mean is 1.
    public let scale: Double
    /// The aspect ratio Q = N/M.
    public let q: Double
}

/// The MP density of aspect ratio q and scale sigma at x (0 outside the bulk).
public func marchenkoPasturDensity(_ x: Double, q: Double, sigma: Double) -> Double {
    let b = pow(sigma * (1 + (1 / q).squareRoot()), 2), a = pow(sigma * (1 - (1 / q).squareRoot()), 2)
    let r = (b - x) * (x - a)
    guard r >= 0, x != 0 else { return 0 }
    return r.squareRoot() / (2 * Double.pi * sigma * sigma * x / q)
}

/// Fits the Marchenko–Pastur law to an ESD as WeightWatcher 0.7 does (`mp_fit` with rescale): the
/// eigenvalues are scaled to mean 1; their density is estimated on 1000 points of [0, λ_max + 0.5] with
/// a linear kernel of bandwidth 0.1; points of density ≤ 0.01 are dropped; σ minimises the squared
/// gap between that density and the MP density (a residual of 1000 per point when the bulk's upper
/// edge lies left of the density's peak or beyond the grid, or its lower edge right of the peak),
/// first over the grid 0.05 s, 0.06 s, … < 2 s with s = √(λ_max)/(1 + 1/√Q), then polished by
/// Nelder–Mead from the best grid point (scipy's brute with fmin). For Q = 1 the square roots are
/// fitted to the quarter-circle law instead. `n`, `m`: the matrix's larger and smaller dimension.
public func fitMarchenkoPastur(_ evals: [Double], n: Int, m: Int) -> MarchenkoPasturFit {
    let q = Double(n) / Double(m)
    let total = evals.reduce(0, +)
    let scale = total > 0 ? (Double(evals.count) / total).squareRoot() : 1
    let scaled = evals.map { $0 * scale * scale }
    let lambdaMax = scaled.max() ?? 0
    let quarterCircle = q == 1
    let toFit = quarterCircle ? scaled.map { $0.squareRoot() } : scaled
    let (xs, ys) = linearKernelDensity(toFit, bandwidth: 0.1, points: 1000)
    var gx: [Double] = [], gy: [Double] = []
    for (x, y) in zip(xs, ys) where y > 0.01 { gx.append(x); gy.append(y) }
    let peakX = gx.isEmpty ? 0 : gx[gy.indices.max { gy[$0] < gy[$1] || (gy[$0] == gy[$1] && $0 > $1) }!]
    let gridMax = gx.max() ?? 0
    func residual(_ sigma: Double) -> Double {
        if quarterCircle {
            var s = 0.0
            for (x, y) in zip(gx, gy) {
                let r = 4 - x * x
                let v = r > 0 ? r.squareRoot() / (Double.pi * sigma * sigma) : 0
                s += (v - y) * (v - y)
            }
            return s
        }
        let b = pow(sigma * (1 + (1 / q).squareRoot()), 2), a = pow(sigma * (1 - (1 / q).squareRoot()), 2)
        if b < peakX || b > gridMax || a > peakX { return Double(gx.count) * 1e6 }
        var s = 0.0
        for (x, y) in zip(gx, gy) {
            let v = marchenkoPasturDensity(x, q: q, sigma: sigma)
            s += (v - y) * (v - y)
        }
        return s
    }
    let s0 = (lambdaMax / pow(1 + 1 / q.squareRoot(), 2)).squareRoot()
    let lo = 0.05 * s0, hi = 2.0 * s0, step = 0.01 * s0
    let count = step > 0 ? Int(((hi - lo) / step).rounded(.up)) : 0
    var bestX = lo, bestF = Double.infinity
    for i in 0..<Swift.max(count, 1) {
        let x = lo + Double(i) * step
        let f = residual(x)
        if f < bestF { bestF = f; bestX = x }
    }
    let sigma = nelderMead1D(residual, start: bestX)
    let bulkMax = pow(sigma * (1 + 1 / q.squareRoot()), 2), bulkMin = pow(sigma * (1 - 1 / q.squareRoot()), 2)
    let tw = 1 / q.squareRoot() * pow(bulkMax, 2.0 / 3) * pow(Double(m), -2.0 / 3)
    let edge = bulkMax + tw.squareRoot()
    let spikes = scaled.reduce(0) { $0 + ($1 > edge ? 1 : 0) }
    return MarchenkoPasturFit(sigma: sigma, bulkMin: bulkMin / (scale * scale), bulkMax: bulkMax / (scale * scale),
                              spikes: spikes, softRank: lambdaMax > 0 ? bulkMax / lambdaMax : 0, scale: scale, q: q)
}

/// The density of `values` by a linear (triangular) kernel of `bandwidth`, normalised to integrate
/// to 1, at `points` equally spaced x from 0 to max + 0.5 (scikit-learn's KernelDensity).
func linearKernelDensity(_ values: [Double], bandwidth h: Double, points: Int) -> (x: [Double], y: [Double]) {
    let sorted = ascending(values)
    let top = (sorted.last ?? 0) + 0.5
    let xs = (0..<points).map { points == 1 ? 0 : top * Double($0) / Double(points - 1) }
    let norm = 1 / (Double(sorted.count) * h)
    var ys = [Double](repeating: 0, count: points)
    var start = 0
    for (k, x) in xs.enumerated() {
        while start < sorted.count && sorted[start] <= x - h { start += 1 }
        var s = 0.0
        var j = start
        while j < sorted.count && sorted[j] < x + h {
            s += 1 - abs(x - sorted[j]) / h
            j += 1
        }
        ys[k] = s * norm
    }
    return (xs, ys)
}

/// scipy's `fmin` (Nelder–Mead, reflection 1, expansion 2, contraction ½, shrink ½) in one
/// dimension from `start` (second vertex start × 1.05, or 0.00025 when start is 0), stopping when
/// both the simplex and its values are within 1e-4, or after 200 iterations or evaluations.
func nelderMead1D(_ f: (Double) -> Double, start: Double) -> Double {
    var sim = [start, start != 0 ? start * 1.05 : 0.00025]
    var calls = 0
    func eval(_ x: Double) -> Double { calls += 1; return f(x) }
    var fsim = [eval(sim[0]), eval(sim[1])]
    func order() { if fsim[1] < fsim[0] { sim.swapAt(0, 1); fsim.swapAt(0, 1) } }
    order()
    var iterations = 1
    while calls < 200 && iterations < 200 {
        if abs(sim[1] - sim[0]) <= 1e-4 && abs(fsim[0] - fsim[1]) <= 1e-4 { break }
        let xbar = sim[0]
        let xr = 2 * xbar - sim[1]
        let fxr = eval(xr)
        if fxr < fsim[0] {
            let xe = 3 * xbar - 2 * sim[1]
            let fxe = eval(xe)
            if fxe < fxr { sim[1] = xe; fsim[1] = fxe } else { sim[1] = xr; fsim[1] = fxr }
        } else if fxr < fsim[1] {
            let xc = 1.5 * xbar - 0.5 * sim[1]
            let fxc = eval(xc)
            if fxc <= fxr { sim[1] = xc; fsim[1] = fxc } else { sim[1] = sim[0] + 0.5 * (sim[1] - sim[0]); fsim[1] = eval(sim[1]) }
        } else {
            let xcc = 0.5 * xbar + 0.5 * sim[1]
            let fxcc = eval(xcc)
            if fxcc < fsim[1] { sim[1] = xcc; fsim[1] = fxcc } else { sim[1] = sim[0] + 0.5 * (sim[1] - sim[0]); fsim[1] = eval(sim[1]) }
        }
        order()
        iterations += 1
    }
    return sim[0]
}
