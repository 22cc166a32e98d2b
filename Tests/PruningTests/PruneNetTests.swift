import Foundation
import Testing
import Numerics
import Models
import Pruning
import TestHelpers

/// PruneNet's learner, sampling, penalty, training and policy value: the exact log-probability of
/// a Plackett–Luce draw and its gradient against finite differences, the Gram-eigen singular values
/// and KS/AD penalties against numpy/scipy, training that lowers the penalty reproducibly, and a
/// policy that saves, reloads, prunes and refuses models it does not fit.
struct PruneNetTests {
    /// A deterministic n×d state matrix in Float64 (rows of different norms).
    static func state(_ n: Int, _ d: Int, seed: UInt64) -> [Double] {
        var rng = SeededRandom(seed: seed)
        return (0..<(n * d)).map { i in rng.normal() * (1 + Double(i / d % 5)) }
    }

    @Test func logProbabilitiesOfAllDrawsSumToOne() {
        let w = [0.3, 1.7, 0.05, 0.9]
        var total = 0.0
        for a in 0..<4 { for b in 0..<4 where b != a { total += exp(PolicySampling.logProbability(kept: [a, b], weights: w)) } }
        #expect(abs(total - 1) < 1e-12)
        // A draw of everything in one order: the product of w_i / remaining.
        let lp = PolicySampling.logProbability(kept: [1, 3, 0, 2], weights: w)
        let expected = log(1.7 / 2.95) + log(0.9 / 1.25) + log(0.3 / 0.35) + log(1.0)
        #expect(abs(lp - expected) < 1e-12)
    }

    @Test func gradientOfLogProbabilityMatchesFiniteDifferences() throws {
        let n = 14, d = 6, k = 9
        let w = Self.state(n, d, seed: 3)
        let learner = PolicyLearner(n: n, d: d, seed: 11)
        // Scale the learner up so the scores are far from 1/2 and the gradient is not trivial.
        var big = try PolicyLearner(n: n, d: d, wInter: learner.wInter.map { $0 * 4 }, wProj: learner.wProj.map { $0 * 4 })
        var rng = SeededRandom(seed: 5)
        let noise = PolicySampling.logisticNoise(count: n, rng: &rng)
        let scores = PolicySampling.noisyScores(logits: big.logits(state: w, rows: n), noise: noise)
        let kept = try PolicySampling.draw(weights: scores, count: k, rng: &rng)
        func f(_ l: PolicyLearner) -> Double {
            PolicySampling.logProbability(kept: kept, weights: PolicySampling.noisyScores(logits: l.logits(state: w, rows: n), noise: noise))
        }
        var gInter = [Double](repeating: 0, count: n * d), gProj = [Double](repeating: 0, count: n)
        big.accumulateGradient(state: w, rows: n, dLogits: PolicySampling.logProbabilityGradient(kept: kept, weights: scores),
                               scale: 1, gInter: &gInter, gProj: &gProj)
        let h = 1e-6
        var worst = 0.0
        for i in 0..<(n * d) {
            let x = big.wInter[i]
            big.wInter[i] = x + h; let up = f(big)
            big.wInter[i] = x - h; let down = f(big)
            big.wInter[i] = x
            worst = max(worst, abs((up - down) / (2 * h) - gInter[i]) / max(1, abs(gInter[i])))
        }
        for i in 0..<n {
            let x = big.wProj[i]
            big.wProj[i] = x + h; let up = f(big)
            big.wProj[i] = x - h; let down = f(big)
            big.wProj[i] = x
            worst = max(worst, abs((up - down) / (2 * h) - gProj[i]) / max(1, abs(gProj[i])))
        }
        #expect(worst < 1e-6, "largest relative gradient error \(worst)")
        #expect(gInter.contains { abs($0) > 1e-3 } && gProj.contains { abs($0) > 1e-3 })
    }

    @Test func temperedGradientMatchesFiniteDifferences() throws {
        // At temperature τ the weights are σ((z + noise)/τ): the analytic ∂log P/∂z against
        // central differences, for τ = 0.25 (the 1/τ factor matters: without it the error is 3×).
        let n = 10, k = 6, tau = 0.25
        var rng = SeededRandom(seed: 9)
        let z = (0..<n).map { _ in rng.normal() }
        let noise = PolicySampling.logisticNoise(count: n, rng: &rng)
        func weights(_ z: [Double]) -> [Double] { zip(z, noise).map { PolicySampling.sigmoid(($0 + $1) / tau) } }
        let kept = try PolicySampling.draw(weights: weights(z), count: k, rng: &rng)
        let g = PolicySampling.logProbabilityGradient(kept: kept, weights: weights(z), temperature: tau)
        let h = 1e-6
        var worst = 0.0
        for i in 0..<n {
            var up = z, down = z
            up[i] += h; down[i] -= h
            let fd = (PolicySampling.logProbability(kept: kept, weights: weights(up))
                      - PolicySampling.logProbability(kept: kept, weights: weights(down))) / (2 * h)
            worst = max(worst, abs(fd - g[i]) / max(1, abs(g[i])))
        }
        #expect(worst < 1e-5, "largest relative gradient error \(worst)")
        #expect(g.contains { abs($0) > 1e-2 })
    }

    @Test func optionsSavedBeforeTheNewKnobsStillDecode() throws {
        let old = #"{"ratio":0.3,"episodes":20,"distance":"ks","gamma":0.99,"learningRate":0.0005,"seed":4,"variant":"paper","fastEigenvalues":true}"#
        let o = try JSONDecoder().decode(PolicyTrainingOptions.self, from: Data(old.utf8))
        #expect(o.seed == 4 && o.temperature == 1 && !o.normalizeReturns && o.initScale == 1)
        var changed = PolicyTrainingOptions()
        changed.temperature = 0.5; changed.normalizeReturns = true; changed.initScale = 10
        #expect(try JSONDecoder().decode(PolicyTrainingOptions.self, from: JSONEncoder().encode(changed)) == changed)
    }

    @Test func directionCollapsesThePaperProduct() throws {
        // σ(W·W_interᵀ·W_projᵀ) computed with the n×n product equals σ(W·v).
        let n = 7, d = 3
        let w = Self.state(n, d, seed: 9)
        let l = PolicyLearner(n: n, d: d, seed: 2)
        let z = l.logits(state: w, rows: n)
        for r in 0..<n {
            var zr = 0.0
            for j in 0..<n {
                var wp = 0.0   // W'[r, j] = W_r · W_inter_j
                for c in 0..<d { wp += w[r * d + c] * l.wInter[j * d + c] }
                zr += wp * l.wProj[j]
            }
            #expect(abs(zr - z[r]) < 1e-12)
        }
    }

    struct SpectrumFixture: Decodable {
        struct Case: Decodable { let kept: [Int]; let singular_values: [Double]; let ks: Double; let ad: Double }
        let rows: Int; let cols: Int; let w: [Double]; let singular_values: [Double]; let cases: [Case]
    }

    @Test func gramEigenPenaltyMatchesNumpyAndScipy() throws {
        let url = TestSupport.root.appendingPathComponent("Tests/fixtures/pruning/prunenet_spectrum.json")
        let fx = try JSONDecoder().decode(SpectrumFixture.self, from: Data(contentsOf: url))
        let layer = try LayerSpectrum(try Matrix(rows: fx.rows, cols: fx.cols, data: fx.w.map(Float.init)))
        for (a, b) in zip(layer.singularValues, fx.singular_values) { #expect(abs(a - b) <= 1e-9 * fx.singular_values[0]) }
        for c in fx.cases {
            let s = try layer.singularValues(keeping: c.kept.shuffled())
            #expect(s.count == c.singular_values.count)
            for (a, b) in zip(s, c.singular_values) { #expect(abs(a - b) <= 1e-9 * fx.singular_values[0]) }
            #expect(abs(try layer.penalty(keeping: c.kept, distance: .ks) - c.ks) < 1e-12)
            #expect(abs(try layer.penalty(keeping: c.kept, distance: .ad) - c.ad) < 1e-6 * max(1, abs(c.ad)))
            // The Float32 eigenvalues training uses: within fp32 accuracy, the same KS distance.
            let f = try layer.singularValues(keeping: c.kept, fast: true)
            for (a, b) in zip(f, c.singular_values) { #expect(abs(a - b) <= 1e-5 * fx.singular_values[0]) }
            #expect(abs(try layer.penalty(keeping: c.kept, distance: .ks, fast: true) - c.ks) < 1e-12)
        }
    }

    @Test func discountedReturnsFollowEquationSeven() {
        let g = PolicyTraining.discountedReturns([1, 2, 4], gamma: 0.5)
        #expect(g == [1 + 0.5 * 2 + 0.25 * 4, 2 + 0.5 * 4, 4])
    }

    /// Six synthetic layers whose rows come in two kinds, so that which rows are kept matters.
    static func syntheticSpectra() throws -> [LayerSpectrum] {
        try (0..<6).map { l in
            var rng = SeededRandom(seed: UInt64(100 + l))
            let n = 48, d = 12
            var m = Matrix(rows: n, cols: d)
            for r in 0..<n {
                let loud = r % 3 == 0
                for c in 0..<d { m.data[r * d + c] = Float(rng.normal() * (loud ? 3 : 0.3) + (loud ? 0 : 0.5 * Double(c % 2))) }
            }
            return try LayerSpectrum(m)
        }
    }

    @Test func trainingLowersThePenaltyReproducibly() throws {
        let spectra = try Self.syntheticSpectra()
        var options = PolicyTrainingOptions()
        options.ratio = 0.5
        options.episodes = 40
        options.learningRate = 0.05
        options.seed = 4
        let a = try PolicyTraining.train(spectra: spectra, options: options)
        let b = try PolicyTraining.train(spectra: spectra, options: options)
        #expect(a.curve.map(\.penalties) == b.curve.map(\.penalties) && a.learner == b.learner, "same seed, same run")
        #expect(a.curve.count == 40 && !a.interrupted)
        // Expected penalty of the kept learner vs the initial one, over 200 fresh draws each.
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
        #expect(a.curve[a.keptEpisode].meanPenalty == a.curve.map(\.meanPenalty).min())
        // The progress sees every episode and can stop training by throwing, keeping the best so far.
        struct Stop: Error {}
        var seen = [Int]()
        let stopped = try PolicyTraining.train(spectra: spectra, options: options, progress: ProgressReporter(report: { e in
            #expect(e.stage == "episode" && e.total == options.episodes && e.detail?.hasPrefix("mean ks ") == true)
            seen.append(e.done)
            if e.done >= 3 { throw Stop() }
        }))
        #expect(seen == [1, 2, 3] && stopped.interrupted && stopped.curve.count == 3 && stopped.stoppedBy is Stop)
        #expect(stopped.curve[stopped.keptEpisode].meanPenalty == stopped.curve.map(\.meanPenalty).min())
    }

    @Test func authorsVariantRunsAndKeepsTheLastLearner() throws {
        var options = PolicyTrainingOptions()
        options.ratio = 0.5
        options.episodes = 3
        options.variant = .authors
        let r = try PolicyTraining.train(spectra: try Self.syntheticSpectra(), options: options)
        #expect(r.keptEpisode == 2 && r.curve.count == 3)
        #expect(r.learner != PolicyLearner(n: 48, d: 12, seed: 0))
    }

    @Test func badOptionsAreClearErrors() throws {
        var o = PolicyTrainingOptions()
        o.ratio = 1.2
        #expect(throws: PruningError(option: "ratio", "ratio must be in [0, 1), got 1.2")) { try o.validate() }
        o.ratio = 0.2; o.episodes = 0
        #expect(throws: PruningError(option: "episodes", "episodes must be at least 1, got 0")) { try o.validate() }
        o.episodes = 1; o.temperature = 0
        #expect(throws: PruningError(option: "temperature", "temperature must be positive, got 0")) { try o.validate() }
    }

    static func smolPolicy(_ m: Model) -> PrunePolicy {
        var o = PolicyTrainingOptions()
        o.seed = 3
        return PrunePolicy(learner: PolicyLearner(n: 1536, d: 576, seed: 3), info: .init(
            modelName: m.name, architecture: "llama", hiddenSize: 576, intermediateSize: 1536, blocks: 30,
            options: o, curve: [EpisodeRecord(episode: 0, meanPenalty: 0.25, bestSoFar: 0.25, elapsed: 0.5, penalties: [0.25])],
            keptEpisode: 0, interrupted: false, seconds: 0.5))
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func policySavesReloadsAppliesAndRefusesModelsItDoesNotFit() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let policy = Self.smolPolicy(m)
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("policy.safetensors").path
        try policy.save(to: path)
        let back = try PrunePolicy.load(from: path)
        #expect(back.info == policy.info)
        #expect(back.learner.wInter == policy.learner.wInter.map { Double(Float($0)) })
        #expect(back.learner.wProj == policy.learner.wProj.map { Double(Float($0)) })
        // Same kept neurons from the saved and the reloaded policy, at any ratio; per-layer ratios.
        let k1 = try policy.keptNeurons(m, ratios: Array(repeating: 0.2, count: 30), seed: 1, deterministic: true)
        let k2 = try back.keptNeurons(m, ratios: Array(repeating: 0.2, count: 30), seed: 1, deterministic: true)
        #expect(k1 == k2 && k1[0]!.count == 1229)
        let mixed = try back.apply(to: m, ratios: (0..<30).map { Double($0 % 5) * 0.1 }, seed: 2)
        #expect(mixed.config.intermediateSizes[0] == 1536 && mixed.config.intermediateSizes[4] == 1536 - 614)
        // Refusals: a pruned model (other width), another architecture, a file that is not a policy.
        let small = try back.apply(to: m, ratios: [0.1])
        #expect(throws: PruningError("the policy fits FFN width 1536 in every block; \(small.name) block 0 has width 1382 (prune the dense model, not a pruned one)")) {
            try back.apply(to: small, ratios: [0.1])
        }
        if TestSupport.haveMiniLM {
            let minilm = try ModelLoader.load(TestSupport.minilmWeights.deletingLastPathComponent().path)
            #expect(throws: PruningError.self) { try back.apply(to: minilm, ratios: [0.1]) }
        }
        let notPolicy = dir.appendingPathComponent("plain.safetensors").path
        try SafetensorsWriter.write([.init(name: "x", shape: [2], floats: [1, 2])], to: notPolicy)
        #expect(throws: PruningError("\(notPolicy) is not a PruneNet policy (its safetensors header has no \"prunenet\" metadata)")) {
            try PrunePolicy.load(from: notPolicy)
        }
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func structuredSliceEqualsDenseForwardWithDroppedUnitsZeroed() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let kept = try Self.smolPolicy(m).keptNeurons(m, ratios: Array(repeating: 0.3, count: 30), seed: 7, deterministic: false)
        let pruned = try FFNPruning.keep(m, neurons: kept)
        // The dense model with the dropped gate and up rows set to zero: silu(0)·0 = 0 per unit.
        var zeroed = m
        for b in 0..<30 {
            let keep = Set(kept[b]!)
            for role in [TensorRole.ffnGate, .ffnUp] {
                var w = try m.matrix(role, block: b)
                for r in 0..<w.rows where !keep.contains(r) { for c in 0..<w.cols { w.data[r * w.cols + c] = 0 } }
                zeroed.set(role, block: b, to: w)
            }
        }
        let tokens: [Int32] = [504, 3575, 282, 4649, 314, 253, 1345, 30, 378, 1186, 2393]
        func logits(_ model: Model) throws -> Matrix {
            let f = LlamaForward(weights: try LlamaWeights(model))
            var cache = f.makeCache(capacity: tokens.count)
            let h = try f.forward(tokens, cache: &cache)
            return f.logits(h, rows: 0..<tokens.count)
        }
        let a = try logits(pruned), b = try logits(zeroed)
        #expect(a.rows == b.rows && a.cols == b.cols)
        let scale = b.data.map { abs($0) }.max()!
        let worst = zip(a.data, b.data).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-4 * scale, "max |Δlogit| \(worst) against max |logit| \(scale)")
        // And the cut really changed the model.
        let dense = try logits(m)
        #expect(zip(dense.data, b.data).map { abs($0 - $1) }.max()! > 1e-2 * scale)
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func accountingCountsTheTiedEmbeddingOnce() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        #expect(!m.has(.outputHead))
        #expect(Accounting.parameters(m) == 134_515_008)
        let small = try FFNPruning.keep(m, neurons: Dictionary(uniqueKeysWithValues: (0..<30).map { ($0, Array(0..<1000)) }))
        let removed = 30 * 3 * 576 * 536
        #expect(Accounting.parameters(small) == 134_515_008 - removed)
        #expect(abs(Accounting.effectiveSparsity(small, dense: m)! - Double(removed) / 134_515_008) < 1e-12)
        #expect(Accounting.flopsPerToken(m, context: 512) - Accounting.flopsPerToken(small, context: 512) == Double(2 * removed))
    }
}
