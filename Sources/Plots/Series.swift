/// One thing drawn in a figure: a line, steps, points, bars, a histogram or a heatmap, with the
/// label the legend shows and an optional colour.
///
/// Points with a NaN or infinite coordinate, and points ≤ 0 on a log axis, are skipped (a line is
/// broken there) and counted in `Figure.skippedValueCount`. When `x` and `y` differ in length only
/// the first `min(x.count, y.count)` points are used.
public struct Series: Sendable, Equatable {
    /// What is drawn and its data.
    public enum Geometry: Sendable, Equatable {
        /// Points joined by straight lines, in the given order.
        case line(x: [Double], y: [Double])
        /// Post steps (as an ECDF is drawn): y[i] holds from x[i] to x[i+1], then the line rises or
        /// falls vertically to y[i+1].
        case step(x: [Double], y: [Double])
        /// Unjoined points.
        case scatter(x: [Double], y: [Double])
        /// Bars centred on x with the given heights, each `width` wide (in x units), from 0 (from
        /// the bottom of the axis on a log y axis).
        case bars(x: [Double], heights: [Double], width: Double)
        /// Adjacent bars: bin i spans edges[i]…edges[i+1] with height counts[i].
        case histogram(edges: [Double], counts: [Double])
        /// A matrix of coloured cells.
        case heatmap(Heatmap)
    }

    /// What is drawn.
    public var geometry: Geometry
    /// The name in the legend ("" keeps the series out of the legend).
    public var label: String
    /// The series colour; nil takes the next colour of `Palette.categorical`.
    public var color: Color?

    /// A series from its geometry, label and colour.
    public init(_ geometry: Geometry, label: String = "", color: Color? = nil) {
        self.geometry = geometry
        self.label = label
        self.color = color
    }

    /// A line through (x[i], y[i]).
    public static func line(x: [Double], y: [Double], label: String = "", color: Color? = nil) -> Series {
        Series(.line(x: x, y: y), label: label, color: color)
    }

    /// A line through (i, y[i]) for i = 0, 1, 2, ….
    public static func line(y: [Double], label: String = "", color: Color? = nil) -> Series {
        Series(.line(x: y.indices.map(Double.init), y: y), label: label, color: color)
    }

    /// Post steps through (x[i], y[i]) (see `Geometry.step`).
    public static func step(x: [Double], y: [Double], label: String = "", color: Color? = nil) -> Series {
        Series(.step(x: x, y: y), label: label, color: color)
    }

    /// Points at (x[i], y[i]).
    public static func scatter(x: [Double], y: [Double], label: String = "", color: Color? = nil) -> Series {
        Series(.scatter(x: x, y: y), label: label, color: color)
    }

    /// Bars at x[i] of height heights[i]; `width` nil takes 0.8 of the smallest gap between
    /// distinct x (0.8 for a single bar).
    public static func bars(x: [Double], heights: [Double], width: Double? = nil, label: String = "",
                            color: Color? = nil) -> Series {
        Series(.bars(x: x, heights: heights, width: width ?? defaultBarWidth(x)), label: label, color: color)
    }

    /// A histogram from bin edges and counts (`counts.count` = `edges.count - 1`; extras ignored).
    public static func histogram(edges: [Double], counts: [Double], label: String = "",
                                 color: Color? = nil) -> Series {
        Series(.histogram(edges: edges, counts: counts), label: label, color: color)
    }

    /// A histogram of `values`, binned as numpy's `histogram` does (see `PlotStatistics.histogram`);
    /// NaN and infinite values are skipped.
    public static func histogram(values: [Double], bins: HistogramBins = .auto, label: String = "",
                                 color: Color? = nil) -> Series {
        let h = PlotStatistics.histogram(values, bins: bins)
        return Series(.histogram(edges: h.edges, counts: h.counts), label: label, color: color)
    }

    /// The empirical CDF of `values` as post steps (see `PlotStatistics.ecdf`); NaN and infinite
    /// values are skipped.
    public static func ecdf(values: [Double], label: String = "", color: Color? = nil) -> Series {
        let e = PlotStatistics.ecdf(values)
        return Series(.step(x: e.x, y: e.y), label: label, color: color)
    }

    /// A heatmap series.
    public static func heatmap(_ heatmap: Heatmap, label: String = "") -> Series {
        Series(.heatmap(heatmap), label: label)
    }

    /// True for bars and histograms (drawn as filled blocks).
    public var isFilled: Bool {
        switch geometry {
        case .bars, .histogram: return true
        default: return false
        }
    }

    /// True for a heatmap.
    public var isHeatmap: Bool {
        if case .heatmap = geometry { return true }
        return false
    }

    /// 0.8 of the smallest gap between distinct positions (0.8 when there are fewer than two).
    static func defaultBarWidth(_ x: [Double]) -> Double {
        let sorted = Array(Set(x.filter { $0.isFinite })).sorted()
        var gap = Double.infinity
        for (a, b) in zip(sorted, sorted.dropFirst()) { gap = min(gap, b - a) }
        return gap.isFinite && gap > 0 ? 0.8 * gap : 0.8
    }
}
