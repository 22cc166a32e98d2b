import Foundation
@testable import Plots

/// The figures the text and SVG tests draw: one of each kind, with fixed data.
enum SampleFigures {
    static func twoLines() -> Figure {
        let x = (0..<80).map { Double($0) * 2 * Double.pi / 79 }
        var fig = Figure(title: "Two waves", xLabel: "phase (rad)", yLabel: "amplitude")
        fig.addLine(x: x, y: x.map { sin($0) }, label: "sin")
        fig.addLine(x: x, y: x.map { 0.5 * cos($0) }, label: "0.5·cos")
        return fig
    }

    static func ecdf() -> Figure {
        var g = TestLCG(seed: 7)
        let dense = g.bell(300)
        let pruned = dense.prefix(210).map { $0 * 0.8 + 0.1 }
        var fig = Figure.ecdf(values: dense, label: "dense", title: "ECDF of singular values", xLabel: "σ")
        fig.addECDF(values: pruned, label: "30% rows dropped")
        return fig
    }

    static func histogram() -> Figure {
        var g = TestLCG(seed: 42)
        return Figure.histogram(values: g.bell(500), bins: .count(20), label: "sample", title: "Histogram",
                                xLabel: "value")
    }

    static func scatter() -> Figure {
        var g = TestLCG(seed: 3)
        let x = (0..<120).map { _ in g.next() * 10 }
        let y = x.map { 0.5 * $0 + (g.next() - 0.5) * 2 }
        return Figure.scatter(x: x, y: y, label: "points", title: "Scatter", xLabel: "x", yLabel: "y")
    }

    static func bar() -> Figure {
        Figure.bar(categories: ["q_proj", "k_proj", "v_proj", "o_proj", "gate", "up", "down"],
                   values: [4.5, 2.25, 2.25, 4.5, 12, 12, 12], title: "Parameters per matrix (×10⁴)",
                   xLabel: "matrix", yLabel: "parameters")
    }

    static func groupedBar() -> Figure {
        Figure.groupedBar(categories: ["magnitude", "wanda", "prunenet"],
                          groups: [("20%", [18.2, 16.9, 15.1]), ("40%", [45.0, 31.5, 22.8])],
                          title: "Perplexity", yLabel: "ppl")
    }

    static func numericBars() -> Figure {
        Figure.bar(x: [1, 2, 3, 4, 5, 6], heights: [3, -1, 4, 1, -5, 9], label: "delta", title: "Signed bars",
                   xLabel: "layer", yLabel: "change")
    }

    static func heatmap() -> Figure {
        var values: [Double] = []
        for i in 0..<12 { for j in 0..<20 { values.append(sin(Double(i) / 3) * cos(Double(j) / 4)) } }
        return Figure.heatmap(rows: 12, cols: 20, values: values, colormap: .diverging, title: "Weights")
    }

    static func logY() -> Figure {
        let idx = (1...300).map(Double.init)
        var fig = Figure(title: "Power-law spectrum", xLabel: "rank", yLabel: "σ", yScale: .log10)
        fig.addLine(x: idx, y: idx.map { 120 * pow($0, -0.9) }, label: "α = 0.9")
        fig.addLine(x: idx, y: idx.map { 60 * pow($0, -0.5) }, label: "α = 0.5")
        return fig
    }

    static func logLog() -> Figure {
        let idx = (1...1000).map(Double.init)
        var fig = Figure(title: "log-log", xLabel: "k", yLabel: "p(k)", xScale: .log10, yScale: .log10)
        fig.addScatter(x: idx, y: idx.map { pow($0, -2.2) }, label: "tail")
        return fig
    }
}
