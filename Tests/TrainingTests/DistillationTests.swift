import Foundation
import Numerics
import TestHelpers
import XCTest
@testable import Training

/// The distillation op against PyTorch (Tests/fixtures/training/distillation.json, written by
/// Tests/fixtures/make_distillation_fixtures.py) and finite differences, and `Trainer.distill`.
final class DistillationTests: XCTestCase {
    struct Fixture: Decodable {
        struct Case: Decodable {
            let temperature: Double, alpha: Double, rows: Int, classes: Int
            let student: [Double], teacher: [Double], labels: [Int]
            let loss: Double, soft: Double, hard: Double, grad: [Double]
        }
        let cases: [Case]
    }

    func testLossAndGradientMatchPyTorch() throws {
        let url = TestSupport.root.appendingPathComponent("Tests/fixtures/training/distillation.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertEqual(fixture.cases.count, 6)
        for c in fixture.cases {
            let s = c.student.map { Float($0) }, t = c.teacher.map { Float($0) }
            let f = Distillation.forward(student: s, teacher: t, rows: c.rows, classes: c.classes, labels: c.labels,
                                         temperature: c.temperature, alpha: c.alpha)
            let what = "T=\(c.temperature) α=\(c.alpha)"
            XCTAssertEqual(f.loss, c.loss, accuracy: 1e-6 * abs(c.loss), what)
            XCTAssertEqual(f.soft, c.soft, accuracy: 1e-6 * abs(c.soft), what)
            XCTAssertEqual(f.hard, c.hard, accuracy: 1e-6 * abs(c.hard), what)
            XCTAssertTrue(f.loss.isFinite)
            let g = Distillation.backward(f, rows: c.rows, classes: c.classes, labels: c.labels,
                                          temperature: c.temperature, alpha: c.alpha)
            let scale = c.grad.map(abs).max()!
            let err = zip(g, c.grad).map { abs(Double($0) - $1) }.max()!
            XCTAssertLessThanOrEqual(err / scale, 1e-5, what)
        }
    }

    func numeric(_ x: [Float], h: Float = 1e-2, _ f: ([Float]) -> Double) -> [Double] {
        x.indices.map { i in
            var p = x, m = x
            p[i] += h
            m[i] -= h
            return (f(p) - f(m)) / (Double(p[i]) - Double(m[i]))
        }
    }

    func assertClose(_ analytic: [Float], _ numeric: [Double], _ what: String, tolerance: Double = 3e-3) {
        let scale = max(numeric.map(abs).max() ?? 0, 1e-3)
        let err = zip(analytic, numeric).map { abs(Double($0) - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(err / scale, tolerance, "\(what): max error \(err) at scale \(scale)")
    }

    func testGradientMatchesFiniteDifferences() {
        var rng = SeededRandom(seed: 3)
        let rows = 4, classes = 6
        let s = (0..<(rows * classes)).map { _ in Float(2 * rng.normal()) }
        let t = (0..<(rows * classes)).map { _ in Float(3 * rng.normal()) }
        let labels = (0..<rows).map { _ in Int(rng.next() % UInt64(classes)) }
        for (temperature, alpha) in [(1.0, 0.0), (3.0, 0.5), (8.0, 0.1), (2.0, 1.0)] {
            let f = Distillation.forward(student: s, teacher: t, rows: rows, classes: classes, labels: labels, temperature: temperature, alpha: alpha)
            let g = Distillation.backward(f, rows: rows, classes: classes, labels: labels, temperature: temperature, alpha: alpha)
            let n = numeric(s) { Distillation.forward(student: $0, teacher: t, rows: rows, classes: classes, labels: labels, temperature: temperature, alpha: alpha).loss }
            assertClose(g, n, "T=\(temperature) α=\(alpha)")
        }
    }

    func testEndpointsAlphaOneIsCrossEntropyAndEqualLogitsCostNothingSoft() {
        var rng = SeededRandom(seed: 4)
        let rows = 5, classes = 3
        let s = (0..<(rows * classes)).map { _ in Float(rng.normal()) }
        let t = (0..<(rows * classes)).map { _ in Float(rng.normal()) }
        let labels = [0, 1, 2, 2, 1]
        let f = Distillation.forward(student: s, teacher: t, rows: rows, classes: classes, labels: labels, temperature: 4, alpha: 1)
        let (ce, probs) = SoftmaxCrossEntropy.forward(logits: s, rows: rows, classes: classes, labels: labels)
        XCTAssertEqual(f.loss, ce, accuracy: 1e-6)
        let d = Distillation.backward(f, rows: rows, classes: classes, labels: labels, temperature: 4, alpha: 1)
        let dce = SoftmaxCrossEntropy.backward(probabilities: probs, rows: rows, classes: classes, labels: labels)
        for i in d.indices { XCTAssertEqual(d[i], dce[i], accuracy: 1e-6) }
        // A student equal to its teacher has no soft loss and no soft gradient.
        let same = Distillation.forward(student: t, teacher: t, rows: rows, classes: classes, labels: labels, temperature: 2, alpha: 0)
        XCTAssertEqual(same.loss, 0, accuracy: 1e-7)
        XCTAssertTrue(Distillation.backward(same, rows: rows, classes: classes, labels: labels, temperature: 2, alpha: 0).allSatisfy { abs($0) < 1e-6 })
    }

    func testNetworkGradientsMatchFiniteDifferences() throws {
        let net = try MLP(sizes: [4, 5, 3], activation: .tanh, seed: 2)
        let teacher = try MLP(sizes: [4, 7, 3], activation: .tanh, seed: 9)
        var rng = SeededRandom(seed: 5)
        let x = (0..<(6 * 4)).map { _ in Float(rng.normal()) }, labels = [0, 1, 2, 0, 1, 2]
        let t = teacher.forward(x, rows: 6).logits.map { $0 * 4 }
        let (_, g) = net.distillationLossAndGradients(x, rows: 6, labels: labels, teacherLogits: t, temperature: 2, alpha: 0.3)
        for l in 0..<net.layerCount {
            let n = numeric(net.weights[l].data) { w in
                var m = net
                try! m.setParameters(layer: l, weight: Matrix(rows: net.weights[l].rows, cols: net.weights[l].cols, data: w), bias: net.biases[l])
                return m.distillationLossAndGradients(x, rows: 6, labels: labels, teacherLogits: t, temperature: 2, alpha: 0.3).loss
            }
            assertClose(g.weights[l].data, n, "layer \(l) weight")
        }
    }

    func testDistillWithAlphaOneIsTraining() throws {
        let data = try SyntheticData.blobs(perClass: 12, centers: 3, features: 4, seed: 1)
        let student = try MLP(sizes: [4, 8, 3], seed: 3), teacher = try MLP(sizes: [4, 16, 3], seed: 4)
        let options = TrainingOptions(epochs: 2, batchSize: 8, seed: 2)
        let a = try Trainer.distill(student, teacher: teacher, on: data, temperature: 3, alpha: 1, options: options)
        let b = try Trainer.train(student, on: data, options: options)
        XCTAssertEqual(a.steps.count, b.steps.count)
        for (x, y) in zip(a.steps, b.steps) { XCTAssertEqual(x.loss, y.loss, accuracy: 1e-5) }
        for l in 0..<student.layerCount {
            for i in 0..<student.weights[l].count { XCTAssertEqual(a.network.weights[l].data[i], b.network.weights[l].data[i], accuracy: 1e-4) }
        }
    }

    func testStudentLearnsTheTeachersFunctionAndTheTeacherStaysFrozen() throws {
        let data = try SyntheticData.blobs(perClass: 40, centers: 4, features: 6, seed: 7)
        let teacher = try Trainer.train(try MLP(sizes: [6, 32, 4], seed: 1), on: data,
                                        options: TrainingOptions(epochs: 20, batchSize: 16, seed: 1)).network
        let frozen = teacher
        let student = try MLP(sizes: [6, 8, 4], seed: 2)
        var events = 0
        let r = try Trainer.distill(student, teacher: teacher, on: data, temperature: 4, alpha: 0,
                                    options: TrainingOptions(epochs: 15, batchSize: 16, seed: 3), validation: data,
                                    progress: ProgressReporter(report: { e in XCTAssertEqual(e.stage, "training"); events += 1 }))
        XCTAssertEqual(teacher, frozen)
        XCTAssertEqual(events, r.steps.count)
        XCTAssertEqual(r.steps.count, 15 * 10)
        XCTAssertEqual(r.epochs.count, 15)
        XCTAssertNotNil(r.epochs.last!.validationAccuracy)
        XCTAssertFalse(r.interrupted)
        let agree = { (n: MLP) in Double(zip(n.predict(data.inputs), teacher.predict(data.inputs)).filter { $0 == $1 }.count) / Double(data.count) }
        XCTAssertLessThan(r.epochs.last!.meanLoss, 0.5 * r.epochs.first!.meanLoss)
        XCTAssertGreaterThan(agree(r.network), max(0.9, agree(student)))
    }

    func testStopKeepsTheLastFinishedStepAndArgumentsAreChecked() throws {
        struct Stop: Error {}
        let data = try SyntheticData.blobs(perClass: 10, centers: 4, seed: 5)
        let student = try MLP(sizes: [2, 6, 4], seed: 1), teacher = try MLP(sizes: [2, 6, 4], seed: 2)
        let options = TrainingOptions(epochs: 3, batchSize: 8, seed: 1)
        var seen = 0
        let stopped = try Trainer.distill(student, teacher: teacher, on: data, temperature: 2, alpha: 0.5, options: options,
                                          progress: ProgressReporter(report: { _ in seen += 1; if seen == 7 { throw Stop() } }))
        XCTAssertTrue(stopped.interrupted)
        XCTAssertTrue(stopped.stoppedBy is Stop)
        XCTAssertEqual(stopped.steps.count, 7)
        // The network of step 7 is what 7 steps give: the same as a run stopped by check() before step 8.
        var checks = 0
        let checked = try Trainer.distill(student, teacher: teacher, on: data, temperature: 2, alpha: 0.5, options: options,
                                          progress: ProgressReporter(report: { _ in }, check: { checks += 1; if checks == 8 { throw Stop() } }))
        XCTAssertEqual(checked.steps.count, 7)
        XCTAssertEqual(checked.network, stopped.network)
        for (t, a) in [(0.0, 0.5), (-1, 0.5), (Double.infinity, 0.5), (2, -0.1), (2, 1.5)] {
            XCTAssertThrowsError(try Trainer.distill(student, teacher: teacher, on: data, temperature: t, alpha: a, options: options))
        }
        let wrong = try MLP(sizes: [2, 6, 5], seed: 2)
        XCTAssertThrowsError(try Trainer.distill(student, teacher: wrong, on: data, temperature: 2, alpha: 0.5, options: options)) { e in
            XCTAssertTrue("\(e)".contains("teacher"), "\(e)")
        }
    }
}
