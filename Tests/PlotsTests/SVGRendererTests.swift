import Foundation
import Testing
@testable import Plots

/// Every SVG parses as XML and renders to PNG with rsvg-convert; ids stay unique across figures.
@Suite("SVG renderer")
struct SVGRendererTests {
    static let samples: [(String, Figure)] = [
        ("line_two_series", SampleFigures.twoLines()), ("ecdf", SampleFigures.ecdf()),
        ("histogram", SampleFigures.histogram()), ("scatter", SampleFigures.scatter()),
        ("bar_categories", SampleFigures.bar()), ("bar_grouped", SampleFigures.groupedBar()),
        ("bar_numeric", SampleFigures.numericBars()), ("heatmap", SampleFigures.heatmap()),
        ("log_y", SampleFigures.logY()), ("log_log", SampleFigures.logLog()),
    ]

    @Test(arguments: samples.map(\.0))
    func sampleParsesAndRenders(name: String) throws {
        let fig = try #require(Self.samples.first { $0.0 == name }?.1)
        let svg = fig.svg(idPrefix: "t-\(name)")
        let parsed = expectWellFormedSVG(svg, name)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"400\" viewBox=\"0 0 640 400\""))
        #expect(parsed.ids.allSatisfy { $0.hasPrefix("t-\(name)-") })
        #expect(parsed.ids.contains("t-\(name)-clip"))
        #expect(svg.contains("clip-path=\"url(#t-\(name)-clip)\""))
        if !fig.title.isEmpty { #expect(parsed.text.contains(fig.title)) }
        #expect(svg.contains("font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""))
        expectRendersToPNG(svg, "sample_\(name)")
    }

    /// Figures that reach every part of the layout: turned category labels (in a small document),
    /// a legend too long for the document ("… N more"), and a heatmap's colour bar with a legend under it.
    static let layoutCases: [(String, Figure)] = {
        let names = (0..<4).map { "layers.\($0).feed_forward.up_proj" }
        let rotated = Figure.bar(categories: names, values: [3, 1, 4, 1], title: "Turned labels", xLabel: "matrix",
                                 yLabel: "value")
        let overflow = Figure(title: "Many series", series: (0..<30).map { i in
            .line(x: [0, 1, 2], y: [Double(i), Double(i) + 1, Double(i) * 0.5], label: "series \(i)")
        })
        var heatmap = SampleFigures.heatmap()
        heatmap.addLine(x: [0, 19], y: [0, 11], label: "diagonal")
        heatmap.xAxis.label = "column"
        heatmap.yAxis.label = "row"
        return [("rotated_categories", rotated), ("legend_overflow", overflow), ("heatmap_legend", heatmap)]
    }()

    /// The SVG documents, byte for byte, against Tests/PlotsTests/golden/svg_<name>.svg.
    @Test(arguments: (samples + layoutCases).map(\.0))
    func matchesGoldenFile(name: String) throws {
        let fig = try #require((Self.samples + Self.layoutCases).first { $0.0 == name }?.1)
        let small = name == "rotated_categories"
        let svg = fig.svg(width: small ? 320 : 640, height: small ? 240 : 400, idPrefix: "g")
        expectGolden(svg, "svg_\(name)", ext: "svg")
        expectWellFormedSVG(svg, "golden_\(name)")
    }

    @Test func idsAreUniqueAcrossFiguresOnOnePage() {
        let a = SampleFigures.heatmap().svg(), b = SampleFigures.heatmap().svg(), c = SampleFigures.ecdf().svg()
        let pa = parseXML(a), pb = parseXML(b), pc = parseXML(c)
        #expect(!pa.ids.isEmpty)
        #expect(Set(pa.ids).isDisjoint(with: pb.ids))
        #expect(Set(pa.ids).isDisjoint(with: pc.ids))
        #expect(Set(pb.ids).isDisjoint(with: pc.ids))
        // one page holding all three: every id unique, every reference resolves
        let page = "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body>\(a)\(b)\(c)</body></html>"
        let parsed = parseXML(page)
        #expect(parsed.ok)
        #expect(Set(parsed.ids).count == parsed.ids.count)
        #expect(parsed.references.allSatisfy(parsed.ids.contains))
        expectRendersToPNG(a, "page_a")
    }

    @Test func generatedPrefixesDiffer() {
        let p1 = SVGIdentifiers.next(), p2 = SVGIdentifiers.next()
        #expect(p1 != p2)
        #expect(p1.hasPrefix("plf"))
        #expect(SVGIdentifiers.sanitized("my fig #1") == "myfig1")
        #expect(SVGIdentifiers.sanitized("9lives") == "p9lives")
        #expect(SVGIdentifiers.sanitized("<>").hasPrefix("plf"))
    }

    @Test func textIsEscaped() {
        var fig = Figure(title: "<script>alert('x')</script> & \"quotes\"", xLabel: "a < b", yLabel: "c > d")
        fig.addLine(x: [0, 1], y: [0, 1], label: "R&D <α>")
        fig.xAxis.categories = nil
        let svg = fig.svg(idPrefix: "esc")
        let parsed = expectWellFormedSVG(svg, "escaping")
        #expect(!svg.contains("<script>"))
        #expect(parsed.text.contains("<script>alert('x')</script> & \"quotes\""))
        #expect(parsed.text.contains("R&D <α>"))
        #expect(parsed.text.contains("a < b"))
        // control characters that XML forbids are replaced
        let bell = Figure(title: "bell\u{07}here", series: [.line(y: [1, 2])]).svg()
        #expect(parseXML(bell).ok)
        expectRendersToPNG(svg, "escaping")
    }

    @Test func sizesAndLargeInputs() {
        let x = (0..<200_000).map { Double($0) }
        let fig = Figure.line(x: x, y: x.indices.map { sin(Double($0) / 500) + 0.001 * Double($0 % 7) }, label: "long")
        let svg = fig.svg(width: 800, height: 300, idPrefix: "big")
        expectWellFormedSVG(svg, "long_line")
        #expect(svg.utf8.count < 400_000, "long line SVG is \(svg.utf8.count) bytes")
        #expect(svg.contains("viewBox=\"0 0 800 300\""))
        expectRendersToPNG(svg, "long_line")

        let big = Figure.heatmap(rows: 1536, cols: 576, values: (0..<(1536 * 576)).map { Double($0 % 977) / 977 })
        let hsvg = big.svg(idPrefix: "bigmap")
        expectWellFormedSVG(hsvg, "big_heatmap")
        #expect(hsvg.utf8.count < 1_500_000, "heatmap SVG is \(hsvg.utf8.count) bytes")
        expectRendersToPNG(hsvg, "big_heatmap")
        let text = big.text()
        #expect(text.split(separator: "\n").count > 15)
    }

    @Test func notesSkippedValues() {
        var fig = Figure(title: "log with zeros", yScale: .log10)
        fig.addLine(x: [0, 1, 2, 3, 4], y: [1, 0, -3, 10, .nan], label: "y")
        #expect(fig.skippedValueCount == 3)
        let svg = fig.svg(idPrefix: "note")
        let parsed = expectWellFormedSVG(svg, "skipped_note")
        #expect(parsed.text.contains("3 values not drawn (NaN, infinite or ≤ 0 on a log axis)"))
        expectRendersToPNG(svg, "skipped_note")
    }
}
