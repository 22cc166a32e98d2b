/// A bar chart by category drawn sideways for a terminal: one row per bar (grouped bars take one
/// row per group), the category name on the left, the bar, then its value.
struct TextBarChart {
    let renderer: TextRenderer
    let width: Int
    let glyphs: TextGlyphs

    func render(_ figure: Figure, categories: [String]) -> String {
        let colors = PlotGeometry.colors(figure)
        struct Row { var category: Int; var series: Int; var value: Double }
        var rows: [Row] = []
        for (k, s) in figure.series.enumerated() {
            guard case .bars(let x, let h, _) = s.geometry else { continue }
            for i in 0..<min(x.count, h.count) where x[i].isFinite {
                let c = Int(max(-1, min(Double(categories.count), x[i].rounded())))
                guard c >= 0, c < categories.count else { continue }
                rows.append(Row(category: c, series: k, value: h[i]))
            }
        }
        rows.sort { ($0.category, $0.series) < ($1.category, $1.series) }
        if rows.count > 500 { rows = Array(rows.prefix(500)) }

        // the value axis is the figure's y axis, laid horizontally
        var extent = PlotGeometry.Extent()
        for r in rows {
            if let t = figure.yAxis.scale.transform(r.value) { extent.soft(t) }
        }
        if figure.yAxis.scale == .linear { extent.hard(0) }
        var axisSpec = figure.yAxis
        axisSpec.reversed = false
        axisSpec.categories = nil
        let axis = PlotGeometry.resolve(axisSpec, extent)

        let valueTexts = rows.map { NumberFormatting.compact($0.value) }
        let valueWidth = valueTexts.map(DisplayWidth.of).max() ?? 0
        let barWidth = max(1, width - valueWidth - 1)
        let base = figure.yAxis.scale == .linear ? max(0, min(1, axis.normalized(0) ?? 0)) : 0
        let baseCell = Int((base * Double(barWidth)).rounded())
        let useColor = renderer.color

        var grid: [[TextCell]] = []
        var yTicks: [Int: String] = [:]
        for (i, row) in rows.enumerated() {
            var cells = [TextCell](repeating: TextCell(), count: width)
            let color = colors[row.series]
            let style = figure.series.indices.filter { $0 < row.series }.count
            var end = baseCell
            if let u = axis.normalized(row.value) {
                let v = max(0, min(1, u))
                if v >= base {
                    let endE = Int((v * Double(barWidth) * 8).rounded())
                    var c = baseCell
                    while c < barWidth && endE - c * 8 > 0 {
                        let e = min(8, endE - c * 8)
                        if let ch = barChar(e, style: style) { cells[c] = TextCell(char: ch, color: useColor ? color : nil) }
                        c += 1
                    }
                    end = c
                } else {
                    let startCell = Int((v * Double(barWidth)).rounded())
                    for c in startCell..<baseCell {
                        cells[c] = TextCell(char: barChar(8, style: style) ?? "█", color: useColor ? color : nil)
                    }
                }
            }
            let text = Array(valueTexts[i])
            for (j, ch) in text.enumerated() where end + 1 + j < width { cells[end + 1 + j] = TextCell(char: ch) }
            if i == 0 || rows[i - 1].category != row.category { yTicks[i] = categories[row.category] }
            grid.append(cells)
        }
        if grid.isEmpty {
            var cells = [TextCell](repeating: TextCell(), count: width)
            for (j, ch) in "(no data)".enumerated() where j < width { cells[j] = TextCell(char: ch) }
            grid.append(cells)
        }
        var xTicks: [(column: Int, label: String)] = []
        for t in axis.ticks(target: max(2, barWidth / 10)) {
            guard let u = axis.normalized(t.value), u > -1e-9, u < 1 + 1e-9 else { continue }
            let c = max(0, min(barWidth - 1, Int((u * Double(barWidth)).rounded()) - (u >= 1 - 1e-9 ? 1 : 0)))
            if xTicks.last?.column != c { xTicks.append((c, t.label)) }
        }
        var right: [StyledLine] = []
        if figure.showLegend {
            let entries = figure.series.enumerated().filter { !$0.element.label.isEmpty }.map {
                LegendEntry(glyph: barChar(8, style: $0.offset) ?? "█", color: colors[$0.offset], label: $0.element.label)
            }
            right = TextPlot.legendLines(entries, room: max(grid.count, 8), color: useColor)
        }
        return TextFrame(glyphs: glyphs, ansi: useColor)
            .assemble(title: figure.title, yLabel: figure.xAxis.label, xLabel: figure.yAxis.label,
                      note: figure.skippedNote, rows: grid, width: width, yTicks: yTicks, xTicks: xTicks,
                      right: right)
    }

    /// A cell of a sideways bar filled `e`/8 from the left.
    func barChar(_ e: Int, style: Int) -> Character? {
        if renderer.ascii { return e >= 4 ? glyphs.fills[style % glyphs.fills.count] : nil }
        if style == 0 || renderer.color { return glyphs.horizontalEighths[max(1, min(8, e)) - 1] }
        return e >= 4 ? glyphs.fills[(style - 1) % glyphs.fills.count] : nil
    }
}
