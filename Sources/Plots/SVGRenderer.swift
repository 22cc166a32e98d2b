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

/// One SVG rendering in progress.
struct SVGPlot {
    let figure: Figure
    let width: Double
    let height: Double
    let prefix: String
    let maxCells: Int
    let fontFamily: String
    let xa: ResolvedAxis
    let ya: ResolvedAxis
    let colors: [Color]

    static let tickFont = 12.0, labelFont = 13.0, titleFont = 14.0

    init(renderer: SVGRenderer, figure: Figure) {
        self.figure = figure
        width = renderer.width.isFinite ? max(120, min(20_000, renderer.width)) : 640
        height = renderer.height.isFinite ? max(80, min(20_000, renderer.height)) : 400
        prefix = renderer.idPrefix.map(SVGIdentifiers.sanitized) ?? SVGIdentifiers.next()
        maxCells = max(1, min(2000, renderer.maxHeatmapCells))
        fontFamily = renderer.fontFamily
        (xa, ya) = PlotGeometry.resolve(figure)
        colors = PlotGeometry.colors(figure)
    }

    /// Estimated width of `text` at font size `size` (sans-serif averages about 0.6 em a character).
    static func textWidth(_ text: String, _ size: Double) -> Double { Double(DisplayWidth.of(text)) * size * 0.6 }

    func n(_ x: Double) -> String { NumberFormatting.coordinate(x) }
    func esc(_ s: String) -> String { XMLText.escape(s) }

    func render() -> String {
        let tf = SVGPlot.tickFont, lf = SVGPlot.labelFont
        let heatmap = PlotGeometry.heatmap(figure)
        let legend = figure.showLegend ? figure.series.enumerated().filter { !$0.element.label.isEmpty && !$0.element.isHeatmap } : []
        let note = figure.skippedNote

        // margins
        let top = figure.title.isEmpty ? 14.0 : 38.0
        var right = 20.0
        var colorTicks: [(value: Double, label: String)] = []
        if let hm = heatmap {
            let (lo, hi) = hm.colorLimits
            let values = Ticks.linear(lo: lo, hi: hi, target: 5)
            colorTicks = Array(zip(values, Ticks.labels(for: values, scale: .linear)))
            right = max(right, 16 + 14 + 6 + (colorTicks.map { SVGPlot.textWidth($0.label, tf) }.max() ?? 0) + 10)
        }
        if !legend.isEmpty {
            let lw = legend.map { SVGPlot.textWidth($0.element.label, tf) }.max() ?? 0
            right = max(right, 16 + 10 + 22 + 6 + min(lw, width * 0.3) + 18)
        }
        var bottom = 10 + 6 + tf + 4 + (figure.xAxis.label.isEmpty ? 0 : lf + 8) + (note == nil ? 0 : 16)
        var ph = max(10, height - top - bottom)
        var yTicks = ya.ticks(target: max(2, Int(ph / 45)))
        var left = 10 + (figure.yAxis.label.isEmpty ? 0 : lf + 8)
            + (yTicks.map { SVGPlot.textWidth($0.label, tf) }.max() ?? 0) + 10
        var pw = max(10, width - left - right)

        // x ticks: fewer until the labels fit; categories turn their labels when they crowd
        var xTicks: [(value: Double, label: String)] = []
        var rotate = false
        var target = max(2, Int(pw / 70))
        while true {
            xTicks = xa.ticks(target: target)
            if !crowded(xTicks, pw) || target <= 2 { break }
            target -= 1
        }
        if xa.categories != nil && crowded(xTicks, pw) {
            rotate = true
            xTicks = xa.ticks(target: max(2, Int(pw / (tf * 1.4))))
            let longest = xTicks.map { SVGPlot.textWidth($0.label, tf) }.max() ?? 0
            bottom += min(height * 0.3, longest * 0.64)
            ph = max(10, height - top - bottom)
            yTicks = ya.ticks(target: max(2, Int(ph / 45)))
            left = 10 + (figure.yAxis.label.isEmpty ? 0 : lf + 8)
                + (yTicks.map { SVGPlot.textWidth($0.label, tf) }.max() ?? 0) + 10
            pw = max(10, width - left - right)
        }
        let box = (x: left, y: top, w: pw, h: ph)
        func sx(_ u: Double) -> Double { box.x + max(-0.05, min(1.05, u)) * box.w }
        func sy(_ v: Double) -> Double { box.y + (1 - max(-0.05, min(1.05, v))) * box.h }

        var out = ""
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" "
        out += "viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"\(esc(fontFamily))\" font-size=\"\(n(tf))\" "
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
        out += "<rect width=\"\(n(width))\" height=\"\(n(height))\" fill=\"#ffffff\"/>\n"

        // grid
        var grid = ""
        var minor = ""
        for t in xTicks { if let u = xa.normalized(t.value), u >= -1e-9, u <= 1 + 1e-9 { grid += "M\(n(sx(u))) \(n(box.y))V\(n(box.y + box.h))" } }
        for t in yTicks { if let v = ya.normalized(t.value), v >= -1e-9, v <= 1 + 1e-9 { grid += "M\(n(box.x)) \(n(sy(v)))H\(n(box.x + box.w))" } }
        for m in xa.minorTicks { if let u = xa.normalized(m) { minor += "M\(n(sx(u))) \(n(box.y))V\(n(box.y + box.h))" } }
        for m in ya.minorTicks { if let v = ya.normalized(m) { minor += "M\(n(box.x)) \(n(sy(v)))H\(n(box.x + box.w))" } }
        if heatmap == nil {
            if !minor.isEmpty { out += "<path d=\"\(minor)\" stroke=\"#f2f2f2\" stroke-width=\"1\" fill=\"none\"/>\n" }
            if !grid.isEmpty { out += "<path d=\"\(grid)\" stroke=\"#e3e3e3\" stroke-width=\"1\" fill=\"none\"/>\n" }
        }

        // series
        out += "<g clip-path=\"url(#\(prefix)-clip)\">\n"
        if let hm = heatmap { out += heatmapSVG(hm, sx: sx, sy: sy) }
        let filledCount = figure.series.filter(\.isFilled).count
        for (k, s) in figure.series.enumerated() where s.isFilled {
            let rects = PlotGeometry.rects(s, xa, ya)
            guard !rects.isEmpty else { continue }
            var isHistogram = false
            if case .histogram = s.geometry { isHistogram = true }
            let opacity = filledCount > 1 ? 0.6 : 0.85
            out += "<g fill=\"\(colors[k].hex)\" fill-opacity=\"\(n(opacity))\""
            if isHistogram { out += " stroke=\"#ffffff\" stroke-width=\"0.5\"" }
            out += ">"
            for r in rects {
                let x0 = sx(min(r.left, r.right)), x1 = sx(max(r.left, r.right))
                let y0 = sy(max(r.base, r.top)), y1 = sy(min(r.base, r.top))
                guard x1 - x0 > 0 || y1 - y0 > 0 else { continue }
                out += "<rect x=\"\(n(x0))\" y=\"\(n(y0))\" width=\"\(n(max(0.5, x1 - x0)))\" height=\"\(n(y1 - y0))\"/>"
            }
            out += "</g>\n"
        }
        for (k, s) in figure.series.enumerated() where !s.isFilled && !s.isHeatmap {
            let pieces = PlotGeometry.clipped(PlotGeometry.runs(s, xa, ya))
            guard !pieces.isEmpty else { continue }
            var path = "", dots = ""
            // points closer than a fraction of a marker look the same: keep one per grid square
            // (half a pixel, or two pixels when there are very many)
            let single = pieces.filter { $0.count == 1 }.count
            let grid = single > 20_000 ? 2.0 : 0.5
            var seen = Set<Int64>()
            for piece in pieces {
                let pts = thinned(piece.map { (sx($0.x), sy($0.y)) }, pixels: box.w)
                if pts.count == 1 {
                    let key = Int64((pts[0].0 / grid).rounded()) << 32 | Int64((pts[0].1 / grid).rounded())
                    if seen.insert(key).inserted { dots += "M\(n(pts[0].0)) \(n(pts[0].1))h0" }
                    continue
                }
                path += "M" + pts.map { "\(n($0.0)) \(n($0.1))" }.joined(separator: "L")
            }
            if case .scatter = s.geometry {
                out += "<path d=\"\(dots)\" stroke=\"\(colors[k].hex)\" stroke-width=\"6\" stroke-linecap=\"round\" fill=\"none\" stroke-opacity=\"0.85\"/>\n"
            } else {
                if !path.isEmpty {
                    out += "<path d=\"\(path)\" stroke=\"\(colors[k].hex)\" stroke-width=\"1.75\" stroke-linejoin=\"round\" stroke-linecap=\"round\" fill=\"none\"/>\n"
                }
                if !dots.isEmpty {
                    out += "<path d=\"\(dots)\" stroke=\"\(colors[k].hex)\" stroke-width=\"4\" stroke-linecap=\"round\" fill=\"none\"/>\n"
                }
            }
        }
        out += "</g>\n"
        if figure.series.isEmpty || (heatmap == nil && !figure.series.contains { s in
            s.isFilled ? !PlotGeometry.rects(s, xa, ya).isEmpty : !PlotGeometry.clipped(PlotGeometry.runs(s, xa, ya)).isEmpty
        }) {
            out += "<text x=\"\(n(box.x + box.w / 2))\" y=\"\(n(box.y + box.h / 2))\" text-anchor=\"middle\" fill=\"#888888\">(no data)</text>\n"
        }

        // frame, ticks, labels
        out += "<rect x=\"\(n(box.x))\" y=\"\(n(box.y))\" width=\"\(n(box.w))\" height=\"\(n(box.h))\" fill=\"none\" stroke=\"#444444\" stroke-width=\"1\"/>\n"
        var marks = ""
        var labels = ""
        for t in xTicks {
            guard let u = xa.normalized(t.value), u >= -1e-9, u <= 1 + 1e-9 else { continue }
            let x = sx(u), y = box.y + box.h
            marks += "M\(n(x)) \(n(y))v5"
            if rotate {
                labels += "<text x=\"\(n(x))\" y=\"\(n(y + 10))\" text-anchor=\"end\" transform=\"rotate(-40 \(n(x)) \(n(y + 10)))\" dy=\"\(n(tf * 0.35))\">\(esc(t.label))</text>"
            } else {
                labels += "<text x=\"\(n(x))\" y=\"\(n(y + 7 + tf))\" text-anchor=\"middle\">\(esc(t.label))</text>"
            }
        }
        for t in yTicks {
            guard let v = ya.normalized(t.value), v >= -1e-9, v <= 1 + 1e-9 else { continue }
            let y = sy(v)
            marks += "M\(n(box.x)) \(n(y))h-5"
            labels += "<text x=\"\(n(box.x - 8))\" y=\"\(n(y + tf * 0.35))\" text-anchor=\"end\">\(esc(t.label))</text>"
        }
        for m in xa.minorTicks { if let u = xa.normalized(m) { marks += "M\(n(sx(u))) \(n(box.y + box.h))v3" } }
        for m in ya.minorTicks { if let v = ya.normalized(m) { marks += "M\(n(box.x)) \(n(sy(v)))h-3" } }
        if !marks.isEmpty { out += "<path d=\"\(marks)\" stroke=\"#444444\" stroke-width=\"1\" fill=\"none\"/>\n" }
        out += "<g fill=\"#222222\">\(labels)</g>\n"
        // text cut to about `room` pixels at font size `size`
        func fit(_ text: String, _ room: Double, _ size: Double) -> String {
            DisplayWidth.truncate(text, to: max(3, Int(room / (size * 0.62))))
        }
        if !figure.xAxis.label.isEmpty {
            let y = height - 8 - (note == nil ? 0 : 16)
            let label = fit(figure.xAxis.label, width - 20, lf)
            let cx = SVGPlot.textWidth(label, lf) > box.w ? width / 2 : box.x + box.w / 2
            out += "<text x=\"\(n(cx))\" y=\"\(n(y))\" text-anchor=\"middle\" font-size=\"\(n(lf))\" fill=\"#222222\">\(esc(label))</text>\n"
        }
        if !figure.yAxis.label.isEmpty {
            let x = 10 + lf * 0.8, y = box.y + box.h / 2
            out += "<text x=\"\(n(x))\" y=\"\(n(y))\" text-anchor=\"middle\" font-size=\"\(n(lf))\" fill=\"#222222\" transform=\"rotate(-90 \(n(x)) \(n(y)))\">\(esc(fit(figure.yAxis.label, box.h + 20, lf)))</text>\n"
        }
        if !figure.title.isEmpty {
            let title = fit(figure.title, width - 20, SVGPlot.titleFont)
            let cx = SVGPlot.textWidth(title, SVGPlot.titleFont) > box.w ? width / 2 : box.x + box.w / 2
            out += "<text x=\"\(n(cx))\" y=\"\(n(top - 14))\" text-anchor=\"middle\" font-size=\"\(n(SVGPlot.titleFont))\" font-weight=\"bold\" fill=\"#111111\">\(esc(title))</text>\n"
        }

        // colour bar and legend
        var legendY = box.y
        if let hm = heatmap {
            let (lo, hi) = hm.colorLimits
            let x = box.x + box.w + 16, barH = min(box.h, max(60, box.h))
            out += "<rect x=\"\(n(x))\" y=\"\(n(box.y))\" width=\"14\" height=\"\(n(barH))\" fill=\"url(#\(prefix)-cbar)\" stroke=\"#444444\" stroke-width=\"0.5\"/>\n"
            var cb = "", cbMarks = ""
            for t in colorTicks {
                let f = (t.value - lo) / (hi - lo)
                guard f.isFinite, f >= -1e-9, f <= 1 + 1e-9 else { continue }
                let y = box.y + (1 - f) * barH
                cbMarks += "M\(n(x + 14)) \(n(y))h4"
                cb += "<text x=\"\(n(x + 21))\" y=\"\(n(y + tf * 0.35))\">\(esc(t.label))</text>"
            }
            out += "<path d=\"\(cbMarks)\" stroke=\"#444444\" stroke-width=\"1\" fill=\"none\"/>\n<g fill=\"#222222\">\(cb)</g>\n"
            legendY = box.y + barH + 14
        }
        if !legend.isEmpty {
            let x = box.x + box.w + 16
            let maxLabel = max(20, width * 0.3)
            var boxW = 10 + 22 + 6 + min(maxLabel, legend.map { SVGPlot.textWidth($0.element.label, tf) }.max() ?? 0) + 10
            let room = max(1, Int((height - legendY - 12) / 18))
            let shown = legend.count > room ? room - 1 : legend.count
            let boxH = Double(shown < legend.count ? shown + 1 : shown) * 18 + 8
            if shown < legend.count { boxW = max(boxW, SVGPlot.textWidth("… \(legend.count - shown) more", tf) + 20) }
            out += "<g class=\"legend\"><rect x=\"\(n(x))\" y=\"\(n(legendY))\" width=\"\(n(boxW))\" height=\"\(n(boxH))\" fill=\"#ffffff\" stroke=\"#cccccc\" stroke-width=\"1\" rx=\"3\"/>"
            if shown < legend.count {
                let cy = legendY + 4 + 18 * Double(shown) + 9
                out += "<text x=\"\(n(x + 10))\" y=\"\(n(cy + tf * 0.35))\" fill=\"#555555\">… \(legend.count - shown) more</text>"
            }
            for (i, entry) in legend.prefix(shown).enumerated() {
                let (k, s) = entry
                let cy = legendY + 4 + 18 * Double(i) + 9
                let c = colors[k].hex
                switch s.geometry {
                case .scatter:
                    out += "<circle cx=\"\(n(x + 21))\" cy=\"\(n(cy))\" r=\"3.5\" fill=\"\(c)\"/>"
                case .bars, .histogram:
                    out += "<rect x=\"\(n(x + 13))\" y=\"\(n(cy - 5))\" width=\"16\" height=\"10\" fill=\"\(c)\" fill-opacity=\"0.85\"/>"
                default:
                    out += "<path d=\"M\(n(x + 10)) \(n(cy))h22\" stroke=\"\(c)\" stroke-width=\"2\"/>"
                }
                let label = fit(s.label, min(maxLabel + tf * 0.6, width - (x + 38) - 4), tf)
                out += "<text x=\"\(n(x + 38))\" y=\"\(n(cy + tf * 0.35))\" fill=\"#222222\">\(esc(label))</text>"
            }
            out += "</g>\n"
        }
        if let note {
            out += "<text x=\"10\" y=\"\(n(height - 6))\" font-size=\"11\" fill=\"#777777\">\(esc(note))</text>\n"
        }
        out += "</svg>"
        return out
    }

    /// True when neighbouring tick labels would overlap (less than 8 px apart).
    func crowded(_ ticks: [(value: Double, label: String)], _ pw: Double) -> Bool {
        var lastEnd = -Double.infinity
        for t in ticks {
            guard let u = xa.normalized(t.value) else { continue }
            let w = SVGPlot.textWidth(t.label, SVGPlot.tickFont)
            let start = u * pw - w / 2
            if start < lastEnd + 8 { return true }
            lastEnd = start + w
        }
        return false
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
    func heatmapSVG(_ hm: Heatmap, sx: (Double) -> Double, sy: (Double) -> Double) -> String {
        guard hm.rows > 0, hm.cols > 0 else { return "" }
        let bx = (hm.cols + maxCells - 1) / maxCells, by = (hm.rows + maxCells - 1) / maxCells
        var paths: [Int: String] = [:]
        var r0 = 0
        while r0 < hm.rows {
            let r1 = min(hm.rows, r0 + by)
            guard let ya0 = ya.normalized(Double(r0) - 0.5), let ya1 = ya.normalized(Double(r1) - 0.5) else { r0 = r1; continue }
            let y0 = sy(ya0), y1 = sy(ya1)
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
                    let x0 = sx(xa0), x1 = sx(xa1)
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
