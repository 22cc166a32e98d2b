import Foundation
import Numerics
import TestHelpers
import XCTest
@testable import Training

/// scikit-learn's digits from the models folder (scripts/fetch-models); skipped when not fetched.
final class DigitsTests: XCTestCase {
    var path: String { TestSupport.models.appendingPathComponent("digits/digits.csv").path }

    func skipUnlessFetched() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path), "digits not fetched: run scripts/fetch-models")
    }

    func testLoadsAllExamplesScaledToUnitInterval() throws {
        try skipUnlessFetched()
        let d = try Digits.load(csv: path)
        XCTAssertEqual(d.count, 1797)
        XCTAssertEqual(d.features, 64)
        XCTAssertEqual(Set(d.labels), Set(0..<10))
        XCTAssertEqual(d.inputs.data.min(), 0)
        XCTAssertEqual(d.inputs.data.max(), 1)
        // The first image (a zero) as scikit-learn ships it: row 0 is 0, 0, 5, 13, 9, 1, 0, 0.
        XCTAssertEqual(d.labels[0], 0)
        XCTAssertEqual(Array(d.inputs.row(0).prefix(8)), [0, 0, 5, 13, 9, 1, 0, 0].map { Float($0) / 16 })
        let (tr, va, te) = try Digits.splits(csv: path, seed: 0)
        XCTAssertEqual([tr.count, va.count, te.count], [1079, 359, 359])
    }

    /// LeNet-300-100 (Adam, lr 1e-3, batch 32, 20 epochs) on three seeded splits: every split's test
    /// accuracy ≥ 95% and their mean ≥ 96%. One split of 359 test images moves by 0.28% an image, and
    /// split 0's test set is the hardest of the first few (95.8% there, 97–98% on splits 1 and 3), so
    /// the mean over splits is the claim, not one lucky or unlucky draw.
    func testLeNet300100ReachesNinetySixPercent() throws {
        try skipUnlessFetched()
        var accuracies = [Double]()
        for split in [UInt64(0), 1, 2] {
            let (train, validation, test) = try Digits.splits(csv: path, seed: split)
            let net = try MLP(sizes: [64, 300, 100, 10], activation: .relu, seed: 0)
            XCTAssertLessThan(net.accuracy(on: test), 0.3, "an untrained network guesses")
            let start = Date()
            let result = try Trainer.train(net, on: train, validation: validation,
                                           options: TrainingOptions(epochs: 20, batchSize: 32, optimizer: .adam(Adam.Settings(learningRate: 1e-3)), seed: 0))
            let seconds = Date().timeIntervalSince(start)
            let accuracy = result.network.accuracy(on: test)
            accuracies.append(accuracy)
            print("LeNet-300-100 on digits split \(split): test accuracy \(accuracy), validation \(result.epochs.last?.validationAccuracy ?? 0), 20 epochs in \(String(format: "%.2f", seconds)) s")
            XCTAssertGreaterThanOrEqual(accuracy, 0.95)
            XCTAssertEqual(result.epochs.count, 20)
            XCTAssertLessThan(result.epochs.last!.meanLoss, 0.1 * result.epochs.first!.meanLoss)
            let confusion = result.network.confusionMatrix(on: test)
            XCTAssertEqual(confusion.flatMap { $0 }.reduce(0, +), test.count)
            XCTAssertEqual((0..<10).map { confusion[$0][$0] }.reduce(0, +), Int((accuracy * Double(test.count)).rounded()))
        }
        let mean = accuracies.reduce(0, +) / Double(accuracies.count)
        print("LeNet-300-100 on digits: mean test accuracy over 3 splits \(mean)")
        XCTAssertGreaterThanOrEqual(mean, 0.96)
    }
}
