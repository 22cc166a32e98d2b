/// Draws a `Figure` as text for a terminal: lines, steps and points on a braille canvas (2 × 4 dots
/// per character), bars and histograms as block characters (▁▂▃▄▅▆▇█), heatmaps as shaded blocks
/// ( ░▒▓█), inside a box-drawn frame with tick labels on both axes, the title above, axis labels,
/// and a legend (or a heatmap's colour bar) on the right.
///
/// `width` × `height` is the plot area in characters (the caller passes what fits its terminal;
/// see `forTerminal`); labels and legend come on top of that. With `color` the series are coloured
/// with ANSI 256-colour escape codes; without it the output is plain Unicode, and when two or more
/// line-like series share a figure each gets marker glyphs (●, ■, ▲, …) on its curve and in the
/// legend so they can be told apart. `ascii` draws with ASCII only (`*`, `o`, `#`, `|`, `-`, `+`)
/// for dumb terminals. A bar chart by category is drawn sideways, one row per bar, with its value.
/// Sizes below 4 × 2 are raised to that; nothing the renderer is given makes it fail.
public struct TextRenderer: Sendable {
    /// Plot area width in characters.
    public var width: Int
    /// Plot area height in characters (rows).
    public var height: Int
    /// Whether to colour series with ANSI escape codes.
    public var color: Bool
    /// Whether to use ASCII characters only.
    public var ascii: Bool

    /// A renderer for a `width` × `height` plot area (60 × 15 by default), plain Unicode unless
    /// `color` or `ascii` is asked for.
    public init(width: Int = 60, height: Int = 15, color: Bool = false, ascii: Bool = false) {
        self.width = width
        self.height = height
        self.color = color
        self.ascii = ascii
    }

    /// A renderer sized for a terminal of `columns` × `rows` characters (room is left for tick
    /// labels and a legend). Colour only when the output `isTerminal`, `NO_COLOR` is unset and
    /// `TERM` is not "dumb"; ASCII only when `TERM` is "dumb".
    public static func forTerminal(columns: Int, rows: Int, isTerminal: Bool,
                                   environment: [String: String]) -> TextRenderer {
        let dumb = environment["TERM"] == "dumb"
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        return TextRenderer(width: max(20, min(columns - 30, 100)), height: max(6, min(rows - 9, 20)),
                            color: isTerminal && !noColor && !dumb, ascii: dumb)
    }

    /// The figure as text: lines joined by "\n", no trailing newline, no trailing spaces.
    public func render(_ figure: Figure) -> String {
        let w = max(4, min(1000, width)), h = max(2, min(500, height))
        if let categories = figure.xAxis.categories, !figure.series.isEmpty,
           figure.series.allSatisfy({ if case .bars = $0.geometry { return true } else { return false } }) {
            return TextBarChart(renderer: self, width: w, glyphs: glyphs).render(figure, categories: categories)
        }
        return TextPlot(renderer: self, width: w, height: h, glyphs: glyphs).render(figure)
    }

    /// The characters this renderer draws with.
    var glyphs: TextGlyphs { ascii ? .ascii : .unicode }
}

/// The characters of one style of text plot.
struct TextGlyphs {
    let topLeft: Character, topRight: Character, bottomLeft: Character, bottomRight: Character
    let horizontal: Character, vertical: Character, yTick: Character, xTick: Character
    /// Vertical bar tops from 1/8 to 8/8 of a cell.
    let eighths: [Character]
    /// Horizontal bar ends from 1/8 to 8/8 of a cell.
    let horizontalEighths: [Character]
    /// Heatmap ramp from low to high.
    let shades: [Character]
    /// Per-series characters for lines (ASCII) or markers (Unicode).
    let markers: [Character]
    /// Per-series fills for the second and later bar series (without colour).
    let fills: [Character]

    static let unicode = TextGlyphs(
        topLeft: "┌", topRight: "┐", bottomLeft: "└", bottomRight: "┘", horizontal: "─", vertical: "│",
        yTick: "┤", xTick: "┬", eighths: Array("▁▂▃▄▅▆▇█"), horizontalEighths: Array("▏▎▍▌▋▊▉█"),
        shades: Array(" ░▒▓█"), markers: Array("●■▲◆○□△◇"), fills: Array("▓▒░"))

    static let ascii = TextGlyphs(
        topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+", horizontal: "-", vertical: "|",
        yTick: "+", xTick: "+", eighths: Array("    ####"), horizontalEighths: Array("    ####"),
        shades: Array(" .:-=+*#%@"), markers: Array("*o+x@%&$"), fills: Array("#=%@&x"))
}

/// One legend row: a glyph in the series colour and the label.
struct LegendEntry {
    var glyph: Character
    var color: Color?
    var label: String
}

/// The common frame of the text plots: title, y label, framed rows with tick labels and legend,
/// x ticks, x label and the skipped-values note.
struct TextFrame {
    let glyphs: TextGlyphs
    let ansi: Bool

    /// Assembles the plot. `rows` are the plot area's cell rows (all `width` wide); `yTicks` maps
    /// a row to its label; `xTicks` are (column, label) pairs; `right` holds the legend rows.
    func assemble(title: String, yLabel: String, xLabel: String, note: String?, rows: [[TextCell]],
                  width: Int, yTicks: [Int: String], xTicks: [(column: Int, label: String)],
                  right: [StyledLine]) -> String {
        let gutter = yTicks.values.map(DisplayWidth.of).max() ?? 0
        let left = gutter + 1
        var lines: [StyledLine] = []
        func textLine(_ text: String, at column: Int) -> StyledLine {
            var l = StyledLine()
            l.append(String(repeating: " ", count: max(0, column)))
            l.append(text)
            return l
        }
        if !title.isEmpty {
            let tw = DisplayWidth.of(title)
            lines.append(textLine(title, at: left + max(0, (width + 2 - tw) / 2)))
        }
        if !yLabel.isEmpty { lines.append(textLine(yLabel, at: 0)) }
        var top = StyledLine()
        top.append(String(repeating: " ", count: left))
        top.append(String(glyphs.topLeft) + String(repeating: glyphs.horizontal, count: width) + String(glyphs.topRight))
        lines.append(top)
        for (r, row) in rows.enumerated() {
            var l = StyledLine()
            let label = yTicks[r] ?? ""
            l.append(String(repeating: " ", count: gutter - DisplayWidth.of(label)) + label + " ")
            l.append(String(yTicks[r] == nil ? glyphs.vertical : glyphs.yTick))
            l.append(row)
            l.append(String(glyphs.vertical))
            if r < right.count {
                l.append(" ")
                l.append(right[r].cells)
            }
            lines.append(l)
        }
        var bottom = Array(repeating: glyphs.horizontal, count: width)
        for t in xTicks where t.column >= 0 && t.column < width { bottom[t.column] = glyphs.xTick }
        var b = StyledLine()
        b.append(String(repeating: " ", count: left))
        b.append(String(glyphs.bottomLeft) + String(bottom) + String(glyphs.bottomRight))
        for extra in right.dropFirst(rows.count) {
            lines.append(b)
            b = StyledLine()
            b.append(String(repeating: " ", count: left + width + 3))
            b.append(extra.cells)
        }
        lines.append(b)
        // x tick labels, centred on their columns, skipping any that would touch the previous one
        var labels = StyledLine()
        var end = -1
        for t in xTicks {
            let lw = DisplayWidth.of(t.label)
            var start = left + 1 + t.column - (lw - 1) / 2
            start = max(start, 0)
            guard start > end + 1 || (end < 0 && start >= 0) else { continue }
            labels.pad(to: start)
            labels.append(t.label)
            end = start + lw - 1
        }
        if !labels.cells.isEmpty { lines.append(labels) }
        if !xLabel.isEmpty {
            let xw = DisplayWidth.of(xLabel)
            lines.append(textLine(xLabel, at: left + 1 + max(0, (width - xw) / 2)))
        }
        if let note { lines.append(textLine(note, at: 0)) }
        return lines.map { $0.render(ansi: ansi) }.joined(separator: "\n")
    }
}

/// A text plot of lines, steps, points, vertical bars, histograms and heatmaps.
struct TextPlot {
    let renderer: TextRenderer
    let width: Int
    let height: Int
    let glyphs: TextGlyphs

    func render(_ figure: Figure) -> String {
        let (xa, ya) = PlotGeometry.resolve(figure)
        let colors = PlotGeometry.colors(figure)
        let useColor = renderer.color
        var grid = [[TextCell]](repeating: [TextCell](repeating: TextCell(), count: width), count: height)
        var canvas = DotCanvas(columns: width, rows: height, braille: !renderer.ascii)
        var legend: [LegendEntry] = []

        // 1. heatmap
        let heatmap = PlotGeometry.heatmap(figure)
        if let hm = heatmap {
            for r in 0..<height {
                let y0 = ya.value(atNormalized: 1 - Double(r) / Double(height))
                let y1 = ya.value(atNormalized: 1 - Double(r + 1) / Double(height))
                for c in 0..<width {
                    let x0 = xa.value(atNormalized: Double(c) / Double(width))
                    let x1 = xa.value(atNormalized: Double(c + 1) / Double(width))
                    guard let cell = PlotGeometry.heatmapValue(hm, cols: x0, x1, rows: y0, y1),
                          let v = cell, let t = hm.level(v) else { continue }
                    grid[r][c] = heatmapCell(t, hm.colormap)
                }
            }
        }

        // 2. bars and histograms
        var filled = 0
        for (k, s) in figure.series.enumerated() where s.isFilled {
            let rects = PlotGeometry.rects(s, xa, ya)
            fillColumns(&grid, rects, style: filled, color: useColor ? colors[k] : nil)
            let glyph: Character = renderer.ascii ? glyphs.fills[filled % glyphs.fills.count]
                : (filled == 0 || useColor ? "█" : glyphs.fills[(filled - 1) % glyphs.fills.count])
            if !s.label.isEmpty { legend.append(LegendEntry(glyph: glyph, color: colors[k], label: s.label)) }
            filled += 1
        }

        // 3. lines, steps and points on the dot canvas
        let lineSeries = figure.series.indices.filter { !figure.series[$0].isFilled && !figure.series[$0].isHeatmap }
        let markers = !renderer.ascii && !useColor && lineSeries.count >= 2
        var pieces: [Int: [[PlotPoint]]] = [:]
        for (j, k) in lineSeries.enumerated() {
            let runs = PlotGeometry.clipped(PlotGeometry.runs(figure.series[k], xa, ya))
            pieces[k] = runs
            for run in runs {
                if run.count == 1 { canvas.point(run[0], series: k) }
                for (a, b) in zip(run, run.dropFirst()) { canvas.line(a, b, series: k) }
            }
            let s = figure.series[k]
            let glyph: Character
            if renderer.ascii || markers {
                glyph = glyphs.markers[j % glyphs.markers.count]
            } else if case .scatter = s.geometry {
                glyph = "⠶"
            } else {
                glyph = "─"
            }
            if !s.label.isEmpty { legend.append(LegendEntry(glyph: glyph, color: colors[k], label: s.label)) }
        }
        for r in 0..<height {
            for c in 0..<width {
                guard let k = canvas.seriesAt(c, r) else { continue }
                let j = lineSeries.firstIndex(of: k) ?? 0
                let ch = renderer.ascii ? glyphs.markers[j % glyphs.markers.count] : canvas.braille(c, r)!
                grid[r][c] = TextCell(char: ch, color: useColor ? colors[k] : nil)
            }
        }
        if markers {
            for (j, k) in lineSeries.enumerated() {
                let fractions = [Double(j + 1) / Double(2 * lineSeries.count + 2),
                                 0.5 + Double(j + 1) / Double(2 * lineSeries.count + 2)]
                for f in fractions {
                    guard let y = TextPlot.height(of: pieces[k] ?? [], at: f) else { continue }
                    grid[canvas.row(of: y)][canvas.column(of: f)] = TextCell(char: glyphs.markers[j % glyphs.markers.count])
                }
            }
        }

        if grid.allSatisfy({ $0.allSatisfy { $0.char == " " } }) {
            let message = Array("(no data)")
            let r = height / 2, c0 = max(0, (width - message.count) / 2)
            for (i, ch) in message.enumerated() where c0 + i < width { grid[r][c0 + i] = TextCell(char: ch) }
        }

        // ticks
        var yTicks: [Int: String] = [:]
        for t in ya.ticks(target: max(2, height / 3)) {
            guard let u = ya.normalized(t.value), u > -1e-9, u < 1 + 1e-9 else { continue }
            let r = canvas.row(of: u)
            if yTicks[r] == nil { yTicks[r] = t.label }
        }
        var xTicks: [(column: Int, label: String)] = []
        for t in xa.ticks(target: max(2, width / 10)) {
            guard let u = xa.normalized(t.value), u > -1e-9, u < 1 + 1e-9 else { continue }
            let c = canvas.column(of: u)
            if xTicks.last?.column != c { xTicks.append((c, t.label)) }
        }
        xTicks.sort { $0.column < $1.column }

        // right side: colour bar and legend
        var right: [StyledLine] = []
        if let hm = heatmap { right = colorBar(hm) }
        if figure.showLegend {
            right += TextPlot.legendLines(legend, room: height - right.count, color: useColor)
        }
        let frame = TextFrame(glyphs: glyphs, ansi: useColor)
        return frame.assemble(title: figure.title, yLabel: figure.yAxis.label, xLabel: figure.xAxis.label,
                              note: figure.skippedNote, rows: grid, width: width, yTicks: yTicks,
                              xTicks: xTicks, right: right)
    }

    /// Legend rows for at most `room` lines: when there are more entries, the last line says how
    /// many were left out.
    static func legendLines(_ legend: [LegendEntry], room: Int, color: Bool) -> [StyledLine] {
        let room = max(1, room)
        let shown = legend.count > room ? room - 1 : legend.count
        var lines: [StyledLine] = []
        for e in legend.prefix(shown) {
            var l = StyledLine()
            l.append(String(e.glyph), color: color ? e.color : nil)
            l.append(" " + e.label)
            lines.append(l)
        }
        if shown < legend.count {
            var l = StyledLine()
            l.append("… \(legend.count - shown) more")
            lines.append(l)
        }
        return lines
    }

    /// The character of a heatmap cell at colour-scale level t in [0, 1].
    func heatmapCell(_ t: Double, _ map: Colormap) -> TextCell {
        if renderer.color {
            return TextCell(char: renderer.ascii ? "#" : "█", color: map.color(at: t))
        }
        let n = glyphs.shades.count
        return TextCell(char: glyphs.shades[min(n - 1, Int(t * Double(n)))])
    }

    /// The heatmap's colour bar, top (high) to bottom (low), labelled at nice values (or at its
    /// ends when fewer than two nice values fall on distinct rows).
    func colorBar(_ hm: Heatmap) -> [StyledLine] {
        let (lo, hi) = hm.colorLimits
        var labels: [Int: String] = [:]
        let values = Ticks.linear(lo: lo, hi: hi, target: max(2, height / 4))
        for (v, text) in zip(values, Ticks.labels(for: values, scale: .linear)) {
            let f = (v - lo) / (hi - lo)
            guard f.isFinite else { continue }
            let r = max(0, min(height - 1, Int(((1 - f) * Double(height - 1)).rounded())))
            if labels[r] == nil { labels[r] = text }
        }
        if labels.count < 2 {
            labels = [0: NumberFormatting.compact(hi), height - 1: NumberFormatting.compact(lo)]
        }
        var lines: [StyledLine] = []
        for r in 0..<height {
            let t = height == 1 ? 1 : 1 - Double(r) / Double(height - 1)
            var l = StyledLine()
            let cell = heatmapCell(t, hm.colormap)
            l.append(String(cell.char == " " && !renderer.ascii ? "·" : cell.char), color: cell.color)
            if let label = labels[r] { l.append(" " + label) }
            lines.append(l)
        }
        return lines
    }

    /// Fills, column by column, the tallest of the bars that overlap each character column.
    func fillColumns(_ grid: inout [[TextCell]], _ rects: [PlotRect], style: Int, color: Color?) {
        guard !rects.isEmpty else { return }
        let h = Double(height)
        for c in 0..<width {
            let c0 = Double(c) / Double(width), c1 = Double(c + 1) / Double(width)
            var best: PlotRect? = nil
            for r in rects {
                let l = max(0, min(1, min(r.left, r.right))), rr = max(0, min(1, max(r.left, r.right)))
                let overlaps = (l < c1 && rr > c0) || (l == rr && l >= c0 && l < c1) || (c == width - 1 && l == 1 && rr == 1)
                guard overlaps else { continue }
                if best == nil || abs(r.top - r.base) > abs(best!.top - best!.base) { best = r }
            }
            guard let bar = best else { continue }
            let b = max(0, min(1, bar.base)), t = max(0, min(1, bar.top))
            let baseCells = Int((b * h).rounded())
            if t >= b {
                let topE = Int((t * h * 8).rounded())
                var fromBottom = baseCells
                while fromBottom < height {
                    let e = min(8, topE - fromBottom * 8)
                    if e <= 0 { break }
                    if let ch = fillChar(eighths: e, style: style, colored: color != nil) {
                        grid[height - 1 - fromBottom][c] = TextCell(char: ch, color: color)
                    }
                    fromBottom += 1
                }
            } else {
                let down = baseCells * 8 - Int((t * h * 8).rounded())
                var i = 0
                while i < baseCells {
                    let e = min(8, down - i * 8)
                    if e <= 0 { break }
                    let ch: Character? = e >= 6 ? fillChar(eighths: 8, style: style, colored: color != nil)
                        : (e >= 3 ? (renderer.ascii ? fillChar(eighths: 8, style: style, colored: color != nil) : "▀") : nil)
                    if let ch { grid[height - baseCells + i][c] = TextCell(char: ch, color: color) }
                    i += 1
                }
            }
        }
    }

    /// The character for a bar cell filled `eighths`/8 from the bottom; nil for nothing visible.
    func fillChar(eighths: Int, style: Int, colored: Bool) -> Character? {
        if renderer.ascii {
            return eighths >= 4 ? glyphs.fills[style % glyphs.fills.count] : nil
        }
        if style == 0 || colored { return glyphs.eighths[max(1, min(8, eighths)) - 1] }
        return eighths >= 4 ? glyphs.fills[(style - 1) % glyphs.fills.count] : nil
    }

    /// The height of a polyline at normalised x = f (first crossing), or of its point nearest f.
    static func height(of pieces: [[PlotPoint]], at f: Double) -> Double? {
        var nearest: PlotPoint? = nil
        for run in pieces {
            for (a, b) in zip(run, run.dropFirst()) where min(a.x, b.x) <= f && max(a.x, b.x) >= f {
                if a.x == b.x { return max(a.y, b.y) }
                return a.y + (b.y - a.y) * (f - a.x) / (b.x - a.x)
            }
            for p in run where nearest == nil || abs(p.x - f) < abs(nearest!.x - f) { nearest = p }
        }
        return nearest?.y
    }
}
