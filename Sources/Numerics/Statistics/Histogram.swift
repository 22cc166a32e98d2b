import Foundation

/// Bin counts of a sample, computed exactly as `numpy.histogram`: bins are half-open [eᵢ, eᵢ₊₁)
/// except the last, which also holds its right edge; values outside the edges are not counted.
public struct Histogram: Sendable, Equatable {
    /// The bin edges, ascending; there are `counts.count + 1` of them.
    public let edges: [Double]
    /// How many values fall in each bin.
    public let counts: [Int]

    /// `bins` equal-width bins over `range` (default: the data's [min, max]), as
    /// `numpy.histogram(values, bins=bins, range=range)`; a zero-width range becomes (lo − 0.5, hi + 0.5).
    public init(_ values: [Double], bins: Int, range: ClosedRange<Double>? = nil) throws {
        try requireFiniteSample(values, "values")
        guard bins >= 1 else { throw NumericsError.invalidArgument("bins must be at least 1, got \(bins)") }
        var (first, last) = (values.min()!, values.max()!)
        if let range {
            guard range.lowerBound.isFinite, range.upperBound.isFinite else {
                throw NumericsError.invalidArgument("histogram range \(range) is not finite")
            }
            (first, last) = (range.lowerBound, range.upperBound)
        }
        if first == last { first -= 0.5; last += 0.5 }
        let edges = Self.linspace(first, last, bins + 1)
        self.edges = edges
        self.counts = Self.uniformCounts(values, edges: edges, first: first, last: last, bins: bins)
    }

    /// Float values (widened to Double) in `bins` equal-width bins.
    @_disfavoredOverload
    public init(_ values: [Float], bins: Int, range: ClosedRange<Double>? = nil) throws {
        try self.init(widened(values), bins: bins, range: range)
    }

    /// Counts in the given non-decreasing `edges` (at least two), as `numpy.histogram(values, bins=edges)`.
    public init(_ values: [Double], edges: [Double]) throws {
        try requireFiniteSample(values, "values")
        guard edges.count >= 2 else {
            throw NumericsError.invalidArgument("a histogram needs at least 2 edges, got \(edges.count)")
        }
        try requireFiniteValues(edges, "edges")
        for i in 1..<edges.count where edges[i] < edges[i - 1] {
            throw NumericsError.invalidArgument("histogram edges must not decrease (edge \(i) < edge \(i - 1))")
        }
        let sorted = ascending(values)
        // Cumulative counts: values < eᵢ for the inner edges, values ≤ the last edge.
        var cumulative = edges.dropLast().map { e in Self.partition(sorted) { $0 < e } }
        cumulative.append(Self.partition(sorted) { $0 <= edges[edges.count - 1] })
        self.edges = edges
        self.counts = (1..<cumulative.count).map { cumulative[$0] - cumulative[$0 - 1] }
    }

    /// Float values (widened to Double) in explicit bins.
    @_disfavoredOverload
    public init(_ values: [Float], edges: [Double]) throws { try self.init(widened(values), edges: edges) }

    /// The total number of counted values.
    public var total: Int { counts.reduce(0, +) }

    /// numpy.linspace(first, last, num) with endpoint: i·step + first, the last edge set to `last`.
    static func linspace(_ first: Double, _ last: Double, _ num: Int) -> [Double] {
        let div = Double(num - 1)
        let delta = last - first
        let step = delta / div
        var out = (0..<num).map { i -> Double in
            // numpy divides first when the step underflows to zero (denormal ranges).
            step == 0 ? Double(i) / div * delta + first : Double(i) * step + first
        }
        out[num - 1] = last
        return out
    }

    /// numpy's fast path for equal bins: index from the scaled offset, then nudged by at most one
    /// bin so that it agrees with the edges, which may differ from the scaling by an ulp.
    private static func uniformCounts(_ values: [Double], edges: [Double], first: Double, last: Double,
                                      bins: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: bins)
        let width = last - first
        let scale = Double(bins)
        for x in values where x >= first && x <= last {
            var i = Int((x - first) / width * scale)
            if i == bins { i -= 1 }
            if x < edges[i] { i -= 1 }
            if x >= edges[i + 1] && i != bins - 1 { i += 1 }
            counts[i] += 1
        }
        return counts
    }

    /// The number of leading elements of ascending `sorted` that satisfy `belongs` (binary search).
    private static func partition(_ sorted: [Double], _ belongs: (Double) -> Bool) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if belongs(sorted[mid]) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
