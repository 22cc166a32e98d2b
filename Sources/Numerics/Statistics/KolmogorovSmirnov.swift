import Foundation

// The two-sample Kolmogorov–Smirnov test, reproducing `scipy.stats.ks_2samp(a, b)` with its
// defaults (alternative='two-sided', method='auto'):
//
// * D is the largest gap between the two ECDFs, each evaluated at every pooled observation.
// * If both samples have at most 10 000 values the p-value is exact (lattice-path counting after
//   Hodges 1958): n₁ = n₂ uses the closed alternating sum, n₁ ≠ n₂ the "inside" recursion of
//   Viehmann (2021). D is first snapped to h / lcm(n₁, n₂) with h = round(D·lcm).
// * Otherwise (or if the exact value falls outside [0, 1]) the p-value is P(Dₙ ≥ D) of the
//   one-sample two-sided distribution (scipy's `kstwo`) with n = round(n₁n₂ / (n₁ + n₂)), which is
//   evaluated with Simard & L'Ecuyer's (2011) choice of method: Ruben–Gambino closed forms at the
//   extremes, Durbin's matrix (Marsaglia–Tsang–Wang), the Pomeranz recursion, the Pelz–Good
//   expansion, or twice the one-sided Smirnov tail (Birnbaum–Tingey sum).

/// Which computation produced a two-sample KS p-value.
public enum KSMethod: String, Sendable, Equatable {
    /// Exact lattice-path probability (both samples of at most 10 000 values).
    case exact
    /// The one-sample `kstwo` distribution at the effective size n₁n₂/(n₁+n₂).
    case asymptotic
}

/// The outcome of a two-sample Kolmogorov–Smirnov test.
public struct KSResult: Sendable, Equatable {
    /// D = sup |F_a − F_b| (snapped to a multiple of 1/lcm(n₁, n₂) when the p-value is exact, as scipy does).
    public let statistic: Double
    /// The two-sided p-value: P(D ≥ observed) when both samples come from one continuous distribution.
    public let pValue: Double
    /// The observation where the largest gap occurs (scipy's `statistic_location`).
    public let location: Double
    /// −1 when F_a < F_b at `location`, otherwise +1 (scipy's `statistic_sign`).
    public let sign: Int
    /// How the p-value was computed.
    public let method: KSMethod
}

/// The two-sample KS test of `a` against `b`, matching `scipy.stats.ks_2samp(a, b)`; throws on
/// empty samples or NaN/infinity.
public func ks2samp(_ a: [Double], _ b: [Double]) throws -> KSResult {
    try requireFiniteSample(a, "a")
    try requireFiniteSample(b, "b")
    let gap = ecdfGap(ascending(a), ascending(b))
    let n1 = a.count, n2 = b.count
    var d: Double, location: Double, sign: Int
    if gap.minimum > gap.maximum {
        (d, location, sign) = (gap.minimum, gap.minimumLocation, -1)
    } else {
        (d, location, sign) = (gap.maximum, gap.maximumLocation, 1)
    }
    if max(n1, n2) <= 10_000 {
        let exact = exactTwoSampleSF(n1, n2, d)
        d = exact.d
        if let p = exact.p {
            return KSResult(statistic: d, pValue: p, location: location, sign: sign, method: .exact)
        }
    }
    let (m, n) = (Double(max(n1, n2)), Double(min(n1, n2)))
    let en = (m * n / (m + n)).rounded(.toNearestOrEven)
    let p = min(max(kstwoSF(d, Int(en)), 0), 1)
    return KSResult(statistic: d, pValue: p, location: location, sign: sign, method: .asymptotic)
}

/// The two-sample KS test of Float samples (widened to Double).
@_disfavoredOverload
public func ks2samp(_ a: [Float], _ b: [Float]) throws -> KSResult { try ks2samp(widened(a), widened(b)) }

/// The KS statistic sup |F_a − F_b| alone (two sorts and one merge); throws on empty or non-finite input.
public func ksStatistic(_ a: [Double], _ b: [Double]) throws -> Double {
    try requireFiniteSample(a, "a")
    try requireFiniteSample(b, "b")
    let gap = ecdfGap(ascending(a), ascending(b))
    return max(gap.maximum, gap.minimum)
}

/// The KS statistic of Float samples (widened to Double).
@_disfavoredOverload
public func ksStatistic(_ a: [Float], _ b: [Float]) throws -> Double { try ksStatistic(widened(a), widened(b)) }

// MARK: - The statistic

/// The extremes of F_a − F_b over the pooled observations, with scipy's locations: the first
/// position in `concat(sorted a, sorted b)` where each extreme is reached.
struct ECDFGap {
    /// max(F_a − F_b) ≥ 0.
    var maximum: Double
    /// −min(F_a − F_b), clipped at 0.
    var minimum: Double
    var maximumLocation: Double
    var minimumLocation: Double
}

/// Merges two ascending samples once, evaluating F_a − F_b = count_a(≤ v)/n_a − count_b(≤ v)/n_b
/// at every distinct pooled value v.
func ecdfGap(_ a: [Double], _ b: [Double]) -> ECDFGap {
    a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in ecdfGap(a, b) } }
}

private func ecdfGap(_ a: UnsafeBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>) -> ECDFGap {
    let na = Double(a.count), nb = Double(b.count)
    // Best value and location among values present in a, and among values present in b, so that
    // ties resolve like numpy's argmax/argmin over concat(a, b).
    var maxA = -Double.infinity, maxB = -Double.infinity, minA = Double.infinity, minB = Double.infinity
    var maxALoc = 0.0, maxBLoc = 0.0, minALoc = 0.0, minBLoc = 0.0
    var i = 0, j = 0
    while i < a.count || j < b.count {
        let v = j >= b.count || (i < a.count && a[i] <= b[j]) ? a[i] : b[j]
        let inA = i < a.count && a[i] == v, inB = j < b.count && b[j] == v
        while i < a.count && a[i] == v { i += 1 }
        while j < b.count && b[j] == v { j += 1 }
        let diff = Double(i) / na - Double(j) / nb
        if inA {
            if diff > maxA { maxA = diff; maxALoc = v }
            if diff < minA { minA = diff; minALoc = v }
        }
        if inB {
            if diff > maxB { maxB = diff; maxBLoc = v }
            if diff < minB { minB = diff; minBLoc = v }
        }
    }
    let maximum = max(maxA, maxB), minimum = min(minA, minB)
    return ECDFGap(maximum: maximum, minimum: min(max(-minimum, 0), 1),
                   maximumLocation: maxA == maximum ? maxALoc : maxBLoc,
                   minimumLocation: minA == minimum ? minALoc : minBLoc)
}

// MARK: - Exact two-sample distribution

/// P(D ≥ d) for sample sizes n₁, n₂ by lattice-path counting; `d` comes back snapped to h/lcm.
/// `p` is nil when the computation is unusable (outside [0, 1]), so the caller falls back.
func exactTwoSampleSF(_ n1: Int, _ n2: Int, _ d: Double) -> (d: Double, p: Double?) {
    let g = gcd(n1, n2)
    let lcm = (n1 / g) * n2
    let h = Int((d * Double(lcm)).rounded(.toNearestOrEven))
    let snapped = Double(h) / Double(lcm)
    if h == 0 { return (snapped, 1) }
    let p = n1 == n2 ? probOutsideSquare(n1, h) : probOutsideBand(n1, n2, g, h)
    return (snapped, p >= 0 && p <= 1 ? p : nil)
}

/// Equal sizes n: P(D ≥ h/n) = 2·Σₖ (−1)^(k+1) C(2n, n − kh)/C(2n, n), evaluated as a Horner-like
/// nest 2·A₁(1 − A₂(1 − A₃(…))) of ratios of binomials to avoid cancellation.
func probOutsideSquare(_ n: Int, _ h: Int) -> Double {
    var p = 0.0
    var k = n / h
    while k >= 0 {
        var ratio = 1.0
        for j in 0..<h {
            ratio = Double(n - k * h - j) * ratio / Double(n + k * h + j + 1)
        }
        p = ratio * (1 - p)
        k -= 1
    }
    return 2 * p
}

/// Unequal sizes: the probability that a uniformly random lattice path from (0, 0) to (m, n)
/// leaves the band |x/m − y/n| < h/lcm, computed column by column as a probability (each cell is a
/// weighted mean of its two predecessors), never as a count, so nothing overflows.
func probOutsideBand(_ sizeA: Int, _ sizeB: Int, _ g: Int, _ h: Int) -> Double {
    let (m, n) = sizeA >= sizeB ? (sizeA, sizeB) : (sizeB, sizeA)
    let mg = m / g, ng = n / g
    // Column x holds P(the path to (x, y) has already left the band) for y in [lo, hi); cells
    // above the window have left it (1), and so have those below it.
    var lo = 0
    var hi = min(ceilDiv(h, mg), n + 1)
    var column = [Double](repeating: 1, count: n + 2)
    for y in lo..<hi { column[y - lo] = 0 }
    var length = hi - lo
    for x in 1...m {
        let lastLo = lo, lastLength = length
        lo = min(max(floorDiv(ng * x - h, mg) + 1, 0), n)
        hi = min(ceilDiv(ng * x + h, mg), n + 1)
        if hi <= lo { return 1 }
        var below = lo == 0 ? 0.0 : 1.0
        let shift = lo - lastLo
        let fx = Double(x)
        for k in 0..<(hi - lo) {
            let y = k + lo
            let left = k + shift < lastLength ? column[k + shift] : 1
            below = (left * fx + below * Double(y)) / Double(x + y)
            column[k] = below
        }
        length = hi - lo
        if lastLength > length {
            for k in length..<lastLength { column[k] = 1 }
        }
    }
    return column[hi - lo - 1]
}

/// The greatest common divisor of two positive integers.
private func gcd(_ a: Int, _ b: Int) -> Int {
    var (a, b) = (a, b)
    while b != 0 { (a, b) = (b, a % b) }
    return a
}

/// ⌊a / b⌋ for b > 0 and any sign of a.
private func floorDiv(_ a: Int, _ b: Int) -> Int {
    let q = a / b
    return (a % b != 0 && a < 0) ? q - 1 : q
}

/// ⌈a / b⌉ for b > 0 and any sign of a.
private func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }

// MARK: - One-sample two-sided distribution (scipy's kstwo)

/// P(Dₙ ≥ d) for the one-sample two-sided KS statistic with n observations (scipy's `kstwo.sf`).
func kstwoSF(_ d: Double, _ n: Int) -> Double {
    if d.isNaN || n < 1 { return .nan }
    if d <= 0.5 / Double(n) { return 1 }
    if d >= 1 { return 0 }
    return kolmogorovSF(n, d)
}

/// P(Dₙ > x) with Simard & L'Ecuyer's selection of method (scipy's `_kolmogn(n, x, cdf=False)`).
func kolmogorovSF(_ n: Int, _ x: Double) -> Double {
    if x >= 1 { return 0 }
    if x <= 0 { return 1 }
    let nd = Double(n)
    let t = nd * x
    if t <= 1 {
        // Ruben–Gambino: P(Dₙ ≤ x) = n!/nⁿ (2t − 1)ⁿ for 1/(2n) ≤ x ≤ 1/n.
        if t <= 0.5 { return 1 }
        let cdf: Double
        if n <= 140 {
            var product = 1.0
            for i in 1...n { product *= Double(i) * (1.0 / nd) * (2 * t - 1) }
            cdf = product
        } else {
            cdf = exp(logFactorialOverPower(n) + nd * log(2 * t - 1))
        }
        return clip01(1 - cdf)
    }
    if t >= nd - 1 { return clip01(2 * pow(1 - x, nd)) }  // Ruben–Gambino, upper end
    if x >= 0.5 { return clip01(2 * smirnovSF(n, x)) }   // the two one-sided tails are disjoint
    let nx2 = t * x
    if n <= 140 {
        if nx2 <= 0.754693 { return clip01(1 - durbinMatrixCDF(n, x)) }
        if nx2 <= 4 { return clip01(1 - pomeranzCDF(n, x)) }
        return clip01(2 * smirnovSF(n, x))
    }
    if nx2 >= 370 { return 0 }
    if nx2 >= 2.2 { return clip01(2 * smirnovSF(n, x)) }
    let cdf = (n <= 100_000 && nd * pow(x, 1.5) <= 1.4) ? durbinMatrixCDF(n, x) : pelzGoodCDF(n, x)
    return clip01(1 - cdf)
}

@inline(__always) private func clip01(_ p: Double) -> Double { p.isNaN ? p : min(max(p, 0), 1) }

/// log(n!/nⁿ) by Stirling's series with the n·log n terms cancelled analytically.
private func logFactorialOverPower(_ n: Int) -> Double {
    let coefficients: [Double] = [-2.955065359477124183e-2, 6.4102564102564102564e-3,
                                  -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                                  -5.952380952380952381e-4, 7.9365079365079365079e-4,
                                  -2.7777777777777777778e-3, 8.3333333333333333333e-2]
    let nd = Double(n)
    let rn = 1 / nd
    let y = rn / nd
    var poly = 0.0
    for c in coefficients { poly = poly * y + c }
    return log(nd) / 2 - nd + log(2 * Double.pi) / 2 + rn * poly
}

private let scaleUp = 0x1p128, scaleDown = 0x1p-128

/// P(Dₙ ≤ x) by Durbin's matrix method as organised by Marsaglia, Tsang & Wang (2003): the
/// (k, k) entry of Hⁿ·n!/nⁿ for an m×m matrix H, m = 2k − 1, k = ⌈nx⌉, with powers of two
/// factored out as the power grows.
func durbinMatrixCDF(_ n: Int, _ x: Double) -> Double {
    if x >= 1 { return 1 }
    let nd = Double(n) * x
    if nd <= 0.5 { return 0 }
    let k = Int(nd.rounded(.up))
    let h = Double(k) - nd
    let m = 2 * k - 1
    var v = [Double](repeating: 0, count: m)
    var w = [Double](repeating: 0, count: m)
    var factorial = 1.0  // 1/j! as j grows
    for j in 1...m {
        w[j - 1] = factorial
        factorial /= Double(j)
        v[j - 1] = (1 - pow(h, Double(j))) * factorial
    }
    let tail = pow(max(2 * h - 1, 0), Double(m)) - 2 * pow(h, Double(m))
    v[m - 1] = (1 + tail) * factorial
    var hm = [Double](repeating: 0, count: m * m)  // row-major
    for col in 1..<m {
        for row in (col - 1)..<m { hm[row * m + col] = w[row - col + 1] }
    }
    for row in 0..<m { hm[row * m] = v[row] }
    for col in 0..<m { hm[(m - 1) * m + col] = v[m - 1 - col] }

    var power = [Double](repeating: 0, count: m * m)
    for i in 0..<m { power[i * m + i] = 1 }
    var remaining = n, exponent = 0, hExponent = 0
    while remaining > 0 {
        if remaining % 2 == 1 {
            power = squareMatrixProduct(power, hm, m)
            exponent += hExponent
        }
        hm = squareMatrixProduct(hm, hm, m)
        hExponent *= 2
        if abs(hm[(k - 1) * m + (k - 1)]) > scaleUp {
            for i in 0..<(m * m) { hm[i] /= scaleUp }
            hExponent += 128
        }
        remaining /= 2
    }
    var p = power[(k - 1) * m + (k - 1)]
    let dn = Double(n)
    for i in 1...n {
        p = Double(i) * p / dn
        if abs(p) < scaleDown {
            p *= scaleUp
            exponent -= 128
        }
    }
    if exponent != 0 { p = scalbn(p, exponent) }
    return clip01(p)
}

/// The product of two m×m row-major matrices.
private func squareMatrixProduct(_ a: [Double], _ b: [Double], _ m: Int) -> [Double] {
    var c = [Double](repeating: 0, count: m * m)
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                for i in 0..<m {
                    for l in 0..<m {
                        let ail = pa[i * m + l]
                        if ail == 0 { continue }
                        for j in 0..<m { pc[i * m + j] += ail * pb[l * m + j] }
                    }
                }
            }
        }
    }
    return c
}

/// P(Dₙ ≤ x) by the Pomeranz (1974) recursion: 2n + 1 rows, each a convolution of the previous
/// row with truncated Poisson weights, keeping only the band of non-zero entries.
func pomeranzCDF(_ n: Int, _ x: Double) -> Double {
    let t = Double(n) * x
    let ll = Int(t.rounded(.down))
    let f = t - Double(ll)
    let g = min(f, 1 - f)
    let ceilf = f > 0 ? 1 : 0
    let roundf = f > 0.5 ? 1 : 0
    let count = 2 * (ll + 1)
    var gPower = [Double](repeating: 1, count: count)
    var twoGPower = [Double](repeating: 1, count: count)
    var oneMinusTwoGPower = [Double](repeating: 1, count: count)
    let nd = Double(n)
    let (gOverN, twoGOverN, oneMinusTwoGOverN) = (g / nd, 2 * g / nd, (1 - 2 * g) / nd)
    for i in 1..<count {
        gPower[i] = gPower[i - 1] * gOverN / Double(i)
        twoGPower[i] = twoGPower[i - 1] * twoGOverN / Double(i)
        oneMinusTwoGPower[i] = oneMinusTwoGPower[i - 1] * oneMinusTwoGOverN / Double(i)
    }
    var previous = [Double](repeating: 0, count: count)
    var current = [Double](repeating: 0, count: count)
    current[0] = 1
    var previousStart = 0, currentStart = 0
    var exponent = 0
    var (j1, _) = pomeranzBand(0, n, ll, ceilf, roundf)
    for i in 1...(2 * n + 1) {
        let k1 = j1
        swap(&previous, &current)
        swap(&previousStart, &currentStart)
        for c in 0..<count { current[c] = 0 }
        let band = pomeranzBand(i, n, ll, ceilf, roundf)
        j1 = band.j1
        let j2 = band.j2
        let weights = (i == 1 || i == 2 * n + 1) ? gPower : (i % 2 == 1 ? twoGPower : oneMinusTwoGPower)
        let width = j2 - k1 + 1
        guard width > 0 else { continue }
        // Full convolution of previous[k1 − start ..< +width] with weights[0..<width] (both cut
        // at the array end), of which entries j1 − k1 ..< j1 − k1 + (j2 − j1 + 1) are kept.
        let source = k1 - previousStart
        let available = max(0, min(width, count - source))
        let weightCount = min(width, count)
        let offset = j1 - k1
        for c in 0..<(j2 - j1 + 1) {
            let s = c + offset
            var acc = 0.0
            let lower = max(0, s - (weightCount - 1)), upper = min(s, available - 1)
            if lower <= upper {
                for a in lower...upper { acc += previous[source + a] * weights[s - a] }
            }
            current[c] = acc
        }
        let largest = current.max() ?? 0
        if largest > 0 && largest < scaleDown {
            for c in 0..<count { current[c] *= scaleUp }
            exponent -= 128
        }
        currentStart = previousStart + j1 - k1
    }
    var answer = current[n - currentStart]
    for m in 1...n {
        if abs(answer) > scaleUp {
            answer *= scaleDown
            exponent += 128
        }
        answer *= Double(m)
    }
    if exponent != 0 { answer = scalbn(answer, exponent) }
    return clip01(answer)
}

/// The first and last non-zero column of Pomeranz row i.
private func pomeranzBand(_ i: Int, _ n: Int, _ ll: Int, _ ceilf: Int, _ roundf: Int) -> (j1: Int, j2: Int) {
    var j1: Int, j2: Int
    if i == 0 {
        (j1, j2) = (-ll - ceilf - 1, ll + ceilf - 1)
    } else {
        let half = (i + 1) / 2
        if (i + 1) % 2 == 0 {
            if half == n + 1 {
                (j1, j2) = (n - ll - ceilf - 1, n + ll + ceilf - 1)
            } else {
                (j1, j2) = (half - 1 - ll - roundf - 1, half + ll - 1 + ceilf - 1)
            }
        } else {
            (j1, j2) = (half - 1 - ll - 1, half + ll + roundf - 1)
        }
    }
    return (max(j1 + 2, 0), min(j2, n))
}

/// P(Dₙ ≤ x) by the Pelz–Good (1976) expansion K₀ + K₁/√n + K₂/n + K₃/n^1.5 in Jacobi-theta form.
func pelzGoodCDF(_ n: Int, _ x: Double) -> Double {
    if x <= 0 { return 0 }
    if x >= 1 { return 1 }
    let pi2 = pow(Double.pi, 2), pi4 = pow(Double.pi, 4), pi6 = pow(Double.pi, 6)
    let sqrt2pi = (2 * Double.pi).squareRoot()
    let z = Double(n).squareRoot() * x
    let z2 = pow(z, 2), z3 = pow(z, 3), z4 = pow(z, 4), z6 = pow(z, 6)
    let qlog = -pi2 / 8 / z2
    if qlog < -708 { return 0 }
    var q = exp(qlog)

    let k1a = -z2, k1b = pi2 / 4
    let k2a = 6 * z6 + 2 * z4
    let k2b = (2 * z4 - 5 * z2) * pi2 / 4
    let k2c = pi4 * (1 - 2 * z2) / 16
    let k3d = pi6 * (5 - 30 * z2) / 64
    let k3c = pi4 * (-60 * z2 + 212 * z4) / 16
    let k3b = pi2 * (135 * z4 - 96 * z6) / 4
    let k3a = -30 * z6 - 90 * pow(z, 8)

    // Horner in q⁸ over odd m = 2k − 1.
    var terms = [0.0, 0.0, 0.0, 0.0]
    let maxk = Int((16 * z / Double.pi).rounded(.up))
    var k = maxk
    while k >= 1 {
        let m = Double(2 * k - 1)
        let m2 = m * m, m4 = m2 * m2, m6 = m4 * m2
        let qPower = pow(q, Double(8 * k))
        let coefficients = [1.0,
                            k1a + k1b * m2,
                            k2a + k2b * m2 + k2c * m4,
                            k3a + k3b * m2 + k3c * m4 + k3d * m6]
        for i in 0..<4 { terms[i] = terms[i] * qPower + coefficients[i] }
        k -= 1
    }
    let divisors = [z, 6 * z4, 72 * pow(z, 7), 6480 * pow(z, 10)]
    for i in 0..<4 { terms[i] = terms[i] * q * sqrt2pi / divisors[i] }

    // The sums over all integers k that K₂ and K₃ also carry.
    q = exp(-pi2 / 2 / z2)
    var k2extra = 0.0, k3extra = 0.0
    let sqrt3z = 3.0.squareRoot() * z
    k = maxk
    while k >= 1 {
        let kd = Double(k)
        let ksq = Double(k * k)
        let qPower = pow(q, ksq)
        let kspi = Double.pi * kd
        k2extra += ksq * qPower
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qPower
        k -= 1
    }
    terms[2] += k2extra * (pi2 * sqrt2pi / (-36 * z3))
    terms[3] += k3extra * (pi2 * sqrt2pi / (216 * z6))
    let nd = Double(n)
    let powersOfN = [1.0, pow(nd, 0.5), nd, pow(nd, 1.5)]
    var sum = 0.0
    for i in 0..<4 { sum += terms[i] / powersOfN[i] }
    return sum
}

// MARK: - One-sided Smirnov tail

/// P(Dₙ⁺ ≥ x), the one-sided Smirnov survival function, by the Birnbaum–Tingey sum
/// x·Σᵥ C(n, v)(x + v/n)^(v−1)(1 − x − v/n)^(n−v) over v ≤ n(1 − x), evaluated term by term in
/// logarithms (floor(nx) and its remainder are split exactly so the bases lose no digits).
/// Valid for the arguments `kolmogorovSF` passes (x > 1/n, and x ≥ 0.5 or nx² ≥ 2.2).
func smirnovSF(_ n: Int, _ x: Double) -> Double {
    if n == 1 { return 1 - x }
    if x <= 0 { return 1 }
    if x >= 1 { return 0 }
    let nd = Double(n)
    // n·x = floor + alpha exactly: the product's rounding error is recovered with an FMA.
    let product = nd * x
    let rounding = fma(nd, x, -product)
    var nxFloor = product.rounded(.down)
    var alpha = (product - nxFloor) + rounding
    if alpha < 0 { nxFloor -= 1; alpha += 1 }
    if alpha >= 1 { nxFloor += 1; alpha -= 1 }
    let floorInt = Int(nxFloor)
    if floorInt == 0 || (floorInt == 1 && alpha == 0) {
        return 1 - x * exp(Double(n - 1) * log1p(x))  // x ≤ 1/n: 1 − x(1 + x)^(n−1)
    }
    if -2 * nd * x * x < -7.08396418532264106224e2 { return 0 }  // below the smallest double
    if floorInt >= n - 1 { return exp(nd * log1p(-x)) }          // x ≥ 1 − 1/n: (1 − x)ⁿ
    if n > 1_000_000 {
        // Too many terms: Smirnov's approximation exp(−(6nx + 1)² / 18n).
        let logp = -pow(6 * nd * x + 1, 2) / 18 / nd
        return logp < -M_LN2 ? exp(logp) : 1 + expm1(logp)
    }
    // Terms v = 0 … n − ⌊nx⌋ − 1 (the next one vanishes or lies beyond n(1 − x)), stopping once
    // the rest cannot move the sum, as scipy does. The bases enter through log y and log1p(−y),
    // y = x + v/n, never through log n, whose rounding error the exponents would multiply by n.
    let last = n - floorInt - 1
    var logBinomial = Neumaier()
    var sum = Neumaier()
    let middle = n / 2
    for v in 0...last {
        let y = (Double(floorInt + v) + alpha) / nd
        let term = exp(logBinomial.value + Double(v - 1) * log(y) + Double(n - v) * log1p(-y))
        if term.isFinite && term != 0 { sum.add(term) }
        if term != 0 {
            if 4 * Double(last + 1 - v) * term < Double.ulpOfOne * sum.value && v != last { break }
        } else if v > middle {
            break
        }
        logBinomial.add(log(Double(n - v) / Double(v + 1)))  // C(n, v + 1) = C(n, v)(n − v)/(v + 1)
    }
    return clip01(x * sum.value)
}
