import Foundation
import Numerics
import Training

/// Knowledge distillation on a small network (Hinton, Vinyals & Dean 2015): a small student trained on
/// a teacher's softened outputs against the same student (same initialisation, same batches) trained
/// on the hard labels, with all of the training set and with a seeded fraction of it.
///
/// For each seed: the teacher is the one given, or `MLP(teacherSizes, seed:)` trained `teacherEpochs`
/// on the full training set. For every training fraction f (a seeded subset of round(f·n) examples,
/// drawn per seed) the student `MLP(studentSizes, seed:)` is trained
///   - "hard": by `Trainer.train` on the labels (once per fraction; `temperature` is nil), and
///   - "soft": by `Trainer.distill` at every temperature T with weight `alpha` on the hard term
///     (α = 0: soft targets only),
/// each for the same number of steps whatever the fraction: round(`studentEpochs`/f) epochs (so a 10%
/// student is not also starved of updates; the comparison is about the data). A "teacher" row per seed
/// gives the teacher's test accuracy (fraction 1, temperature nil). Progress: one "distillation" event
/// per training run; an interrupt is rethrown.
public enum DistillationStudy {
    /// One measurement.
    public struct Row: Sendable, Equatable {
        /// The study seed.
        public var seed: UInt64
        /// The fraction of the training set the student saw (1 for the teacher).
        public var fraction: Double
        /// The distillation temperature ("soft" rows only).
        public var temperature: Double?
        /// "soft", "hard" or "teacher".
        public var kind: String
        /// Test accuracy.
        public var accuracy: Double
        /// Weights and biases of the network.
        public var parameters: Int
    }

    /// The study's settings.
    public struct Options: Sendable, Equatable {
        /// The teacher to distil; nil trains one per seed from `teacherSizes`.
        public var teacher: MLP?
        /// The teacher trained when none is given (LeNet-300-100).
        public var teacherSizes: [Int] = [64, 300, 100, 10]
        /// Epochs of the teacher's training.
        public var teacherEpochs: Int = 15
        /// The student's widths (a tenth of LeNet-300-100's weights).
        public var studentSizes: [Int] = [64, 32, 10]
        /// The student's epochs on the full training set (scaled by 1/fraction on a subset).
        public var studentEpochs: Int = 40
        /// The temperatures of the soft runs.
        public var temperatures: [Double] = [1, 2, 4, 8]
        /// The fractions of the training set.
        public var fractions: [Double] = [1.0, 0.1]
        /// The weight of the hard-label term in the soft runs (0: soft targets only).
        public var alpha: Double = 0
        /// Optimiser, batch, activation (teacher and student alike).
        public var training = StudyTraining()
        /// One run of the whole study per seed.
        public var seeds: [UInt64] = [0, 1, 2, 3, 4]

        /// The defaults above.
        public init() {}
    }

    /// Runs the study: rows ordered by seed, then "teacher", then per fraction "hard" and the "soft" rows by temperature.
    public static func run(data: StudyData, options: Options = Options(), progress: ProgressReporter = .none) throws -> [Row] {
        try StudySupport.checkSeeds(options.seeds)
        try StudySupport.checkSizes(options.studentSizes, data)
        if let teacher = options.teacher {
            try StudySupport.checkSizes(teacher.sizes, data)
            guard teacher.sizes.last! == options.studentSizes.last! else {
                throw PruningError(option: "teacher", "the teacher has \(teacher.sizes.last!) outputs, the student \(options.studentSizes.last!)")
            }
        } else {
            try StudySupport.checkSizes(options.teacherSizes, data)
            guard options.teacherSizes.last! == options.studentSizes.last! else {
                throw PruningError(option: "teacher", "the teacher has \(options.teacherSizes.last!) outputs, the student \(options.studentSizes.last!)")
            }
        }
        try StudySupport.checkEpochs(options.teacherEpochs, "teacher_epochs")
        try StudySupport.checkEpochs(options.studentEpochs, "epochs")
        try options.training.validate()
        guard !options.fractions.isEmpty, options.fractions.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
            throw PruningError(option: "fractions", "fractions must be in (0, 1], got \(options.fractions.map(PruningError.format))")
        }
        guard !options.temperatures.isEmpty else { throw PruningError(option: "temperature", "give at least one temperature") }
        for t in options.temperatures {
            do { try Distillation.validate(temperature: t, alpha: options.alpha) } catch {
                throw PruningError(option: t.isFinite && t > 0 ? "alpha" : "temperature", "\(error)")
            }
        }
        let runsPerSeed = (options.teacher == nil ? 1 : 0) + options.fractions.count * (1 + options.temperatures.count)
        let total = options.seeds.count * runsPerSeed
        var done = 0, rows = [Row]()
        let t = options.training
        let inner = ProgressReporter(report: { _ in }, check: { try progress.check() })
        func ran(_ detail: String) throws {
            done += 1
            try progress.report("distillation", done: done, total: total, detail: detail)
        }
        for seed in options.seeds {
            let teacher: MLP
            if let given = options.teacher {
                teacher = given
            } else {
                let start = try MLP(sizes: options.teacherSizes, activation: t.activation, seed: StudySupport.derive(seed, 11))
                teacher = try StudySupport.train(start, data.train, t.options(epochs: options.teacherEpochs, seed: StudySupport.derive(seed, 12)), progress)
                try ran("seed \(seed) · teacher")
            }
            rows.append(Row(seed: seed, fraction: 1, temperature: nil, kind: "teacher", accuracy: teacher.accuracy(on: data.test),
                            parameters: teacher.parameterCount))
            let student = try MLP(sizes: options.studentSizes, activation: t.activation, seed: seed)
            for (i, f) in options.fractions.enumerated() {
                let subset = data.trainingFraction(f, seed: StudySupport.derive(seed, 13, i)).train
                let epochs = Int((Double(options.studentEpochs) / f).rounded())
                let o = t.options(epochs: epochs, seed: StudySupport.derive(seed, 14, i))
                let hard = try StudySupport.train(student, subset, o, progress)
                try ran("seed \(seed) · \(PruningError.format(f)) · hard")
                rows.append(Row(seed: seed, fraction: f, temperature: nil, kind: "hard", accuracy: hard.accuracy(on: data.test),
                                parameters: hard.parameterCount))
                for temperature in options.temperatures {
                    let r = try Trainer.distill(student, teacher: teacher, on: subset, temperature: temperature, alpha: options.alpha,
                                                options: o, progress: inner)
                    if let stop = r.stoppedBy { throw stop }
                    try ran("seed \(seed) · \(PruningError.format(f)) · T=\(PruningError.format(temperature))")
                    rows.append(Row(seed: seed, fraction: f, temperature: temperature, kind: "soft",
                                    accuracy: r.network.accuracy(on: data.test), parameters: r.network.parameterCount))
                }
            }
        }
        return rows
    }
}
