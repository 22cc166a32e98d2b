import Foundation

/// The empirical cumulative distribution function of a sample: F(x) = fraction of values ≤ x.
public struct ECDF: Sendable, Equatable {
    /// One corner of the ECDF staircase: at `x` the function jumps up to `y`.
    public struct Point: Sendable, Equatable {
        /// A distinct sample value.
        public let x: Double
        /// The fraction of the sample that is ≤ `x`.
        public let y: Double
    }

    /// The sample, ascending.
    public let sortedValues: [Double]

    /// Builds the ECDF of `values`; throws on empty input or NaN/infinity.
    public init(_ values: [Double]) throws {
        try requireFiniteSample(values, "values")
        sortedValues = ascending(values)
    }

    /// Builds the ECDF of Float values (widened to Double).
    @_disfavoredOverload
    public init(_ values: [Float]) throws { try self.init(widened(values)) }

    /// The sample size.
    public var count: Int { sortedValues.count }

    /// F(x): the fraction of the sample ≤ `x` (NaN for NaN).
    public func callAsFunction(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        return Double(countAtMost(x)) / Double(sortedValues.count)
    }

    /// F at each of `xs`.
    public func callAsFunction(_ xs: [Double]) -> [Double] { xs.map { self($0) } }

    /// The staircase corners for plotting: each distinct value with the cumulative fraction ≤ it
    /// (as `scipy.stats.ecdf(x).cdf.quantiles` / `.probabilities`).
    public var points: [Point] {
        var out: [Point] = []
        let n = Double(sortedValues.count)
        var i = 0
        while i < sortedValues.count {
            let v = sortedValues[i]
            while i < sortedValues.count, sortedValues[i] == v { i += 1 }
            out.append(Point(x: v, y: Double(i) / n))
        }
        return out
    }

    /// How many values are ≤ x (binary search).
    private func countAtMost(_ x: Double) -> Int {
        var lo = 0, hi = sortedValues.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sortedValues[mid] <= x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
