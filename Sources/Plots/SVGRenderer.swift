import Foundation

/// Draws a `Figure` as a standalone SVG document for a notebook: white background, a framed plot
/// area with light grid lines at the ticks, tick marks and labels, axis labels, the title, series in
/// `Palette.categorical` colours clipped to the plot area, a legend (or a heatmap's colour bar) on
/// the right and, when values were skipped, a note under the plot. Text is sans-serif, 12–14 px,
/// XML-escaped.
///
/// Every `id` in the document starts with the renderer's prefix (`idPrefix`, or a fresh one from
/// `SVGIdentifiers.next()`), so many figures can share one page. Large inputs are thinned for size:
/// long lines keep, per half pixel column, their first, lowest, highest and last points; scatter
/// points keep one per half-pixel square (two-pixel square past 20,000 points); and a heatmap is
/// averaged down to at most `maxHeatmapCells` cells a side.
public struct SVGRenderer: Sendable {
    /// Document width in pixels (at least 120).
    public var width: Double
    /// Document height in pixels (at least 80).
    public var height: Double
    /// Prefix of every id in the document; nil takes a fresh unique one per render.
    public var idPrefix: String?
    /// Most cells drawn along each side of a heatmap (larger matrices are averaged in blocks).
    public var maxHeatmapCells: Int
    /// The CSS font family of all text.
    public var fontFamily: String

    /// A renderer for a `width` × `height` pixel document (640 × 400 by default).
    public init(width: Double = 640, height: Double = 400, idPrefix: String? = nil, maxHeatmapCells: Int = 150,
                fontFamily: String = "DejaVu Sans, Helvetica, Arial, sans-serif") {
        self.width = width
        self.height = height
        self.idPrefix = idPrefix
        self.maxHeatmapCells = maxHeatmapCells
        self.fontFamily = fontFamily
    }

    /// The figure as an SVG document (one `<svg>` element, no XML declaration).
    public func render(_ figure: Figure) -> String {
        SVGPlot(renderer: self, figure: figure).render()
    }
}

/// One SVG rendering in progress: the figure, its resolved axes and its `SVGLayout`, drawn element
/// by element (each function below returns the markup of one part, in document order).
struct SVGPlot {
    let figure: Figure
    let prefix: String
    let maxCells: Int
    let fontFamily: String
    let xa: ResolvedAxis
    let ya: ResolvedAxis
    let colors: [Color]
    let heatmap: Heatmap?
    let layout: SVGLayout

    init(renderer: SVGRenderer, figure: Figure) {
        self.figure = figure
        let width = renderer.width.isFinite ? max(120, min(20_000, renderer.width)) : 640
        let height = renderer.height.isFinite ? max(80, min(20_000, renderer.height)) : 400
        prefix = renderer.idPrefix.map(SVGIdentifiers.sanitized) ?? SVGIdentifiers.next()
        maxCells = max(1, min(2000, renderer.maxHeatmapCells))
        fontFamily = renderer.fontFamily
        (xa, ya) = PlotGeometry.resolve(figure)
        colors = PlotGeometry.colors(figure)
        heatmap = PlotGeometry.heatmap(figure)
        layout = SVGLayout(figure: figure, xAxis: xa, yAxis: ya, heatmap: heatmap, width: width, height: height)
    }

    func n(_ x: Double) -> String { NumberFormatting.coordinate(x) }
    func esc(_ s: String) -> String { XMLText.escape(s) }

    func render() -> String {
        var out = documentStart()
        if heatmap == nil { out += grid() }
        out += series()
        out += noDataNote()
        out += frameAndTicks()
        out += axisLabelsAndTitle()
        if let hm = heatmap, let bar = layout.colorBar { out += colorBar(bar, hm) }
        if let legend = layout.legend { out += legendBox(legend) }
        if let note = layout.note {
            out += "<text x=\"\(n(note.x))\" y=\"\(n(note.y))\" font-size=\"11\" fill=\"#777777\">\(esc(note.text))</text>\n"
        }
        return out + "</svg>"
    }

    /// The `<svg>` element's start, the title, the definitions (the plot area's clip path and a
    /// heatmap's colour bar gradient) and the white background.
    func documentStart() -> String {
        let box = layout.plot
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(layout.width))\" height=\"\(n(layout.height))\" "
        out += "viewBox=\"0 0 \(n(layout.width)) \(n(layout.height))\" font-family=\"\(esc(fontFamily))\" font-size=\"\(n(SVGLayout.tickFont))\" "
        out += "role=\"img\" aria-labelledby=\"\(prefix)-title\">\n"
        out += "<title id=\"\(prefix)-title\">\(esc(figure.title.isEmpty ? "figure" : figure.title))</title>\n"
        out += "<defs><clipPath id=\"\(prefix)-clip\"><rect x=\"\(n(box.x))\" y=\"\(n(box.y))\" "
        out += "width=\"\(n(box.w))\" height=\"\(n(box.h))\"/></clipPath>"
        if let hm = heatmap {
            out += "<linearGradient id=\"\(prefix)-cbar\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
            for i in 0...10 {
                out += "<stop offset=\"\(n(Double(i) / 10))\" stop-color=\"\(hm.colormap.color(at: Double(i) / 10).hex)\"/>"
            }
            out += "</linearGradient>"
        }
        out += "</defs>\n"
        out += "<rect width=\"\(n(layout.width))\" height=\"\(n(layout.height))\" fill=\"#ffffff\"/>\n"
        return out
    }

    /// Light grid lines across the plot area at the minor ticks, then darker ones at the major ticks.
    func grid() -> String {
        let box = layout.plot
        func vertical(_ x: Double) -> String { "M\(n(x)) \(n(box.y))V\(n(box.y + box.h))" }
        func horizontal(_ y: Double) -> String { "M\(n(box.x)) \(n(y))H\(n(box.x + box.w))" }
        let major = layout.xTicks.map { vertical($0.at) }.joined() + layout.yTicks.map { horizontal($0.at) }.joined()
        let minor = layout.xMinorTicks.map(vertical).joined() + layout.yMinorTicks.map(horizontal).joined()
        var out = ""
        if !minor.isEmpty { out += "<path d=\"\(minor)\" stroke=\"#f2f2f2\" stroke-width=\"1\" fill=\"none\"/>\n" }
        if !major.isEmpty { out += "<path d=\"\(major)\" stroke=\"#e3e3e3\" stroke-width=\"1\" fill=\"none\"/>\n" }
        return out
    }

    /// Everything drawn from the data, clipped to the plot area: the heatmap, then the bars and
    /// histograms, then the lines, steps and scatter points.
    func series() -> String {
        var out = "<g clip-path=\"url(#\(prefix)-clip)\">\n"
        if let hm = heatmap { out += heatmapSVG(hm) }
        let filledCount = figure.series.filter(\.isFilled).count
        for (k, s) in figure.series.enumerated() where s.isFilled {
            out += filledSeries(s, color: colors[k], opacity: filledCount > 1 ? 0.6 : 0.85)
        }
        for (k, s) in figure.series.enumerated() where !s.isFilled && !s.isHeatmap {
            out += lineSeries(s, color: colors[k])
        }
        return out + "</g>\n"
    }

    /// A bar or histogram series: one group of rectangles in its colour (histogram bins outlined in white).
    func filledSeries(_ s: Series, color: Color, opacity: Double) -> String {
        let rects = PlotGeometry.rects(s, xa, ya)
        guard !rects.isEmpty else { return "" }
        var out = "<g fill=\"\(color.hex)\" fill-opacity=\"\(n(opacity))\""
        if case .histogram = s.geometry { out += " stroke=\"#ffffff\" stroke-width=\"0.5\"" }
        out += ">"
        for r in rects {
            let x0 = layout.x(min(r.left, r.right)), x1 = layout.x(max(r.left, r.right))
            let y0 = layout.y(max(r.base, r.top)), y1 = layout.y(min(r.base, r.top))
            guard x1 - x0 > 0 || y1 - y0 > 0 else { continue }
            out += "<rect x=\"\(n(x0))\" y=\"\(n(y0))\" width=\"\(n(max(0.5, x1 - x0)))\" height=\"\(n(y1 - y0))\"/>"
        }
        return out + "</g>\n"
    }

    /// A line, step or scatter series: one path for its polylines and one of round dots for its
    /// single points (a scatter series is all dots).
    func lineSeries(_ s: Series, color: Color) -> String {
        let pieces = PlotGeometry.clipped(PlotGeometry.runs(s, xa, ya))
        guard !pieces.isEmpty else { return "" }
        var path = "", dots = ""
        // points closer than a fraction of a marker look the same: keep one per grid square
        // (half a pixel, or two pixels when there are very many)
        let single = pieces.filter { $0.count == 1 }.count
        let grid = single > 20_000 ? 2.0 : 0.5
        var seen = Set<Int64>()
        for piece in pieces {
            let pts = thinned(piece.map { (layout.x($0.x), layout.y($0.y)) }, pixels: layout.plot.w)
            if pts.count == 1 {
                let key = Int64((pts[0].0 / grid).rounded()) << 32 | Int64((pts[0].1 / grid).rounded())
                if seen.insert(key).inserted { dots += "M\(n(pts[0].0)) \(n(pts[0].1))h0" }
                continue
            }
            path += "M" + pts.map { "\(n($0.0)) \(n($0.1))" }.joined(separator: "L")
        }
        if case .scatter = s.geometry {
            return "<path d=\"\(dots)\" stroke=\"\(color.hex)\" stroke-width=\"6\" stroke-linecap=\"round\" fill=\"none\" stroke-opacity=\"0.85\"/>\n"
        }
        var out = ""
        if !path.isEmpty {
            out += "<path d=\"\(path)\" stroke=\"\(color.hex)\" stroke-width=\"1.75\" stroke-linejoin=\"round\" stroke-linecap=\"round\" fill=\"none\"/>\n"
        }
        if !dots.isEmpty {
            out += "<path d=\"\(dots)\" stroke=\"\(color.hex)\" stroke-width=\"4\" stroke-linecap=\"round\" fill=\"none\"/>\n"
        }
        return out
    }

    /// "(no data)" in the middle of the plot area when nothing of the data can be drawn.
    func noDataNote() -> String {
        let drawsSomething = figure.series.contains { s in
            s.isFilled ? !PlotGeometry.rects(s, xa, ya).isEmpty : !PlotGeometry.clipped(PlotGeometry.runs(s, xa, ya)).isEmpty
        }
        guard figure.series.isEmpty || (heatmap == nil && !drawsSomething) else { return "" }
        let box = layout.plot
        return "<text x=\"\(n(box.x + box.w / 2))\" y=\"\(n(box.y + box.h / 2))\" text-anchor=\"middle\" fill=\"#888888\">(no data)</text>\n"
    }

    /// The plot area's frame, the tick marks on its bottom and left edges and the tick labels.
    func frameAndTicks() -> String {
        let box = layout.plot, tf = SVGLayout.tickFont
        var out = "<rect x=\"\(n(box.x))\" y=\"\(n(box.y))\" width=\"\(n(box.w))\" height=\"\(n(box.h))\" fill=\"none\" stroke=\"#444444\" stroke-width=\"1\"/>\n"
        var marks = ""
        var labels = ""
        let bottom = box.y + box.h
        for t in layout.xTicks {
            marks += "M\(n(t.at)) \(n(bottom))v5"
            if layout.rotateXLabels {
                labels += "<text x=\"\(n(t.at))\" y=\"\(n(bottom + 10))\" text-anchor=\"end\" transform=\"rotate(-40 \(n(t.at)) \(n(bottom + 10)))\" dy=\"\(n(tf * 0.35))\">\(esc(t.label))</text>"
            } else {
                labels += "<text x=\"\(n(t.at))\" y=\"\(n(bottom + 7 + tf))\" text-anchor=\"middle\">\(esc(t.label))</text>"
            }
        }
        for t in layout.yTicks {
            marks += "M\(n(box.x)) \(n(t.at))h-5"
            labels += "<text x=\"\(n(box.x - 8))\" y=\"\(n(t.at + tf * 0.35))\" text-anchor=\"end\">\(esc(t.label))</text>"
        }
        for x in layout.xMinorTicks { marks += "M\(n(x)) \(n(bottom))v3" }
        for y in layout.yMinorTicks { marks += "M\(n(box.x)) \(n(y))h-3" }
        if !marks.isEmpty { out += "<path d=\"\(marks)\" stroke=\"#444444\" stroke-width=\"1\" fill=\"none\"/>\n" }
        return out + "<g fill=\"#222222\">\(labels)</g>\n"
    }

    /// The x label under the plot, the y label turned on its left, and the bold title above.
    func axisLabelsAndTitle() -> String {
        let lf = SVGLayout.labelFont, titleFont = SVGLayout.titleFont
        var out = ""
        if let l = layout.xLabel {
            out += "<text x=\"\(n(l.x))\" y=\"\(n(l.y))\" text-anchor=\"middle\" font-size=\"\(n(lf))\" fill=\"#222222\">\(esc(l.text))</text>\n"
        }
        if let l = layout.yLabel {
            out += "<text x=\"\(n(l.x))\" y=\"\(n(l.y))\" text-anchor=\"middle\" font-size=\"\(n(lf))\" fill=\"#222222\" transform=\"rotate(-90 \(n(l.x)) \(n(l.y)))\">\(esc(l.text))</text>\n"
        }
        if let t = layout.title {
            out += "<text x=\"\(n(t.x))\" y=\"\(n(t.y))\" text-anchor=\"middle\" font-size=\"\(n(titleFont))\" font-weight=\"bold\" fill=\"#111111\">\(esc(t.text))</text>\n"
        }
        return out
    }

    /// A heatmap's colour bar: the gradient from the definitions, with tick marks and labels on its right.
    func colorBar(_ bar: SVGLayout.ColorBar, _ hm: Heatmap) -> String {
        let b = bar.box, tf = SVGLayout.tickFont
        var out = "<rect x=\"\(n(b.x))\" y=\"\(n(b.y))\" width=\"\(n(b.w))\" height=\"\(n(b.h))\" fill=\"url(#\(prefix)-cbar)\" stroke=\"#444444\" stroke-width=\"0.5\"/>\n"
        var labels = "", marks = ""
        for t in bar.ticks {
            marks += "M\(n(b.x + b.w)) \(n(t.at))h4"
            labels += "<text x=\"\(n(b.x + b.w + 7))\" y=\"\(n(t.at + tf * 0.35))\">\(esc(t.label))</text>"
        }
        out += "<path d=\"\(marks)\" stroke=\"#444444\" stroke-width=\"1\" fill=\"none\"/>\n<g fill=\"#222222\">\(labels)</g>\n"
        return out
    }

    /// The legend box: a swatch (line, dot or block, after the series' kind) and a label per row,
    /// and the "… N more" row when not every series fits.
    func legendBox(_ legend: SVGLayout.Legend) -> String {
        let b = legend.box, tf = SVGLayout.tickFont
        let x = b.x
        var out = "<g class=\"legend\"><rect x=\"\(n(x))\" y=\"\(n(b.y))\" width=\"\(n(b.w))\" height=\"\(n(b.h))\" fill=\"#ffffff\" stroke=\"#cccccc\" stroke-width=\"1\" rx=\"3\"/>"
        if let more = legend.more {
            out += "<text x=\"\(n(x + 10))\" y=\"\(n(more.at + tf * 0.35))\" fill=\"#555555\">\(more.label)</text>"
        }
        for row in legend.rows {
            let cy = row.centreY
            let c = colors[row.series].hex
            switch figure.series[row.series].geometry {
            case .scatter:
                out += "<circle cx=\"\(n(x + 21))\" cy=\"\(n(cy))\" r=\"3.5\" fill=\"\(c)\"/>"
            case .bars, .histogram:
                out += "<rect x=\"\(n(x + 13))\" y=\"\(n(cy - 5))\" width=\"16\" height=\"10\" fill=\"\(c)\" fill-opacity=\"0.85\"/>"
            default:
                out += "<path d=\"M\(n(x + 10)) \(n(cy))h22\" stroke=\"\(c)\" stroke-width=\"2\"/>"
            }
            out += "<text x=\"\(n(x + 38))\" y=\"\(n(cy + tf * 0.35))\" fill=\"#222222\">\(esc(row.label))</text>"
        }
        return out + "</g>\n"
    }

    /// The points of a long polyline reduced for drawing: consecutive duplicates dropped and, past
    /// 4 points per pixel column, each half-pixel column kept as its first, lowest, highest and
    /// last point, in their original order.
    func thinned(_ pts: [(Double, Double)], pixels: Double) -> [(Double, Double)] {
        var out: [(Double, Double)] = []
        out.reserveCapacity(min(pts.count, 8192))
        func push(_ p: (Double, Double)) {
            if let l = out.last, abs(l.0 - p.0) < 0.005 && abs(l.1 - p.1) < 0.005 { return }
            out.append(p)
        }
        guard pts.count > Int(4 * pixels) + 8 else {
            for p in pts { push(p) }
            return out
        }
        var i = 0
        while i < pts.count {
            let column = (pts[i].0 * 2).rounded(.down)
            var j = i
            var lo = i, hi = i
            while j + 1 < pts.count && (pts[j + 1].0 * 2).rounded(.down) == column {
                j += 1
                if pts[j].1 < pts[lo].1 { lo = j }
                if pts[j].1 > pts[hi].1 { hi = j }
            }
            for index in Array(Set([i, lo, hi, j])).sorted() { push(pts[index]) }
            i = j + 1
        }
        return out
    }

    /// The heatmap as one path per colour level (256 levels), averaged in blocks when larger than
    /// `maxCells` a side; NaN blocks grey.
    func heatmapSVG(_ hm: Heatmap) -> String {
        guard hm.rows > 0, hm.cols > 0 else { return "" }
        let bx = (hm.cols + maxCells - 1) / maxCells, by = (hm.rows + maxCells - 1) / maxCells
        var paths: [Int: String] = [:]
        var r0 = 0
        while r0 < hm.rows {
            let r1 = min(hm.rows, r0 + by)
            guard let ya0 = ya.normalized(Double(r0) - 0.5), let ya1 = ya.normalized(Double(r1) - 0.5) else { r0 = r1; continue }
            let y0 = layout.y(ya0), y1 = layout.y(ya1)
            var c0 = 0
            while c0 < hm.cols {
                let c1 = min(hm.cols, c0 + bx)
                var sum = 0.0, count = 0
                for r in r0..<r1 {
                    for c in c0..<c1 {
                        let v = hm.value(row: r, col: c)
                        if v.isFinite { sum += v; count += 1 }
                    }
                }
                let level = count == 0 ? -1 : Int(((hm.level(sum / Double(count)) ?? 0) * 255).rounded())
                if let xa0 = xa.normalized(Double(c0) - 0.5), let xa1 = xa.normalized(Double(c1) - 0.5) {
                    let x0 = layout.x(xa0), x1 = layout.x(xa1)
                    paths[level, default: ""] += "M\(n(min(x0, x1))) \(n(min(y0, y1)))H\(n(max(x0, x1)))V\(n(max(y0, y1)))H\(n(min(x0, x1)))Z"
                }
                c0 = c1
            }
            r0 = r1
        }
        var out = "<g shape-rendering=\"crispEdges\">"
        for level in paths.keys.sorted() {
            let fill = level < 0 ? "#d9d9d9" : hm.colormap.color(at: Double(level) / 255).hex
            out += "<path d=\"\(paths[level]!)\" fill=\"\(fill)\"/>"
        }
        return out + "</g>\n"
    }
}
