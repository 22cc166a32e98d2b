import Foundation
import Numerics
import TestHelpers
import XCTest
@testable import Pruning
@testable import Training

/// The pruning and distillation studies on small networks: shapes of their rows, determinism per
/// seed, progress and interrupts on small synthetic configurations; and claims of the lecture on
/// digits (skipped when the digits are not fetched) that could fail.
final class NetworkStudiesTests: XCTestCase {
    struct Stop: Error {}

    func blobs() throws -> StudyData {
        let all = try SyntheticData.blobs(perClass: 60, centers: 4, features: 6, spread: 2.5, box: 6, seed: 3)
        return try StudyData(all.split(validation: 0.25, test: 0.25, seed: 1))
    }

    var digitsPath: String { TestSupport.models.appendingPathComponent("digits/digits.csv").path }

    func digits() throws -> StudyData {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: digitsPath), "digits not fetched: run scripts/fetch-models")
        return try StudyData(Digits.splits(csv: digitsPath, seed: 0))
    }

    final class Events: @unchecked Sendable {
        var list = [ProgressEvent]()
        var reporter: ProgressReporter { ProgressReporter(report: { self.list.append($0) }) }
    }

    // MARK: Shapes, determinism, progress

    func testSparsitySweepRowsAndDeterminism() throws {
        let data = try blobs()
        var o = SparsitySweep.Options()
        o.sizes = [6, 24, 12, 4]
        o.sparsities = [0, 0.5, 0.2, 0.75]
        o.includeOutputLayer = true
        o.trainEpochs = 3
        o.retrainEpochs = 1
        o.seeds = [0, 1]
        let events = Events()
        let rows = try SparsitySweep.run(data: data, options: o, progress: events.reporter)
        XCTAssertEqual(rows.count, 2 * 4 * 3)
        XCTAssertEqual(events.list.count, 2 * (1 + 2 * 3))
        XCTAssertEqual(events.list.map(\.done), Array(1...14))
        XCTAssertTrue(events.list.allSatisfy { $0.total == 14 && $0.stage == "sparsity sweep" })
        XCTAssertEqual(rows.prefix(12).map(\.sparsity), [0, 0, 0, 0.2, 0.2, 0.2, 0.5, 0.5, 0.5, 0.75, 0.75, 0.75])
        XCTAssertEqual(Set(rows.map(\.method)), ["one-shot", "one-shot+retrain", "iterative"])
        XCTAssertEqual(Set(rows.map(\.seed)), [0, 1])
        for r in rows {
            XCTAssertEqual(r.measuredSparsity, r.sparsity, accuracy: 0.01)
            XCTAssertTrue((0...1).contains(r.accuracy))
        }
        // Sparsity 0 is the dense network under every method.
        XCTAssertEqual(Set(rows.filter { $0.seed == 0 && $0.sparsity == 0 }.map(\.accuracy)).count, 1)
        XCTAssertEqual(try SparsitySweep.run(data: data, options: o), rows)
        o.seeds = [1]
        XCTAssertEqual(try SparsitySweep.run(data: data, options: o), rows.filter { $0.seed == 1 })
        XCTAssertEqual(SparsitySweep.geometric(keep: 0.8, rounds: 2).map { ($0 * 100).rounded() }, [0, 20, 36])
        XCTAssertEqual(SparsitySweep.Options().sparsities.count, 18)
        XCTAssertEqual(SparsitySweep.Options().sparsities.last!, 1 - pow(0.8, 17), accuracy: 1e-12)
    }

    func testLotteryRowsAndDeterminism() throws {
        let data = try blobs()
        var o = LotteryTicket.Options()
        o.sizes = [6, 20, 4]
        o.rounds = 2
        o.rate = 0.5
        o.rewindIteration = 5
        o.iterations = 40
        o.evaluateEvery = 5
        o.training.batchSize = 16
        o.seeds = [3]
        let events = Events()
        let rows = try LotteryTicket.run(data: data, options: o, progress: events.reporter)
        let variants = ["winning ticket", "rewind 5", "random reinit", "random mask"]
        XCTAssertEqual(rows.count, 3 * 4)
        XCTAssertEqual(rows.map(\.variant), variants + variants + variants)
        XCTAssertEqual(rows.map(\.round), [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
        XCTAssertEqual(events.list.count, 1 + 2 * 4)
        XCTAssertEqual(events.list.last!.done, events.list.last!.total)
        // Remaining fractions: hidden layer 0.5^r, output 0.75^r, weighted by layer size (120 and 80 weights).
        for r in rows {
            let expected = (120 * pow(0.5, Double(r.round)) + 80 * pow(0.75, Double(r.round))) / 200
            XCTAssertEqual(r.remaining, expected, accuracy: 0.01, "\(r.variant) round \(r.round)")
            XCTAssertTrue((1...40).contains(r.earlyStopIteration))
            XCTAssertTrue(r.earlyStopIteration % 5 == 0 || r.earlyStopIteration == 40)
        }
        XCTAssertEqual(try LotteryTicket.run(data: data, options: o), rows)
        XCTAssertEqual(LotteryTicket.keep(layers: 3, rate: 0.2, round: 2).map { ($0 * 1000).rounded() }, [640, 640, 810])
    }

    func testLotteryTicketIsTheMaskedInitialisationAndEarlyStoppingKeepsTheBest() throws {
        let data = try blobs()
        let theta0 = try MLP(sizes: [6, 10, 4], seed: 1)
        let trained = try Trainer.train(theta0, on: data.train, options: TrainingOptions(epochs: 5, batchSize: 16, seed: 1)).network
        let mask = try NetworkPruning.magnitude(trained, ratio: 0.5)
        let ticket = try LotteryTicket.rewind(mask, to: theta0)
        XCTAssertEqual(ticket.masks, mask.masks)
        for l in 0..<ticket.layerCount {
            for i in 0..<ticket.weights[l].count {
                XCTAssertEqual(ticket.weights[l].data[i], mask.masks[l]!.data[i] == 0 ? 0 : theta0.weights[l].data[i])
            }
            XCTAssertEqual(ticket.biases[l], theta0.biases[l])
        }
        let run = try LotteryTicket.train(ticket, train: data.train, validation: data.validation, iterations: 30, evaluateEvery: 3,
                                          training: StudyTraining(batchSize: 16), seed: 2, snapshotAt: 4)
        XCTAssertEqual(run.best.loss(data.validation.inputs.data, rows: data.validation.count, labels: data.validation.labels), run.bestLoss, accuracy: 1e-9)
        XCTAssertLessThan(run.bestLoss, ticket.loss(data.validation.inputs.data, rows: data.validation.count, labels: data.validation.labels))
        XCTAssertEqual(run.final.masks, ticket.masks)
        XCTAssertNotNil(run.snapshot)
        XCTAssertNotEqual(run.snapshot, run.final)
    }

    func testDistillationStudyRowsAndDeterminism() throws {
        let data = try blobs()
        var o = DistillationStudy.Options()
        o.teacherSizes = [6, 32, 4]
        o.teacherEpochs = 5
        o.studentSizes = [6, 4, 4]
        o.studentEpochs = 2
        o.temperatures = [1, 4]
        o.fractions = [1, 0.5]
        o.seeds = [0]
        let events = Events()
        let rows = try DistillationStudy.run(data: data, options: o, progress: events.reporter)
        XCTAssertEqual(rows.map(\.kind), ["teacher", "hard", "soft", "soft", "hard", "soft", "soft"])
        XCTAssertEqual(rows.map(\.fraction), [1, 1, 1, 1, 0.5, 0.5, 0.5])
        XCTAssertEqual(rows.map(\.temperature), [nil, nil, 1, 4, nil, 1, 4])
        XCTAssertEqual(rows.map(\.parameters), [6 * 32 + 32 + 32 * 4 + 4] + Array(repeating: 6 * 4 + 4 + 4 * 4 + 4, count: 6))
        XCTAssertEqual(events.list.count, 1 + 2 * 3)
        XCTAssertEqual(try DistillationStudy.run(data: data, options: o), rows)
        // A given teacher is used as is (no teacher training run).
        let teacher = try MLP(sizes: [6, 8, 4], seed: 9)
        o.teacher = teacher
        let given = try DistillationStudy.run(data: data, options: o)
        XCTAssertEqual(given[0].accuracy, teacher.accuracy(on: data.test))
        XCTAssertEqual(given[1], rows[1], "the hard student does not depend on the teacher")
        XCTAssertEqual(data.trainingFraction(0.5, seed: 1).train.count, 60)
        XCTAssertEqual(data.trainingFraction(0.5, seed: 1).train, data.trainingFraction(0.5, seed: 1).train)
        XCTAssertNotEqual(data.trainingFraction(0.5, seed: 1).train, data.trainingFraction(0.5, seed: 2).train)
    }

    func testStructureStudyMatchesParameterCounts() throws {
        let data = try blobs()
        var o = StructureStudy.Options()
        o.sizes = [6, 40, 20, 4]
        o.remaining = [0.5, 0.2]
        o.trainEpochs = 3
        o.retrainEpochs = 1
        o.seeds = [2]
        let rows = try StructureStudy.run(data: data, options: o)
        XCTAssertEqual(rows.map(\.kind), ["dense", "structured", "unstructured", "structured", "unstructured"])
        XCTAssertEqual(rows[0].parameters, 6 * 40 + 40 * 20 + 20 * 4)
        for pair in [(rows[1], rows[2]), (rows[3], rows[4])] {
            XCTAssertEqual(Double(pair.0.parameters), pair.0.remaining * 1120, accuracy: 0.05 * 1120)
            XCTAssertEqual(pair.1.parameters, pair.0.parameters, "the global scope matches exactly")
            XCTAssertEqual(pair.1.sizes, o.sizes)
            let s = pair.0.sizes
            XCTAssertEqual(zip(s, s.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 }, pair.0.parameters)
            XCTAssertLessThan(s[1], 40)
        }
        XCTAssertEqual(try StructureStudy.run(data: data, options: o), rows)
        o.scope = .layer
        let layer = try StructureStudy.run(data: data, options: o)
        XCTAssertEqual(layer.filter { $0.kind != "unstructured" }, rows.filter { $0.kind != "unstructured" })
        for (u, s) in zip(layer.filter { $0.kind == "unstructured" }, rows.filter { $0.kind == "structured" }) {
            XCTAssertEqual(u.parameters, s.parameters, accuracy: 3)
        }
        let (ratio, weights) = StructureStudy.structuredRatio(sizes: [64, 300, 100, 10], fraction: 0.25)
        XCTAssertEqual(Double(weights), 0.25 * 50_200, accuracy: 0.01 * 50_200)
        XCTAssertEqual(try NetworkPruning.neurons(try MLP(sizes: [64, 300, 100, 10]), ratio: ratio).weights.reduce(0) { $0 + $1.count }, weights)
    }

    func testInterruptsAreRethrownAndArgumentsChecked() throws {
        let data = try blobs()
        var checks = 0
        let stopper = ProgressReporter(report: { _ in }, check: { checks += 1; if checks > 20 { throw Stop() } })
        var s = SparsitySweep.Options()
        s.sizes = [6, 8, 4]
        s.seeds = [0]
        XCTAssertThrowsError(try SparsitySweep.run(data: data, options: s, progress: stopper)) { XCTAssertTrue($0 is Stop) }
        checks = 0
        var l = LotteryTicket.Options()
        l.sizes = [6, 8, 4]
        l.seeds = [0]
        XCTAssertThrowsError(try LotteryTicket.run(data: data, options: l, progress: stopper)) { XCTAssertTrue($0 is Stop) }
        checks = 0
        var d = DistillationStudy.Options()
        d.teacherSizes = [6, 8, 4]
        d.studentSizes = [6, 4, 4]
        d.teacherEpochs = 1
        d.seeds = [0]
        XCTAssertThrowsError(try DistillationStudy.run(data: data, options: d, progress: stopper)) { XCTAssertTrue($0 is Stop) }
        checks = 0
        var t = StructureStudy.Options()
        t.sizes = [6, 8, 4]
        t.seeds = [0]
        XCTAssertThrowsError(try StructureStudy.run(data: data, options: t, progress: stopper)) { XCTAssertTrue($0 is Stop) }

        func option(_ f: () throws -> Any) -> String? {
            do { _ = try f(); return nil } catch { return (error as? PruningError)?.option ?? "\(error)" }
        }
        var bad = s
        bad.sparsities = [0.5, 1]
        XCTAssertEqual(option { try SparsitySweep.run(data: data, options: bad) }, "sparsities")
        bad = s
        bad.sizes = [5, 8, 4]
        XCTAssertEqual(option { try SparsitySweep.run(data: data, options: bad) }, "sizes")
        var badL = l
        badL.rate = 1
        XCTAssertEqual(option { try LotteryTicket.run(data: data, options: badL) }, "rate")
        badL = l
        badL.rewindIteration = l.iterations
        XCTAssertEqual(option { try LotteryTicket.run(data: data, options: badL) }, "rewind")
        var badD = d
        badD.temperatures = [0]
        XCTAssertEqual(option { try DistillationStudy.run(data: data, options: badD) }, "temperature")
        badD = d
        badD.fractions = [0]
        XCTAssertEqual(option { try DistillationStudy.run(data: data, options: badD) }, "fractions")
        var badT = t
        badT.sizes = [6, 4]
        XCTAssertEqual(option { try StructureStudy.run(data: data, options: badT) }, "sizes")
    }

    // MARK: Claims on digits

    /// Han et al.'s point, as the lecture states it: at 90% sparsity, pruning a trained LeNet-300-100 in
    /// one shot without retraining is far worse than pruning it iteratively with retraining.
    func testOneShotWithoutRetrainingLosesToIterativeAtNinetyPercent() throws {
        let data = try digits()
        var o = SparsitySweep.Options()
        o.sparsities = SparsitySweep.geometric(keep: 0.8, rounds: 11)   // up to 91.4%
        o.trainEpochs = 8
        o.retrainEpochs = 1
        o.seeds = [0]
        let rows = try SparsitySweep.run(data: data, options: o)
        XCTAssertEqual(rows.last!.measuredSparsity, o.sparsities.last! * 49_200 / 50_200, accuracy: 0.001, "the output layer is left dense")
        let top = o.sparsities.last!
        let oneShot = try XCTUnwrap(rows.first { $0.sparsity == top && $0.method == "one-shot" }).accuracy
        let iterative = try XCTUnwrap(rows.first { $0.sparsity == top && $0.method == "iterative" }).accuracy
        let dense = rows[0].accuracy
        XCTAssertGreaterThan(dense, 0.93)
        XCTAssertGreaterThan(iterative, oneShot + 0.05, "one-shot \(oneShot), iterative \(iterative)")
        XCTAssertGreaterThan(iterative, dense - 0.05)
    }

    /// A small student trained on the labels of 10% of the digits falls short of the teacher trained on all of them.
    func testHardLabelStudentOnTenPercentIsBelowTheTeacher() throws {
        let data = try digits()
        var o = DistillationStudy.Options()
        o.teacherSizes = [64, 128, 10]
        o.teacherEpochs = 10
        o.studentSizes = [64, 16, 10]
        o.studentEpochs = 4
        o.temperatures = [4]
        o.fractions = [0.1]
        o.seeds = [0]
        let rows = try DistillationStudy.run(data: data, options: o)
        let teacher = rows.first { $0.kind == "teacher" }!.accuracy
        let hard = rows.first { $0.kind == "hard" }!.accuracy
        XCTAssertGreaterThan(teacher, 0.93)
        XCTAssertLessThan(hard, teacher - 0.02, "teacher \(teacher), hard student at 10% \(hard)")
    }

    /// Hinton et al.'s point with little data: on 10% of the digits, the default student ([64, 32, 10])
    /// learns more from a LeNet-300-100 teacher's outputs at T = 4 than from the labels.
    func testSoftTargetsBeatHardLabelsOnTenPercent() throws {
        let data = try digits()
        var o = DistillationStudy.Options()
        o.temperatures = [4]
        o.fractions = [0.1]
        o.seeds = [0]
        let rows = try DistillationStudy.run(data: data, options: o)
        let hard = rows.first { $0.kind == "hard" }!.accuracy
        let soft = rows.first { $0.kind == "soft" }!.accuracy
        XCTAssertGreaterThan(soft, hard + 0.01, "soft \(soft), hard \(hard)")
    }
}

/// The four studies at their default settings on digits, timed, with a summary of their rows printed:
/// the measurements the report quotes. Run only when NETSTUDIES_REPORT is set (a release build:
/// `NETSTUDIES_REPORT=sweep,lottery,distill,structure NETSTUDIES_SEEDS=5 swift test -c release ...`).
final class NetworkStudiesReport: XCTestCase {
    func studies() throws -> (Set<String>, [UInt64], StudyData) {
        let env = ProcessInfo.processInfo.environment
        let which = Set((env["NETSTUDIES_REPORT"] ?? "").split(separator: ",").map(String.init))
        try XCTSkipIf(which.isEmpty, "set NETSTUDIES_REPORT to run the studies at their defaults")
        let path = TestSupport.models.appendingPathComponent("digits/digits.csv").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path), "digits not fetched")
        let seeds = (0..<UInt64(env["NETSTUDIES_SEEDS"].flatMap { Int($0) } ?? 5)).map { $0 }
        return (which, seeds, try StudyData(Digits.splits(csv: path, seed: 0)))
    }

    func mean(_ xs: [Double]) -> String { String(format: "%.3f", xs.reduce(0, +) / Double(max(xs.count, 1))) }

    func testReport() throws {
        let (which, seeds, data) = try studies()
        let clock = ContinuousClock()
        if which.contains("sweep") {
            var o = SparsitySweep.Options()
            o.seeds = seeds
            let env = ProcessInfo.processInfo.environment
            if let v = env["NETSTUDIES_SCOPE"].flatMap(NetworkPruning.Scope.init(rawValue:)) { o.scope = v }
            if let v = env["NETSTUDIES_RETRAIN"].flatMap({ Int($0) }) { o.retrainEpochs = v }
            if env["NETSTUDIES_KEEP_OUTPUT"] != nil { o.includeOutputLayer = false }
            var rows = [SparsitySweep.Row]()
            let t = try clock.measure { rows = try SparsitySweep.run(data: data, options: o) }
            print("SWEEP \(seeds.count) seeds: \(t)")
            for s in o.sparsities {
                let line = ["one-shot", "one-shot+retrain", "iterative"].map { m in mean(rows.filter { $0.sparsity == s && $0.method == m }.map(\.accuracy)) }
                print(String(format: "  sparsity %.3f  ", s) + line.joined(separator: "  "))
            }
        }
        if which.contains("lottery") {
            var o = LotteryTicket.Options()
            o.seeds = seeds
            let env = ProcessInfo.processInfo.environment
            if let k = env["NETSTUDIES_REWIND"].flatMap({ Int($0) }) { o.rewindIteration = k }
            if let v = env["NETSTUDIES_ITERATIONS"].flatMap({ Int($0) }) { o.iterations = v }
            if let v = env["NETSTUDIES_ROUNDS"].flatMap({ Int($0) }) { o.rounds = v }
            if let v = env["NETSTUDIES_RATE"].flatMap({ Double($0) }) { o.rate = v }
            if let v = env["NETSTUDIES_EVERY"].flatMap({ Int($0) }) { o.evaluateEvery = v }
            var rows = [LotteryTicket.Row]()
            let t = try clock.measure { rows = try LotteryTicket.run(data: data, options: o) }
            print("LOTTERY \(seeds.count) seeds: \(t)")
            let variants = Array(Set(rows.map(\.variant))).sorted()
            print("  round remaining  " + variants.joined(separator: " | ") + "   (accuracy at early stop / early-stop iteration)")
            for r in 0...o.rounds {
                let cells = variants.map { v -> String in
                    let sel = rows.filter { $0.round == r && $0.variant == v }
                    return mean(sel.map(\.accuracy)) + " / " + mean(sel.map { Double($0.earlyStopIteration) })
                }
                print("  \(r)  " + mean(rows.filter { $0.round == r }.map(\.remaining)) + "  " + cells.joined(separator: " | "))
            }
        }
        if which.contains("distill") {
            var o = DistillationStudy.Options()
            o.seeds = seeds
            let env = ProcessInfo.processInfo.environment
            if let v = env["NETSTUDIES_STUDENT_EPOCHS"].flatMap({ Int($0) }) { o.studentEpochs = v }
            if let v = env["NETSTUDIES_TEACHER_EPOCHS"].flatMap({ Int($0) }) { o.teacherEpochs = v }
            if let v = env["NETSTUDIES_ALPHA"].flatMap({ Double($0) }) { o.alpha = v }
            if let v = env["NETSTUDIES_STUDENT"] { o.studentSizes = v.split(separator: ",").compactMap { Int($0) } }
            var rows = [DistillationStudy.Row]()
            let t = try clock.measure { rows = try DistillationStudy.run(data: data, options: o) }
            print("DISTILL \(seeds.count) seeds: \(t)")
            print("  teacher " + mean(rows.filter { $0.kind == "teacher" }.map(\.accuracy)))
            for f in o.fractions {
                let hard = mean(rows.filter { $0.fraction == f && $0.kind == "hard" }.map(\.accuracy))
                let soft = o.temperatures.map { T in "T=\(Int(T)) " + mean(rows.filter { $0.fraction == f && $0.temperature == T }.map(\.accuracy)) }
                print("  fraction \(f): hard \(hard)  soft " + soft.joined(separator: "  "))
            }
        }
        if which.contains("structure") {
            var o = StructureStudy.Options()
            o.seeds = seeds
            if let v = ProcessInfo.processInfo.environment["NETSTUDIES_STRUCT_SCOPE"].flatMap(NetworkPruning.Scope.init(rawValue:)) { o.scope = v }
            if let v = ProcessInfo.processInfo.environment["NETSTUDIES_RETRAIN"].flatMap({ Int($0) }) { o.retrainEpochs = v }
            var rows = [StructureStudy.Row]()
            let t = try clock.measure { rows = try StructureStudy.run(data: data, options: o) }
            print("STRUCTURE \(seeds.count) seeds: \(t)")
            print("  dense " + mean(rows.filter { $0.kind == "dense" }.map(\.accuracy)))
            for f in o.remaining {
                let cells = ["structured", "unstructured"].map { k -> String in
                    let sel = rows.filter { $0.remaining == f && $0.kind == k }
                    return "\(k) \(sel[0].parameters) w \(sel[0].sizes): " + mean(sel.map(\.accuracy)) + " (before retrain " + mean(sel.map(\.accuracyBeforeRetrain)) + ")"
                }
                print("  remaining \(f): " + cells.joined(separator: "  "))
            }
        }
    }
}
