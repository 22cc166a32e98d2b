import Foundation

/// The learning rate of every step of a fine-tuning run: a linear warm-up to `peak` over `warmup`
/// steps (step k of it at k/warmup of the peak), then a cosine decay from the peak at the first step
/// after the warm-up to `floor`·peak at step `total` (held there after), the shape of Hugging Face's
/// `get_cosine_schedule_with_warmup` with a floor. Steps count from 1; a run with no warm-up starts
/// at the peak, and a single decay step is taken at the peak.
public struct LearningRateSchedule: Sendable, Equatable {
    /// The rate reached at the end of the warm-up.
    public var peak: Double
    /// Steps of linear warm-up (0: start at the peak).
    public var warmup: Int
    /// The step at which the decay reaches its floor (usually the run's length).
    public var total: Int
    /// The final rate as a fraction of the peak (0: decay to zero).
    public var floor: Double

    /// A schedule; `floor` in [0, 1], `warmup` ≤ `total`.
    public init(peak: Double, warmup: Int = 0, total: Int, floor: Double = 0.1) throws {
        guard peak > 0, peak.isFinite else { throw TrainingError.invalidArgument("the learning rate must be positive, got \(peak)") }
        guard warmup >= 0, total >= 1, warmup <= total else {
            throw TrainingError.invalidArgument("warm-up steps must be in 0...\(max(total, 0)) (the run's steps), got \(warmup)")
        }
        guard floor >= 0, floor <= 1 else { throw TrainingError.invalidArgument("the schedule's floor must be in [0, 1], got \(floor)") }
        self.peak = peak
        self.warmup = warmup
        self.total = total
        self.floor = floor
    }

    /// A constant rate.
    public static func constant(_ rate: Double) throws -> LearningRateSchedule {
        try LearningRateSchedule(peak: rate, warmup: 0, total: 1, floor: 1)
    }

    /// The rate of step `step` (from 1).
    public func rate(at step: Int) -> Double {
        if step <= warmup { return peak * Double(step) / Double(max(warmup, 1)) }
        let span = total - warmup
        guard span > 1 else { return peak }
        let progress = min(1, Double(step - warmup - 1) / Double(span - 1))
        let cosine = 0.5 * (1 + cos(Double.pi * progress))
        return peak * (floor + (1 - floor) * cosine)
    }
}
