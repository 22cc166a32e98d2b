import Foundation
import Testing
@testable import Plots

/// Odd inputs never crash, never produce NaN coordinates, and say what they skipped.
@Suite("Degenerate inputs")
struct DegenerateInputTests {
    static let nan = Double.nan, inf = Double.infinity

    static let figures: [(String, Figure)] = {
        var out: [(String, Figure)] = []
        out.append(("empty_figure", Figure()))
        out.append(("empty_line", Figure.line(y: [])))
        out.append(("empty_ecdf", Figure.ecdf(values: [])))
        out.append(("empty_histogram", Figure.histogram(values: [])))
        out.append(("empty_bar", Figure.bar(categories: [], values: [])))
        out.append(("empty_heatmap", Figure.heatmap(rows: 0, cols: 0, values: [])))
        out.append(("single_point", Figure.line(y: [3])))
        out.append(("single_scatter", Figure.scatter(x: [1], y: [1])))
        out.append(("single_bar", Figure.bar(categories: ["only"], values: [0])))
        out.append(("one_cell_heatmap", Figure.heatmap([[1]])))
        out.append(("all_equal_line", Figure.line(y: [2, 2, 2, 2])))
        out.append(("all_equal_zero", Figure.line(y: [0, 0, 0])))
        out.append(("all_equal_hist", Figure.histogram(values: [5, 5, 5])))
        out.append(("all_equal_ecdf", Figure.ecdf(values: [1, 1, 1])))
        out.append(("all_equal_heatmap", Figure.heatmap(rows: 2, cols: 2, values: [7, 7, 7, 7])))
        out.append(("nan_line", Figure.line(y: [1, nan, 3, inf, -inf, 2])))
        out.append(("all_nan", Figure.line(x: [nan, nan], y: [nan, 1])))
        out.append(("nan_hist", Figure.histogram(values: [nan, inf, 1, 2])))
        out.append(("nan_heatmap", Figure.heatmap([[nan, 1], [inf, nan]])))
        out.append(("all_nan_heatmap", Figure.heatmap([[nan, nan]])))
        out.append(("nan_bars", Figure.bar(categories: ["a", "b", "c"], values: [nan, inf, 1])))
        out.append(("huge_counts", Figure.bar(x: [0, 1, 2], heights: [1e300, 1, 1e308])))
        out.append(("huge_hist", Figure.histogram(edges: [0, 1, 2], counts: [Double(Int.max), 1e308])))
        out.append(("huge_range", Figure.line(x: [-1e308, 1e308], y: [-1e308, 1e308])))
        out.append(("tiny_range", Figure.line(y: [1e16, 1e16 + 2, 1e16 + 4])))
        out.append(("subnormal", Figure.line(y: [0, .leastNonzeroMagnitude, 2 * .leastNonzeroMagnitude])))
        out.append(("mismatched", Figure(series: [.line(x: [1, 2, 3], y: [1]), .scatter(x: [], y: [1, 2])])))
        out.append(("bad_histogram", Figure(series: [.histogram(edges: [3, 2, 1], counts: [1, 2, 3, 4])])))
        out.append(("bad_bar_width", Figure(series: [Series(.bars(x: [1, 2], heights: [1, 2], width: nan))])))
        var logFig = Figure(title: "log", xScale: .log10, yScale: .log10)
        logFig.addLine(x: [-1, 0, 1, 10], y: [0, 1, -1, 100])
        logFig.add(.histogram(edges: [0, 1, 10], counts: [0, 5]))
        logFig.add(.heatmap(Heatmap(matrix: [[1, 2]])))
        out.append(("log_nonpositive", logFig))
        out.append(("log_all_nonpositive", Figure(yScale: .log10, series: [.line(y: [0, -1, -2])])))
        out.append(("bad_limits", Figure(xLimits: 5...5, yLimits: -inf...inf, series: [.line(y: [1, 2])])))
        out.append(("log_bad_limits", Figure(yScale: .log10, yLimits: -1...10, series: [.line(y: [1, 2])])))
        out.append(("outside_limits", Figure(xLimits: 10...20, yLimits: 10...20, series: [
            .line(y: [1, 2, 3]), .bars(x: [1], heights: [5]), .scatter(x: [100], y: [100])])))
        out.append(("ragged_heatmap", Figure.heatmap([[1, 2, 3], [4], []])))
        out.append(("categories_no_bars", Figure(series: [.line(y: [1, 2])])))
        var cat = Figure.bar(categories: ["a"], values: [1])
        cat.add(.line(y: [1, 2]))
        out.append(("categories_mixed", cat))
        let many = (0..<300).map { "layer \($0)" }
        out.append(("many_categories", Figure.bar(categories: many, values: many.indices.map { Double($0) })))
        let labels = (0..<40).map { "s\($0)" }
        out.append(("many_series", Figure(series: labels.map { .line(y: [1, 2, 3], label: $0) })))
        out.append(("wide_labels", Figure(title: String(repeating: "长", count: 100), xLabel: "x",
                                          series: [.line(y: [1, 2], label: String(repeating: "w", count: 300))])))
        return out
    }()

    @Test(arguments: figures.map(\.0))
    func neverCrashes(name: String) throws {
        let fig = try #require(Self.figures.first { $0.0 == name }?.1)
        for (w, h) in [(60, 15), (0, 0), (-5, -5), (1, 1), (3, 100), (Int.max, 2), (2, Int.max)] {
            for color in [false, true] {
                for ascii in [false, true] {
                    let text = fig.text(width: w, height: h, color: color, ascii: ascii)
                    #expect(!text.isEmpty)
                    #expect(!text.contains("nan") && !text.contains("NaN coordinates"))
                }
            }
        }
        for (w, h) in [(640.0, 400.0), (0, 0), (-10, 5), (.nan, .infinity), (1e9, 1e9)] {
            let svg = fig.svg(width: w, height: h, idPrefix: "d")
            expectWellFormedSVG(svg, name)
        }
    }

    @Test func degenerateSVGsRender() {
        for name in ["empty_figure", "single_point", "all_equal_line", "nan_heatmap", "log_nonpositive", "huge_range",
                     "many_categories", "wide_labels"] {
            let fig = Self.figures.first { $0.0 == name }!.1
            expectRendersToPNG(fig.svg(idPrefix: "r"), "degenerate_\(name)")
        }
    }

    @Test func skippedValuesAreCountedAndNoted() {
        let f = Self.figures.first { $0.0 == "nan_line" }!.1
        #expect(f.skippedValueCount == 3)
        #expect(f.text().contains("3 values not drawn (NaN or infinite)"))
        let log = Self.figures.first { $0.0 == "log_nonpositive" }!.1
        // line: (-1, 0), (0, 1), (1, -1) skipped; histogram: the bin at 0 (zero count is not skipped,
        // but its edge 0 is — empty bins are not counted); heatmap: 2 cells on log axes
        #expect(log.skippedValueCount == 3 + 2)
        #expect(log.text().contains("not drawn (NaN, infinite or ≤ 0 on a log axis)"))
        #expect(Figure.line(y: [1, 2]).skippedNote == nil)
        let heat = Self.figures.first { $0.0 == "nan_heatmap" }!.1
        #expect(heat.skippedValueCount == 3)
    }

    @Test func emptyFiguresSayNoData() {
        #expect(Figure().text().contains("(no data)"))
        #expect(Figure.line(y: []).text(ascii: true).contains("(no data)"))
        #expect(Figure.bar(categories: [], values: []).text().contains("(no data)"))
        #expect(Figure().svg().contains("(no data)"))
    }

    @Test func longLegendsAreCut() {
        let fig = Self.figures.first { $0.0 == "many_series" }!.1
        let text = fig.text(width: 40, height: 10)
        #expect(text.contains("… 31 more"))
        #expect(text.split(separator: "\n").count < 20)
        let svg = fig.svg(idPrefix: "legend")
        #expect(svg.contains("… "))
        expectRendersToPNG(svg, "many_series")
    }

    @Test func singlePointIsVisible() {
        let text = Figure.line(y: [3]).text(width: 20, height: 5)
        #expect(text.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) })
        let svg = Figure.line(y: [3]).svg()
        #expect(svg.contains("h0"))
    }

    @Test func limitsAreSane() {
        let (x, y) = PlotGeometry.resolve(Figure.line(y: [2, 2, 2]))
        #expect(x.lo < 0 && x.hi > 2)
        #expect(y.lo == 1.8 && y.hi == 2.2)
        let (_, ly) = PlotGeometry.resolve(Figure(yScale: .log10, series: [.line(y: [10, 10])]))
        #expect(abs(ly.tlo - 0.5) < 1e-12 && abs(ly.thi - 1.5) < 1e-12)
        let (_, by) = PlotGeometry.resolve(Figure.bar(categories: ["a", "b"], values: [1, 2]))
        #expect(by.lo == 0)
        let (hx, hy) = PlotGeometry.resolve(Figure.heatmap(rows: 3, cols: 4, values: Array(repeating: 1, count: 12)))
        #expect(hx.lo == -0.5 && hx.hi == 3.5 && hy.lo == -0.5 && hy.hi == 2.5 && hy.reversed)
        let (ex, _) = PlotGeometry.resolve(Figure())
        #expect(ex.lo == 0 && ex.hi == 1)
        let (fx, _) = PlotGeometry.resolve(Figure(xLimits: 2...3, series: [.line(y: [1, 2, 3, 4, 5])]))
        #expect(fx.lo == 2 && fx.hi == 3)
    }
}
