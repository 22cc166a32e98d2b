import Testing
@testable import Plots

/// Reference values from numpy 2.4 (`numpy.histogram`, and `searchsorted(side="right") / n` for the
/// ECDF), computed on the same inputs; the 500-value sample is `TestLCG(seed: 42).bell(500)`, made
/// in Python by
///
///     s = 42; u = []
///     for _ in range(1500):
///         s = (s * 6364136223846793005 + 1442695040888963407) % 2**64; u.append((s >> 11) / 2**53)
///     A = [u[3*i] + u[3*i+1] + u[3*i+2] for i in range(500)]
@Suite("ECDF and histogram binning")
struct PlotStatisticsTests {
    static let sample: [Double] = {
        var g = TestLCG(seed: 42)
        return g.bell(500)
    }()

    @Test func histogramAutoMatchesNumpy() {
        let h = PlotStatistics.histogram(Self.sample, bins: .auto)
        #expect(h.counts == [5, 7, 16, 23, 23, 45, 62, 58, 64, 63, 46, 31, 28, 15, 7, 7])
        #expect(h.edges.count == 17)
        #expect(h.edges.first == 0.20296574968835757)
        #expect(h.edges.last == 2.784163113494424)
        #expect(Array(h.edges.prefix(4)) == [0.20296574968835757, 0.3642905849262367, 0.5256154201641159, 0.686940255401995])
        #expect(h.skipped == 0)
    }

    @Test func histogramCountMatchesNumpy() {
        let h = PlotStatistics.histogram(Self.sample, bins: .count(10))
        #expect(h.counts == [7, 23, 38, 76, 95, 102, 80, 47, 20, 12])
        #expect(h.counts.reduce(0, +) == 500)
    }

    @Test func histogramEdgesMatchNumpy() {
        let h = PlotStatistics.histogram(Self.sample, bins: .edges([0, 0.5, 1, 2, 3]))
        #expect(h.counts == [10, 64, 345, 81])
        #expect(h.edges == [0, 0.5, 1, 2, 3])
    }

    @Test func histogramSmallCasesMatchNumpy() {
        let ties: [Double] = [1, 2, 2, 3, 3, 3, 10]
        var h = PlotStatistics.histogram(ties, bins: .auto)
        #expect(h.counts == [3, 3, 0, 0, 0, 1])
        #expect(h.edges == [1, 2.5, 4, 5.5, 7, 8.5, 10])
        h = PlotStatistics.histogram(ties, bins: .count(3))
        #expect(h.counts == [6, 0, 1])
        #expect(h.edges == [1, 4, 7, 10])

        h = PlotStatistics.histogram([5, 5, 5], bins: .auto)
        #expect(h.counts == [3])
        #expect(h.edges == [4.5, 5.5])
        h = PlotStatistics.histogram([5, 5, 5], bins: .count(3))
        #expect(h.counts == [0, 3, 0])
        #expect(h.edges == [4.5, 4.833333333333333, 5.166666666666667, 5.5])

        let zeroIQR: [Double] = [1, 1, 1, 1, 1, 1, 2, 10]
        h = PlotStatistics.histogram(zeroIQR, bins: .auto)
        #expect(h.counts == [7, 0, 0, 0, 0, 1])
        h = PlotStatistics.histogram(zeroIQR, bins: .count(3))
        #expect(h.counts == [7, 0, 1])
    }

    @Test func histogramSkipsNonFiniteAndSurvivesBadInput() {
        let h = PlotStatistics.histogram([1, .nan, 2, .infinity, 3, -.infinity], bins: .count(2))
        #expect(h.counts == [1, 2])
        #expect(h.skipped == 3)
        let empty = PlotStatistics.histogram([], bins: .auto)
        #expect(empty.counts == [0])
        #expect(empty.edges == [0, 1])
        #expect(PlotStatistics.histogram([1, 2], bins: .count(0)).counts.count == 1)
        #expect(PlotStatistics.histogram([1, 2], bins: .count(-5)).counts.count == 1)
        #expect(PlotStatistics.histogram([1, 2], bins: .edges([3, 1])).counts == [0])
        #expect(PlotStatistics.histogram([1, 2], bins: .edges([1])).counts == [])
        let huge = PlotStatistics.histogram([-1e308, 1e308], bins: .count(4))
        #expect(huge.counts.reduce(0, +) <= 2)
    }

    @Test func ecdfMatchesNumpy() {
        let e = PlotStatistics.ecdf([3, 1, 2, 2, 5, 3, 3, 0.5])
        #expect(e.x == [0.5, 0.5, 1, 2, 3, 5])
        #expect(e.y == [0, 0.125, 0.25, 0.5, 0.875, 1])
        #expect(e.skipped == 0)
    }

    @Test func ecdfSkipsNonFinite() {
        let e = PlotStatistics.ecdf([.nan, 2, .infinity, 1])
        #expect(e.x == [1, 1, 2])
        #expect(e.y == [0, 0.5, 1])
        #expect(e.skipped == 2)
        #expect(PlotStatistics.ecdf([]).x.isEmpty)
        #expect(PlotStatistics.ecdf([.nan]).skipped == 1)
    }
}
