import Foundation
import Testing
import Numerics
import Models
import Pruning
import TestHelpers

/// PruneNet with the contribution penalty (issue 24): each layer's draw costs D_l + λ·(the share of
/// the layer's contribution score its removed neurons carry). λ = 0 trains the same learner, bit for
/// bit, as without the option; the term adds exactly λ·(removed share) to a draw's penalty; with λ
/// large a policy trained on SmolLM2 keeps neurons of higher contribution than a random draw; the
/// options round-trip through a saved policy; a negative λ is a clear error.
struct ContributionPolicyTests {
    /// Shares over the synthetic layers of `PruneNetTests.syntheticSpectra` (48 rows each): the
    /// quiet rows (r % 3 ≠ 0) score high, the loud ones low, so the term pulls against the
    /// spectrum, which the loud rows dominate.
    static func syntheticShares(layers: Int = 6, rows: Int = 48) throws -> ContributionShares {
        var scores = [[Double]]()
        for l in 0..<layers {
            var s = [Double](repeating: 0.1, count: rows)
            for r in 0..<rows where r % 3 != 0 { s[r] = 1 + Double((r + l) % 4) }
            scores.append(s)
        }
        return try ContributionShares(scores: scores)
    }

    @Test func zeroWeightTrainsTheSameLearnerBitForBit() throws {
        let spectra = try PruneNetTests.syntheticSpectra()
        var options = PolicyTrainingOptions()
        options.ratio = 0.25
        options.episodes = 4
        options.seed = 2
        for variant in PolicyTrainingOptions.Variant.allCases {
            options.variant = variant
            let plain = try PolicyTraining.train(spectra: spectra, options: options)
            // λ = 0 with shares given (and the other proxy named): the shares are never read.
            var zero = options
            zero.contribution = 0
            zero.contributionProxy = .weights
            let withShares = try PolicyTraining.train(spectra: spectra, options: zero, contribution: try Self.syntheticShares())
            #expect(withShares.learner == plain.learner, "\(variant)")
            #expect(withShares.curve.map(\.penalties) == plain.curve.map(\.penalties), "\(variant)")
            #expect(withShares.keptEpisode == plain.keptEpisode)
            // And a positive λ does change the training (the comparison above could fail).
            var positive = options
            positive.contribution = 1
            let changed = try PolicyTraining.train(spectra: spectra, options: positive, contribution: try Self.syntheticShares())
            #expect(changed.learner != plain.learner, "\(variant)")
        }
    }

    @Test func termAddsLambdaTimesTheRemovedShare() throws {
        // Uniform scores: any draw of k of n rows removes exactly (n − k)/n of the contribution.
        // Episode 1's draws come from the same initial learner and seeds, so each layer's penalty
        // is the spectral one plus λ·(n − k)/n.
        let spectra = try PruneNetTests.syntheticSpectra()
        var options = PolicyTrainingOptions()
        options.ratio = 0.25
        options.episodes = 1
        let plain = try PolicyTraining.train(spectra: spectra, options: options)
        options.contribution = 3
        let uniform = try ContributionShares(scores: Array(repeating: Array(repeating: 2.5, count: 48), count: 6))
        let penalised = try PolicyTraining.train(spectra: spectra, options: options, contribution: uniform)
        let removed = Double(48 - 36) / 48
        for (a, b) in zip(penalised.curve[0].penalties, plain.curve[0].penalties) {
            #expect(abs(a - (b + 3 * removed)) < 1e-12, "\(a) against \(b) + 3·\(removed)")
        }
        // The share itself: scores 1, 2, 3, 4 with rows 0 and 1 removed carry 3/10.
        let s = try ContributionShares(scores: [[1, 2, 3, 4]])
        #expect(abs(s.removedShare(layer: 0, kept: [2, 3]) - 0.3) < 1e-15)
        #expect(s.removedShare(layer: 0, kept: [0, 1, 2, 3]) == 0)
    }

    @Test func sketchedLayersCarryTheTermToo() throws {
        // The sketched form (states read per layer): the same exact λ·(n − k)/n on episode 1 under
        // uniform scores, λ = 0 with shares the same learner as without, and no shares an error.
        var options = PolicyTrainingOptions()
        options.ratio = 0.25
        options.episodes = 2
        options.spectrum = .sketch
        func layers(_ shares: ContributionShares?) throws -> SketchedLayers {
            var l = try SketchedLayers(count: 6, rows: 48, cols: 12, sketch: options.sketch, seed: options.seed) { SketchedPruneNetTests.loudRows($0) }
            l.contribution = shares
            return l
        }
        let plain = try PolicyTraining.train(sketched: try layers(nil), options: options)
        let zero = try PolicyTraining.train(sketched: try layers(try Self.syntheticShares()), options: options)
        #expect(zero.learner == plain.learner && zero.curve.map(\.penalties) == plain.curve.map(\.penalties))
        options.contribution = 3
        let uniform = try ContributionShares(scores: Array(repeating: Array(repeating: 1, count: 48), count: 6))
        let penalised = try PolicyTraining.train(sketched: try layers(uniform), options: options)
        for (a, b) in zip(penalised.curve[0].penalties, plain.curve[0].penalties) {
            #expect(abs(a - (b + 3 * Double(48 - 36) / 48)) < 1e-12, "\(a) against \(b)")
        }
        // Shares that differ between neurons move the learner (four episodes: the learner kept is
        // one from before an episode's step, and the first two episodes both start from the initial one).
        options.episodes = 4
        let uneven = try PolicyTraining.train(sketched: try layers(try Self.syntheticShares()), options: options)
        options.contribution = 0
        let plain4 = try PolicyTraining.train(sketched: try layers(nil), options: options)
        #expect(uneven.learner != plain4.learner)
        options.contribution = 3
        #expect(throws: PruningError.self) { try PolicyTraining.train(sketched: try layers(nil), options: options) }
    }

    @Test func optionsRoundTripThroughASavedPolicy() throws {
        var o = PolicyTrainingOptions()
        o.contribution = 0.5
        o.contributionProxy = .weights   // not the default, so the round trip shows it is saved
        o.seed = 7
        let policy = PrunePolicy(learner: PolicyLearner(n: 8, d: 4, seed: 1), info: .init(
            modelName: "toy", architecture: "llama", hiddenSize: 4, intermediateSize: 8, blocks: 2, options: o,
            curve: [EpisodeRecord(episode: 0, meanPenalty: 0.5, bestSoFar: 0.5, elapsed: 0.1, penalties: [0.4, 0.6])],
            keptEpisode: 0, interrupted: false, seconds: 0.1))
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("policy.safetensors").path
        try policy.save(to: path)
        let back = try PrunePolicy.load(from: path)
        #expect(back.info == policy.info)
        #expect(back.info.options.contribution == 0.5 && back.info.options.contributionProxy == .weights)
        // Options saved before the contribution keys decode to λ = 0 and the prompt proxy.
        let old = #"{"ratio":0.3,"episodes":20,"distance":"ks","gamma":0.99,"learningRate":0.0005,"seed":4,"variant":"paper","fastEigenvalues":true,"temperature":1,"normalizeReturns":false,"initScale":1,"spectrum":"auto"}"#
        let decoded = try JSONDecoder().decode(PolicyTrainingOptions.self, from: Data(old.utf8))
        #expect(decoded.contribution == 0 && decoded.contributionProxy == .prompt && decoded.seed == 4)
    }

    @Test func badWeightsAreClearErrors() throws {
        var o = PolicyTrainingOptions()
        o.contribution = -1
        #expect(throws: PruningError(option: "contribution", "contribution must be at least 0, got -1")) { try o.validate() }
        #expect(throws: PruningError(option: "contribution", "contribution must be at least 0, got -1")) {
            try PolicyTraining.train(spectra: try PruneNetTests.syntheticSpectra(), options: o, contribution: try Self.syntheticShares())
        }
        o.contribution = .nan
        #expect(throws: PruningError(option: "contribution", "contribution must be at least 0, got nan")) { try o.validate() }
        // The named option refuses it the same way (train_policy and prune(m, "prunenet") parse with it).
        let option = try #require(PolicyTrainingOptions.declarations.first { $0.name == "contribution" })
        var request = PruneRequest(ratio: 0.2)
        #expect(throws: PruningError(option: "contribution", "contribution must be at least 0, got -0.5")) {
            try option.store(.number(-0.5), in: &request)
        }
        try option.store(.number(2), in: &request)
        #expect(request.policy.contribution == 2)
        let proxy = try #require(PolicyTrainingOptions.declarations.first { $0.name == "contribution_proxy" })
        #expect(throws: PruningError.self) { try proxy.store(.string("data"), in: &request) }
        try proxy.store(.string("weights"), in: &request)
        #expect(request.policy.contributionProxy == .weights)
        // λ > 0 without the shares, or with shares of another shape.
        o.contribution = 1
        #expect(throws: PruningError.self) { try PolicyTraining.train(spectra: try PruneNetTests.syntheticSpectra(), options: o) }
        #expect(throws: PruningError.self) {
            try PolicyTraining.train(spectra: try PruneNetTests.syntheticSpectra(), options: o, contribution: try Self.syntheticShares(rows: 40))
        }
        #expect(throws: PruningError.self) { try ContributionShares(scores: [[0, 0]]) }
        #expect(throws: PruningError.self) { try ContributionShares(scores: [[1, -1]]) }
    }

    @Test(.enabled(if: TestSupport.haveMiniLM, "run scripts/fetch-models"))
    func positiveWeightOnBERTIsAClearError() throws {
        let minilm = try ModelLoader.load(TestSupport.minilmWeights.deletingLastPathComponent().path)
        var o = PolicyTrainingOptions()
        o.contribution = 1
        o.episodes = 1
        #expect { try PolicyTraining.train(model: minilm, options: o) } throws: { e in
            guard let e = e as? PruningError else { return false }
            return e.option == "contribution" && e.message.contains("need a llama model")
        }
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func smolLMPenaltyCarriesTheRemovedContribution() throws {
        // One episode on SmolLM2 with and without the term: the draws are the same (same initial
        // learner and seeds), so each layer's penalty differs by λ times the contribution share
        // its 307 removed neurons carry, which lies between the 307 smallest and largest shares.
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        var o = PolicyTrainingOptions()
        o.ratio = 0.2
        o.episodes = 1
        o.seed = 1
        let plain = try PolicyTraining.train(model: m, options: o)
        o.contribution = 1000
        let penalised = try PolicyTraining.train(model: m, options: o)
        let shares = try ContributionShares(m, proxy: o.contributionProxy)   // the default, the prompt's
        let removed = 1536 - 1229
        for l in 0..<30 {
            let sorted = shares.shares[l].sorted()
            let low = sorted.prefix(removed).reduce(0, +), high = sorted.suffix(removed).reduce(0, +)
            let term = (penalised.curve[0].penalties[l] - plain.curve[0].penalties[l]) / 1000
            #expect(term >= low - 1e-12 && term <= high + 1e-12 && term > 0, "layer \(l): term \(term) outside [\(low), \(high)]")
        }
        // A uniform draw removes 0.2 of the contribution on average; the layers' mean is near it.
        let meanTerm = zip(penalised.curve[0].penalties, plain.curve[0].penalties).map { ($0 - $1) / 1000 }.reduce(0, +) / 30
        #expect(abs(meanTerm - 0.2) < 0.05, "mean removed share \(meanTerm)")
        // The proxy is read: the weights' scores give other shares.
        let weights = try ContributionShares(m, proxy: .weights)
        #expect(weights.shares[3] != shares.shares[3])
    }

    // Whether a large λ makes the trained policy keep neurons of higher contribution than a random
    // draw was measured, not asserted: on SmolLM2 (20 episodes, λ = 1000, paper variant) the top-k
    // neurons of the penalised policy carried more of the contribution than a uniform draw for
    // seeds 1 and 4 and less for seeds 2 and 3 (docs/results/keep-prunenet.md), so such an
    // assertion would test luck, not the penalty.
}
