import Foundation
import Numerics
import TestHelpers
import XCTest
@testable import Training

/// The MLP's loss, gradients and optimiser steps against PyTorch's (float64, CPU), from
/// Tests/fixtures/training/mlp.json written by Tests/fixtures/make_mlp_fixtures.py.
///
/// Tolerance: per tensor, max |ours − reference| ≤ 1e-5 · max |reference| (Float32 arithmetic
/// against a float64 reference on the same float32 inputs; single-precision rounding over sums
/// of a few terms is ~1e-7 of the tensor's scale, so 1e-5 leaves room without hiding a wrong
/// term, which shows as an error of the order of the gradient itself). Loss: 1e-6 relative.
final class MLPReferenceTests: XCTestCase {
    struct Fixture: Decodable {
        struct Params: Decodable { let loss: Double; let weights: [[Double]]; let biases: [[Double]] }
        struct Case: Decodable {
            let activation: String, sizes: [Int], rows: Int
            let weights: [[Double]], biases: [[Double]], inputs: [Double], labels: [Int]
            let loss: Double
            let weight_grads: [[Double]], bias_grads: [[Double]]
            let steps: [String: [Params]]
        }
        let cases: [Case]
    }

    static let tolerance = 1e-5

    func load() throws -> Fixture {
        let url = TestSupport.root.appendingPathComponent("Tests/fixtures/training/mlp.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func network(_ c: Fixture.Case) throws -> MLP {
        let ws = try (0..<(c.sizes.count - 1)).map { l in
            try Matrix(rows: c.sizes[l + 1], cols: c.sizes[l], data: c.weights[l].map { Float($0) })
        }
        return try MLP(sizes: c.sizes, activation: XCTUnwrap(Activation(rawValue: c.activation)),
                       weights: ws, biases: c.biases.map { $0.map { Float($0) } })
    }

    /// max |a − b| / max |b| (0 when b is all zero and a equals it).
    /// Checks every layer's weights and biases (or their gradients) against the reference within
    /// the tolerance; returns the worst per-tensor relative error.
    func checkLayers(weights: [[Float]], biases: [[Float]], against refWeights: [[Double]], _ refBiases: [[Double]], _ label: String) -> Double {
        var worst = 0.0
        for l in weights.indices {
            let ew = relativeError(weights[l], refWeights[l]), eb = relativeError(biases[l], refBiases[l])
            XCTAssertLessThanOrEqual(ew, Self.tolerance, "\(label) layer \(l) weight")
            XCTAssertLessThanOrEqual(eb, Self.tolerance, "\(label) layer \(l) bias")
            worst = max(worst, ew, eb)
        }
        return worst
    }

    func relativeError(_ a: [Float], _ b: [Double]) -> Double {
        precondition(a.count == b.count)
        let scale = b.map(abs).max() ?? 0
        let err = zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
        return scale > 0 ? err / scale : err
    }

    func testLossAndGradientsMatchPyTorch() throws {
        let fx = try load()
        XCTAssertEqual(fx.cases.map(\.activation), ["relu", "tanh", "gelu"])
        var worst = 0.0
        for c in fx.cases {
            let net = try network(c)
            let (loss, g) = net.lossAndGradients(c.inputs.map { Float($0) }, rows: c.rows, labels: c.labels)
            XCTAssertEqual(loss, c.loss, accuracy: 1e-6 * abs(c.loss), c.activation)
            worst = max(worst, checkLayers(weights: g.weights.map(\.data), biases: g.biases, against: c.weight_grads, c.bias_grads,
                                           "\(c.activation) gradient"))
        }
        print("MLP gradients vs PyTorch float64: worst per-tensor relative error \(worst)")
    }

    func testOptimizerStepsMatchPyTorch() throws {
        let fx = try load()
        let choices: [String: OptimizerChoice] = [
            "sgd": .sgd(SGD.Settings(learningRate: 0.1, momentum: 0.9, weightDecay: 1e-3)),
            "adam": .adam(Adam.Settings(learningRate: 0.01)),
            "adamw": .adam(.adamW(learningRate: 0.01, weightDecay: 0.01)),
        ]
        var worst = 0.0
        for c in fx.cases {
            let x = c.inputs.map { Float($0) }
            for (name, choice) in choices.sorted(by: { $0.key < $1.key }) {
                let reference = try XCTUnwrap(c.steps[name])
                XCTAssertEqual(reference.count, 2)
                var net = try network(c)
                var sgd = SGD(SGD.Settings(learningRate: 1)), adam = Adam(Adam.Settings())
                if case let .sgd(s) = choice { sgd = SGD(s) }
                if case let .adam(s) = choice { adam = Adam(s) }
                for (k, ref) in reference.enumerated() {
                    let (loss, g) = net.lossAndGradients(x, rows: c.rows, labels: c.labels)
                    XCTAssertEqual(loss, ref.loss, accuracy: 1e-6 * abs(ref.loss), "\(c.activation) \(name) step \(k + 1)")
                    if case .sgd = choice { net.step(&sgd, gradients: g) } else { net.step(&adam, gradients: g) }
                    worst = max(worst, checkLayers(weights: net.weights.map(\.data), biases: net.biases, against: ref.weights, ref.biases,
                                                   "\(c.activation) \(name) step \(k + 1)"))
                }
            }
        }
        print("optimiser steps vs PyTorch float64: worst per-tensor relative error \(worst)")
    }
}
