import Foundation
import Numerics
import XCTest
@testable import Pruning
@testable import Training

final class NetworkPruningTests: XCTestCase {
    func zeros(_ m: Matrix?) -> Int { m.map { $0.data.filter { $0 == 0 }.count } ?? 0 }

    func testLayerMagnitudeHitsTheExactSparsityAndPrunesTheSmallest() throws {
        let net = try MLP(sizes: [64, 30, 20, 10], seed: 1)
        let p = try NetworkPruning.magnitude(net, ratio: 0.3)
        for l in 0..<net.layerCount {
            let n = net.weights[l].count
            XCTAssertEqual(zeros(p.masks[l]), Int((0.3 * Double(n)).rounded()), "layer \(l)")
            // Every pruned |w| is at most every kept |w| of the layer.
            let w = net.weights[l].data, m = p.masks[l]!.data
            let prunedMax = w.indices.filter { m[$0] == 0 }.map { abs(w[$0]) }.max()!
            let keptMin = w.indices.filter { m[$0] == 1 }.map { abs(w[$0]) }.min()!
            XCTAssertLessThanOrEqual(prunedMax, keptMin)
            // Pruned weights read zero, kept ones are unchanged.
            for i in w.indices { XCTAssertEqual(p.weights[l].data[i], m[i] == 0 ? 0 : w[i]) }
        }
        XCTAssertEqual(NetworkPruning.sparsity(p), 0.3, accuracy: 0.002)
        XCTAssertEqual(NetworkPruning.layerSparsities(net), [0, 0, 0])
        XCTAssertEqual(NetworkPruning.remainingWeights(p), net.weights.reduce(0) { $0 + $1.count } - p.masks.reduce(0) { $0 + zeros($1) })
        XCTAssertEqual(try NetworkPruning.mask(net, layer: 2), Matrix(rows: 10, cols: 20, repeating: 1))
        XCTAssertEqual(try NetworkPruning.mask(p, layer: 2), p.masks[2]!)
        // Pure: the input is unchanged; deterministic.
        XCTAssertEqual(net.masks, [nil, nil, nil])
        XCTAssertEqual(try NetworkPruning.magnitude(net, ratio: 0.3), p)
    }

    func testTiesAreBrokenByIndex() throws {
        // A layer of equal magnitudes: the lowest indices go first.
        let w = try Matrix(rows: 2, cols: 3, data: [1, -1, 1, 1, -1, 1])
        let net = try MLP(sizes: [3, 2], activation: .relu, weights: [w], biases: [[0, 0]])
        let p = try NetworkPruning.magnitude(net, ratio: 0.5)
        XCTAssertEqual(p.masks[0]!.data, [0, 0, 0, 1, 1, 1])
    }

    func testGlobalScopeDiffersFromLayerScopeAsItShould() throws {
        // Layer 0's weights are ten times smaller than layer 1's: a global threshold takes layer 0 first.
        var net = try MLP(sizes: [20, 20, 5], seed: 3)
        try net.setParameters(layer: 0, weight: net.weights[0].map { $0 * 0.1 }, bias: net.biases[0])
        let global = try NetworkPruning.magnitude(net, ratio: 0.5, scope: .global)
        let layer = try NetworkPruning.magnitude(net, ratio: 0.5, scope: .layer)
        XCTAssertEqual(NetworkPruning.sparsity(global), 0.5, accuracy: 1e-9)
        XCTAssertEqual(NetworkPruning.layerSparsities(layer), [0.5, 0.5])
        let gs = NetworkPruning.layerSparsities(global)
        XCTAssertGreaterThan(gs[0], 0.6)
        XCTAssertLessThan(gs[1], 0.2)
        // The global threshold: every pruned weight anywhere is at most every kept one anywhere.
        var pruned = [Float](), kept = [Float]()
        for l in 0..<2 {
            for i in 0..<net.weights[l].count {
                if global.masks[l]!.data[i] == 0 { pruned.append(abs(net.weights[l].data[i])) } else { kept.append(abs(net.weights[l].data[i])) }
            }
        }
        XCTAssertLessThanOrEqual(pruned.max()!, kept.min()!)
    }

    func testOutputLayerCanBeLeftAndLayerRatiosAreHonoured() throws {
        let net = try MLP(sizes: [10, 8, 4], seed: 2)
        let p = try NetworkPruning.magnitude(net, ratio: 0.5, includeOutputLayer: false)
        XCTAssertNil(p.masks[1])
        XCTAssertEqual(zeros(p.masks[0]), 40)
        let g = try NetworkPruning.magnitude(net, ratio: 0.5, scope: .global, includeOutputLayer: false)
        XCTAssertNil(g.masks[1])
        XCTAssertEqual(g.masks[0], p.masks[0])
        let r = try NetworkPruning.magnitude(net, layerRatios: [0.2, 0.1])
        XCTAssertEqual(NetworkPruning.layerSparsities(r), [0.2, 3.0 / 32])   // round(3.2) = 3 of 32
    }

    func testIteratedPruningKeepsEarlierMasksAndCompounds() throws {
        let net = try MLP(sizes: [16, 12, 4], seed: 5)
        let first = try NetworkPruning.magnitude(net, ratio: 0.2)
        // Move the surviving weights so that the smallest now differ: earlier-pruned ones must stay pruned.
        var moved = first
        for l in 0..<moved.layerCount {
            try moved.setParameters(layer: l, weight: net.weights[l].map { 1 / ($0 + 10) }, bias: moved.biases[l])
        }
        let second = try NetworkPruning.magnitude(moved, ratio: 0.36)
        for l in 0..<net.layerCount {
            for i in 0..<first.masks[l]!.count where first.masks[l]!.data[i] == 0 {
                XCTAssertEqual(second.masks[l]!.data[i], 0)
            }
            XCTAssertEqual(zeros(second.masks[l]), Int((0.36 * Double(net.weights[l].count)).rounded()))
        }
        // A smaller ratio than already reached prunes nothing more and revives nothing.
        XCTAssertEqual(try NetworkPruning.magnitude(second, ratio: 0.1).masks, second.masks)
        XCTAssertEqual(try NetworkPruning.random(second, ratio: 0.1, seed: 1).masks, second.masks)
    }

    func testMasksPersistThroughTrainingAndRePruning() throws {
        let data = try SyntheticData.blobs(perClass: 20, centers: 3, features: 4, seed: 1)
        let net = try NetworkPruning.magnitude(try MLP(sizes: [4, 24, 3], seed: 2), ratio: 0.5)
        let trained = try Trainer.train(net, on: data, options: TrainingOptions(epochs: 3, batchSize: 16, seed: 1)).network
        XCTAssertEqual(trained.masks, net.masks)
        XCTAssertNotEqual(trained.weights, net.weights)
        for l in 0..<net.layerCount {
            for i in 0..<net.masks[l]!.count where net.masks[l]!.data[i] == 0 { XCTAssertEqual(trained.weights[l].data[i], 0) }
        }
        let again = try NetworkPruning.magnitude(trained, ratio: 0.75)
        XCTAssertEqual(NetworkPruning.layerSparsities(again), [0.75, 0.75])
        for l in 0..<net.layerCount {
            for i in 0..<net.masks[l]!.count where net.masks[l]!.data[i] == 0 { XCTAssertEqual(again.masks[l]!.data[i], 0) }
        }
    }

    func testRandomMaskIsSeededWithExactSparsityAndUnrelatedToMagnitude() throws {
        let net = try MLP(sizes: [64, 50, 10], seed: 1)
        let a = try NetworkPruning.random(net, ratio: 0.8, seed: 4)
        XCTAssertEqual(a, try NetworkPruning.random(net, ratio: 0.8, seed: 4))
        XCTAssertNotEqual(a.masks, try NetworkPruning.random(net, ratio: 0.8, seed: 5).masks)
        XCTAssertEqual(NetworkPruning.layerSparsities(a), [0.8, 0.8])
        // A random mask keeps large and small weights alike: about 20% of the top-20% magnitudes survive,
        // where a magnitude mask keeps all of them.
        let w = net.weights[0].data
        let top = w.indices.sorted { abs(w[$0]) > abs(w[$1]) }.prefix(w.count / 5)
        let survivors = top.filter { a.masks[0]!.data[$0] == 1 }.count
        XCTAssertLessThan(Double(survivors) / Double(top.count), 0.3)
        let r = try NetworkPruning.random(net, layerRatios: [0.5, 0.25], seed: 0)
        XCTAssertEqual(NetworkPruning.layerSparsities(r), [0.5, 0.25])
        XCTAssertNil(try NetworkPruning.random(net, ratio: 0.5, seed: 0, includeOutputLayer: false).masks[1])
    }

    func testNeuronsShrinkTheNetworkAndComputeTheMaskedFunction() throws {
        let base = try MLP(sizes: [8, 10, 6, 3], activation: .tanh, seed: 6)
        let masked = try NetworkPruning.magnitude(base, ratio: 0.3)
        let x = Matrix(rows: 5, cols: 8) { r, c in Float(r * 8 + c).truncatingRemainder(dividingBy: 7) / 7 - 0.4 }
        for criterion in NetworkPruning.NeuronCriterion.allCases {
            for net in [base, masked] {
                let small = try NetworkPruning.neurons(net, ratio: 0.5, criterion: criterion, seed: 2)
                XCTAssertEqual(small.sizes, [8, 5, 3, 3])
                XCTAssertEqual(small.weights.map { [$0.rows, $0.cols] }, [[5, 8], [3, 5], [3, 3]])
                XCTAssertEqual(small.biases.map(\.count), [5, 3, 3])
                XCTAssertEqual(small.masks.map { $0 == nil }, net.masks.map { $0 == nil })
                let kept = try NetworkPruning.keptNeurons(net, ratio: 0.5, criterion: criterion, seed: 2)
                let equivalent = try NetworkPruning.outgoingMaskedEquivalent(net, keeping: kept)
                let a = small.logits(x).data, b = equivalent.logits(x).data
                for i in a.indices { XCTAssertEqual(a[i], b[i], accuracy: 1e-5) }
                // And not the original function: something was removed.
                XCTAssertGreaterThan(zip(a, net.logits(x).data).map { abs($0 - $1) }.max()!, 1e-4)
            }
        }
        // Magnitude removes the rows of smallest norm.
        let kept = try NetworkPruning.keptNeurons(base, ratio: 0.5)
        let norms = (0..<10).map { r in base.weights[0].row(r).reduce(0) { $0 + $1 * $1 } }
        let keptMin = kept[0].map { norms[$0] }.min()!
        let removedMax = (0..<10).filter { !kept[0].contains($0) }.map { norms[$0] }.max()!
        XCTAssertLessThanOrEqual(removedMax, keptMin)
        // At least one neuron survives.
        XCTAssertEqual(try NetworkPruning.neurons(base, ratio: 0.99).sizes, [8, 1, 1, 3])
        XCTAssertEqual(try NetworkPruning.neurons(base, ratio: 0).sizes, base.sizes)
    }

    func testArgumentsAreValidated() throws {
        let net = try MLP(sizes: [4, 3, 2], seed: 0)
        for bad in [-0.1, 1.0, 1.5, .nan] {
            XCTAssertThrowsError(try NetworkPruning.magnitude(net, ratio: bad)) { e in
                XCTAssertEqual((e as? PruningError)?.option, "ratio")
                XCTAssertTrue("\(e)".contains("[0, 1)"), "\(e)")
            }
            XCTAssertThrowsError(try NetworkPruning.random(net, ratio: bad, seed: 0))
            XCTAssertThrowsError(try NetworkPruning.neurons(net, ratio: bad))
        }
        XCTAssertThrowsError(try NetworkPruning.magnitude(net, layerRatios: [0.1]))
        XCTAssertThrowsError(try NetworkPruning.mask(net, layer: 2))
        XCTAssertThrowsError(try NetworkPruning.restrict(net, toNeurons: [[0, 0]]))
        XCTAssertThrowsError(try NetworkPruning.restrict(net, toNeurons: [[]]))
    }
}
