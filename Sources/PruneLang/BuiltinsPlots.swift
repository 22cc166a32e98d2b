import Numerics
import Plots

extension BuiltinRegistry {
    /// Registers the plotting builtins (figures from the Plots module) and `table`.
    public func registerPlots() {
        let figureOptions: [Param] = [
            .optional("title", "string", default: .string("")),
            .optional("xlabel", "string", default: .none, "x axis label"),
            .optional("ylabel", "string", default: .none, "y axis label"),
            .optional("xlog", "bool", default: .bool(false), "logarithmic x axis"),
            .optional("ylog", "bool", default: .bool(false), "logarithmic y axis"),
        ]
        register(Builtin(
            name: "plot", params: [.variadic("items", "figure|analysis|vector|list")] + figureOptions + [.optional("label", "string", default: .string(""), "legend label of a line given as numbers")],
            returns: "figure", category: "plots",
            doc: "One figure from several: figures (from ecdf, hist, scatter, bar, plot, esd) are overlaid, keeping every series, and an analysis from `analyze` draws its α by block and role (Δα with base=); numbers draw lines — `plot(y)` against 0, 1, 2, …, `plot(x, y)` against x. Titles, axis labels and log axes are set with the keywords; otherwise the first figure's are kept.",
            example: "s = svdvals(randn(60, 40, seed=0))\nplot(ecdf(s, label=\"W\"), ecdf(svdvals(drop_rows(randn(60, 40, seed=0), 0.5, seed=1)), label=\"50% rows\"), title=\"spectra\")") { a in
                var fig: Figure?
                var numeric: [([Double], Span)] = []
                for (v, s) in zip(a.rest, a.restSpans) {
                    if case .object(let o) = v, let f = (o as? FigureObject)?.figure ?? (o as? FigureSource)?.defaultFigure {
                        if fig == nil { fig = f } else { for series in f.series { fig!.add(series) } }
                    } else if let xs = try? v.asNumbers(flattenMatrix: false, limit: a.interpreter.limits.maxElements) {
                        numeric.append((xs, s))
                    } else {
                        throw LangError(.type, "plot: each item must be a figure, an analysis or numbers, got \(v.typeName)", s)
                    }
                }
                var out = fig ?? Figure()
                let label = try a.string("label")
                if numeric.count == 2 && fig == nil {
                    guard numeric[0].0.count == numeric[1].0.count else {
                        throw a.fail("x and y must have the same length, got \(numeric[0].0.count) and \(numeric[1].0.count)")
                    }
                    out.add(.line(x: numeric[0].0, y: numeric[1].0, label: label))
                } else {
                    for (k, (ys, _)) in numeric.enumerated() { out.add(.line(y: ys, label: numeric.count == 1 ? label : (label.isEmpty ? "" : "\(label) \(k)"))) }
                }
                if a.rest.isEmpty { throw a.fail("needs something to plot: figures or numbers") }
                return .object(FigureObject(try applyOptions(out, a)))
            })
        register(Builtin(
            name: "ecdf", params: [.required("x", "vector|list|matrix"), .optional("label", "string", default: .none, "legend label (default: the argument as written)")] + figureOptions,
            returns: "figure", category: "plots",
            doc: "A figure of the empirical CDF of the numbers (steps rising by 1/n at each value; a matrix counts as its elements). Overlay several with plot(ecdf(a), ecdf(b)). NaN and infinite values are skipped and noted.",
            example: "ecdf(svdvals(randn(50, 20, seed=1)), title=\"singular values\")") { a in
                let xs = try a.numbers("x", flattenMatrix: true)
                var f = Figure.ecdf(values: xs, label: defaultLabel(a, "x"))
                f.yAxis.label = "ECDF"
                f.xAxis.label = quantityLabel(a, "x")
                return .object(FigureObject(try applyOptions(f, a)))
            })
        register(Builtin(
            name: "hist", params: [.required("x", "vector|list|matrix"),
                                   .optional("bins", "number|list", default: .none, "a count, the bin edges, or none for numpy's \"auto\""),
                                   .optional("label", "string", default: .none, "legend label (default: the argument as written)")] + figureOptions,
            returns: "figure", category: "plots",
            doc: "A figure of the histogram of the numbers (a matrix counts as its elements), binned as numpy.histogram: `bins` equal-width bins over [min, max], explicit edges, or numpy's \"auto\" rule by default.",
            example: "randn(1000, 1, seed=2) |> hist(bins=20)") { a in
                let xs = try a.numbers("x", flattenMatrix: true)
                var bins = HistogramBins.auto
                switch a.value("bins") {
                case .none: break
                case .number: bins = .count(try a.int("bins", 1...1_000_000))
                default:
                    let edges = try a.numbers("bins")
                    guard edges.count >= 2, zip(edges, edges.dropFirst()).allSatisfy({ $0 < $1 }) else {
                        throw a.fail(argument: "bins", "bins must be a count or at least two increasing edges")
                    }
                    bins = .edges(edges)
                }
                var f = Figure.histogram(values: xs, bins: bins, label: defaultLabel(a, "x"))
                if f.xAxis.label.isEmpty { f.xAxis.label = quantityLabel(a, "x") }
                return .object(FigureObject(try applyOptions(f, a)))
            })
        register(Builtin(
            name: "scatter", params: [.required("x", "vector|list"), .required("y", "vector|list"),
                                      .optional("label", "string", default: .string(""))] + figureOptions,
            returns: "figure", category: "plots",
            doc: "A figure of the points (x[i], y[i]); x and y must have the same length.",
            example: "scatter([1, 2, 3, 4], [1, 4, 9, 16], xlabel=\"n\", ylabel=\"n²\")") { a in
                let x = try a.numbers("x"), y = try a.numbers("y")
                guard x.count == y.count else { throw a.fail("x and y must have the same length, got \(x.count) and \(y.count)") }
                return .object(FigureObject(try applyOptions(Figure.scatter(x: x, y: y, label: try a.string("label")), a)))
            })
        register(Builtin(
            name: "bar", params: [.required("x", "list|vector|record", "heights, category names (with `values`), or a record name → height"),
                                  .optional("values", "vector|list", default: .none), .optional("label", "string", default: .string(""))] + figureOptions,
            returns: "figure", category: "plots",
            doc: "A bar chart: `bar(heights)` numbers the bars 0, 1, …; `bar(names, heights)` names them; `bar(record)` takes the names and heights from its fields.",
            example: "bar({magnitude: 0.31, wanda: 0.27, prunenet: 0.22}, ylabel=\"KS\")") { a in
                var names: [String], heights: [Double]
                if case .record(let r) = a.value("x") {
                    names = r.keys
                    heights = try r.values.enumerated().map { k, v in
                        guard case .number(let h) = v else { throw a.fail(argument: "x", "field '\(r.keys[k])' must be a number, got \(v.typeName)") }
                        return h
                    }
                } else if a.has("values") {
                    guard case .list(let items) = a.value("x") else { throw a.typeError("x", expected: "a list of names") }
                    names = items.map(Render.printed)
                    heights = try a.numbers("values")
                    guard names.count == heights.count else { throw a.fail("\(names.count) names for \(heights.count) values") }
                } else {
                    heights = try a.numbers("x")
                    names = heights.indices.map(String.init)
                }
                return .object(FigureObject(try applyOptions(Figure.bar(categories: names, values: heights, label: try a.string("label")), a)))
            })
        register(Builtin(
            name: "heatmap", params: [.required("W", "matrix"),
                                      .optional("colors", "string", default: .string("diverging"), "\"diverging\" (blue–white–red about 0), \"viridis\" or \"grays\""),
                                      .optional("title", "string", default: .string(""))],
            returns: "figure", category: "plots",
            doc: "A figure of the matrix as coloured cells, row 0 at the top. Large matrices are drawn in blocks (the renderers average them). Weights read best with the default diverging colours.",
            example: "heatmap(randn(8, 12, seed=0), title=\"noise\")") { a in
                let m = try a.matrix("W")
                let cmap = Colormap(rawValue: try a.choice("colors", Colormap.allCases.map(\.rawValue)))!
                let f = Figure.heatmap(rows: m.rows, cols: m.cols, values: m.data.map { Double($0) }, colormap: cmap, title: try a.string("title"))
                return .object(FigureObject(f))
            })
        register(Builtin(
            name: "table", params: [.required("rows", "list of records|record of lists"), .optional("title", "string", default: .none)],
            returns: "table", category: "plots",
            doc: "A table shown as box-drawn text and as HTML: from a list of records (one row each, columns from the first record's fields), or from a record of equal-length lists (one column each).",
            example: "table([{layer: 0, rank: 12.5}, {layer: 1, rank: 14.25}], title=\"stable rank\")") { a in
                func cell(_ v: Value) -> Table.Cell {
                    switch v {
                    case .number(let x): return .number(x)
                    case .none: return .empty
                    default: return .text(Render.printed(v))
                    }
                }
                var headers: [String] = []
                var rows: [[Table.Cell]] = []
                switch a.value("rows") {
                case .list(let items):
                    for (k, item) in items.enumerated() {
                        guard case .record(let r) = item else { throw a.fail(argument: "rows", "row \(k) must be a record, got \(item.typeName)", kind: .type) }
                        if k == 0 { headers = r.keys }
                        rows.append(headers.map { r[$0].map(cell) ?? .empty })
                    }
                case .record(let r):
                    headers = r.keys
                    let columns: [[Value]] = try r.values.enumerated().map { k, v in
                        if case .list(let xs) = v { return xs }
                        if let xs = try v.asNumbers(flattenMatrix: false, limit: a.interpreter.limits.maxElements) { return xs.map { .number($0) } }
                        throw a.fail(argument: "rows", "column '\(r.keys[k])' must be a list, got \(v.typeName)", kind: .type)
                    }
                    let n = columns.map(\.count).max() ?? 0
                    rows = (0..<n).map { i in columns.map { i < $0.count ? cell($0[i]) : .empty } }
                default: throw a.typeError("rows", expected: "a list of records or a record of lists")
                }
                let title: String? = a.has("title") ? try a.string("title") : nil
                return .object(TableObject(Table(title: title, headers: headers, rows: rows)))
            })
    }
}

/// The `label` argument, or the argument `name` as written when it is short (`ecdf(s)` → "s").
private func defaultLabel(_ a: Arguments, _ name: String) -> String {
    if a.has("label"), case .string(let s) = a.value("label") { return s }
    let written = a.span(name).text
    return written.count <= 24 && !written.contains("\n") ? written : ""
}

/// The x-axis quantity of a distribution plot of argument `name`, from how it was written:
/// "singular value" for `svdvals(...)`, otherwise the argument
/// itself when short (`ecdf(s)` → "s"), else "value".
private func quantityLabel(_ a: Arguments, _ name: String) -> String {
    let written = a.span(name).text
    if written.contains("svdvals(") { return "singular value" }
    return written.count <= 24 && !written.contains("\n") && !written.isEmpty ? written : "value"
}

/// Applies the title/xlabel/ylabel/xlog/ylog keywords of a plotting builtin.
private func applyOptions(_ figure: Figure, _ a: Arguments) throws -> Figure {
    var f = figure
    let title = try a.string("title")
    if !title.isEmpty { f.title = title }
    if a.has("xlabel") { f.xAxis.label = try a.string("xlabel") }
    if a.has("ylabel") { f.yAxis.label = try a.string("ylabel") }
    if try a.bool("xlog") { f.xAxis.scale = .log10 }
    if try a.bool("ylog") { f.yAxis.scale = .log10 }
    return f
}
