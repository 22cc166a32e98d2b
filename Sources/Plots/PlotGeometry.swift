/// A 2-D point in normalised plot coordinates: (0, 0) bottom-left, (1, 1) top-right of the plot area.
struct PlotPoint: Equatable {
    var x: Double
    var y: Double
}

/// A filled rectangle in normalised coordinates (a bar or a histogram bin): x from `left` to
/// `right`, y from `base` to `top`.
struct PlotRect: Equatable {
    var left: Double
    var right: Double
    var base: Double
    var top: Double
}

/// An axis with its limits settled: maps data values to normalised positions and makes ticks.
struct ResolvedAxis {
    let scale: Scale
    /// Lower and upper limits in data units.
    let lo: Double
    let hi: Double
    /// The limits in the scale's working space.
    let tlo: Double
    let thi: Double
    let reversed: Bool
    let categories: [String]?

    init(scale: Scale, tlo: Double, thi: Double, reversed: Bool, categories: [String]?) {
        self.scale = scale
        self.tlo = tlo
        self.thi = thi
        self.lo = scale.inverse(tlo)
        self.hi = scale.inverse(thi)
        self.reversed = reversed
        self.categories = categories
    }

    /// Position of `v` along the axis, 0 at the start and 1 at the end (outside [0, 1] when beyond
    /// the limits); nil when `v` cannot be shown on this scale.
    func normalized(_ v: Double) -> Double? {
        guard let t = scale.transform(v) else { return nil }
        let u = (clampTransformed(t) - tlo) / (thi - tlo)
        guard u.isFinite else { return nil }
        return reversed ? 1 - u : u
    }

    /// The data value at normalised position `u`.
    func value(atNormalized u: Double) -> Double {
        let w = reversed ? 1 - u : u
        return scale.inverse(tlo + w * (thi - tlo))
    }

    /// Ticks inside the limits with their labels: about `target` of them (category names when the
    /// axis has categories).
    func ticks(target: Int) -> [(value: Double, label: String)] {
        if let categories, scale == .linear {
            let first = max(0, Int(min(lo, hi).rounded(.up)))
            let last = min(categories.count - 1, Int(max(lo, hi).rounded(.down)))
            guard first <= last else { return [] }
            let raw = Double(last - first + 1) / Double(max(1, target))
            let stride = ResolvedAxis.niceStride(raw)
            return Swift.stride(from: first, through: last, by: stride).map { (Double($0), categories[$0]) }
        }
        let values: [Double]
        switch scale {
        case .linear: values = Ticks.linear(lo: min(lo, hi), hi: max(lo, hi), target: target)
        case .log10: values = Ticks.log10(lo: min(lo, hi), hi: max(lo, hi), target: target)
        }
        return Array(zip(values, Ticks.labels(for: values, scale: scale)))
    }

    /// The smallest of 1, 2, 5, 10, 20, 50, … that is at least `raw`.
    static func niceStride(_ raw: Double) -> Int {
        var magnitude = 1
        while true {
            for m in [1, 2, 5] where Double(m * magnitude) >= raw { return m * magnitude }
            if magnitude > Int.max / 100 { return Int.max / 10 }
            magnitude *= 10
        }
    }

    /// Unlabelled minor ticks (log axes only).
    var minorTicks: [Double] {
        scale == .log10 ? Ticks.logMinor(lo: min(lo, hi), hi: max(lo, hi)) : []
    }
}

/// Keeps transformed values far from overflow, so spans and positions stay finite.
func clampTransformed(_ t: Double) -> Double { max(-1e300, min(1e300, t)) }

/// The geometry shared by the text and SVG renderers: axis limits, polylines, clipping and bars, all
/// in normalised coordinates.
enum PlotGeometry {
    /// The extent of the data along one axis in the scale's working space. "Soft" extents come
    /// from data points and get a margin; "hard" ones (a bar's baseline, a heatmap's edge) do not.
    struct Extent {
        var softLo = Double.infinity, softHi = -Double.infinity
        var hardLo = Double.infinity, hardHi = -Double.infinity

        mutating func soft(_ t: Double) {
            let c = clampTransformed(t)
            softLo = min(softLo, c)
            softHi = max(softHi, c)
        }

        mutating func hard(_ t: Double) {
            let c = clampTransformed(t)
            hardLo = min(hardLo, c)
            hardHi = max(hardHi, c)
        }
    }

    /// Fraction of the data span added on each soft side.
    static let margin = 0.04

    /// Both axes of `figure` with their limits settled.
    static func resolve(_ figure: Figure) -> (x: ResolvedAxis, y: ResolvedAxis) {
        var ex = Extent(), ey = Extent()
        let xs = figure.xAxis.scale, ys = figure.yAxis.scale
        for s in figure.series {
            switch s.geometry {
            case .line(let x, let y), .step(let x, let y), .scatter(let x, let y):
                for i in 0..<min(x.count, y.count) {
                    if let tx = xs.transform(x[i]), let ty = ys.transform(y[i]) {
                        ex.soft(tx)
                        ey.soft(ty)
                    }
                }
            case .bars(let x, let h, let w):
                for i in 0..<min(x.count, h.count) {
                    guard let r = bar(x[i], h[i], w, xs, ys) else { continue }
                    ex.soft(r.x0)
                    ex.soft(r.x1)
                    ey.soft(r.top)
                    if let b = r.base { ey.hard(b) }
                }
            case .histogram(let edges, let counts):
                for i in 0..<min(counts.count, max(0, edges.count - 1)) {
                    guard let r = bin(edges[i], edges[i + 1], counts[i], xs, ys) else { continue }
                    ex.soft(r.x0)
                    ex.soft(r.x1)
                    ey.soft(r.top)
                    if let b = r.base { ey.hard(b) }
                }
            case .heatmap(let h):
                guard xs == .linear, ys == .linear, h.rows > 0, h.cols > 0 else { continue }
                ex.hard(-0.5)
                ex.hard(Double(h.cols) - 0.5)
                ey.hard(-0.5)
                ey.hard(Double(h.rows) - 0.5)
            }
        }
        return (resolve(figure.xAxis, ex), resolve(figure.yAxis, ey))
    }

    /// One axis's limits: the fixed ones when valid, else the data extent with margins.
    static func resolve(_ axis: Axis, _ e: Extent) -> ResolvedAxis {
        let scale = axis.scale
        if let l = axis.limits, let a = scale.transform(l.lowerBound), let b = scale.transform(l.upperBound), b > a {
            return ResolvedAxis(scale: scale, tlo: clampTransformed(a), thi: clampTransformed(b),
                                reversed: axis.reversed, categories: axis.categories)
        }
        let dataLo = min(e.softLo, e.hardLo), dataHi = max(e.softHi, e.hardHi)
        var lo: Double, hi: Double
        if !dataLo.isFinite || !dataHi.isFinite {
            (lo, hi) = (0, 1)
        } else if dataHi - dataLo <= 1e-12 * max(abs(dataLo), abs(dataHi)) {
            let v = (dataLo + dataHi) / 2
            let d = scale == .log10 ? 0.5 : (v == 0 ? 1 : abs(v) * 0.1)
            (lo, hi) = (v - d, v + d)
        } else {
            let pad = margin * (dataHi - dataLo)
            lo = e.softLo < e.hardLo ? e.softLo - pad : e.hardLo
            hi = e.softHi > e.hardHi ? e.softHi + pad : e.hardHi
        }
        return ResolvedAxis(scale: scale, tlo: lo, thi: hi, reversed: axis.reversed, categories: axis.categories)
    }

    /// A bar in the scales' working spaces: x from `x0` to `x1`, up from `base` (nil: from the
    /// bottom of a log axis) to `top`; nil when it cannot be drawn or has zero height.
    static func bar(_ x: Double, _ h: Double, _ w: Double, _ xs: Scale, _ ys: Scale)
        -> (x0: Double, x1: Double, base: Double?, top: Double)? {
        let width = w.isFinite && w > 0 ? w : 0.8
        return bin(x - width / 2, x + width / 2, h, xs, ys)
    }

    /// A histogram bin or bar from its edges and height (see `bar`).
    static func bin(_ a: Double, _ b: Double, _ h: Double, _ xs: Scale, _ ys: Scale)
        -> (x0: Double, x1: Double, base: Double?, top: Double)? {
        guard let x0 = xs.transform(a), let x1 = xs.transform(b), let top = ys.transform(h) else { return nil }
        return (min(x0, x1), max(x0, x1), ys == .linear ? 0 : nil, top)
    }

    /// The bars of a series in normalised coordinates (empty for other kinds).
    static func rects(_ series: Series, _ xa: ResolvedAxis, _ ya: ResolvedAxis) -> [PlotRect] {
        var out: [PlotRect] = []
        func add(_ r: (x0: Double, x1: Double, base: Double?, top: Double)?) {
            guard let r else { return }
            let left = (r.x0 - xa.tlo) / (xa.thi - xa.tlo), right = (r.x1 - xa.tlo) / (xa.thi - xa.tlo)
            let flipX = xa.reversed
            func ny(_ t: Double) -> Double {
                let u = (clampTransformed(t) - ya.tlo) / (ya.thi - ya.tlo)
                return ya.reversed ? 1 - u : u
            }
            let base = r.base.map(ny) ?? (ya.reversed ? 1 : 0)
            let rect = PlotRect(left: flipX ? 1 - right : left, right: flipX ? 1 - left : right,
                                base: base, top: ny(r.top))
            if rect.left.isFinite, rect.right.isFinite, rect.base.isFinite, rect.top.isFinite { out.append(rect) }
        }
        switch series.geometry {
        case .bars(let x, let h, let w):
            for i in 0..<min(x.count, h.count) { add(bar(x[i], h[i], w, xa.scale, ya.scale)) }
        case .histogram(let edges, let counts):
            for i in 0..<min(counts.count, max(0, edges.count - 1)) {
                add(bin(edges[i], edges[i + 1], counts[i], xa.scale, ya.scale))
            }
        default: break
        }
        return out
    }

    /// The runs of consecutive drawable points of a line or step series, in normalised coordinates
    /// (steps expanded into their horizontal and vertical pieces); a point that cannot be drawn
    /// ends a run. Scatter series give one run per point.
    static func runs(_ series: Series, _ xa: ResolvedAxis, _ ya: ResolvedAxis) -> [[PlotPoint]] {
        var runs: [[PlotPoint]] = []
        var current: [PlotPoint] = []
        func point(_ x: Double, _ y: Double) -> PlotPoint? {
            guard let u = xa.normalized(x), let v = ya.normalized(y) else { return nil }
            return PlotPoint(x: u, y: v)
        }
        func flush() {
            if !current.isEmpty { runs.append(current) }
            current = []
        }
        switch series.geometry {
        case .line(let x, let y):
            for i in 0..<min(x.count, y.count) {
                if let p = point(x[i], y[i]) { current.append(p) } else { flush() }
            }
        case .step(let x, let y):
            for i in 0..<min(x.count, y.count) {
                guard let p = point(x[i], y[i]) else { flush(); continue }
                if let last = current.last { current.append(PlotPoint(x: p.x, y: last.y)) }
                current.append(p)
            }
        case .scatter(let x, let y):
            for i in 0..<min(x.count, y.count) {
                if let p = point(x[i], y[i]) { runs.append([p]) }
            }
        default: break
        }
        flush()
        return runs
    }

    /// Splits runs into pieces inside the unit square: segments are clipped at the square's edges,
    /// single points outside it are dropped.
    static func clipped(_ runs: [[PlotPoint]]) -> [[PlotPoint]] {
        var out: [[PlotPoint]] = []
        for run in runs {
            if run.count == 1 {
                if inside(run[0]) { out.append(run) }
                continue
            }
            var current: [PlotPoint] = []
            for (a, b) in zip(run, run.dropFirst()) {
                guard let (c, d) = clip(a, b) else {
                    if !current.isEmpty { out.append(current); current = [] }
                    continue
                }
                if current.isEmpty || current.last != c {
                    if !current.isEmpty { out.append(current) }
                    current = [c]
                }
                current.append(d)
                if d != b { out.append(current); current = [] }
            }
            if !current.isEmpty { out.append(current) }
        }
        return out
    }

    static let tolerance = 1e-9

    /// True when `p` lies in the unit square (with a tiny tolerance).
    static func inside(_ p: PlotPoint) -> Bool {
        p.x >= -tolerance && p.x <= 1 + tolerance && p.y >= -tolerance && p.y <= 1 + tolerance
    }

    /// Liang–Barsky clipping of segment a→b to the unit square; nil when it misses the square.
    static func clip(_ a: PlotPoint, _ b: PlotPoint) -> (PlotPoint, PlotPoint)? {
        let dx = b.x - a.x, dy = b.y - a.y
        var t0 = 0.0, t1 = 1.0
        let lo = -tolerance, hi = 1 + tolerance
        for (p, q) in [(-dx, a.x - lo), (dx, hi - a.x), (-dy, a.y - lo), (dy, hi - a.y)] {
            if p == 0 {
                if q < 0 { return nil }
            } else {
                let r = q / p
                if p < 0 {
                    if r > t1 { return nil }
                    if r > t0 { t0 = r }
                } else {
                    if r < t0 { return nil }
                    if r < t1 { t1 = r }
                }
            }
        }
        let c = t0 == 0 ? a : PlotPoint(x: a.x + t0 * dx, y: a.y + t0 * dy)
        let d = t1 == 1 ? b : PlotPoint(x: a.x + t1 * dx, y: a.y + t1 * dy)
        guard c.x.isFinite, c.y.isFinite, d.x.isFinite, d.y.isFinite else { return nil }
        return (c, d)
    }

    /// The colour of each series: its own, or the next palette colour (heatmaps take none).
    static func colors(_ figure: Figure) -> [Color] {
        var next = 0
        return figure.series.map { s in
            if let c = s.color { if !s.isHeatmap { next += 1 }; return c }
            if s.isHeatmap { return Palette.color(0) }
            defer { next += 1 }
            return Palette.color(next)
        }
    }

    /// The heatmap to draw, if any (the last one; heatmaps need two linear axes).
    static func heatmap(_ figure: Figure) -> Heatmap? {
        guard figure.xAxis.scale == .linear, figure.yAxis.scale == .linear else { return nil }
        for s in figure.series.reversed() { if case .heatmap(let h) = s.geometry { return h } }
        return nil
    }

    /// The mean of the finite cells of `h` whose centres fall in columns [c0, c1] × rows [r0, r1]
    /// (data units); the nearest cell when no centre falls inside; nil outside the matrix or when
    /// every cell there is NaN.
    static func heatmapValue(_ h: Heatmap, cols c0: Double, _ c1: Double, rows r0: Double, _ r1: Double) -> Double?? {
        func span(_ a: Double, _ b: Double, _ n: Int) -> ClosedRange<Int>? {
            let lo = max(-1, min(Double(n) + 1, min(a, b))), hi = max(-1, min(Double(n) + 1, max(a, b)))
            let first = max(0, Int(lo.rounded(.up))), last = min(n - 1, Int(hi.rounded(.up)) - 1)
            if first <= last { return first...last }
            let mid = ((lo + hi) / 2).rounded()
            guard mid >= 0, mid < Double(n) else { return nil }
            return Int(mid)...Int(mid)
        }
        guard let cs = span(c0, c1, h.cols), let rs = span(r0, r1, h.rows) else { return nil }
        var sum = 0.0, n = 0
        for r in rs {
            for c in cs {
                let v = h.value(row: r, col: c)
                if v.isFinite { sum += v; n += 1 }
            }
        }
        return .some(n > 0 ? sum / Double(n) : nil)
    }
}
