import Foundation
import Testing
@testable import Numerics

/// The stochastic block Lanczos sketch of a spectrum (SpectralSketch.swift) against the exact
/// eigenvalues of the Gram matrix (esdEigenvalues: Float64 Gram, dsyevd) on 1–2k-sized matrices
/// built like trained weights: a low-rank spike plus heavy-tailed (Student-t, 3 degrees of
/// freedom) noise, so the ESD has a power-law-like tail rather than a flat Marchenko–Pastur bulk.
struct SpectralSketchTests {
    /// rows×cols: Σ_{i<rank} sᵢ·uᵢvᵢᵀ with sᵢ = spike·(i+1)^(−0.7) plus Student-t(3) noise / √cols.
    static func heavyTailed(rows: Int, cols: Int, rank: Int = 24, spike: Double = 6, seed: UInt64 = 1) -> Matrix {
        var g = SeededRandom(seed: seed)
        let u = (0..<(rows * rank)).map { _ in g.normal() / Double(rows).squareRoot() }
        let v = (0..<(cols * rank)).map { _ in g.normal() / Double(cols).squareRoot() }
        let s = (0..<rank).map { spike * pow(Double($0 + 1), -0.7) * Double(rows).squareRoot() / 8 }
        var data = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                var x = 0.0
                for i in 0..<rank { x += s[i] * u[r * rank + i] * v[c * rank + i] }
                // Student-t(3): z / √(χ²₃/3).
                let z = g.normal(), a = g.normal(), b = g.normal(), e = g.normal()
                let t = z / ((a * a + b * b + e * e) / 3).squareRoot()
                data[r * cols + c] = Float(x + 0.02 * t)
            }
        }
        return try! Matrix(rows: rows, cols: cols, data: data)
    }

    @Test func sketchedSpectrumIsWithinTheKSBoundOfTheExactOne() throws {
        // A tall 2400×1200 matrix (WᵀW side) and a wide 1000×1800 one (WWᵀ side), each through W
        // and Wᵀ and through the formed Gram matrix.
        for (rows, cols, seed) in [(2400, 1200, UInt64(1)), (1000, 1800, UInt64(2))] {
            let w = Self.heavyTailed(rows: rows, cols: cols, seed: seed)
            let exact = try esdEigenvalues(w)
            for form in [SketchProducts.factors, .gram] {
                let sketch = try sketchGramSpectrum(w, options: SpectrumSketchOptions(probes: 8, steps: 48, seed: 7), products: form)
                let approx = sketch.eigenvalues()
                #expect(approx.count == exact.count)
                #expect(sketch.products == 384)
                #expect(zip(approx, approx.dropFirst()).allSatisfy { $0 <= $1 })
                let ks = try ksStatistic(exact, approx)
                #expect(ks < 0.02, "KS \(ks) of the sketch from the exact spectrum (\(rows)×\(cols))")
                // The converged top eigenvalues are eigenvalues: the largest ones, to 1e-6 relative.
                #expect(sketch.converged >= 24, "only \(sketch.converged) converged")
                let top = sketch.topEigenvalues
                for (i, t) in top.enumerated() {
                    let e = exact[exact.count - 1 - i]
                    #expect(abs(t - e) <= 1e-5 * e, "top eigenvalue \(i): \(t) against \(e)")
                }
                // Weights are a distribution; the trace is recovered to 2%.
                #expect(abs(sketch.weights.reduce(0, +) - 1) < 1e-12)
                let trace = exact.reduce(0, +), estimate = approx.reduce(0, +)
                #expect(abs(estimate - trace) < 0.02 * trace, "trace \(estimate) against \(trace)")
                // The power-law tail fit as WeightWatcher makes it moves little.
                let fe = try fitESDPowerLaw(exact), fa = try fitESDPowerLaw(approx)
                #expect(abs(fa.alpha - fe.alpha) < 0.05 * fe.alpha, "alpha \(fa.alpha) against \(fe.alpha)")
            }
        }
    }

    @Test func theGramFormIsTheSameSketchAsTheFactorForm() throws {
        // Same probes, same Krylov space up to Float32 rounding of the operator: the two forms'
        // spectra are nearly identical; auto forms the Gram matrix where its cost model says so.
        let w = Self.heavyTailed(rows: 1800, cols: 600, seed: 6)
        let options = SpectrumSketchOptions(probes: 4, steps: 40, seed: 3)
        let f = try sketchGramSpectrum(w, options: options, products: .factors)
        let g = try sketchGramSpectrum(w, options: options, products: .gram)
        #expect(f.products == g.products && f.dimension == g.dimension)
        #expect(try ksStatistic(f.eigenvalues(), g.eigenvalues()) < 0.01)
        let n = Swift.min(f.converged, g.converged)
        #expect(n >= 10)
        for (a, b) in zip(f.topEigenvalues.prefix(n), g.topEigenvalues.prefix(n)) { #expect(abs(a - b) <= 1e-5 * b) }
        #expect(SketchProducts.auto.formsGram(rows: 11008, cols: 4096, krylov: 384))
        #expect(SketchProducts.auto.formsGram(rows: 4096, cols: 4096, krylov: 384))
        #expect(!SketchProducts.auto.formsGram(rows: 4096, cols: 4096, krylov: 192))
        #expect(SketchProducts.auto.formsGram(rows: 7706, cols: 4096, krylov: 192))
        #expect(!SketchProducts.factors.formsGram(rows: 11008, cols: 4096, krylov: 384))
        #expect(SketchProducts.gram.formsGram(rows: 100_000, cols: 100_000, krylov: 1))
    }

    @Test func commonProbesMakeTheKSDistanceOfAPrunedMatrixAccurate() throws {
        // PruneNet's penalty: KS between the spectra of W and of W's kept rows, both sketched with
        // the same probes, against the same distance from exact spectra.
        let w = Self.heavyTailed(rows: 2400, cols: 1200, seed: 3)
        var g = SeededRandom(seed: 11)
        let kept = try g.sampleWithoutReplacement(weights: [Double](repeating: 1, count: w.rows), count: 1680).sorted()
        let pruned = try w.rows(kept)
        let options = SpectrumSketchOptions(probes: 8, steps: 48, seed: 5)
        let exactD = try ksStatistic(try esdEigenvalues(w), try esdEigenvalues(pruned))
        let sketchD = try ksStatistic(try sketchGramSpectrum(w, options: options).eigenvalues(),
                                      try sketchGramSpectrum(pruned, options: options).eigenvalues())
        #expect(exactD > 0.1)
        #expect(abs(sketchD - exactD) < 0.02, "sketched KS \(sketchD) against exact \(exactD)")
    }

    @Test func aKrylovSpaceThatSpansEverythingGivesTheExactEigenvalues() throws {
        let w = Self.heavyTailed(rows: 90, cols: 40, rank: 4, seed: 9)
        let sketch = try sketchGramSpectrum(w, options: SpectrumSketchOptions(probes: 8, steps: 10))
        #expect(sketch.converged == 40)
        let exact = try esdEigenvalues(w)
        for (a, e) in zip(sketch.eigenvalues(), exact) { #expect(abs(a - e) <= 1e-5 * exact.last!) }
        // A rank-deficient operator (rank 4 of 40) breaks the Krylov space down early; the
        // random restarts keep the basis going and the zero eigenvalues come out as zeros.
        let low = try matmul(Self.heavyTailed(rows: 60, cols: 4, rank: 2, seed: 4), Self.heavyTailed(rows: 4, cols: 40, rank: 2, seed: 5))
        let s2 = try sketchGramSpectrum(low, options: SpectrumSketchOptions(probes: 4, steps: 10))
        let e2 = try esdEigenvalues(low)
        for (a, e) in zip(s2.eigenvalues(), e2) { #expect(abs(a - e) <= 1e-4 * e2.last!) }
    }

    @Test func analyzeSpectrumSketchesWhenAskedAndSaysSo() throws {
        let w = Self.heavyTailed(rows: 1600, cols: 800, seed: 4)
        var options = SpectralOptions()
        options.spectrum = .exact
        let exact = try #require(try analyzeSpectrum(w, options: options))
        options.spectrum = .sketch
        let sketch = try #require(try analyzeSpectrum(w, options: options))
        #expect(!exact.sketched && sketch.sketched)
        #expect(sketch.eigenvalues.count == 800)
        #expect(abs(sketch.lambdaMax - exact.lambdaMax) <= 1e-5 * exact.lambdaMax)
        #expect(abs(sketch.logNorm - exact.logNorm) < 0.01)
        #expect(abs(sketch.alpha - exact.alpha) < 0.05 * exact.alpha, "alpha \(sketch.alpha) against \(exact.alpha)")
        // auto: 800 is below the threshold, so exact (to rounding: other tests may change
        // OpenBLAS's thread count meanwhile, which reorders the Gram matrix's sums).
        options.spectrum = .auto
        let auto = try #require(try analyzeSpectrum(w, options: options))
        #expect(!auto.sketched && auto.eigenvalues.count == 800)
        #expect(zip(auto.eigenvalues, exact.eigenvalues).allSatisfy { abs($0 - $1) <= 1e-9 * exact.lambdaMax })
    }

    @Test func modeAutoSketchesFromTheThresholdOn() throws {
        #expect(!SpectrumMode.auto.sketches(dimension: 576))
        #expect(!SpectrumMode.auto.sketches(dimension: 2048))
        #expect(SpectrumMode.auto.sketches(dimension: 4096))
        #expect(SpectrumMode.sketch.sketches(dimension: 10))
        #expect(!SpectrumMode.exact.sketches(dimension: 100_000))
        let w = Self.heavyTailed(rows: 80, cols: 60, rank: 3, seed: 2)
        let (values, sketched) = try esdEigenvalues(w, mode: .auto)
        let exact = try esdEigenvalues(w)
        #expect(!sketched && values == exact)
        #expect(try esdEigenvalues(w, mode: .sketch).sketched)
        #expect(throws: NumericsError.self) { try sketchGramSpectrum(w, options: SpectrumSketchOptions(probes: 0)) }
    }
}
