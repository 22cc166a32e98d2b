import Foundation

// Descriptive statistics with numpy's conventions: `mean`/`var`/`std` sum pairwise exactly as
// numpy does (so results agree to the last bit in most cases), `variance` takes numpy's `ddof`, and
// `quantile` is numpy's default 'linear' method (Hyndman & Fan type 7). Every function rejects
// empty input and NaN/±infinity with a `NumericsError`; `[Float]` overloads widen to Double first.

// MARK: - Input checks shared by the statistics files

/// Throws `.empty` when `values` is empty and `.nonFinite` at the first NaN or infinity.
func requireFiniteSample(_ values: [Double], _ what: String) throws {
    guard !values.isEmpty else { throw NumericsError.empty(what: what) }
    try requireFiniteValues(values, what)
}

/// Throws `.nonFinite` at the first NaN or infinity in `values` (empty input passes).
func requireFiniteValues(_ values: [Double], _ what: String) throws {
    try values.withUnsafeBufferPointer { p in
        for i in 0..<p.count where !p[i].isFinite {
            throw NumericsError.nonFinite(what: what, index: i)
        }
    }
}

/// Widens Float samples to Double (the `[Float]` overloads all go through this).
@inline(__always)
func widened(_ values: [Float]) -> [Double] { values.map(Double.init) }

// MARK: - Sorting

/// `values` ascending (no NaN allowed): a least-significant-digit radix sort on order-preserving
/// transforms of the IEEE bit patterns, O(n) in four 16-bit passes, which keeps million-value
/// samples cheap even in unoptimised builds. −0.0 sorts just before +0.0 (they compare equal).
func ascending(_ values: [Double]) -> [Double] {
    let n = values.count
    if n < 2048 { return values.sorted() }
    let sign: UInt64 = 1 << 63
    var keys = [UInt64](unsafeUninitializedCapacity: n) { keys, initialized in
        values.withUnsafeBufferPointer { v in
            for i in 0..<n {
                let bits = v[i].bitPattern
                keys[i] = bits & sign != 0 ? ~bits : bits | sign
            }
        }
        initialized = n
    }
    var scratch = [UInt64](repeating: 0, count: n)
    var counts = [Int](repeating: 0, count: 1 << 16)
    for shift in stride(from: UInt64(0), to: 64, by: 16) {
        let permuted = keys.withUnsafeBufferPointer { src in
            scratch.withUnsafeMutableBufferPointer { dst in
                counts.withUnsafeMutableBufferPointer { count in
                    radixPass(src, dst, count, shift)
                }
            }
        }
        if permuted { swap(&keys, &scratch) }
    }
    return [Double](unsafeUninitializedCapacity: n) { out, initialized in
        keys.withUnsafeBufferPointer { keys in
            for i in 0..<n {
                let k = keys[i]
                out[i] = Double(bitPattern: k & sign != 0 ? k & ~sign : ~k)
            }
        }
        initialized = n
    }
}

/// One stable counting-sort pass of `src` into `dst` on the 16-bit digit at `shift`; returns
/// false (leaving `dst` untouched) when every key has the same digit.
private func radixPass(_ src: UnsafeBufferPointer<UInt64>, _ dst: UnsafeMutableBufferPointer<UInt64>,
                       _ count: UnsafeMutableBufferPointer<Int>, _ shift: UInt64) -> Bool {
    for d in 0..<count.count { count[d] = 0 }
    for key in src { count[Int(truncatingIfNeeded: key >> shift) & 0xFFFF] += 1 }
    if count[Int(truncatingIfNeeded: src[0] >> shift) & 0xFFFF] == src.count { return false }
    var start = 0
    for d in 0..<count.count {
        let c = count[d]
        count[d] = start
        start += c
    }
    for key in src {
        let d = Int(truncatingIfNeeded: key >> shift) & 0xFFFF
        dst[count[d]] = key
        count[d] += 1
    }
    return true
}

// MARK: - numpy-compatible summation

/// The sum of `p` in numpy's pairwise order (blocks of 128 with 8 accumulators), so that
/// `np.sum`, `np.mean` and `np.var` are reproduced bit for bit.
func pairwiseSum(_ p: UnsafeBufferPointer<Double>) -> Double {
    guard let base = p.baseAddress else { return 0 }
    return pairwiseSum(base, p.count)
}

private func pairwiseSum(_ a: UnsafePointer<Double>, _ n: Int) -> Double {
    if n < 8 {
        var s = 0.0
        for i in 0..<n { s += a[i] }
        return s
    }
    if n <= 128 {
        var r0 = a[0], r1 = a[1], r2 = a[2], r3 = a[3], r4 = a[4], r5 = a[5], r6 = a[6], r7 = a[7]
        var i = 8
        let whole = n - n % 8
        while i < whole {
            r0 += a[i]; r1 += a[i + 1]; r2 += a[i + 2]; r3 += a[i + 3]
            r4 += a[i + 4]; r5 += a[i + 5]; r6 += a[i + 6]; r7 += a[i + 7]
            i += 8
        }
        var s = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n { s += a[i]; i += 1 }
        return s
    }
    var half = n / 2
    half -= half % 8
    return pairwiseSum(a, half) + pairwiseSum(a + half, n - half)
}

/// The sum of `values` in numpy's pairwise order.
func pairwiseSum(_ values: [Double]) -> Double {
    values.withUnsafeBufferPointer { pairwiseSum($0) }
}

/// A running sum with Neumaier's compensation (error independent of the number of terms).
struct Neumaier {
    private var sum = 0.0
    private var compensation = 0.0

    /// Adds `x`, carrying the rounding error separately.
    mutating func add(_ x: Double) {
        let t = sum + x
        compensation += abs(sum) >= abs(x) ? (sum - t) + x : (x - t) + sum
        sum = t
    }

    /// The compensated total.
    var value: Double { sum + compensation }
}

// MARK: - Moments

/// The arithmetic mean, as `numpy.mean`.
public func mean(_ values: [Double]) throws -> Double {
    try requireFiniteSample(values, "values")
    return pairwiseSum(values) / Double(values.count)
}

/// The arithmetic mean of Float values, computed in Double.
@_disfavoredOverload
public func mean(_ values: [Float]) throws -> Double { try mean(widened(values)) }

/// The variance Σ(x − mean)² / (n − ddof), as `numpy.var(values, ddof=ddof)` (default: population
/// variance); throws unless 0 ≤ ddof < n.
public func variance(_ values: [Double], ddof: Int = 0) throws -> Double {
    try requireFiniteSample(values, "values")
    guard ddof >= 0, ddof < values.count else {
        throw NumericsError.invalidArgument("ddof must be in 0..<\(values.count) (the sample size), got \(ddof)")
    }
    let m = pairwiseSum(values) / Double(values.count)
    let squares = values.map { ($0 - m) * ($0 - m) }
    return pairwiseSum(squares) / Double(values.count - ddof)
}

/// The variance of Float values, computed in Double.
@_disfavoredOverload
public func variance(_ values: [Float], ddof: Int = 0) throws -> Double { try variance(widened(values), ddof: ddof) }

/// The standard deviation √variance, as `numpy.std(values, ddof=ddof)`.
public func standardDeviation(_ values: [Double], ddof: Int = 0) throws -> Double {
    try variance(values, ddof: ddof).squareRoot()
}

/// The standard deviation of Float values, computed in Double.
@_disfavoredOverload
public func standardDeviation(_ values: [Float], ddof: Int = 0) throws -> Double {
    try standardDeviation(widened(values), ddof: ddof)
}

// MARK: - Order statistics

/// The q-quantile (0 ≤ q ≤ 1), as `numpy.quantile(values, q)` with its default 'linear' method.
public func quantile(_ values: [Double], _ q: Double) throws -> Double {
    try quantiles(values, [q])[0]
}

/// The q-quantile of Float values, computed in Double.
@_disfavoredOverload
public func quantile(_ values: [Float], _ q: Double) throws -> Double { try quantile(widened(values), q) }

/// Several quantiles at once (one sort), as `numpy.quantile(values, qs)`.
public func quantiles(_ values: [Double], _ qs: [Double]) throws -> [Double] {
    try requireFiniteSample(values, "values")
    for (i, q) in qs.enumerated() where !(q >= 0 && q <= 1) {
        throw NumericsError.invalidArgument("quantile \(i) must lie in [0, 1], got \(q)")
    }
    let sorted = ascending(values)
    return qs.map { linearQuantile(sorted: sorted, $0) }
}

/// Several quantiles of Float values, computed in Double.
@_disfavoredOverload
public func quantiles(_ values: [Float], _ qs: [Double]) throws -> [Double] { try quantiles(widened(values), qs) }

/// The median: the middle value, or the mean of the two middle values, as `numpy.median`.
public func median(_ values: [Double]) throws -> Double {
    try requireFiniteSample(values, "values")
    let s = ascending(values)
    let n = s.count
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}

/// The median of Float values, computed in Double.
@_disfavoredOverload
public func median(_ values: [Float]) throws -> Double { try median(widened(values)) }

/// numpy's 'linear' quantile of an ascending array: virtual index (n − 1)·q, then numpy's
/// two-sided lerp (from the nearer end) between its neighbours.
func linearQuantile(sorted s: [Double], _ q: Double) -> Double {
    let n = s.count
    let virtual = Double(n - 1) * q
    if virtual >= Double(n - 1) { return s[n - 1] }
    let below = virtual.rounded(.down)
    let i = Int(below)
    let a = s[i], b = s[i + 1]
    let t = virtual - below
    let diff = b - a
    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t
}
