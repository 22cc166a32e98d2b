import Foundation
import Testing
import Numerics
import Models
import Pruning
import TestHelpers

/// PruneNet with sketched spectra (`PolicyTrainingOptions.spectrum`, SketchedTraining.swift):
/// the penalty against the exact one, streaming of the state matrices, reproducibility,
/// learning and interruption; `auto` keeps SmolLM2 on the exact path.
struct SketchedPruneNetTests {
    /// A heavy-tailed n×d state: Gaussian entries with Pareto(3) row scales plus a rank-4 spike.
    static func state(_ n: Int, _ d: Int, seed: UInt64) -> Matrix {
        var g = SeededRandom(seed: seed)
        let rowScale = (0..<n).map { _ in pow(1 - g.uniform(), -1.0 / 3.0) }
        let u = (0..<(n * 4)).map { _ in g.normal() }, v = (0..<(4 * d)).map { _ in g.normal() }
        return Matrix(rows: n, cols: d) { r, c in
            var x = g.normal() * rowScale[r]
            for i in 0..<4 { x += 0.3 * u[r * 4 + i] * v[i * d + c] / Double(i + 1) }
            return Float(x / Double(d).squareRoot())
        }
    }

    /// Counts calls from both cores.
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func increment() { lock.lock(); value += 1; lock.unlock() }
        var count: Int { lock.lock(); defer { lock.unlock() }; return value }
    }

    @Test func sketchedPenaltyIsCloseToTheExactOne() throws {
        // 900×600 states (p = 600 > K = 384: a real sketch), 30% of the rows dropped.
        let states = (0..<2).map { Self.state(900, 600, seed: UInt64(10 + $0)) }
        let layers = try SketchedLayers(count: 2, rows: 900, cols: 600, sketch: SpectrumSketchOptions(probes: 8, steps: 48), seed: 3) { states[$0] }
        var g = SeededRandom(seed: 1)
        for l in 0..<2 {
            let exact = try LayerSpectrum(states[l])
            for _ in 0..<2 {
                let kept = try g.sampleWithoutReplacement(weights: [Double](repeating: 1, count: 900), count: 630)
                let e = try exact.penalty(keeping: kept, distance: .ks)
                let s = try layers.penalty(layer: l, state: states[l], keeping: kept, distance: .ks)
                #expect(e > 0.05)
                #expect(abs(s - e) < 0.03, "layer \(l): sketched KS \(s) against exact \(e)")
            }
        }
    }

    /// Six 48×12 layers where every third row is loud (as PruneNetTests' synthetic layers): the
    /// learner can find the rows whose removal moves the spectrum least.
    static func loudRows(_ l: Int) -> Matrix {
        var rng = SeededRandom(seed: UInt64(100 + l))
        let n = 48, d = 12
        var m = Matrix(rows: n, cols: d)
        for r in 0..<n {
            let loud = r % 3 == 0
            for c in 0..<d { m.data[r * d + c] = Float(rng.normal() * (loud ? 3 : 0.3) + (loud ? 0 : 0.5 * Double(c % 2))) }
        }
        return m
    }

    @Test func sketchedTrainingStreamsLearnsAndIsReproducible() throws {
        var options = PolicyTrainingOptions()
        options.ratio = 0.5
        options.episodes = 40
        options.learningRate = 0.05
        options.seed = 4
        options.spectrum = .sketch
        let loads = Counter()
        func layers() throws -> SketchedLayers {
            try SketchedLayers(count: 6, rows: 48, cols: 12, sketch: options.sketch, seed: options.seed) { l in
                loads.increment()
                return Self.loudRows(l)
            }
        }
        let a = try PolicyTraining.train(sketched: try layers(), options: options)
        // Streaming: each layer read once to sketch its original, then once per episode.
        #expect(loads.count == 6 * (1 + options.episodes))
        let b = try PolicyTraining.train(sketched: try layers(), options: options)
        #expect(a.curve == b.curve.map { var r = $0; r.elapsed = a.curve[$0.episode].elapsed; return r })
        #expect(a.learner == b.learner)
        #expect(!a.interrupted && a.keptEpisode >= 0)
        #expect(a.curve[a.keptEpisode].meanPenalty == a.curve.map(\.meanPenalty).min())
        // It learns: the exact expected penalty of the kept learner against the initial one,
        // over 200 fresh draws each (as PruneNetTests checks the exact path).
        let spectra = try (0..<6).map { try LayerSpectrum(Self.loudRows($0)) }
        func expectedPenalty(_ l: PolicyLearner) throws -> Double {
            var rng = SeededRandom(seed: 77)
            var total = 0.0
            for _ in 0..<200 {
                for s in spectra {
                    let draw = try PolicySampling.act(logits: l.logits(state: s.weights, rows: s.rows), count: 24, rng: &rng)
                    total += try s.penalty(keeping: draw.kept, distance: .ks)
                }
            }
            return total / Double(200 * spectra.count)
        }
        let before = try expectedPenalty(PolicyLearner(n: 48, d: 12, seed: 4))
        let after = try expectedPenalty(a.learner)
        #expect(after < 0.92 * before, "expected penalty \(before) → \(after)")
        // The authors' variant runs on the same path.
        var authors = options
        authors.variant = .authors
        authors.episodes = 3
        let c = try PolicyTraining.train(sketched: try layers(), options: authors)
        #expect(c.curve.count == 3 && c.keptEpisode == 2)
    }

    @Test func sketchedTrainingStopsWhenAsked() throws {
        var options = PolicyTrainingOptions()
        options.episodes = 10
        options.spectrum = .sketch
        struct Halt: Error {}
        let layers = try SketchedLayers(count: 6, rows: 48, cols: 12, sketch: options.sketch, seed: 0) { Self.loudRows($0) }
        var episodes = 0
        let r = try PolicyTraining.train(sketched: layers, options: options, progress: ProgressReporter(report: { e in
            if e.stage == "episode" {
                episodes = e.done
                #expect(e.detail?.hasSuffix("sketched spectra") == true)
                if e.done == 2 { throw Halt() }
            }
        }))
        #expect(r.interrupted && r.curve.count == 2 && episodes == 2 && r.stoppedBy is Halt)
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func autoKeepsSmallModelsExact() throws {
        let model = try ModelLoader.load(TestSupport.smolLMPath)
        var options = PolicyTrainingOptions()
        #expect(options.spectrum == .auto)
        #expect(try PolicyTraining.sketchedLayers(of: model, options: options) == nil)
        options.spectrum = .sketch
        options.sketch = SpectrumSketchOptions(probes: 4, steps: 4)
        let layers = try #require(try PolicyTraining.sketchedLayers(of: model, options: options))
        #expect(layers.count == 30 && layers.rows == 1536 && layers.cols == 576)
        #expect(layers.singularValues.allSatisfy { $0.count == 576 && $0[0] >= $0[575] })
    }
}
