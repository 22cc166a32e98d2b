import Foundation
import Numerics
import TestHelpers
import XCTest
@testable import Training

final class TrainingLoopTests: XCTestCase {
    struct Stop: Error, Equatable {}

    func testInitialisationIsPyTorchsBoundAndSeeded() throws {
        let a = try MLP(sizes: [64, 300, 100, 10], seed: 7), b = try MLP(sizes: [64, 300, 100, 10], seed: 7)
        let c = try MLP(sizes: [64, 300, 100, 10], seed: 8)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a.weights[0], c.weights[0])
        XCTAssertEqual(a.parameterCount, 64 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10)
        for l in 0..<a.layerCount {
            let bound = 1 / Float(a.sizes[l]).squareRoot()
            let values = a.weights[l].data + a.biases[l]
            XCTAssertTrue(values.allSatisfy { abs($0) <= bound })
            // Uniform on [−bound, bound]: the spread fills the interval.
            XCTAssertGreaterThan(values.max()!, 0.95 * bound)
            XCTAssertLessThan(values.min()!, -0.95 * bound)
        }
        XCTAssertThrowsError(try MLP(sizes: [4]))
        XCTAssertThrowsError(try MLP(sizes: [4, 0, 2]))
    }

    func testTwentyStepsOnAFixedBatchLowerTheLoss() throws {
        let data = try SyntheticData.blobs(perClass: 8, centers: 3, features: 4, seed: 1)
        for choice in [OptimizerChoice.sgd(SGD.Settings(learningRate: 0.05, momentum: 0.9)), .adam(Adam.Settings(learningRate: 0.01))] {
            var net = try MLP(sizes: [4, 16, 3], activation: .tanh, seed: 2)
            var sgd = SGD(SGD.Settings(learningRate: 0.05, momentum: 0.9)), adam = Adam(Adam.Settings(learningRate: 0.01))
            let first = net.loss(data.inputs.data, rows: data.count, labels: data.labels)
            var losses = [Double]()
            for _ in 0..<20 {
                let (loss, g) = net.lossAndGradients(data.inputs.data, rows: data.count, labels: data.labels)
                losses.append(loss)
                if case .sgd = choice { net.step(&sgd, gradients: g) } else { net.step(&adam, gradients: g) }
            }
            let last = net.loss(data.inputs.data, rows: data.count, labels: data.labels)
            XCTAssertEqual(losses[0], first, accuracy: 1e-12)
            XCTAssertLessThan(last, 0.5 * first, "\(choice.name): \(first) → \(last)")
        }
    }

    func testMaskedWeightsStayZero() throws {
        let data = try SyntheticData.spirals(perClass: 30, seed: 3)
        var net = try MLP(sizes: [2, 20, 20, 2], seed: 4)
        var rng = SeededRandom(seed: 9)
        var masks = [Matrix]()
        for l in 0..<net.layerCount {
            let w = net.weights[l]
            let mask = Matrix(rows: w.rows, cols: w.cols) { _, _ in rng.uniform() < 0.5 ? 0 : 1 }
            try net.setMask(mask, layer: l)
            masks.append(mask)
        }
        for choice in [OptimizerChoice.sgd(SGD.Settings(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)),
                       .adam(.adamW(learningRate: 0.01, weightDecay: 0.1))] {
            let (_, g) = net.lossAndGradients(data.inputs.data, rows: data.count, labels: data.labels)
            let result = try Trainer.train(net, on: data, options: TrainingOptions(epochs: 3, batchSize: 16, optimizer: choice, seed: 1))
            for l in 0..<net.layerCount {
                let trained = result.network.weights[l]
                var moved = 0
                for i in 0..<trained.count {
                    if masks[l].data[i] == 0 {
                        XCTAssertEqual(trained.data[i], 0, "\(choice.name) layer \(l) weight \(i)")
                        XCTAssertEqual(g.weights[l].data[i], 0)
                    } else if trained.data[i] != net.weights[l].data[i] { moved += 1 }
                }
                XCTAssertGreaterThan(moved, 0, "the unmasked weights of layer \(l) train")
            }
            XCTAssertEqual(result.network.masks, net.masks)
        }
        XCTAssertLessThan(net.unmaskedParameterCount, net.parameterCount)
        XCTAssertThrowsError(try net.setMask(Matrix(rows: 1, cols: 1), layer: 0))
        XCTAssertThrowsError(try net.setMask(Matrix(rows: 20, cols: 2, repeating: 0.5), layer: 0))
    }

    func testStopKeepsTheNetworkOfTheLastFinishedStep() throws {
        let data = try SyntheticData.blobs(perClass: 10, centers: 4, seed: 5)   // 40 examples: 5 batches of 8
        let net = try MLP(sizes: [2, 8, 4], seed: 6)
        let options = TrainingOptions(epochs: 3, batchSize: 8, optimizer: .sgd(SGD.Settings(learningRate: 0.1, momentum: 0.5)), seed: 2)
        var checks = 0
        var events = [ProgressEvent]()
        let progress = ProgressReporter(report: { events.append($0) }, check: {
            checks += 1
            if checks == 6 { throw Stop() }
        })
        let stopped = try Trainer.train(net, on: data, options: options, progress: progress)
        XCTAssertTrue(stopped.interrupted)
        XCTAssertEqual(stopped.stoppedBy as? Stop, Stop())
        XCTAssertEqual(stopped.steps.count, 5)
        XCTAssertEqual(events.map(\.done), [1, 2, 3, 4, 5])
        XCTAssertEqual(events.first?.total, 15)
        var oneEpoch = options
        oneEpoch.epochs = 1
        let reference = try Trainer.train(net, on: data, options: oneEpoch)
        XCTAssertFalse(reference.interrupted)
        XCTAssertNil(reference.stoppedBy)
        XCTAssertEqual(stopped.network, reference.network)
        XCTAssertEqual(stopped.steps.map(\.loss), reference.steps.map(\.loss))

        // A stop thrown from report ends training after that step too.
        let byReport = try Trainer.train(net, on: data, options: options, progress: ProgressReporter(report: { e in
            if e.done == 5 { throw Stop() }
        }))
        XCTAssertEqual(byReport.network, reference.network)
        XCTAssertTrue(byReport.interrupted)
    }

    func testSeededOrderIsReproducibleAndSeedMatters() throws {
        let data = try SyntheticData.spirals(perClass: 20, seed: 1)
        let net = try MLP(sizes: [2, 10, 2], seed: 1)
        let o = TrainingOptions(epochs: 2, batchSize: 7, optimizer: .adam(Adam.Settings(learningRate: 0.01)), seed: 3)
        let a = try Trainer.train(net, on: data, options: o), b = try Trainer.train(net, on: data, options: o)
        XCTAssertEqual(a.network, b.network)
        var o2 = o
        o2.seed = 4
        XCTAssertNotEqual(try Trainer.train(net, on: data, options: o2).network, a.network)
        XCTAssertEqual(a.steps.count, 2 * 6)            // 40 examples in batches of 7: 6 per epoch, the last of 5
        XCTAssertEqual(a.steps.last?.examples, 80)
        XCTAssertEqual(a.epochs.count, 2)
        XCTAssertThrowsError(try Trainer.train(net, on: data, options: TrainingOptions(batchSize: 0)))
        XCTAssertThrowsError(try Trainer.train(try MLP(sizes: [3, 2]), on: data, options: o))
    }

    func testSyntheticSets() throws {
        let s = try SyntheticData.spirals(perClass: 50, classes: 3, seed: 1)
        XCTAssertEqual(s.count, 150)
        XCTAssertEqual(s.classes, 3)
        XCTAssertEqual(s.labels.filter { $0 == 2 }.count, 50)
        XCTAssertEqual(try SyntheticData.spirals(perClass: 50, classes: 3, seed: 1), s)
        XCTAssertNotEqual(try SyntheticData.spirals(perClass: 50, classes: 3, seed: 2).inputs, s.inputs)
        let b = try SyntheticData.blobs(perClass: 100, centers: 3, spread: 0.5, seed: 2)
        XCTAssertEqual(b.features, 2)
        // Each blob's mean is near its centre and the blobs are apart: a small net separates them.
        let result = try Trainer.train(try MLP(sizes: [2, 16, 3], seed: 0), on: b,
                                       options: TrainingOptions(epochs: 30, batchSize: 32, optimizer: .adam(Adam.Settings(learningRate: 0.01))))
        XCTAssertGreaterThan(result.network.accuracy(on: b), 0.95)
    }

    func testSplitIsSeededAndDisjoint() throws {
        let d = try SyntheticData.blobs(perClass: 50, centers: 2, seed: 0)
        let (tr, va, te) = try d.split(validation: 0.2, test: 0.3, seed: 1)
        XCTAssertEqual([tr.count, va.count, te.count], [50, 20, 30])
        let rows = Set((tr.inputs.data + va.inputs.data + te.inputs.data).chunked(2))
        XCTAssertEqual(rows.count, 100)
        XCTAssertEqual(try d.split(validation: 0.2, test: 0.3, seed: 1).test, te)
        XCTAssertNotEqual(try d.split(validation: 0.2, test: 0.3, seed: 2).test, te)
        XCTAssertThrowsError(try d.split(validation: 0.5, test: 0.5, seed: 0))
    }
}

extension Array where Element == Float {
    func chunked(_ n: Int) -> [[Float]] { stride(from: 0, to: count, by: n).map { Array(self[$0..<Swift.min($0 + n, count)]) } }
}
