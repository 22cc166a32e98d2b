import Foundation

/// A continuous power-law fit p(x) ∝ x^(−α) of a sample's tail x ≥ xmin (Clauset, Shalizi & Newman 2009).
public struct PowerLawFit: Sendable, Equatable {
    /// The maximum-likelihood exponent α = 1 + n / Σ ln(x / xmin) over the tail.
    public let alpha: Double
    /// Where the tail starts (a sample value).
    public let xmin: Double
    /// The Kolmogorov–Smirnov distance D between the tail's ECDF and the fitted CDF.
    public let ksDistance: Double
    /// How many values lie in the tail (x ≥ xmin), ties included.
    public let tailCount: Int
    /// The standard error of α, (α − 1)/√n.
    public let sigma: Double
}

/// Fits a power law to the tail of positive data (e.g. the eigenvalues σ² of WᵀW) as
/// `powerlaw.Fit(values)` chooses xmin for WeightWatcher: every distinct value but the two largest
/// is tried as xmin, α is the continuous MLE, and the xmin with the smallest KS distance D wins
/// (the first on ties). D is powerlaw's: the largest |T − E| over the distinct tail values, with
/// T(x) = 1 − (x/xmin)^(1−α) and E(x) the fraction of the tail strictly below x.
/// Values ≤ 0 are discarded (as powerlaw does); NaN/infinity throw; at least 4 distinct positive
/// values are needed. Unlike powerlaw ≥ 2.0, which treats candidates whose α falls outside
/// (1.5, 3] specially (a bounded numerical refit, and rejection of α ≥ 3), every candidate keeps
/// its plain MLE here, as in powerlaw 1.x and WeightWatcher's own fitter; the two agree whenever
/// the chosen α lies in (1.5, 3). Cost: O(U²) for U distinct values.
public func fitPowerLaw(_ values: [Double]) throws -> PowerLawFit {
    let tail = try PowerLawTail(values)
    var best: PowerLawFit?
    for i in tail.candidates {
        // A candidate whose D already exceeds the best one cannot win: stop scanning its tail early.
        if let fit = tail.fit(at: i, abandonAbove: best?.ksDistance), fit.ksDistance < best?.ksDistance ?? .infinity {
            best = fit
        }
    }
    return best!
}

/// Fits Float data (widened to Double); see `fitPowerLaw(_:)`.
@_disfavoredOverload
public func fitPowerLaw(_ values: [Float]) throws -> PowerLawFit { try fitPowerLaw(widened(values)) }

/// The fit at every candidate xmin, ascending (for plotting D or α against xmin); `fitPowerLaw`
/// returns the one with the smallest D.
public func powerLawCandidates(_ values: [Double]) throws -> [PowerLawFit] {
    let tail = try PowerLawTail(values)
    return tail.candidates.map { tail.fit(at: $0, abandonAbove: nil)! }
}

/// The candidate fits of Float data (widened to Double).
@_disfavoredOverload
public func powerLawCandidates(_ values: [Float]) throws -> [PowerLawFit] { try powerLawCandidates(widened(values)) }

/// The sample's distinct positive values with their multiplicities, logarithms and counts below.
private struct PowerLawTail {
    let distinct: [Double]
    let logs: [Double]
    let multiplicity: [Int]
    let countBelow: [Int]
    let total: Int

    init(_ values: [Double]) throws {
        try requireFiniteSample(values, "values")
        let sorted = ascending(values.filter { $0 > 0 })
        var distinct: [Double] = [], multiplicity: [Int] = [], countBelow: [Int] = []
        var i = 0
        while i < sorted.count {
            let v = sorted[i]
            countBelow.append(i)
            while i < sorted.count && sorted[i] == v { i += 1 }
            distinct.append(v)
            multiplicity.append(i - countBelow[countBelow.count - 1])
        }
        guard distinct.count >= 4 else {
            throw NumericsError.invalidArgument(
                "a power-law fit needs at least 4 distinct positive values, got \(distinct.count)")
        }
        self.distinct = distinct
        self.logs = distinct.map { log($0) }
        self.multiplicity = multiplicity
        self.countBelow = countBelow
        self.total = sorted.count
    }

    /// Indices of the candidate xmins: all distinct values but the two largest.
    var candidates: Range<Int> { 0..<(distinct.count - 2) }

    /// The fit with xmin = distinct[i], or nil once its D exceeds `limit`.
    func fit(at i: Int, abandonAbove limit: Double?) -> PowerLawFit? {
        let u = distinct.count
        let n = total - countBelow[i]
        var logSum = Neumaier()
        for k in (i + 1)..<u { logSum.add(Double(multiplicity[k]) * (logs[k] - logs[i])) }
        let alpha = max(1 + Double(n) / logSum.value, 1)
        // E: powerlaw's ECDF (fraction strictly below) of the whole sample, renormalised to the tail.
        let dropped = Double(countBelow[i]) / Double(total)
        let kept = 1 - dropped
        let limit = limit ?? .infinity
        var d = 0.0
        for k in i..<u {
            let empirical = (Double(countBelow[k]) / Double(total) - dropped) / kept
            let theoretical = 1 - exp((1 - alpha) * (logs[k] - logs[i]))
            d = max(d, abs(theoretical - empirical))
            if d > limit { return nil }
        }
        return PowerLawFit(alpha: alpha, xmin: distinct[i], ksDistance: d, tailCount: n,
                           sigma: (alpha - 1) / Double(n).squareRoot())
    }
}
