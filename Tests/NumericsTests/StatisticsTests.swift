import Foundation
import Testing
@testable import Numerics

/// The statistics in Sources/Numerics/Statistics against numpy, scipy and powerlaw, through the
/// fixtures written by Tests/fixtures/make_stats_fixtures.py.
struct StatisticsTests {
    // MARK: Fixture shapes

    struct Moments: Decodable {
        let name: String; let x: [Double]; let mean: Double; let var0: Double; let std0: Double
        let var1: Double?; let std1: Double?; let median: Double; let q: [Double]; let quantiles: [Double]
    }
    struct HistogramCase: Decodable {
        let name: String; let x: [Double]; let edges: [Double]; let counts: [Int]
        let bins: Int?; let given_edges: [Double]?; let range: [Double]?
    }
    struct ECDFCase: Decodable {
        let name: String; let x: [Double]; let points_x: [Double]; let points_y: [Double]
        let at: [Double]; let values: [Double]
    }
    struct DescriptiveFile: Decodable { let moments: [Moments]; let histograms: [HistogramCase]; let ecdf: [ECDFCase] }

    /// A sample both the fixture script and these tests build: xᵢ = sin(i·c)·√i·scale + offset, i = 1…n.
    struct Formula: Decodable, Equatable {
        let n: Int; let c: Double; let scale: Double?; let offset: Double?
        var values: [Double] {
            let (s, o) = (scale ?? 1, offset ?? 0)
            return (1...n).map { i in sin(Double(i) * c) * Double(i).squareRoot() * s + o }
        }
    }
    struct KSExpected: Decodable {
        let name: String; let statistic: Double; let pvalue: Double; let location: Double; let sign: Int
        let method: String
    }
    struct KSCase: Decodable {
        let name: String; let a: [Double]; let b: [Double]; let statistic: Double; let pvalue: Double
        let location: Double; let sign: Int; let method: String
    }
    struct KSGenerated: Decodable {
        let name: String; let a: Formula; let b: Formula; let statistic: Double; let pvalue: Double
        let location: Double; let sign: Int; let method: String
    }
    struct KstwoPoint: Decodable { let n: Int; let d: Double; let sf: Double }
    struct KSFile: Decodable { let cases: [KSCase]; let generated: [KSGenerated]; let kstwo: [KstwoPoint] }

    struct ADCase: Decodable {
        let name: String; let samples: [[Double]]; let statistic: Double; let critical: [Double]; let significance: Double
    }
    struct ADGenerated: Decodable {
        let name: String; let a: Formula; let b: Formula; let statistic: Double; let critical: [Double]
        let significance: Double
    }
    struct ADFile: Decodable { let cases: [ADCase]; let generated: [ADGenerated] }

    struct Candidates: Decodable { let xmin: [Double]; let alpha: [Double]; let D: [Double] }
    struct PowerLawCase: Decodable {
        let name: String; let x: [Double]; let alpha: Double; let xmin: Double; let D: Double; let sigma: Double
        let n_tail: Int; let stock_agrees: Bool; let candidates: Candidates?
    }
    struct PowerLawFile: Decodable { let cases: [PowerLawCase] }

    /// |got − want| ≤ rel·max(|got|, |want|): relative agreement (exact for zeros).
    func close(_ got: Double, _ want: Double, rel: Double = 1e-9) -> Bool {
        abs(got - want) <= rel * max(abs(got), abs(want))
    }

    // MARK: Descriptive statistics

    @Test func momentsMatchNumpy() throws {
        for c in try Fixtures.load("stats_descriptive.json", as: DescriptiveFile.self).moments {
            #expect(close(try mean(c.x), c.mean, rel: 1e-14), "\(c.name)")
            #expect(close(try variance(c.x), c.var0, rel: 1e-13), "\(c.name)")
            #expect(close(try standardDeviation(c.x), c.std0, rel: 1e-13), "\(c.name)")
            if let var1 = c.var1, let std1 = c.std1 {
                #expect(close(try variance(c.x, ddof: 1), var1, rel: 1e-13), "\(c.name)")
                #expect(close(try standardDeviation(c.x, ddof: 1), std1, rel: 1e-13), "\(c.name)")
            } else {
                #expect(throws: NumericsError.self) { try variance(c.x, ddof: 1) }
            }
            #expect(try median(c.x) == c.median, "\(c.name)")
            let got = try quantiles(c.x, c.q)
            for (g, w) in zip(got, c.quantiles) { #expect(close(g, w, rel: 1e-15), "\(c.name)") }
            #expect(try quantile(c.x, 0.5) == got[c.q.firstIndex(of: 0.5)!])
        }
    }

    @Test func floatOverloadsWidenToDouble() throws {
        let x: [Float] = [1.5, -2.25, 3.125, 0.1]
        let wide = x.map(Double.init)
        #expect(try mean(x) == mean(wide))
        #expect(try variance(x, ddof: 1) == variance(wide, ddof: 1))
        #expect(try median(x) == median(wide))
        #expect(try quantile(x, 0.3) == quantile(wide, 0.3))
        #expect(try ks2samp(x, [Float](repeating: 0.5, count: 3)) == ks2samp(wide, [0.5, 0.5, 0.5]))
        #expect(try Histogram(x, bins: 3) == Histogram(wide, bins: 3))
    }

    @Test func radixSortAgreesWithTheStandardSort() {
        var r = SeededRandom(seed: 42)
        var x = (0..<5000).map { i -> Double in
            let u = r.uniform()
            switch i % 5 {
            case 0: return (u - 0.5) * 1e300
            case 1: return (u - 0.5) * 1e-300
            case 2: return Double(Int(u * 7) - 3)  // ties, including zeros
            case 3: return -0.0
            default: return r.normal()
            }
        }
        x.append(contentsOf: [.leastNonzeroMagnitude, -.leastNonzeroMagnitude, .greatestFiniteMagnitude])
        let sorted = ascending(x)
        #expect(sorted == x.sorted())
        #expect(zip(sorted, sorted.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test func histogramsMatchNumpy() throws {
        for c in try Fixtures.load("stats_descriptive.json", as: DescriptiveFile.self).histograms {
            let h: Histogram
            if let edges = c.given_edges {
                h = try Histogram(c.x, edges: edges)
            } else {
                let range = c.range.map { $0[0]...$0[1] }
                h = try Histogram(c.x, bins: c.bins!, range: range)
            }
            #expect(h.edges == c.edges, "\(c.name): edges")
            #expect(h.counts == c.counts, "\(c.name): counts")
        }
        #expect(throws: NumericsError.self) { try Histogram([1, 2], bins: 0) }
        #expect(throws: NumericsError.self) { try Histogram([1, 2], edges: [0, 2, 1]) }
        #expect(throws: NumericsError.self) { try Histogram([1, 2], edges: [0]) }
    }

    @Test func ecdfMatchesScipy() throws {
        for c in try Fixtures.load("stats_descriptive.json", as: DescriptiveFile.self).ecdf {
            let f = try ECDF(c.x)
            #expect(f.points.map(\.x) == c.points_x, "\(c.name)")
            #expect(zip(f.points.map(\.y), c.points_y).allSatisfy { close($0, $1, rel: 1e-15) }, "\(c.name)")
            #expect(zip(f(c.at), c.values).allSatisfy { close($0, $1, rel: 1e-15) }, "\(c.name)")
            #expect(f.count == c.x.count)
        }
        let f = try ECDF([3, 1, 2, 2])
        #expect(f(1.999) == 0.25 && f(2) == 0.75 && f(-1) == 0 && f(3) == 1 && f(.nan).isNaN)
    }

    // MARK: Kolmogorov–Smirnov

    func check(_ got: KSResult, _ want: KSExpected) {
        #expect(close(got.statistic, want.statistic), "\(want.name): D \(got.statistic) vs \(want.statistic)")
        #expect(close(got.pValue, want.pvalue), "\(want.name): p \(got.pValue) vs \(want.pvalue)")
        #expect(close(got.location, want.location, rel: 1e-12), "\(want.name): location")
        #expect(got.sign == want.sign, "\(want.name): sign")
        #expect(got.method.rawValue == want.method, "\(want.name): method")
    }

    @Test func ksMatchesScipyOnStoredSamples() throws {
        for c in try Fixtures.load("stats_ks.json", as: KSFile.self).cases {
            let want = KSExpected(name: c.name, statistic: c.statistic, pvalue: c.pvalue, location: c.location,
                                  sign: c.sign, method: c.method)
            check(try ks2samp(c.a, c.b), want)
            // The statistic alone is the raw ECDF gap; the exact branch snaps it to h/lcm (an ulp away).
            #expect(close(try ksStatistic(c.a, c.b), c.statistic, rel: 1e-14), "\(c.name)")
        }
    }

    @Test func ksMatchesScipyOnGeneratedSamples() throws {
        for c in try Fixtures.load("stats_ks.json", as: KSFile.self).generated where c.a.n < 100_000 {
            let want = KSExpected(name: c.name, statistic: c.statistic, pvalue: c.pvalue, location: c.location,
                                  sign: c.sign, method: c.method)
            check(try ks2samp(c.a.values, c.b.values), want)
        }
    }

    @Test func ksEdgeCases() throws {
        let x = (0..<50).map { Double($0 * $0 % 17) }
        let same = try ks2samp(x, x)
        #expect(same.statistic == 0 && same.pValue == 1)
        let apart = try ks2samp([1, 2, 3], [10, 11, 12, 13])
        #expect(apart.statistic == 1 && apart.sign == 1)
        #expect(close(apart.pValue, 2.0 / 35))  // 2 of the C(7, 3) = 35 orderings are this extreme
        let single = try ks2samp([1], [2])
        #expect(single.statistic == 1 && single.pValue == 1)
    }

    @Test func kolmogorovDistributionMatchesScipyKstwo() throws {
        for point in try Fixtures.load("stats_ks.json", as: KSFile.self).kstwo {
            let got = kstwoSF(point.d, point.n)
            #expect(abs(got - point.sf) <= 1e-9 * point.sf + 1e-300, "kstwo.sf(\(point.d), \(point.n)): \(got) vs \(point.sf)")
        }
    }

    // MARK: Anderson–Darling

    func check(_ got: ADResult, statistic: Double, critical: [Double], significance: Double, _ name: String) {
        #expect(close(got.statistic, statistic), "\(name): statistic \(got.statistic) vs \(statistic)")
        #expect(zip(got.criticalValues, critical).allSatisfy { close($0, $1) } && got.criticalValues.count == 7, "\(name)")
        #expect(close(got.significanceLevel, significance), "\(name): significance \(got.significanceLevel) vs \(significance)")
        #expect(got.isCapped == (significance == 0.25 || significance == 0.001), "\(name)")
    }

    @Test func andersonDarlingMatchesScipy() throws {
        let file = try Fixtures.load("stats_ad.json", as: ADFile.self)
        for c in file.cases {
            check(try andersonKSample(c.samples), statistic: c.statistic, critical: c.critical,
                  significance: c.significance, c.name)
        }
        for c in file.generated where c.a.n < 100_000 {
            check(try andersonKSample([c.a.values, c.b.values]), statistic: c.statistic, critical: c.critical,
                  significance: c.significance, c.name)
        }
    }

    @Test func andersonDarlingRejectsDegenerateInput() {
        #expect(throws: NumericsError.self) { try andersonKSample([[1, 2, 3]]) }
        #expect(throws: NumericsError.self) { try andersonKSample([[1], [2]]) }
        #expect(throws: NumericsError.self) { try andersonKSample([[2, 2], [2, 2, 2]]) }
        #expect(throws: NumericsError.empty(what: "samples[1]")) { try andersonKSample([[1, 2, 3], []]) }
    }

    // MARK: Power law

    @Test func powerLawMatchesPowerlawPackage() throws {
        for c in try Fixtures.load("stats_powerlaw.json", as: PowerLawFile.self).cases {
            let fit = try fitPowerLaw(c.x)
            #expect(close(fit.alpha, c.alpha), "\(c.name): alpha \(fit.alpha) vs \(c.alpha)")
            #expect(fit.xmin == c.xmin, "\(c.name): xmin \(fit.xmin) vs \(c.xmin)")
            #expect(close(fit.ksDistance, c.D), "\(c.name): D \(fit.ksDistance) vs \(c.D)")
            #expect(close(fit.sigma, c.sigma), "\(c.name): sigma")
            #expect(fit.tailCount == c.n_tail, "\(c.name): tail count")
            if let want = c.candidates {
                let all = try powerLawCandidates(c.x)
                #expect(all.map(\.xmin) == want.xmin, "\(c.name): candidate xmins")
                #expect(zip(all.map(\.alpha), want.alpha).allSatisfy { close($0, $1) }, "\(c.name): candidate alphas")
                #expect(zip(all.map(\.ksDistance), want.D).allSatisfy { close($0, $1) }, "\(c.name): candidate D")
                #expect(all.min { $0.ksDistance < $1.ksDistance } == fit)
            }
        }
        // The stock powerlaw 2.0 agrees on the well-behaved samples; it diverges only when α ≥ 3.
        let cases = try Fixtures.load("stats_powerlaw.json", as: PowerLawFile.self).cases
        #expect(cases.filter { $0.alpha < 3 }.allSatisfy { $0.stock_agrees })
    }

    @Test func powerLawInputHandling() throws {
        let x: [Double] = [0, -1, 1, 2, 4, 8, 16, 32]
        #expect(try fitPowerLaw(x) == fitPowerLaw(Array(x.dropFirst(2))), "non-positive values are dropped")
        #expect(throws: NumericsError.invalidArgument("a power-law fit needs at least 4 distinct positive values, got 3")) {
            try fitPowerLaw([1, 2, 2, 3, -4])
        }
        #expect(throws: NumericsError.nonFinite(what: "values", index: 2)) { try fitPowerLaw([1, 2, .infinity, 4, 5]) }
    }

    // MARK: Errors

    @Test func nonFiniteAndEmptyInputsThrow() {
        let bad: [Double] = [1, 2, 3, .nan, 5]
        #expect(throws: NumericsError.nonFinite(what: "values", index: 3)) { try mean(bad) }
        #expect(throws: NumericsError.nonFinite(what: "values", index: 3)) { try variance(bad) }
        #expect(throws: NumericsError.nonFinite(what: "values", index: 3)) { try quantile(bad, 0.5) }
        #expect(throws: NumericsError.nonFinite(what: "values", index: 3)) { try median(bad) }
        #expect(throws: NumericsError.nonFinite(what: "values", index: 0)) { try ECDF([-.infinity]) }
        #expect(throws: NumericsError.nonFinite(what: "values", index: 3)) { try Histogram(bad, bins: 4) }
        #expect(throws: NumericsError.nonFinite(what: "b", index: 3)) { try ks2samp([1, 2], bad) }
        #expect(throws: NumericsError.nonFinite(what: "a", index: 1)) { try ksStatistic([1, .infinity], [1, 2]) }
        #expect(throws: NumericsError.nonFinite(what: "samples[0]", index: 3)) { try andersonKSample([bad, [1, 2]]) }
        #expect(throws: NumericsError.nonFinite(what: "edges", index: 1)) { try Histogram([1], edges: [0, .nan]) }

        #expect(throws: NumericsError.empty(what: "values")) { try mean([Double]()) }
        #expect(throws: NumericsError.empty(what: "values")) { try median([Double]()) }
        #expect(throws: NumericsError.empty(what: "values")) { try ECDF([Double]()) }
        #expect(throws: NumericsError.empty(what: "values")) { try Histogram([Double](), bins: 3) }
        #expect(throws: NumericsError.empty(what: "a")) { try ks2samp([], [1.0]) }
        #expect(throws: NumericsError.empty(what: "b")) { try ksStatistic([1.0], []) }
        #expect(throws: NumericsError.empty(what: "values")) { try fitPowerLaw([Double]()) }

        #expect(throws: NumericsError.self) { try quantile([1, 2], 1.5) }
        #expect(throws: NumericsError.self) { try quantiles([1, 2], [0.5, .nan]) }
        #expect(throws: NumericsError.self) { try variance([1, 2], ddof: 2) }
        #expect(String(describing: NumericsError.nonFinite(what: "a", index: 3)).contains("index 3"))
    }

    @Test func oneElementSamples() throws {
        #expect(try mean([4.0]) == 4 && variance([4.0]) == 0 && median([4.0]) == 4 && quantile([4.0], 0.7) == 4)
        let h = try Histogram([4.0], bins: 2)
        #expect(h.edges == [3.5, 4, 4.5] && h.counts == [0, 1])
        #expect(try ECDF([4.0]).points == [ECDF.Point(x: 4, y: 1)])
        let ks = try ks2samp([4.0], [4.0])
        #expect(ks.statistic == 0 && ks.pValue == 1)
    }

    // MARK: Scale

    /// Two samples of 10⁶ values through KS and Anderson–Darling: the algorithms are O(N log N), so
    /// this finishes in seconds even in a debug build, and the answers still match scipy.
    @Test func millionValueSamplesStayFastAndMatchScipy() throws {
        let ks = try Fixtures.load("stats_ks.json", as: KSFile.self).generated.first { $0.name == "large_1e6" }!
        let ad = try Fixtures.load("stats_ad.json", as: ADFile.self).generated.first { $0.name == "large_1e6" }!
        let (a, b) = (ks.a.values, ks.b.values)
        #expect(a.count == 1_000_000 && b.count == 1_000_000)
        check(try ks2samp(a, b), KSExpected(name: ks.name, statistic: ks.statistic, pvalue: ks.pvalue,
                                           location: ks.location, sign: ks.sign, method: ks.method))
        #expect(close(try ksStatistic(a, b), ks.statistic, rel: 1e-12))
        try #require(ad.a == ks.a && ad.b == ks.b, "both fixtures describe the same two samples")
        check(try andersonKSample([a, b]), statistic: ad.statistic, critical: ad.critical,
              significance: ad.significance, ad.name)
    }
}
