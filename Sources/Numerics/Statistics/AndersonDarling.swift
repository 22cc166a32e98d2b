import Foundation

/// The outcome of a k-sample Anderson–Darling test.
public struct ADResult: Sendable, Equatable {
    /// The standardized statistic (A²ₐₖₙ − (k − 1)) / σ, as scipy's `statistic`.
    public let statistic: Double
    /// Critical values of `statistic` at the levels in `ADResult.significanceLevels`.
    public let criticalValues: [Double]
    /// The approximate p-value interpolated from the critical values, capped to [0.001, 0.25]:
    /// exactly 0.25 means "0.25 or more" and exactly 0.001 means "0.001 or less".
    public let significanceLevel: Double
    /// Whether `significanceLevel` sits at one of its caps rather than being interpolated.
    public let isCapped: Bool

    /// The significance levels the critical values belong to (Scholz & Stephens, Table 2).
    public static let significanceLevels: [Double] = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001]
}

/// The k-sample Anderson–Darling test (Scholz & Stephens 1987, midrank version for data with ties),
/// matching `scipy.stats.anderson_ksamp(samples)`: statistic, critical values, and the significance
/// level, which is capped to [0.001, 0.25]. Runs in O(N log N + D·k) for N values with D distinct.
/// Needs at least two non-empty samples, 4 values in all, and 2 distinct values.
public func andersonKSample(_ samples: [[Double]]) throws -> ADResult {
    let k = samples.count
    guard k >= 2 else {
        throw NumericsError.invalidArgument("the k-sample Anderson–Darling test needs at least 2 samples, got \(k)")
    }
    for (i, s) in samples.enumerated() { try requireFiniteSample(s, "samples[\(i)]") }
    let sorted = samples.map(ascending)
    let sizes = sorted.map(\.count)
    let total = sizes.reduce(0, +)
    guard total >= 4 else {
        throw NumericsError.invalidArgument("the Anderson–Darling test needs at least 4 values in all, got \(total)")
    }
    let a2 = try midrankStatistic(sorted, total: total)
    let (statistic, critical) = standardize(a2, sizes: sizes)
    let levels = ADResult.significanceLevels
    let p: Double, capped: Bool
    if statistic < critical.min()! {
        (p, capped) = (levels.max()!, true)
    } else if statistic > critical.max()! {
        (p, capped) = (levels.min()!, true)
    } else {
        // Quadratic fit of log(level) against the critical values, as np.polyfit(critical, log(sig), 2).
        let c = quadraticLeastSquares(critical, levels.map { log($0) })
        (p, capped) = (exp((c.0 * statistic + c.1) * statistic + c.2), false)
    }
    return ADResult(statistic: statistic, criticalValues: critical, significanceLevel: p, isCapped: capped)
}

/// The k-sample Anderson–Darling test of Float samples (widened to Double).
@_disfavoredOverload
public func andersonKSample(_ samples: [[Float]]) throws -> ADResult { try andersonKSample(samples.map(widened)) }

/// A²ₐₖₙ (Scholz & Stephens eq. 7) by one merge over the ascending samples. At each distinct value
/// z with multiplicity l in the pool and B = #{< z} + l/2 (the pooled midrank), sample i contributes
/// (l/N)(N·Mᵢ − B·nᵢ)² / (B(N − B) − Nl/4) / nᵢ with Mᵢ = #{xᵢ ≤ z} − fᵢ/2.
private func midrankStatistic(_ samples: [[Double]], total: Int) throws -> Double {
    let k = samples.count
    // All samples back to back; sample i occupies starts[i] ..< starts[i] + sizes[i].
    var pooled: [Double] = []
    pooled.reserveCapacity(total)
    var starts: [Int] = []
    for s in samples {
        starts.append(pooled.count)
        pooled.append(contentsOf: s)
    }
    let sizes = samples.map(\.count)
    let nTotal = Double(total)
    var cursor = starts
    var sums = [Neumaier](repeating: Neumaier(), count: k)
    var mid = [Double](repeating: 0, count: k)
    var distinct = 0
    pooled.withUnsafeBufferPointer { x in
        cursor.withUnsafeMutableBufferPointer { cursor in
            mid.withUnsafeMutableBufferPointer { mid in
                sums.withUnsafeMutableBufferPointer { sums in
                    var below = 0  // pooled values < z
                    while below < total {
                        var z = Double.infinity
                        for i in 0..<k where cursor[i] < starts[i] + sizes[i] { z = min(z, x[cursor[i]]) }
                        var multiplicity = 0
                        for i in 0..<k {
                            let start = cursor[i], end = starts[i] + sizes[i]
                            var c = start
                            while c < end && x[c] == z { c += 1 }
                            cursor[i] = c
                            multiplicity += c - start
                            mid[i] = Double(c - starts[i]) - Double(c - start) / 2
                        }
                        let l = Double(multiplicity)
                        let b = Double(below) + l / 2
                        let weight = l / nTotal
                        let denominator = b * (nTotal - b) - Double(total * multiplicity) / 4
                        for i in 0..<k {
                            let gap = nTotal * mid[i] - b * Double(sizes[i])
                            sums[i].add(weight * (gap * gap) / denominator)
                        }
                        below += multiplicity
                        distinct += 1
                    }
                }
            }
        }
    }
    guard distinct >= 2 else {
        throw NumericsError.invalidArgument("the Anderson–Darling test needs at least 2 distinct values")
    }
    var a2 = 0.0
    for i in 0..<k { a2 += sums[i].value / Double(sizes[i]) }
    return a2 * ((nTotal - 1) / nTotal)
}

/// Standardizes A²ₐₖₙ by its mean k − 1 and exact variance σ² (Scholz & Stephens eq. 4), and
/// interpolates the critical values for m = k − 1 from their Table 2 coefficients.
private func standardize(_ a2: Double, sizes: [Int]) -> (statistic: Double, critical: [Double]) {
    let k = Double(sizes.count)
    let k2 = k * k
    let total = sizes.reduce(0, +)
    let n = Double(total)
    var hh = 0.0  // H = Σ 1/nᵢ
    for size in sizes { hh += 1 / Double(size) }
    // h = Σ_{i<N} 1/i and g = Σ_{i<N−1} Σ_{j>i} 1/((N − i) j), through the running sums
    // 1/(N−1) + 1/(N−2) + … as scipy forms them.
    var partial = [Double](repeating: 0, count: max(total - 2, 0))
    var running = 0.0
    for (index, i) in stride(from: total - 1, to: 1, by: -1).enumerated() {
        running += 1 / Double(i)
        partial[index] = running / Double(index + 2)
    }
    let h = running + 1
    let g = pairwiseSum(partial)
    let a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * hh
    let b = (2 * g - 4) * k2 + 8 * h * k + (2 * g - 14 * h - 4) * hh - 8 * h + 4 * g - 6
    let c = (6 * h + 2 * g - 2) * k2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * hh + 4 * h
    let d = (2 * h + 6) * k2 - 4 * h * k
    let sigma2 = (a * exactPower(total, 3) + b * exactPower(total, 2) + c * n + d)
        / ((n - 1) * (n - 2) * (n - 3))
    let m = k - 1
    let statistic = (a2 - m) / sigma2.squareRoot()
    let b0 = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085]
    let b1 = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615]
    let b2 = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154]
    let critical = (0..<7).map { b0[$0] + b1[$0] / m.squareRoot() + b2[$0] / m }
    return (statistic, critical)
}

/// Nᵖ rounded once (as Python's exact integer power converted to float), falling back to a
/// floating product past Int's range.
private func exactPower(_ n: Int, _ p: Int) -> Double {
    var r = 1
    for _ in 0..<p {
        let (next, overflow) = r.multipliedReportingOverflow(by: n)
        if overflow { return pow(Double(n), Double(p)) }
        r = next
    }
    return Double(r)
}

/// Least-squares coefficients (c₂, c₁, c₀) of y ≈ c₂x² + c₁x + c₀, by Householder QR of the
/// column-scaled Vandermonde matrix (as `numpy.polyfit(x, y, 2)` scales before its solve).
func quadraticLeastSquares(_ x: [Double], _ y: [Double]) -> (Double, Double, Double) {
    let rows = x.count
    var columns: [[Double]] = [x.map { $0 * $0 }, x, [Double](repeating: 1, count: rows)]
    let scale = columns.map { col in col.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    for j in 0..<3 { columns[j] = columns[j].map { $0 / scale[j] } }
    var rhs = y
    // Householder reflections column by column; `columns` becomes R in its upper triangle.
    for j in 0..<3 {
        var norm = 0.0
        for i in j..<rows { norm += columns[j][i] * columns[j][i] }
        norm = norm.squareRoot()
        let alpha = columns[j][j] > 0 ? -norm : norm
        var v = [Double](repeating: 0, count: rows)
        for i in j..<rows { v[i] = columns[j][i] }
        v[j] -= alpha
        var vv = 0.0
        for i in j..<rows { vv += v[i] * v[i] }
        guard vv > 0 else { continue }
        for c in j..<3 {
            var dot = 0.0
            for i in j..<rows { dot += v[i] * columns[c][i] }
            let f = 2 * dot / vv
            for i in j..<rows { columns[c][i] -= f * v[i] }
        }
        var dot = 0.0
        for i in j..<rows { dot += v[i] * rhs[i] }
        let f = 2 * dot / vv
        for i in j..<rows { rhs[i] -= f * v[i] }
    }
    var coef = [0.0, 0.0, 0.0]
    for j in stride(from: 2, through: 0, by: -1) {
        var s = rhs[j]
        for c in (j + 1)..<3 { s -= columns[c][j] * coef[c] }
        coef[j] = s / columns[j][j]
    }
    return (coef[0] / scale[0], coef[1] / scale[1], coef[2] / scale[2])
}
