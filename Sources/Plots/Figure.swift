/// A figure: title, two axes, a legend switch and the series drawn on them. One model, rendered
/// as text by `TextRenderer` (`text()`) and as SVG by `SVGRenderer` (`svg()`).
///
/// Values that cannot be drawn (NaN, ±infinity, values ≤ 0 on a log axis) are skipped, never
/// drawn at NaN coordinates; `skippedValueCount` counts them and the renderers print a note.
public struct Figure: Sendable, Equatable {
    /// The title above the plot ("" for none).
    public var title: String
    /// The horizontal axis.
    public var xAxis: Axis
    /// The vertical axis.
    public var yAxis: Axis
    /// Whether to show a legend (it lists only series with a non-empty label).
    public var showLegend: Bool
    /// The series, drawn in order (later ones on top).
    public var series: [Series]

    /// A figure; everything is optional and can be set afterwards.
    public init(title: String = "", xLabel: String = "", yLabel: String = "", xScale: Scale = .linear,
                yScale: Scale = .linear, xLimits: ClosedRange<Double>? = nil,
                yLimits: ClosedRange<Double>? = nil, showLegend: Bool = true, series: [Series] = []) {
        self.title = title
        self.xAxis = Axis(label: xLabel, scale: xScale, limits: xLimits)
        self.yAxis = Axis(label: yLabel, scale: yScale, limits: yLimits)
        self.showLegend = showLegend
        self.series = series
    }

    /// The x axis label.
    public var xLabel: String {
        get { xAxis.label }
        set { xAxis.label = newValue }
    }

    /// The y axis label.
    public var yLabel: String {
        get { yAxis.label }
        set { yAxis.label = newValue }
    }

    /// The x axis scale.
    public var xScale: Scale {
        get { xAxis.scale }
        set { xAxis.scale = newValue }
    }

    /// The y axis scale.
    public var yScale: Scale {
        get { yAxis.scale }
        set { yAxis.scale = newValue }
    }

    /// Fixed x limits (nil fits the data).
    public var xLimits: ClosedRange<Double>? {
        get { xAxis.limits }
        set { xAxis.limits = newValue }
    }

    /// Fixed y limits (nil fits the data).
    public var yLimits: ClosedRange<Double>? {
        get { yAxis.limits }
        set { yAxis.limits = newValue }
    }

    /// Adds a series on top of the others.
    public mutating func add(_ series: Series) {
        self.series.append(series)
    }

    /// This figure with one more series on top.
    public func adding(_ series: Series) -> Figure {
        var copy = self
        copy.add(series)
        return copy
    }

    /// Number of values not drawn: non-finite coordinates, counts or cells, values ≤ 0 on a log
    /// axis, and heatmaps on a log axis (all their cells).
    public var skippedValueCount: Int {
        let x = xAxis.scale, y = yAxis.scale
        var skipped = 0
        for s in series {
            switch s.geometry {
            case .line(let xs, let ys), .step(let xs, let ys), .scatter(let xs, let ys):
                for i in 0..<min(xs.count, ys.count) where x.transform(xs[i]) == nil || y.transform(ys[i]) == nil {
                    skipped += 1
                }
            case .bars(let xs, let hs, let w):
                for i in 0..<min(xs.count, hs.count) where hs[i] != 0 && PlotGeometry.bar(xs[i], hs[i], w, x, y) == nil { skipped += 1 }
            case .histogram(let edges, let counts):
                for i in 0..<min(counts.count, max(0, edges.count - 1))
                where counts[i] != 0 && PlotGeometry.bin(edges[i], edges[i + 1], counts[i], x, y) == nil {
                    skipped += 1
                }
            case .heatmap(let h):
                skipped += (x == .linear && y == .linear) ? h.nonFiniteCount : h.values.count
            }
        }
        return skipped
    }

    /// The one-line note renderers print under a figure that skipped values; nil when none were.
    public var skippedNote: String? {
        let n = skippedValueCount
        guard n > 0 else { return nil }
        let what = (xAxis.scale == .log10 || yAxis.scale == .log10) ? "NaN, infinite or ≤ 0 on a log axis"
                                                                    : "NaN or infinite"
        return "\(n) value\(n == 1 ? "" : "s") not drawn (\(what))"
    }

    /// Renders the figure as text (see `TextRenderer`): `width` × `height` characters of plot area.
    public func text(width: Int = 60, height: Int = 15, color: Bool = false, ascii: Bool = false) -> String {
        TextRenderer(width: width, height: height, color: color, ascii: ascii).render(self)
    }

    /// Renders the figure as a standalone SVG document (see `SVGRenderer`); `idPrefix` nil takes a
    /// fresh unique prefix.
    public func svg(width: Double = 640, height: Double = 400, idPrefix: String? = nil) -> String {
        SVGRenderer(width: width, height: height, idPrefix: idPrefix).render(self)
    }
}
