import Foundation
import Testing
import Numerics
import Models
import Pruning
import TestHelpers

/// What to keep (issue 24): super weights found from one data-free pass, protect= on the row
/// methods and a policy, a score of one's own, the contribution score and OWL's ratios.
/// The SmolLM2 tests run a forward pass over a short prompt: run them in a release build.
struct WhatToKeepTests {
    /// The (block → kept neuron indices) of a pruned model, read back by matching the gate rows.
    static func kept(_ pruned: Model, from dense: Model, block b: Int) throws -> Set<Int> {
        let g = try dense.matrix(.ffnGate, block: b), p = try pruned.matrix(.ffnGate, block: b)
        var index = [ArraySlice<Float>: Int]()
        for r in 0..<g.rows { index[g.data[r * g.cols..<(r + 1) * g.cols]] = r }
        return Set(try (0..<p.rows).map { r in
            guard let i = index[p.data[r * p.cols..<(r + 1) * p.cols]] else { throw PruningError("row \(r) of block \(b) is not a dense row") }
            return i
        })
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func superWeightsAreTheIssuesNeurons() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let spikes = try SuperWeights.find(m, top: 2)
        #expect(spikes.count == 60)
        func top(_ b: Int) -> SuperWeights.Spike { spikes.first { $0.block == b }! }
        // The massive activations the independent check found, at token 0, writing channel 507.
        #expect(top(11).neuron == 1229 && top(11).channel == 507 && top(11).token == 0 && abs(top(11).activation) > 2500)
        #expect(top(28).neuron == 678 && top(28).channel == 507 && abs(top(28).activation) > 2000)
        #expect(top(29).neuron == 999 && top(29).channel == 507 && abs(top(29).activation) > 300)
        #expect(top(27).neuron == 903 && abs(top(27).activation) > 80)
        #expect(spikes.contains { $0.block == 28 && $0.neuron == 1095 })
        // Weights alone point elsewhere: block 29's spike has one of the smallest gate norms,
        // blocks 11 and 28's among the largest; block 3's largest |W_down| writes 507 from a small-gate neuron.
        #expect(top(29).gateRank < 5 && top(11).gateRank > 1500 && top(28).gateRank > 1500)
        #expect(top(3).largestWeightChannel == 507 && top(3).largestWeightGateRank < 10)
        // The largest activations by far are in blocks 11 and 28.
        let peak = spikes.map { abs($0.activation) }.sorted(by: >)
        #expect(Set([top(11).activation, top(28).activation].map(abs)) == Set(peak.prefix(2)))
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func protectedNeuronsAreKeptByEveryRowMethod() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let protected = ProtectedNeurons(pairs: [(29, 999), (29, 1397), (28, 1095), (3, 7)])
        // Without protection, magnitude rows removes block 29 neuron 999 (a small gate norm).
        let plain = try PruneMethods.prune(m, method: "magnitude-rows", request: PruneRequest(ratio: 0.2))
        #expect(!(try Self.kept(plain, from: m, block: 29)).contains(999))
        var request = PruneRequest(ratio: 0.2, seed: 1)
        try PruneMethods.method(named: "magnitude-rows").set("protect", .neurons([29: [999, 1397], 28: [1095], 3: [7]]), in: &request)
        #expect(request.protected == protected)
        for name in ["magnitude-rows", "random-rows", "contribution-rows"] {
            let p = try PruneMethods.prune(m, method: name, request: request)
            #expect(p.config.intermediateSizes == Array(repeating: 1229, count: 30), "\(name) still meets the ratio")
            for (b, ns) in protected.byBlock { #expect(try Self.kept(p, from: m, block: b).isSuperset(of: ns), "\(name) keeps block \(b)'s") }
        }
        // Magnitude rows with protection differs from without only by the protected neurons it had dropped.
        let p = try PruneMethods.prune(m, method: "magnitude-rows", request: request)
        let before = try Self.kept(plain, from: m, block: 29), after = try Self.kept(p, from: m, block: 29)
        #expect(after.subtracting(before) == Set([999, 1397]).subtracting(before) && after.count == before.count)
        // A random draw without protection is unchanged by the feature (the seed's draws are the same).
        let r0 = try RowPruners.prune(m, method: .random, ratio: 0.2, seed: 1)
        let r1 = try PruneMethods.prune(m, method: "random-rows", request: PruneRequest(ratio: 0.2, seed: 1))
        #expect(try Self.kept(r0, from: m, block: 5) == Self.kept(r1, from: m, block: 5))
        // A policy (one short training episode) keeps them too, sampled and top-k.
        var options = PolicyTrainingOptions()
        options.episodes = 1
        options.ratio = 0.2
        let policy = try PrunePolicy.train(on: m, options: options)
        for deterministic in [false, true] {
            let q = try policy.apply(to: m, ratios: [0.3], seed: 2, deterministic: deterministic, protected: protected)
            #expect(q.config.intermediateSizes[29] == 1536 - 461)
            for (b, ns) in protected.byBlock { #expect(try Self.kept(q, from: m, block: b).isSuperset(of: ns)) }
        }
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func protectionErrorsAreClear() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let many = ProtectedNeurons([2: Set(0..<1000)])
        #expect(throws: PruningError(option: "protect", "block 2 protects 1000 neurons but keeps only 768 at ratio 0.5")) {
            try RowPruners.prune(m, method: .magnitude, ratios: Array(repeating: 0.5, count: 30), protected: many)
        }
        #expect(throws: PruningError(option: "protect", "protect names neuron 1536 of block 0, outside 0..<1536")) {
            try RowPruners.prune(m, method: .random, ratios: Array(repeating: 0.1, count: 30), protected: ProtectedNeurons([0: [1536]]))
        }
        #expect(throws: PruningError(option: "protect", "protect names block 30; the model has 30 blocks")) {
            try RowPruners.prune(m, method: .random, ratios: Array(repeating: 0.1, count: 30), protected: ProtectedNeurons([30: [1]]))
        }
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func aScoreOfOnesOwnReproducesMagnitudeRows() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let ratios = (0..<30).map { Double($0 % 5) / 10 }
        let byScore = try RowPruners.prune(m, scores: { b in RowPruners.rowNorms(try m.matrix(.ffnGate, block: b)) }, ratios: ratios)
        let magnitude = try RowPruners.prune(m, method: .magnitude, ratios: ratios)
        for b in 0..<30 {
            #expect(try byScore.matrix(.ffnDown, block: b) == magnitude.matrix(.ffnDown, block: b))
            #expect(try byScore.matrix(.ffnGate, block: b) == magnitude.matrix(.ffnGate, block: b))
        }
        // The lowest scores go: negating the score keeps the complement (up to the count).
        let low = try RowPruners.prune(m, scores: { b in RowPruners.rowNorms(try m.matrix(.ffnGate, block: b)).map { -$0 } }, ratios: Array(repeating: 0.5, count: 30))
        let high = try RowPruners.prune(m, method: .magnitude, ratio: 0.5)
        #expect(try Self.kept(low, from: m, block: 4).isDisjoint(with: Self.kept(high, from: m, block: 4)))
        #expect(throws: PruningError(option: "scores", "scores for block 0 must have one number per neuron (1536), got 3")) {
            try RowPruners.prune(m, scores: { _ in [1, 2, 3] }, ratios: Array(repeating: 0.5, count: 30))
        }
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func contributionKeepsTheMassiveActivationNeurons() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let acts = try PromptActivations(m)
        let scores = try ContributionScores(m, proxy: .prompt, activations: acts)
        for (b, n) in [(11, 1229), (28, 678), (29, 999), (27, 903)] {
            #expect(RowPruners.ranking(try scores.scores(block: b)).prefix(10).contains(n), "block \(b) neuron \(n) among the ten highest")
        }
        // The weight-only proxy ranks every neuron with a finite, positive score.
        let w = try ContributionScores(m, proxy: .weights).scores(block: 29)
        #expect(w.count == 1536 && w.allSatisfy { $0.isFinite && $0 > 0 })
        // OWL on SmolLM2: 30 ratios with the target mean, within ±λ.
        for form in OWLRatios.Form.allCases {
            let r = try OWLRatios.ratios(m, target: 0.3, form: form, activations: acts)
            #expect(r.count == 30 && abs(r.reduce(0, +) / 30 - 0.3) < 1e-12 && r.allSatisfy { abs($0 - 0.3) <= 0.16 + 1e-12 })
            #expect(Set(r).count > 1)
        }
    }

    @Test func gaussianEnergyHasBothRegimes() {
        // Small gate: SiLU(z) ≈ z/2, so E[SiLU(G)²U²] ≈ σg²σu²(1 + 2ρ²)/4.
        for rho in [0.0, 0.5, -0.9] {
            let e = ContributionScores.gaussianEnergy(sigmaGate: 1e-3, sigmaUp: 2, rho: rho)
            let linear = 1e-6 * 4 * (1 + 2 * rho * rho) / 4
            #expect(abs(e / linear - 1) < 1e-3)
        }
        // Large gate: SiLU ≈ ReLU, half of the linear moment: σg²σu²(1 + 2ρ²)/2.
        let e = ContributionScores.gaussianEnergy(sigmaGate: 50, sigmaUp: 1, rho: 0.5)
        #expect(abs(e / (2500 * 1.5 / 2) - 1) < 0.01)
    }

    @Test func owlRatiosKeepTheMeanAndFavourOutliers() {
        let r = OWLRatios.ratios(outliers: [0.01, 0.03, 0.02, 0.05], target: 0.5)
        #expect(abs(r.reduce(0, +) / 4 - 0.5) < 1e-12)
        #expect(r[3] == r.min() && r[0] == r.max())          // most outliers → pruned least
        #expect(abs((r.max()! - r.min()!) - 2 * OWLRatios.lambda) < 1e-12)
        #expect(OWLRatios.ratios(outliers: [0.1, 0.1], target: 0.2) == [0.2, 0.2])
        let clamped = OWLRatios.ratios(outliers: [0, 1], target: 0.01)   // the second is clamped at 0
        #expect(abs(clamped[0] - 0.09) < 1e-12 && clamped[1] == 0)
    }

    @Test func protectionChoosesProtectedThenRanking() {
        #expect(ProtectedNeurons.choose(ranked: [5, 4, 3, 2, 1], keep: 3, protected: []) == [5, 4, 3])
        #expect(ProtectedNeurons.choose(ranked: [5, 4, 3, 2, 1], keep: 3, protected: [1, 4]) == [1, 4, 5])
        #expect(ProtectedNeurons(pairs: [(1, 2), (1, 3), (0, 9)]).count == 3)
    }
}

/// `WeightZeroing`: single weights set to zero in a copy, everything else untouched and still lazy.
struct WeightZeroingTests {
    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func zeroesOnlyTheSitesAndLeavesOtherTensorsAsViews() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        let before = try m.matrix(.ffnDown, block: 11)
        #expect(before[507, 1229] != 0)
        let z = try WeightZeroing.zeroing(m, sites: [.init(block: 11, row: 507, column: 1229), .init(block: 11, row: 507, column: 1229),
                                                     .init(block: 3, row: 0, column: 1)], role: .ffnDown)
        #expect(z.name.hasSuffix("without 2 weights"))
        let after = try z.matrix(.ffnDown, block: 11)
        #expect(after[507, 1229] == 0)
        var changed = 0
        for i in 0..<before.count where before.data[i] != after.data[i] { changed += 1 }
        #expect(changed == 1, "only the one site in block 11 changes")
        #expect(try z.matrix(.ffnDown, block: 3)[0, 1] == 0)
        // Untouched matrices keep reading from the file; the source model is unchanged.
        guard case .gguf = z.tensor(.ffnDown, block: 12)!.storage else { Issue.record("block 12's down projection was copied"); return }
        #expect(try m.matrix(.ffnDown, block: 11)[507, 1229] == before[507, 1229])
    }

    @Test(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
    func sitesOutsideTheModelAreRefused() throws {
        let m = try ModelLoader.load(TestSupport.smolLMPath)
        #expect(throws: PruningError.self) { try WeightZeroing.zeroing(m, sites: [.init(block: 30, row: 0, column: 0)], role: .ffnDown) }
        #expect(throws: PruningError.self) { try WeightZeroing.zeroing(m, sites: [.init(block: 0, row: 576, column: 0)], role: .ffnDown) }
        #expect(throws: PruningError.self) { try WeightZeroing.zeroing(m, sites: [.init(block: 0, row: 0, column: -1)], role: .ffnGate) }
    }
}
