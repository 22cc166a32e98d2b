import Foundation
import Models
import Numerics
import TestHelpers
import XCTest
@testable import Training

/// The pieces of a fine-tuning run around the model: the learning-rate schedule, the seeded and
/// resumable token batches, the refusal of the evaluation text, and Adam resumed from its state.
final class FineTuningDataTests: XCTestCase {
    func testScheduleWarmsUpLinearlyThenFollowsTheCosineToItsFloor() throws {
        let s = try LearningRateSchedule(peak: 1e-3, warmup: 10, total: 111, floor: 0.1)
        XCTAssertEqual(s.rate(at: 1), 1e-4, accuracy: 1e-12)
        XCTAssertEqual(s.rate(at: 10), 1e-3, accuracy: 1e-12)
        // The decay starts at the peak, is at its midpoint (floor + (1 − floor)/2) halfway, and ends at the floor.
        XCTAssertEqual(s.rate(at: 11), 1e-3, accuracy: 1e-12)
        XCTAssertEqual(s.rate(at: 61), 1e-3 * 0.55, accuracy: 1e-12)
        XCTAssertEqual(s.rate(at: 111), 1e-4, accuracy: 1e-12)
        XCTAssertEqual(s.rate(at: 500), 1e-4, accuracy: 1e-12)
        for step in 11..<111 { XCTAssertGreaterThan(s.rate(at: step), s.rate(at: step + 1)) }
        // No warm-up: the first step is at the peak; a one-step run is all peak.
        XCTAssertEqual(try LearningRateSchedule(peak: 0.01, warmup: 0, total: 50).rate(at: 1), 0.01, accuracy: 1e-15)
        XCTAssertEqual(try LearningRateSchedule(peak: 0.01, warmup: 0, total: 1).rate(at: 1), 0.01)
        XCTAssertEqual(try LearningRateSchedule.constant(0.01).rate(at: 77), 0.01)
        XCTAssertThrowsError(try LearningRateSchedule(peak: 1e-3, warmup: 20, total: 10))
        XCTAssertThrowsError(try LearningRateSchedule(peak: 0, total: 10))
        XCTAssertThrowsError(try LearningRateSchedule(peak: 1e-3, total: 10, floor: 1.5))
    }

    func testBatchesCoverEveryWindowOncePerPassAndDependOnlyOnSeedAndIndex() throws {
        let tokens = (0..<1001).map { Int32($0) }
        let b = try TokenBatches(tokens: tokens, sequence: 10, batchSize: 4, seed: 3)
        XCTAssertEqual(b.windowCount, 100)
        // 25 batches make one pass: every window exactly once, each window seq + 1 consecutive tokens.
        var starts = [Int32]()
        for k in 0..<25 {
            for s in b.batch(k) {
                XCTAssertEqual(s.count, 11)
                XCTAssertEqual(s, Array(s[0]...(s[0] + 10)))
                XCTAssertEqual(s[0] % 10, 0)
                starts.append(s[0])
            }
        }
        XCTAssertEqual(Set(starts).count, 100)
        XCTAssertNotEqual(starts, starts.sorted(), "the order is shuffled")
        // The next pass is another permutation; a copy with the same seed agrees, another seed does not.
        let again = try TokenBatches(tokens: tokens, sequence: 10, batchSize: 4, seed: 3)
        XCTAssertEqual(again.batch(31), b.batch(31))
        XCTAssertNotEqual((0..<25).map { b.batch($0 + 25)[0][0] }, (0..<25).map { b.batch($0)[0][0] })
        XCTAssertNotEqual(try TokenBatches(tokens: tokens, sequence: 10, batchSize: 4, seed: 4).batch(0), b.batch(0))
        XCTAssertThrowsError(try TokenBatches(tokens: Array(tokens.prefix(30)), sequence: 10, batchSize: 4, seed: 0)) { e in
            XCTAssertTrue("\(e)".contains("fewer than one batch"), "\(e)")
        }
    }

    func testWikiTextTestIsRefusedAsTrainingTextByNameAndByContent() throws {
        let folder = TestSupport.data.path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: folder + "/wikitext-2-raw/wiki.test.raw"), "no data folder")
        for name in ["wikitext2", "WikiText-2", folder + "/wikitext-2-raw/wiki.test.raw"] {
            XCTAssertThrowsError(try TrainingText.text(of: name, dataFolder: folder)) { e in
                XCTAssertTrue("\(e)".contains("WikiText-2's test split"), "\(e)")
            }
        }
        // A copy elsewhere is caught by its content, as is the text perplexity reads.
        let dir = try TestSupport.temporaryDirectory()
        let copy = dir.appendingPathComponent("notes.txt").path
        try FileManager.default.copyItem(atPath: folder + "/wikitext-2-raw/wiki.test.raw", toPath: copy)
        XCTAssertThrowsError(try TrainingText.text(of: copy, dataFolder: folder))
        let joined = dir.appendingPathComponent("joined.txt").path
        try Data(DataCatalog.wikitext2Test(folder + "/wikitext-2-raw/wiki.test.raw").utf8).write(to: URL(fileURLWithPath: joined))
        XCTAssertThrowsError(try TrainingText.text(of: joined, dataFolder: folder))
        // C4 and an ordinary file are fine.
        XCTAssertGreaterThan(try TrainingText.text(of: "c4", dataFolder: folder).count, 1_000_000)
        let other = dir.appendingPathComponent("other.txt").path
        try Data("a small training text".utf8).write(to: URL(fileURLWithPath: other))
        XCTAssertEqual(try TrainingText.text(of: other, dataFolder: folder), "a small training text")
        XCTAssertThrowsError(try TrainingText.text(of: dir.appendingPathComponent("missing.txt").path, dataFolder: folder))
    }

    func testAdamResumedFromItsStateStepsExactlyAsTheUninterruptedOne() {
        var full = Adam(.adamW(learningRate: 0.01)), first = Adam(.adamW(learningRate: 0.01))
        var rng = SeededRandom(seed: 5)
        let grads = (0..<6).map { _ in (0..<33).map { _ in Float(rng.normal()) } }
        var p = (0..<33).map { Float($0) / 10 }, q = p
        for k in 0..<6 {
            full.beginStep(); full.update(&p, gradient: grads[k], slot: 0)
        }
        for k in 0..<3 { first.beginStep(); first.update(&q, gradient: grads[k], slot: 0) }
        let m = first.moments(of: 0)!
        var resumed = Adam(.adamW(learningRate: 0.01), stepCount: first.stepCount, moments: [0: m])
        for k in 3..<6 { resumed.beginStep(); resumed.update(&q, gradient: grads[k], slot: 0) }
        XCTAssertEqual(p, q)
        XCTAssertEqual(resumed.slots, [0])
        XCTAssertNil(resumed.moments(of: 1))
    }
}
