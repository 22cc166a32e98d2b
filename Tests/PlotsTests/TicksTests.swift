import Testing
@testable import Plots

@Suite("Ticks and number formatting")
struct TicksTests {
    @Test func niceSteps() {
        #expect(Ticks.niceStep(range: 1, target: 5) == 0.2)
        #expect(Ticks.niceStep(range: 10, target: 5) == 2)
        #expect(Ticks.niceStep(range: 100, target: 4) == 20)
        #expect(Ticks.niceStep(range: 7, target: 2) == 5)
        #expect(Ticks.niceStep(range: 0.003, target: 3) == 0.001)
        #expect(Ticks.niceStep(range: 0, target: 5) == 1)
        #expect(Ticks.niceStep(range: .nan, target: 5) == 1)
    }

    @Test func linearTicksAreNiceAndNoiseFree() {
        #expect(Ticks.linear(lo: 0, hi: 1) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(Ticks.linear(lo: -0.04, hi: 1.04) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(Ticks.linear(lo: 0, hi: 0.3, target: 3) == [0, 0.1, 0.2, 0.3])
        #expect(Ticks.linear(lo: 3.7, hi: 97.2, target: 5) == [20, 40, 60, 80])
        #expect(Ticks.linear(lo: -5, hi: 5, target: 4) == [-4, -2, 0, 2, 4])
        #expect(Ticks.linear(lo: 1e6, hi: 5e6, target: 4) == [1e6, 2e6, 3e6, 4e6, 5e6])
        #expect(Ticks.linear(lo: 1e-9, hi: 5e-9, target: 4) == [1e-9, 2e-9, 3e-9, 4e-9, 5e-9])
        // no negative zero
        #expect(Ticks.linear(lo: -1, hi: 1, target: 2).contains { $0 == 0 && $0.sign == .plus })
        #expect(Ticks.linear(lo: 1, hi: 0).isEmpty)
        #expect(Ticks.linear(lo: .nan, hi: 1).isEmpty)
        #expect(Ticks.linear(lo: 2, hi: 2) == [2])
    }

    @Test func logTicksAreDecades() {
        #expect(Ticks.log10(lo: 1, hi: 1000) == [1, 10, 100, 1000])
        #expect(Ticks.log10(lo: 0.5, hi: 2e4) == [1, 10, 100, 1000, 10000])
        #expect(Ticks.log10(lo: 1e-3, hi: 1e3) == [1e-3, 1e-2, 1e-1, 1, 10, 100, 1000])
        // many decades: every second (or n-th) decade
        #expect(Ticks.log10(lo: 1e-12, hi: 1e12, target: 5) == [1e-10, 1e-5, 1, 1e5, 1e10])
        // within a decade: 1-2-5
        #expect(Ticks.log10(lo: 1.5, hi: 60) == [2, 5, 10, 20, 50])
        #expect(Ticks.log10(lo: 3, hi: 9) == [3, 4, 5, 6, 7, 8, 9])
        #expect(Ticks.log10(lo: 3, hi: 9, target: 4) == [4, 6, 8])
        #expect(Ticks.log10(lo: 0, hi: 10).isEmpty)
        #expect(Ticks.logMinor(lo: 1, hi: 100) == [2, 3, 4, 5, 6, 7, 8, 9, 20, 30, 40, 50, 60, 70, 80, 90])
    }

    @Test func tickLabels() {
        #expect(Ticks.labels(for: [0, 0.2, 0.4, 0.6000000000000001], scale: .linear) == ["0.0", "0.2", "0.4", "0.6"])
        #expect(Ticks.labels(for: [0, 0.25, 0.5], scale: .linear) == ["0.00", "0.25", "0.50"])
        #expect(Ticks.labels(for: [0, 0.5, 1], scale: .linear) == ["0.0", "0.5", "1.0"])
        #expect(Ticks.labels(for: [-2, 0, 2], scale: .linear) == ["-2", "0", "2"])
        #expect(Ticks.labels(for: [1e6, 2e6, 3e6], scale: .linear) == ["1e6", "2e6", "3e6"])
        #expect(Ticks.labels(for: [1e-5, 2e-5], scale: .linear) == ["1e-5", "2e-5"])
        #expect(Ticks.labels(for: [0.001, 0.1, 10, 1000, 1e5], scale: .log10) == ["0.001", "0.1", "10", "1000", "1e5"])
    }

    @Test func compactNumbers() {
        #expect(NumberFormatting.compact(0.1 + 0.2) == "0.3")
        #expect(NumberFormatting.compact(1234567) == "1.235e6")
        #expect(NumberFormatting.compact(1.5e-5) == "1.5e-5")
        #expect(NumberFormatting.compact(-0.0) == "0")
        #expect(NumberFormatting.compact(.nan) == "NaN")
        #expect(NumberFormatting.compact(-.infinity) == "-inf")
        #expect(NumberFormatting.compact(1536) == "1536")
        #expect(NumberFormatting.compact(1e-17) == "1e-17")
        #expect(NumberFormatting.fixed(-0.0001, decimals: 2) == "0.00")
        #expect(NumberFormatting.coordinate(12.5) == "12.5")
        #expect(NumberFormatting.coordinate(3.0000001) == "3")
        #expect(NumberFormatting.coordinate(-0.25) == "-0.25")
        #expect(NumberFormatting.coordinate(0.05) == "0.05")
        #expect(NumberFormatting.coordinate(-0.001) == "0")
        #expect(NumberFormatting.coordinate(.nan) == "0")
    }

    @Test func colors() {
        #expect(Color("#1f77b4") == Palette.categorical[0])
        #expect(Color("f00") == Color(red: 255, green: 0, blue: 0))
        #expect(Color("Red") == Palette.categorical[3])
        #expect(Color("nonsense") == nil)
        #expect(Color("#12345") == nil)
        #expect(Palette.categorical[0].hex == "#1f77b4")
        #expect(Color(red: 255, green: 0, blue: 0).xterm256 == 196)
        #expect(Color(red: 128, green: 128, blue: 128).xterm256 == 244)
        #expect(Palette.color(-1) == Palette.categorical[9])
        #expect(Colormap.viridis.color(at: 0).hex == "#440154")
        #expect(Colormap.viridis.color(at: 1).hex == "#fde725")
        #expect(Colormap.viridis.color(at: .nan).hex == "#440154")
        #expect(Colormap.diverging.color(at: 0.5).hex == "#f7f7f7")
    }
}
