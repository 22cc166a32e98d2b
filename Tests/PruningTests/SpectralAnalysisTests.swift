import Foundation
import Testing
import Numerics
import Models
import Pruning
import TestHelpers

/// `analyzeSpectrum` / `analyzeSpectra` against WeightWatcher 0.7.7 itself: the table that
/// Tests/fixtures/make_spectra_fixtures.py recorded on six SmolLM2 matrices and four MiniLM ones.
struct SpectralAnalysisTests {
    struct Anchor: Decodable {
        struct Clip: Decodable { let alpha: Double; let D: Double; let xmin: Double; let num_fingers: Int }
        struct Row: Decodable {
            let model: String, name: String, block: Int, role: String, shape: [Int]
            let N: Int, M: Int, alpha: Double, xmin: Double, xmax: Double, D: Double, sigma: Double
            let num_pl_spikes: Int, alpha_weighted: Double, log_norm: Double, log_spectral_norm: Double
            let log_alpha_norm: Double, stable_rank: Double, mp_softrank: Double, num_spikes: Int
            let sigma_mp: Double, bulk_max: Double, bulk_min: Double, lambda_max: Double
            let rand_distance: Double, num_traps: Int, ww_softrank: Double
            let clip_xmax: Clip
        }
        let weightwatcher: String
        let rows: [Row]
    }

    static let anchor = Result {
        try JSONDecoder().decode(Anchor.self, from: Data(contentsOf: TestSupport.root.appendingPathComponent("Tests/fixtures/numerics/spectra_weightwatcher.json")))
    }

    static func close(_ a: Double, _ b: Double, rel: Double) -> Bool { abs(a - b) <= rel * max(abs(b), 1e-12) }

    /// WeightWatcher's `fix_fingers="clip_xmax"` refit of `m`'s eigenvalues against the anchor row:
    /// the same α, finger count, D and xmin. Returns the fit for further checks.
    static func compareClipXmax(_ m: SpectralMetrics, _ r: Anchor.Row) throws -> ESDPowerLawFit {
        let clipped = try fitESDPowerLaw(m.eigenvalues, fixFingers: .clipXmax)
        #expect(close(clipped.alpha, r.clip_xmax.alpha, rel: 1e-6) && clipped.fingers == r.clip_xmax.num_fingers,
                "\(r.name): clip_xmax alpha \(clipped.alpha) (\(clipped.fingers) fingers) vs \(r.clip_xmax.alpha) (\(r.clip_xmax.num_fingers))")
        #expect(close(clipped.D, r.clip_xmax.D, rel: 1e-5) && close(clipped.xmin, r.clip_xmax.xmin, rel: 1e-6))
        return clipped
    }

    static func compare(_ m: SpectralMetrics, _ r: Anchor.Row) {
        let what = "\(r.model) \(r.name)"
        #expect(m.n == r.N && m.m == r.M, "\(what): shape")
        // The power-law fit: the same search as WeightWatcher's WWFit, so α, xmin and D agree to
        // rounding (the eigenvalues come from a Float64 Gram matrix here, from an SVD there).
        #expect(close(m.alpha, r.alpha, rel: 1e-6), "\(what): alpha \(m.alpha) vs \(r.alpha)")
        #expect(close(m.fit.xmin, r.xmin, rel: 1e-6), "\(what): xmin \(m.fit.xmin) vs \(r.xmin)")
        #expect(close(m.fit.xmax, r.xmax, rel: 1e-6), "\(what): xmax")
        #expect(close(m.fit.D, r.D, rel: 1e-5), "\(what): D \(m.fit.D) vs \(r.D)")
        #expect(close(m.fit.sigma, r.sigma, rel: 1e-5), "\(what): sigma")
        #expect(m.fit.tailCount == r.num_pl_spikes, "\(what): num_pl_spikes \(m.fit.tailCount) vs \(r.num_pl_spikes)")
        #expect(close(m.alphaWeighted, r.alpha_weighted, rel: 1e-6), "\(what): alpha_weighted")
        #expect(close(m.logNorm, r.log_norm, rel: 1e-9), "\(what): log_norm")
        #expect(close(m.logSpectralNorm, r.log_spectral_norm, rel: 1e-9), "\(what): log_spectral_norm")
        #expect(close(m.logAlphaNorm, r.log_alpha_norm, rel: 1e-6), "\(what): log_alpha_norm")
        #expect(close(m.stableRank, r.stable_rank, rel: 1e-8), "\(what): stable_rank")
        #expect(close(m.lambdaMax, r.lambda_max, rel: 1e-9), "\(what): lambda_max")
        // The Marchenko–Pastur fit: the same density estimate, grid and Nelder–Mead polish.
        #expect(close(m.mp.sigma, r.sigma_mp, rel: 1e-4), "\(what): sigma_mp \(m.mp.sigma) vs \(r.sigma_mp)")
        #expect(close(m.mp.softRank, r.mp_softrank, rel: 1e-4), "\(what): mp_softrank \(m.mp.softRank) vs \(r.mp_softrank)")
        #expect(close(m.mp.bulkMax, r.bulk_max, rel: 1e-4), "\(what): bulk_max")
        #expect(abs(m.mp.bulkMin - r.bulk_min) <= 1e-4 * max(r.bulk_max, 1), "\(what): bulk_min")
        #expect(m.mp.spikes == r.num_spikes, "\(what): num_spikes \(m.mp.spikes) vs \(r.num_spikes)")
        // Randomized: a different shuffle (seeded here, numpy's there), so only close.
        if let d = m.randDistance { #expect(close(d, r.rand_distance, rel: 0.1), "\(what): rand_distance \(d) vs \(r.rand_distance)") }
        if let t = m.traps { #expect(t == r.num_traps, "\(what): num_traps \(t) vs \(r.num_traps)") }
        if let s = m.randSoftRank { #expect(close(s, r.ww_softrank, rel: 0.15), "\(what): ww_softrank \(s) vs \(r.ww_softrank)") }
    }

    static func matrices(of modelName: String, from model: Model) throws -> [(Anchor.Row, Matrix)] {
        try anchor.get().rows.filter { $0.model == modelName }.map { r in
            let role = try #require(TensorRole(rawValue: r.role))
            let w = try model.matrix(role, block: r.block)
            #expect([w.rows, w.cols] == r.shape, "\(r.name): stored shape")
            return (r, w)
        }
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func agreesWithWeightWatcherOnSmolLM2() throws {
        let model = try ModelLoader.load(TestSupport.smolLMPath)
        for (r, w) in try Self.matrices(of: "smollm2", from: model) {
            let m = try #require(try analyzeSpectrum(w, options: SpectralOptions(randomize: true)))
            Self.compare(m, r)
            let clipped = try Self.compareClipXmax(m, r)
            #expect(clipped.rawAlpha == m.alpha)
        }
    }

    @Test(.enabled(if: TestSupport.haveMiniLM, "run scripts/fetch-models"))
    func agreesWithWeightWatcherOnMiniLM() throws {
        let model = try ModelLoader.load(TestSupport.minilmWeights.deletingLastPathComponent().path)
        for (r, w) in try Self.matrices(of: "minilm", from: model) {
            let m = try #require(try analyzeSpectrum(w, options: SpectralOptions(randomize: true)))
            Self.compare(m, r)
            _ = try Self.compareClipXmax(m, r)
        }
    }

    /// The model pass: every block's seven linears, skips below min_evals, base comparison.
    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func modelPassWithBase() throws {
        let model = try ModelLoader.load(TestSupport.smolLMPath)
        var events = 0
        let a = try analyzeSpectra(model, roles: [.attentionKey, .ffnGate], options: SpectralOptions(minEvals: 200),
                                   progress: ProgressReporter(report: { _ in events += 1 }))
        // k is 192 × 576: 192 eigenvalues < 200, skipped in every block.
        #expect(a.rows.count == 30 && a.skipped.count == 30 && a.rows.allSatisfy { $0.role == .ffnGate })
        #expect(events == 61)
        let gate0 = try #require(try Self.anchor.get().rows.first { $0.name == "blk.0.ffn_gate.weight" })
        #expect(Self.close(a.rows[0].metrics.alpha, gate0.alpha, rel: 1e-6))
        // A pruned copy: 20% of block 0's gate rows dropped. Δα is measured, the untouched blocks
        // have Δα = 0 and KS 0.
        var pruned = model
        let g = try model.matrix(.ffnGate, block: 0)
        pruned.set(.ffnGate, block: 0, to: try g.rows(Array(0..<1229)))
        let p = try analyzeSpectra(pruned, base: model, roles: [.ffnGate], progress: .none)
        #expect(p.rows.count == 30)
        #expect(p.rows[0].rows == 1229 && p.rows[0].ksFromBase! > 0 && p.rows[0].deltaAlpha! != 0)
        #expect(p.rows[1...].allSatisfy { $0.deltaAlpha == 0 && $0.ksFromBase == 0 && $0.deltaD == 0 })
        // Stopping: a check that throws ends the pass.
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try analyzeSpectra(model, roles: [.ffnGate], progress: ProgressReporter(report: { _ in }, check: { throw Stop() }))
        }
    }

    /// WWFit's rules on a small sample worked by hand: xmin = 1 tried first, the last value never.
    @Test func fitRulesOnAKnownSample() throws {
        // An exact Pareto(α = 3) quantile sample: x_k = (1 − k/n)^(−1/2), k = 0..<n.
        let n = 400
        let x = (0..<n).map { pow(1 - Double($0) / Double(n), -0.5) }
        let f = try fitESDPowerLaw(x)
        #expect(abs(f.alpha - 3) < 0.1 && f.D < 0.02 && f.tailCount >= 2)
        #expect(f.xmax == x.last!)
        #expect(throws: NumericsError.self) { try fitESDPowerLaw([1, 2]) }
        let shuffled = shuffledElements(try Matrix(rows: 2, cols: 3, data: [1, 2, 3, 4, 5, 6]), seed: 1)
        #expect(shuffled.data.sorted() == [1, 2, 3, 4, 5, 6] && shuffled.rows == 2)
        #expect(try jensenShannonDistance([1, 2, 3], [1, 2, 3]) == 0)
        #expect(try jensenShannonDistance([1, 0], [0, 1]) > 0.8)   // √ln 2 ≈ 0.833 for disjoint supports
    }
}
