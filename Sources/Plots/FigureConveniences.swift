/// Ready-made figures for the common cases.
extension Figure {
    /// A line through (i, y[i]) for i = 0, 1, 2, ….
    public static func line(y: [Double], label: String = "", title: String = "", xLabel: String = "",
                            yLabel: String = "") -> Figure {
        Figure(title: title, xLabel: xLabel, yLabel: yLabel, series: [.line(y: y, label: label)])
    }

    /// A line through (x[i], y[i]).
    public static func line(x: [Double], y: [Double], label: String = "", title: String = "",
                            xLabel: String = "", yLabel: String = "") -> Figure {
        Figure(title: title, xLabel: xLabel, yLabel: yLabel, series: [.line(x: x, y: y, label: label)])
    }

    /// Points at (x[i], y[i]).
    public static func scatter(x: [Double], y: [Double], label: String = "", title: String = "",
                               xLabel: String = "", yLabel: String = "") -> Figure {
        Figure(title: title, xLabel: xLabel, yLabel: yLabel, series: [.scatter(x: x, y: y, label: label)])
    }

    /// The empirical CDF of `values` as steps (NaN and infinite values skipped), y labelled "ECDF".
    public static func ecdf(values: [Double], label: String = "", title: String = "",
                            xLabel: String = "") -> Figure {
        Figure(title: title, xLabel: xLabel, yLabel: "ECDF", series: [.ecdf(values: values, label: label)])
    }

    /// Several empirical CDFs on one figure, one per (label, values) pair.
    public static func ecdf(_ samples: [(label: String, values: [Double])], title: String = "",
                            xLabel: String = "") -> Figure {
        Figure(title: title, xLabel: xLabel, yLabel: "ECDF",
               series: samples.map { .ecdf(values: $0.values, label: $0.label) })
    }

    /// A histogram of `values` binned as numpy's `histogram` does (`bins` as there: a count, edges
    /// or `.auto`), y labelled "count". NaN and infinite values are skipped.
    public static func histogram(values: [Double], bins: HistogramBins = .auto, label: String = "",
                                 title: String = "", xLabel: String = "") -> Figure {
        Figure(title: title, xLabel: xLabel, yLabel: "count",
               series: [.histogram(values: values, bins: bins, label: label)])
    }

    /// A histogram from bin edges and counts already computed (e.g. by a statistics library).
    public static func histogram(edges: [Double], counts: [Double], label: String = "", title: String = "",
                                 xLabel: String = "") -> Figure {
        Figure(title: title, xLabel: xLabel, yLabel: "count",
               series: [.histogram(edges: edges, counts: counts, label: label)])
    }

    /// A bar per category, in order, with the categories named along the x axis.
    public static func bar(categories: [String], values: [Double], label: String = "", title: String = "",
                           xLabel: String = "", yLabel: String = "") -> Figure {
        var fig = Figure(title: title, xLabel: xLabel, yLabel: yLabel)
        let n = min(categories.count, values.count)
        fig.xAxis.categories = Array(categories.prefix(n))
        fig.add(.bars(x: (0..<n).map(Double.init), heights: Array(values.prefix(n)), width: 0.8, label: label))
        return fig
    }

    /// Grouped bars: for each category, one bar per group side by side, each group a series with
    /// its own label and colour. A group's values beyond the number of categories are ignored.
    public static func groupedBar(categories: [String], groups: [(label: String, values: [Double])],
                                  title: String = "", xLabel: String = "", yLabel: String = "") -> Figure {
        var fig = Figure(title: title, xLabel: xLabel, yLabel: yLabel)
        fig.xAxis.categories = categories
        let k = max(1, groups.count)
        let width = 0.8 / Double(k)
        for (g, group) in groups.enumerated() {
            let n = min(categories.count, group.values.count)
            let offset = -0.4 + width * (Double(g) + 0.5)
            fig.add(.bars(x: (0..<n).map { Double($0) + offset }, heights: Array(group.values.prefix(n)),
                          width: width, label: group.label))
        }
        return fig
    }

    /// Bars at numeric positions x[i] with heights (width: 0.8 of the smallest gap by default).
    public static func bar(x: [Double], heights: [Double], width: Double? = nil, label: String = "",
                           title: String = "", xLabel: String = "", yLabel: String = "") -> Figure {
        Figure(title: title, xLabel: xLabel, yLabel: yLabel,
               series: [.bars(x: x, heights: heights, width: width, label: label)])
    }

    /// A heatmap of a `rows` × `cols` matrix given row by row: row 0 at the top, x labelled
    /// "column", y "row".
    public static func heatmap(rows: Int, cols: Int, values: [Double], colormap: Colormap = .viridis,
                               title: String = "") -> Figure {
        heatmap(Heatmap(rows: rows, cols: cols, values: values, colormap: colormap), title: title)
    }

    /// A heatmap of a matrix given as a list of rows.
    public static func heatmap(_ matrix: [[Double]], colormap: Colormap = .viridis, title: String = "") -> Figure {
        heatmap(Heatmap(matrix: matrix, colormap: colormap), title: title)
    }

    /// A figure showing one heatmap.
    public static func heatmap(_ heatmap: Heatmap, title: String = "") -> Figure {
        var fig = Figure(title: title, xLabel: "column", yLabel: "row", series: [.heatmap(heatmap)])
        fig.yAxis.reversed = true
        return fig
    }

    /// Adds a line through (x[i], y[i]).
    public mutating func addLine(x: [Double], y: [Double], label: String = "", color: Color? = nil) {
        add(.line(x: x, y: y, label: label, color: color))
    }

    /// Adds points at (x[i], y[i]).
    public mutating func addScatter(x: [Double], y: [Double], label: String = "", color: Color? = nil) {
        add(.scatter(x: x, y: y, label: label, color: color))
    }

    /// Adds the empirical CDF of `values`.
    public mutating func addECDF(values: [Double], label: String = "", color: Color? = nil) {
        add(.ecdf(values: values, label: label, color: color))
    }

    /// Adds a histogram of `values`.
    public mutating func addHistogram(values: [Double], bins: HistogramBins = .auto, label: String = "",
                                      color: Color? = nil) {
        add(.histogram(values: values, bins: bins, label: label, color: color))
    }
}
