/// A matrix of values drawn as coloured cells: `rows` × `cols`, row 0 at the top, column 0 at
/// the left, cell (i, j) centred on x = j, y = i.
///
/// NaN and infinite cells are left blank (and counted in `Figure.skippedValueCount`). Heatmaps are
/// drawn on linear axes only; on a log axis the heatmap is skipped.
public struct Heatmap: Sendable, Equatable {
    /// Number of rows (≥ 0).
    public let rows: Int
    /// Number of columns (≥ 0).
    public let cols: Int
    /// The values, row by row (`rows * cols` of them).
    public let values: [Double]
    /// How values become colours.
    public var colormap: Colormap
    /// The values at the two ends of the colour scale; nil uses the finite minimum and maximum
    /// (made symmetric about zero for the diverging map when the data has both signs).
    public var range: ClosedRange<Double>?

    /// A heatmap from row-major values. Negative sizes count as 0; missing values (fewer than
    /// `rows * cols`) read as NaN and extra ones are ignored.
    public init(rows: Int, cols: Int, values: [Double], colormap: Colormap = .viridis,
                range: ClosedRange<Double>? = nil) {
        let r = max(0, rows), c = max(0, cols)
        let n = r.multipliedReportingOverflow(by: c)
        self.rows = n.overflow ? 0 : r
        self.cols = n.overflow ? 0 : c
        let count = self.rows * self.cols
        if values.count >= count {
            self.values = Array(values.prefix(count))
        } else {
            self.values = values + Array(repeating: .nan, count: count - values.count)
        }
        self.colormap = colormap
        self.range = range
        var lo = Double.infinity, hi = -Double.infinity, bad = 0
        for v in self.values {
            if v.isFinite {
                lo = Swift.min(lo, v)
                hi = Swift.max(hi, v)
            } else {
                bad += 1
            }
        }
        finiteMin = lo
        finiteMax = hi
        nonFiniteCount = bad
    }

    /// A heatmap from a list of rows; shorter rows are padded with NaN to the longest.
    public init(matrix: [[Double]], colormap: Colormap = .viridis, range: ClosedRange<Double>? = nil) {
        let cols = matrix.map(\.count).max() ?? 0
        var flat: [Double] = []
        flat.reserveCapacity(matrix.count * cols)
        for row in matrix { flat += row + Array(repeating: .nan, count: cols - row.count) }
        self.init(rows: matrix.count, cols: cols, values: flat, colormap: colormap, range: range)
    }

    /// The value at row `row`, column `col`.
    public func value(row: Int, col: Int) -> Double { values[row * cols + col] }

    /// The values at the low and high ends of the colour scale (see `range`); (0, 1) when there
    /// is no finite value, and a unit-wide interval around a single distinct value.
    public var colorLimits: (lo: Double, hi: Double) {
        if let r = range, r.lowerBound.isFinite, r.upperBound.isFinite, r.upperBound > r.lowerBound {
            return (r.lowerBound, r.upperBound)
        }
        let lo = finiteMin, hi = finiteMax
        guard lo.isFinite else { return (0, 1) }
        if colormap == .diverging && lo < 0 && hi > 0 {
            let m = Swift.max(-lo, hi)
            return (-m, m)
        }
        if lo == hi { return (lo - 0.5, hi + 0.5) }
        return (lo, hi)
    }

    /// Where `value` falls on the colour scale, 0…1 (clamped); nil for NaN and infinities.
    public func level(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        let (lo, hi) = colorLimits
        let t = (value - lo) / (hi - lo)
        return t.isFinite ? Swift.max(0, Swift.min(1, t)) : 0.5
    }

    /// Number of cells that are NaN or infinite.
    public let nonFiniteCount: Int
    /// The smallest finite value (+∞ when there is none).
    public let finiteMin: Double
    /// The largest finite value (−∞ when there is none).
    public let finiteMax: Double
}
