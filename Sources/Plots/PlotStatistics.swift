import Foundation

/// How `PlotStatistics.histogram` chooses its bins (the `bins` argument of numpy's histogram).
public enum HistogramBins: Sendable, Equatable {
    /// numpy's "auto" (numpy ≥ 2.1): the smaller of the Sturges width and the Freedman–Diaconis
    /// width, the latter kept at least half the square-root rule's width; at most 10,000 bins.
    case auto
    /// This many equal-width bins over [min, max] (at least 1, at most 1,000,000).
    case count(Int)
    /// These edges, which must increase; values outside [first, last] are not counted.
    case edges([Double])
}

/// The counting behind the `Figure.ecdf` and `Figure.histogram` conveniences.
public enum PlotStatistics {
    /// Bin edges and counts, and how many values were skipped for being NaN or infinite.
    public struct HistogramResult: Sendable, Equatable {
        /// `counts.count + 1` increasing edges.
        public var edges: [Double]
        /// How many values fell in each bin (bins are half-open [a, b) except the last, [a, b]).
        public var counts: [Double]
        /// How many values were NaN or infinite and so not counted.
        public var skipped: Int
    }

    /// The steps of an empirical CDF, and how many values were skipped.
    public struct ECDFResult: Sendable, Equatable {
        /// Step positions: the smallest value, then each distinct value in increasing order.
        public var x: [Double]
        /// Step heights: 0, then the fraction of values ≤ each distinct value.
        public var y: [Double]
        /// How many values were NaN or infinite and so left out (the fractions count only the rest).
        public var skipped: Int
    }

    /// Histogram of the finite `values` with numpy's binning: equal bins over [min, max] (widened to
    /// [v - 0.5, v + 0.5] when all values equal v), bins half-open except the last, and bin
    /// membership decided exactly as `numpy.histogram` does. No finite values give one bin over
    /// [0, 1] with count 0.
    public static func histogram(_ values: [Double], bins: HistogramBins = .auto) -> HistogramResult {
        let finite = values.filter { $0.isFinite }
        let skipped = values.count - finite.count
        if case .edges(let edges) = bins {
            return HistogramResult(edges: edges, counts: count(finite, edges: edges), skipped: skipped)
        }
        var lo = finite.min() ?? 0, hi = finite.max() ?? 1
        if lo == hi { lo -= 0.5; hi += 0.5 }
        let n: Int
        switch bins {
        case .count(let k): n = max(1, min(1_000_000, k))
        case .edges: n = 1
        case .auto:
            let width = autoWidth(finite)
            if width > 0, width.isFinite {
                let k = ((hi - lo) / width).rounded(.up)
                n = k.isFinite ? max(1, min(10_000, Int(k))) : 1
            } else {
                n = 1
            }
        }
        let step = (hi - lo) / Double(n)
        var edges = (0...n).map { Double($0) * step + lo }
        edges[n] = hi
        var counts = [Double](repeating: 0, count: n)
        guard step > 0, step.isFinite else {
            return HistogramResult(edges: edges, counts: count(finite, edges: edges), skipped: skipped)
        }
        let denominator = hi - lo
        for v in finite where v >= lo && v <= hi {
            var i = Int(((v - lo) / denominator) * Double(n))
            if i >= n { i = n - 1 }
            if i < 0 { i = 0 }
            if v < edges[i] { i -= 1 }
            if i < 0 { i = 0 }
            if i != n - 1 && v >= edges[i + 1] { i += 1 }
            counts[i] += 1
        }
        return HistogramResult(edges: edges, counts: counts, skipped: skipped)
    }

    /// Counts per bin for explicit edges (numpy's rule: half-open bins, the last one closed).
    /// Edges that do not increase, or fewer than two, give no bins.
    static func count(_ values: [Double], edges: [Double]) -> [Double] {
        guard edges.count >= 2, edges.allSatisfy({ $0.isFinite }),
              zip(edges, edges.dropFirst()).allSatisfy({ $0 < $1 }) else {
            return edges.count >= 2 ? [Double](repeating: 0, count: edges.count - 1) : []
        }
        var counts = [Double](repeating: 0, count: edges.count - 1)
        let last = edges[edges.count - 1]
        for v in values where v >= edges[0] && v <= last {
            if v == last { counts[counts.count - 1] += 1; continue }
            // the last edge ≤ v
            var a = 0, b = edges.count - 1
            while b - a > 1 {
                let m = (a + b) / 2
                if edges[m] <= v { a = m } else { b = m }
            }
            counts[a] += 1
        }
        return counts
    }

    /// numpy's "auto" bin width: min(max(Freedman–Diaconis, sqrt-rule / 2), Sturges).
    static func autoWidth(_ finite: [Double]) -> Double {
        guard !finite.isEmpty else { return 0 }
        let sorted = finite.sorted()
        let n = Double(sorted.count)
        let ptp = sorted[sorted.count - 1] - sorted[0]
        let sturges = ptp / (Foundation.log2(n) + 1)
        let iqr = percentile(sorted, 0.75) - percentile(sorted, 0.25)
        let fd = 2 * iqr * Foundation.pow(n, -1.0 / 3.0)
        let sqrtRule = ptp / n.squareRoot()
        return min(max(fd, sqrtRule / 2), sturges)
    }

    /// numpy's default ("linear") percentile of sorted values, q in [0, 1], with numpy's
    /// two-sided interpolation formula.
    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        let index = Double(sorted.count - 1) * q
        let below = Int(index.rounded(.down))
        let above = min(sorted.count - 1, below + 1)
        let t = index - Double(below)
        let a = sorted[below], b = sorted[above]
        let d = b - a
        return t >= 0.5 ? b - d * (1 - t) : a + d * t
    }

    /// The empirical CDF of the finite `values`: F(v) = (number of values ≤ v) / n, as post steps
    /// starting from 0 at the smallest value. No finite values give empty steps.
    public static func ecdf(_ values: [Double]) -> ECDFResult {
        let sorted = values.filter { $0.isFinite }.sorted()
        let skipped = values.count - sorted.count
        guard let first = sorted.first else { return ECDFResult(x: [], y: [], skipped: skipped) }
        let n = Double(sorted.count)
        var x = [first], y = [0.0]
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[i] { j += 1 }
            x.append(sorted[i])
            y.append(Double(j + 1) / n)
            i = j + 1
        }
        return ECDFResult(x: x, y: y, skipped: skipped)
    }
}
