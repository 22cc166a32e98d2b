import Foundation

/// Which weights share one scale in round-to-nearest quantisation.
public enum QuantizationGroups: Equatable, Sendable, CustomStringConvertible {
    /// One scale for the whole matrix.
    case tensor
    /// One scale per row.
    case row
    /// One scale per run of `n` consecutive elements of a row (the last block of a row may be shorter).
    case block(Int)

    /// "tensor", "row" or "block 32".
    public var description: String {
        switch self {
        case .tensor: return "tensor"
        case .row: return "row"
        case .block(let n): return "block \(n)"
        }
    }
}

/// The result of round-to-nearest k-bit quantisation of a matrix: the integer codes, the scales
/// (and zero points), the dequantised values, and the error they cause.
///
/// Symmetric: per group s = max|x| / (2^(k−1) − 1), q = round(x / s) clamped to ±(2^(k−1) − 1),
/// x̂ = q·s (the code −2^(k−1) is not used, so the range is symmetric and 0 is code 0).
/// Asymmetric: s = (max − min) / (2^k − 1), an integer zero point z = round(−min / s),
/// q = clamp(round(x / s) + z, 0, 2^k − 1), x̂ = (q − z)·s. Rounding is to nearest, ties to even;
/// the arithmetic is in Double with each scale rounded to Float32 first (what is stored).
/// A group whose values are all equal gets s = |value| (or 0 when they are 0), so it is exact.
///
/// Zeros: with `keepZeros` (the default) the weights that are exactly 0 are a mask — they are left
/// out of each group's statistics, not coded, and come back as exactly 0. Symmetric quantisation
/// keeps 0 exact anyway (0 is code 0); asymmetric with an integer zero point keeps it exact only
/// when 0 lies in the group's [min, max] (a group of positive survivors would move zeros to min);
/// a float offset (x̂ = q·s + min, as llama.cpp's Q4_1) would move them by up to s/2. Survivors
/// may still round to 0 (`newZeros` counts them).
public struct RTNQuantization: Sendable {
    /// The code width in bits (2...8).
    public let bits: Int
    /// Symmetric (no zero point) or asymmetric.
    public let symmetric: Bool
    /// Which weights share a scale.
    public let groups: QuantizationGroups
    /// The dequantised matrix.
    public let dequantized: Matrix
    /// The integer code of every element, row-major (masked zeros: the code 0 stands for would be
    /// meaningless, they hold 0 for symmetric and the group's zero point for asymmetric).
    public let codes: [Int32]
    /// One scale per group (Float32, as stored).
    public let scales: [Float]
    /// One zero point per group (all 0 when symmetric).
    public let zeroPoints: [Int32]
    /// Which elements are coded (false: a zero kept by the mask); nil when no mask was used.
    public let mask: [Bool]?
    /// Mean squared error over all elements.
    public let mse: Double
    /// Signal-to-noise ratio, 10·log₁₀(Σx² / Σ(x − x̂)²) in dB (+∞ when exact).
    public let snrDB: Double
    /// The largest |x − x̂|.
    public let maxError: Double
    /// Survivors (non-zero inputs) that quantised to exactly 0.
    public let newZeros: Int

    /// The number of groups per row for block groups, or the group count.
    public var groupCount: Int { scales.count }
    /// Elements that are coded (survivors when masked, all otherwise).
    public var codedCount: Int { mask.map { $0.reduce(0) { $0 + ($1 ? 1 : 0) } } ?? codes.count }
    /// Bits of side information per group: a Float32 scale, and for asymmetric a 32-bit zero point.
    public var bitsPerGroup: Int { symmetric ? 32 : 64 }
    /// Codes of the coded elements only, in order.
    public var codedCodes: [Int32] {
        guard let mask else { return codes }
        var out: [Int32] = []
        out.reserveCapacity(codes.count)
        for (c, m) in zip(codes, mask) where m { out.append(c) }
        return out
    }
}

/// Round-to-nearest `bits`-bit quantisation of `w` (see `RTNQuantization`). Throws for bits
/// outside 2...8, a block size below 1, or a non-finite weight.
public func quantizeRTN(_ w: Matrix, bits: Int, symmetric: Bool = true, groups: QuantizationGroups = .tensor,
                        keepZeros: Bool = true) throws -> RTNQuantization {
    guard (2...8).contains(bits) else { throw CodingError("bits must be between 2 and 8, got \(bits)") }
    if case .block(let n) = groups, n < 1 { throw CodingError("block size must be at least 1, got \(n)") }
    if let k = w.data.firstIndex(where: { !$0.isFinite }) {
        throw CodingError("the matrix has a non-finite value at row \(k / max(w.cols, 1)), column \(k % max(w.cols, 1))")
    }
    let rows = w.rows, cols = w.cols
    let perRow: Int
    let groupCount: Int
    switch groups {
    case .tensor: perRow = 0; groupCount = w.count == 0 ? 0 : 1
    case .row: perRow = 1; groupCount = rows
    case .block(let n): perRow = (cols + n - 1) / n; groupCount = rows * perRow
    }
    func group(_ i: Int, _ j: Int) -> Int {
        switch groups {
        case .tensor: return 0
        case .row: return i
        case .block(let n): return i * perRow + j / n
        }
    }
    let useMask = keepZeros && w.data.contains(0)
    var lo = [Double](repeating: .infinity, count: groupCount)
    var hi = [Double](repeating: -.infinity, count: groupCount)
    for i in 0..<rows {
        for j in 0..<cols {
            let x = Double(w.data[i * cols + j])
            if useMask && x == 0 { continue }
            let g = group(i, j)
            lo[g] = min(lo[g], x)
            hi[g] = max(hi[g], x)
        }
    }
    let qmaxSym = Double((1 << (bits - 1)) - 1)
    let qmaxAsym = Double((1 << bits) - 1)
    var scales = [Float](repeating: 0, count: groupCount)
    var zps = [Int32](repeating: 0, count: groupCount)
    for g in 0..<groupCount {
        guard lo[g] <= hi[g] else { continue }  // an all-masked group
        if symmetric {
            let amax = max(abs(lo[g]), abs(hi[g]))
            scales[g] = Float(amax / qmaxSym)
        } else if lo[g] == hi[g] {
            scales[g] = Float(abs(lo[g]))
            zps[g] = lo[g] == 0 ? 0 : Int32((-lo[g] / Double(scales[g])).rounded(.toNearestOrEven))
        } else {
            let s = Float((hi[g] - lo[g]) / qmaxAsym)
            scales[g] = s
            zps[g] = Int32((-lo[g] / Double(s)).rounded(.toNearestOrEven))
        }
    }
    var codes = [Int32](repeating: 0, count: w.count)
    var out = [Float](repeating: 0, count: w.count)
    var mask: [Bool]? = useMask ? [Bool](repeating: true, count: w.count) : nil
    var se = 0.0, signal = 0.0, maxErr = 0.0
    var newZeros = 0
    for i in 0..<rows {
        for j in 0..<cols {
            let k = i * cols + j
            let x = Double(w.data[k])
            signal += x * x
            let g = group(i, j)
            if useMask && x == 0 {
                mask![k] = false
                codes[k] = zps[g]
                continue
            }
            let s = Double(scales[g])
            let q: Double
            let xhat: Double
            if symmetric {
                q = s == 0 ? 0 : min(qmaxSym, max(-qmaxSym, (x / s).rounded(.toNearestOrEven)))
                xhat = q * s
            } else {
                let z = Double(zps[g])
                q = s == 0 ? z : min(qmaxAsym, max(0, (x / s).rounded(.toNearestOrEven) + z))
                xhat = (q - z) * s
            }
            codes[k] = Int32(q)
            let f = Float(xhat)
            out[k] = f
            if f == 0 && x != 0 { newZeros += 1 }
            let e = Double(f) - x
            se += e * e
            maxErr = max(maxErr, abs(e))
        }
    }
    let n = Double(max(w.count, 1))
    return RTNQuantization(
        bits: bits, symmetric: symmetric, groups: groups,
        dequantized: try Matrix(rows: rows, cols: cols, data: out), codes: codes, scales: scales, zeroPoints: zps,
        mask: mask, mse: se / n, snrDB: se == 0 ? .infinity : 10 * log10(signal / se), maxError: maxErr, newZeros: newZeros)
}
