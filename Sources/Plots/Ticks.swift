import Foundation

/// Tick positions a reader finds natural: multiples of 1, 2 or 5 times a power of ten on linear
/// axes, whole decades (or 1-2-5 within a decade) on log axes.
public enum Ticks {
    /// A "nice" spacing (1, 2 or 5 × 10ᵏ) that splits `range` into about `target` intervals;
    /// 1 for a range that is not positive and finite.
    public static func niceStep(range: Double, target: Int) -> Double {
        guard range.isFinite, range > 0 else { return 1 }
        let raw = range / Double(max(1, target))
        let magnitude = Foundation.pow(10, Foundation.log10(raw).rounded(.down))
        guard magnitude.isFinite, magnitude > 0 else { return raw }
        let f = raw / magnitude
        var best = 1.0
        for c in [1.0, 2.0, 5.0, 10.0] where abs(Foundation.log(c / f)) < abs(Foundation.log(best / f)) { best = c }
        return best * magnitude
    }

    /// Multiples of `niceStep(range: hi - lo, target:)` inside [lo, hi], free of rounding noise
    /// (0.30000000000000004 comes out as 0.3). Empty when the interval is not finite or empty.
    public static func linear(lo: Double, hi: Double, target: Int = 5) -> [Double] {
        guard lo.isFinite, hi.isFinite, hi > lo else { return lo.isFinite && lo == hi ? [lo] : [] }
        let step = niceStep(range: hi - lo, target: target)
        return multiples(of: step, lo: lo, hi: hi)
    }

    /// The multiples of `step` inside [lo, hi] (with a tolerance of 1e-9 steps at each end).
    static func multiples(of step: Double, lo: Double, hi: Double) -> [Double] {
        guard step > 0, step.isFinite else { return [] }
        let first = (lo / step - 1e-9).rounded(.up), last = (hi / step + 1e-9).rounded(.down)
        guard first.isFinite, last.isFinite, last >= first, last - first <= 10_000 else { return [] }
        let decimals = max(0, -Int(Foundation.log10(step).rounded(.down))) + 1
        let snap = decimals <= 300 ? Foundation.pow(10, Double(decimals)) : 0
        var out: [Double] = []
        var k = first
        while k <= last {
            var v = k * step
            if snap > 0, snap.isFinite {
                let s = (v * snap).rounded() / snap
                if s.isFinite { v = s }
            }
            if v == 0 { v = 0 }   // no negative zero
            if out.last != v { out.append(v) }
            k += 1
        }
        return out
    }

    /// Ticks for a log₁₀ axis over [lo, hi] (both > 0): whole decades, every n-th decade when there
    /// are more than `target + 3`; 1, 2 and 5 times powers of ten when the range spans less than
    /// two decades; plain linear ticks when even that gives fewer than two.
    public static func log10(lo: Double, hi: Double, target: Int = 5) -> [Double] {
        guard lo.isFinite, hi.isFinite, lo > 0, hi > lo else { return lo > 0 && lo == hi ? [lo] : [] }
        let a = Foundation.log10(lo), b = Foundation.log10(hi)
        let e0 = max(-330, Int((a - 1e-9).rounded(.up))), e1 = min(310, Int((b + 1e-9).rounded(.down)))
        if e1 - e0 + 1 >= 2 {
            let count = e1 - e0 + 1
            // decade labels are short: allow a few more than the target before thinning them
            let stride = count <= target + 3 ? 1 : max(1, Int((Double(count) / Double(max(1, target))).rounded(.up)))
            var out = (e0...e1).filter { (($0 % stride) + stride) % stride == 0 }.map(decade)
            if out.count < 2 { out = (e0...e1).map(decade) }
            return out
        }
        var out: [Double] = []
        let f0 = Int(a.rounded(.down)), f1 = Int(b.rounded(.up))
        if f0 <= f1 {
            for e in f0...f1 {
                for m in [1.0, 2.0, 5.0] {
                    let v = (Double("\(Int(m))e\(e)") ?? m * decade(e))
                    if v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12) { out.append(v) }
                }
            }
        }
        return out.count >= 2 ? out : linear(lo: lo, hi: hi, target: target)
    }

    /// Unlabelled minor ticks of a log axis: 2, 3, …, 9 times each decade inside [lo, hi], when the
    /// range spans at most 12 decades; empty otherwise.
    public static func logMinor(lo: Double, hi: Double) -> [Double] {
        guard lo.isFinite, hi.isFinite, lo > 0, hi > lo else { return [] }
        let f0 = Int(Foundation.log10(lo).rounded(.down)), f1 = Int(Foundation.log10(hi).rounded(.down))
        guard f1 - f0 <= 12 else { return [] }
        var out: [Double] = []
        for e in f0...f1 {
            for m in 2...9 {
                let v = Double(m) * decade(e)
                if v > lo && v < hi { out.append(v) }
            }
        }
        return out
    }

    /// Labels for ticks on a scale: fixed decimals for linear ticks, compact `%.4g`-like text
    /// ("0.001", "100", "1e6") for log ticks.
    public static func labels(for ticks: [Double], scale: Scale) -> [String] {
        switch scale {
        case .log10:
            return ticks.map { NumberFormatting.compact($0, significant: 4) }
        case .linear:
            var step = Double.infinity
            for (a, b) in zip(ticks, ticks.dropFirst()) where b - a > 0 { step = min(step, b - a) }
            if !step.isFinite { return ticks.map { NumberFormatting.compact($0) } }
            return NumberFormatting.tickLabels(ticks, step: step)
        }
    }

    /// 10ᵉ, parsed from text so that it is exactly the double nearest to the power.
    static func decade(_ e: Int) -> Double { Double("1e\(e)") ?? Foundation.pow(10, Double(e)) }
}
