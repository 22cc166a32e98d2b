import Foundation

/// Where every part of an SVG figure goes, settled before anything is drawn: the margins and the
/// plot area between them, the ticks of both axes at their pixel positions (and whether the x
/// labels turn because categories crowd), the title and axis labels cut to fit, a heatmap's
/// colour bar and the legend box. `SVGPlot` only draws what this places.
///
/// The margins grow to hold what is there: the title on top; the x tick labels, x label and
/// skipped-values note below; the y tick labels and y label on the left; the colour bar and the
/// legend on the right. The x axis takes fewer ticks until their labels stop overlapping; a
/// category axis whose labels still overlap turns them by 40° and makes room below.
struct SVGLayout {
    /// A rectangle in pixels, (x, y) its top-left corner.
    struct Box {
        var x: Double, y: Double, w: Double, h: Double
    }

    /// A labelled mark at pixel position `at` along its axis (x for the x axis, y for the others).
    struct Tick {
        var at: Double
        var label: String
    }

    /// A line of text anchored at (x, y), already cut to fit.
    struct Text {
        var x: Double
        var y: Double
        var text: String
    }

    /// A heatmap's colour bar: its box (low values at the bottom) and its ticks.
    struct ColorBar {
        var box: Box
        var ticks: [Tick]
    }

    /// The legend: its box, one row per shown series (its index in the figure, the row's centre
    /// line, its label cut to fit) and, when not all fit, a last row saying how many are left out.
    struct Legend {
        var box: Box
        var rows: [(series: Int, centreY: Double, label: String)]
        var more: Tick?
    }

    static let tickFont = 12.0, labelFont = 13.0, titleFont = 14.0
    /// Height of one legend row in pixels.
    static let legendRow = 18.0

    /// Estimated width of `text` at font size `size` (sans-serif averages about 0.6 em a character).
    static func textWidth(_ text: String, _ size: Double) -> Double { Double(DisplayWidth.of(text)) * size * 0.6 }

    /// `text` cut to about `room` pixels at font size `size`.
    static func fit(_ text: String, _ room: Double, _ size: Double) -> String {
        DisplayWidth.truncate(text, to: max(3, Int(room / (size * 0.62))))
    }

    /// The document size in pixels.
    let width: Double, height: Double
    /// The framed plot area.
    let plot: Box
    /// Major ticks inside the axis limits, at their pixel positions.
    let xTicks: [Tick], yTicks: [Tick]
    /// Unlabelled minor ticks (log axes), at their pixel positions.
    let xMinorTicks: [Double], yMinorTicks: [Double]
    /// Whether the x tick labels are turned (crowded categories).
    let rotateXLabels: Bool
    /// The title (centred on x, baseline y), when the figure has one.
    let title: Text?
    /// The x axis label (centred on x, baseline y), when there is one.
    let xLabel: Text?
    /// The y axis label (centred on (x, y), turned by -90°), when there is one.
    let yLabel: Text?
    /// The skipped-values note under everything (left-aligned at x, baseline y), when values were skipped.
    let note: Text?
    let colorBar: ColorBar?
    let legend: Legend?

    /// The layout of `figure` on a `width` × `height` document, with its axes already resolved;
    /// `heatmap` is the heatmap drawn, if any (it takes a colour bar instead of grid lines).
    init(figure: Figure, xAxis xa: ResolvedAxis, yAxis ya: ResolvedAxis, heatmap: Heatmap?, width: Double, height: Double) {
        let tf = Self.tickFont, lf = Self.labelFont
        self.width = width
        self.height = height
        let legendSeries = figure.showLegend
            ? figure.series.indices.filter { !figure.series[$0].label.isEmpty && !figure.series[$0].isHeatmap } : []
        let noteText = figure.skippedNote

        // Margins: the right one holds the colour bar and the legend, the left one the y tick labels.
        let top = figure.title.isEmpty ? 14.0 : 38.0
        var right = 20.0
        var colorTicks: [(value: Double, label: String)] = []
        if let hm = heatmap {
            let (lo, hi) = hm.colorLimits
            let values = Ticks.linear(lo: lo, hi: hi, target: 5)
            colorTicks = Array(zip(values, Ticks.labels(for: values, scale: .linear)))
            right = max(right, 16 + 14 + 6 + (colorTicks.map { Self.textWidth($0.label, tf) }.max() ?? 0) + 10)
        }
        if !legendSeries.isEmpty {
            let lw = legendSeries.map { Self.textWidth(figure.series[$0].label, tf) }.max() ?? 0
            right = max(right, 16 + 10 + 22 + 6 + min(lw, width * 0.3) + 18)
        }
        var bottom = 10 + 6 + tf + 4 + (figure.xAxis.label.isEmpty ? 0 : lf + 8) + (noteText == nil ? 0 : 16)
        func leftMargin(_ yTicks: [(value: Double, label: String)]) -> Double {
            10 + (figure.yAxis.label.isEmpty ? 0 : lf + 8) + (yTicks.map { Self.textWidth($0.label, tf) }.max() ?? 0) + 10
        }
        var ph = max(10, height - top - bottom)
        var yTicks = ya.ticks(target: max(2, Int(ph / 45)))
        var left = leftMargin(yTicks)
        var pw = max(10, width - left - right)

        // x ticks: fewer until the labels fit; categories turn their labels when they crowd
        var xTicks: [(value: Double, label: String)] = []
        var rotate = false
        var target = max(2, Int(pw / 70))
        while true {
            xTicks = xa.ticks(target: target)
            if !Self.crowded(xTicks, on: xa, width: pw) || target <= 2 { break }
            target -= 1
        }
        if xa.categories != nil && Self.crowded(xTicks, on: xa, width: pw) {
            rotate = true
            xTicks = xa.ticks(target: max(2, Int(pw / (tf * 1.4))))
            let longest = xTicks.map { Self.textWidth($0.label, tf) }.max() ?? 0
            bottom += min(height * 0.3, longest * 0.64)
            ph = max(10, height - top - bottom)
            yTicks = ya.ticks(target: max(2, Int(ph / 45)))
            left = leftMargin(yTicks)
            pw = max(10, width - left - right)
        }
        let box = Box(x: left, y: top, w: pw, h: ph)
        plot = box
        rotateXLabels = rotate

        // Ticks at their pixel positions (positions just outside the limits are pulled to the frame).
        func sx(_ u: Double) -> Double { box.x + max(-0.05, min(1.05, u)) * box.w }
        func sy(_ v: Double) -> Double { box.y + (1 - max(-0.05, min(1.05, v))) * box.h }
        func placed(_ ticks: [(value: Double, label: String)], _ axis: ResolvedAxis, _ position: (Double) -> Double) -> [Tick] {
            ticks.compactMap { t in
                guard let u = axis.normalized(t.value), u >= -1e-9, u <= 1 + 1e-9 else { return nil }
                return Tick(at: position(u), label: t.label)
            }
        }
        self.xTicks = placed(xTicks, xa, sx)
        self.yTicks = placed(yTicks, ya, sy)
        xMinorTicks = xa.minorTicks.compactMap { xa.normalized($0).map(sx) }
        yMinorTicks = ya.minorTicks.compactMap { ya.normalized($0).map(sy) }

        // Title and axis labels, centred on the plot area unless wider than it.
        func centre(_ text: String, _ size: Double) -> Double {
            Self.textWidth(text, size) > box.w ? width / 2 : box.x + box.w / 2
        }
        if figure.title.isEmpty {
            title = nil
        } else {
            let text = Self.fit(figure.title, width - 20, Self.titleFont)
            title = Text(x: centre(text, Self.titleFont), y: top - 14, text: text)
        }
        if figure.xAxis.label.isEmpty {
            xLabel = nil
        } else {
            let text = Self.fit(figure.xAxis.label, width - 20, lf)
            xLabel = Text(x: centre(text, lf), y: height - 8 - (noteText == nil ? 0 : 16), text: text)
        }
        yLabel = figure.yAxis.label.isEmpty ? nil
            : Text(x: 10 + lf * 0.8, y: box.y + box.h / 2, text: Self.fit(figure.yAxis.label, box.h + 20, lf))
        note = noteText.map { Text(x: 10, y: height - 6, text: $0) }

        // Right of the plot area: the colour bar, then the legend under it.
        var legendTop = box.y
        if let hm = heatmap {
            let (lo, hi) = hm.colorLimits
            let bar = Box(x: box.x + box.w + 16, y: box.y, w: 14, h: box.h)
            let ticks = colorTicks.compactMap { t -> Tick? in
                let f = (t.value - lo) / (hi - lo)
                guard f.isFinite, f >= -1e-9, f <= 1 + 1e-9 else { return nil }
                return Tick(at: bar.y + (1 - f) * bar.h, label: t.label)
            }
            colorBar = ColorBar(box: bar, ticks: ticks)
            legendTop = bar.y + bar.h + 14
        } else {
            colorBar = nil
        }
        if legendSeries.isEmpty {
            legend = nil
        } else {
            let x = box.x + box.w + 16
            let maxLabel = max(20, width * 0.3)
            var boxW = 10 + 22 + 6 + min(maxLabel, legendSeries.map { Self.textWidth(figure.series[$0].label, tf) }.max() ?? 0) + 10
            let room = max(1, Int((height - legendTop - 12) / Self.legendRow))
            let shown = legendSeries.count > room ? room - 1 : legendSeries.count
            let boxH = Double(shown < legendSeries.count ? shown + 1 : shown) * Self.legendRow + 8
            func centreY(_ row: Int) -> Double { legendTop + 4 + Self.legendRow * Double(row) + 9 }
            var more: Tick?
            if shown < legendSeries.count {
                let text = "… \(legendSeries.count - shown) more"
                boxW = max(boxW, Self.textWidth(text, tf) + 20)
                more = Tick(at: centreY(shown), label: text)
            }
            let labelRoom = min(maxLabel + tf * 0.6, width - (x + 38) - 4)
            let rows = legendSeries.prefix(shown).enumerated().map { i, k in
                (series: k, centreY: centreY(i), label: Self.fit(figure.series[k].label, labelRoom, tf))
            }
            legend = Legend(box: Box(x: x, y: legendTop, w: boxW, h: boxH), rows: rows, more: more)
        }
    }

    /// Maps a normalised x position (0 at the plot area's left edge, 1 at its right) to pixels,
    /// pulling positions far outside to just beyond the frame.
    func x(_ u: Double) -> Double { plot.x + max(-0.05, min(1.05, u)) * plot.w }

    /// Maps a normalised y position (0 at the bottom, 1 at the top) to pixels (see `x`).
    func y(_ v: Double) -> Double { plot.y + (1 - max(-0.05, min(1.05, v))) * plot.h }

    /// True when neighbouring tick labels on `axis` would overlap (less than 8 px apart) across
    /// `width` pixels.
    static func crowded(_ ticks: [(value: Double, label: String)], on axis: ResolvedAxis, width: Double) -> Bool {
        var lastEnd = -Double.infinity
        for t in ticks {
            guard let u = axis.normalized(t.value) else { continue }
            let w = textWidth(t.label, tickFont)
            let start = u * width - w / 2
            if start < lastEnd + 8 { return true }
            lastEnd = start + w
        }
        return false
    }
}
