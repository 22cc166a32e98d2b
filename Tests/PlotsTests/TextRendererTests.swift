import Testing
@testable import Plots

/// The text renderer against golden files in Tests/PlotsTests/golden (see `expectGolden` for how to
/// regenerate them).
@Suite("Text renderer")
struct TextRendererTests {
    @Test func lineTwoSeriesWithLegend() {
        expectGolden(SampleFigures.twoLines().text(), "line_two_series")
    }

    @Test func ecdfSteps() {
        expectGolden(SampleFigures.ecdf().text(), "ecdf")
    }

    @Test func histogram() {
        expectGolden(SampleFigures.histogram().text(), "histogram")
    }

    @Test func scatter() {
        expectGolden(SampleFigures.scatter().text(width: 50, height: 12), "scatter")
    }

    @Test func barByCategory() {
        expectGolden(SampleFigures.bar().text(width: 50), "bar_categories")
    }

    @Test func groupedBars() {
        expectGolden(SampleFigures.groupedBar().text(width: 40), "bar_grouped")
    }

    @Test func numericBarsWithNegatives() {
        expectGolden(SampleFigures.numericBars().text(width: 40, height: 10), "bar_numeric")
    }

    @Test func heatmap() {
        expectGolden(SampleFigures.heatmap().text(width: 40, height: 12), "heatmap")
    }

    @Test func logY() {
        expectGolden(SampleFigures.logY().text(), "log_y")
    }

    @Test func logLogScatter() {
        expectGolden(SampleFigures.logLog().text(width: 40, height: 12), "log_log")
    }

    @Test func asciiMode() {
        let line = SampleFigures.twoLines().text(ascii: true)
        expectGolden(line, "ascii_line")
        expectGolden(SampleFigures.histogram().text(width: 40, height: 10, ascii: true), "ascii_histogram")
        expectGolden(SampleFigures.heatmap().text(width: 40, height: 12, ascii: true), "ascii_heatmap")
        expectGolden(SampleFigures.bar().text(width: 40, ascii: true), "ascii_bar")
        for text in [line, SampleFigures.ecdf().text(ascii: true), SampleFigures.scatter().text(ascii: true),
                     SampleFigures.groupedBar().text(ascii: true), SampleFigures.logY().text(ascii: true),
                     SampleFigures.heatmap().text(ascii: true), SampleFigures.numericBars().text(ascii: true)] {
            // ASCII only, apart from labels the figure itself carries (σ, ·, ×, ⁴, α)
            let stray = text.unicodeScalars.filter { !$0.isASCII && !"σ·×⁴α%".unicodeScalars.contains($0) }
            #expect(stray.isEmpty, "non-ASCII characters: \(String(String.UnicodeScalarView(stray)))")
        }
    }

    @Test func colorMode() {
        let text = SampleFigures.twoLines().text(color: true)
        expectGolden(text, "color_line")
        #expect(text.contains("\u{1B}[38;5;31m"))     // series 1: #1f77b4
        #expect(text.contains("\u{1B}[38;5;208m"))    // series 2: #ff7f0e
        #expect(text.contains("\u{1B}[0m"))
        expectGolden(SampleFigures.heatmap().text(width: 30, height: 8, color: true), "color_heatmap")
        // without colour there are no escape codes at all
        for fig in [SampleFigures.twoLines(), SampleFigures.heatmap(), SampleFigures.bar(), SampleFigures.histogram()] {
            #expect(!fig.text().contains("\u{1B}"))
            #expect(!fig.text(ascii: true).contains("\u{1B}"))
        }
    }

    @Test func plainOutputHasNoTrailingSpacesAndKeepsItsFrame() {
        let text = SampleFigures.ecdf().text(width: 60, height: 15)
        let lines = text.split(separator: "\n")
        #expect(lines.allSatisfy { !$0.hasSuffix(" ") })
        let framed = lines.filter { $0.contains("│") || $0.contains("┤") }
        #expect(framed.count == 15)
        #expect(lines.contains { $0.contains("┌" + String(repeating: "─", count: 60) + "┐") })
    }

    @Test func terminalOptions() {
        let tty = TextRenderer.forTerminal(columns: 100, rows: 30, isTerminal: true, environment: [:])
        #expect(tty.color && !tty.ascii)
        #expect(tty.width == 70 && tty.height == 20)
        #expect(!TextRenderer.forTerminal(columns: 100, rows: 30, isTerminal: true, environment: ["NO_COLOR": "1"]).color)
        #expect(!TextRenderer.forTerminal(columns: 100, rows: 30, isTerminal: false, environment: [:]).color)
        let dumb = TextRenderer.forTerminal(columns: 10, rows: 5, isTerminal: true, environment: ["TERM": "dumb"])
        #expect(dumb.ascii && !dumb.color && dumb.width == 20 && dumb.height == 6)
    }
}
