/// One report of a long operation: what it is doing, how far along it is, and an optional detail
/// ("mean ks 0.041 · best 0.038").
public struct ProgressEvent: Sendable, Equatable {
    /// What is being done ("perplexity", "wanda (sequential, 16 windows)").
    public var stage: String
    /// Units of work finished.
    public var done: Int
    /// Units of work in all, when known.
    public var total: Int?
    /// A short line about the latest unit, when the operation has one.
    public var detail: String?

    /// An event of `stage` with `done` of `total` units finished.
    public init(stage: String, done: Int, total: Int?, detail: String? = nil) {
        self.stage = stage
        self.done = done
        self.total = total
        self.detail = detail
    }
}

/// How every long operation below the language reports progress and is stopped. The caller gives
/// two closures: `report` sees each event, `check` is called often inside long units of work (a
/// forward pass's blocks, a calibration window) so that a stop is answered within a second however
/// large the unit. Either closure stops the operation by throwing; the error reaches the caller
/// unchanged (operations that can hand back a partial result, such as policy training, say so in
/// their doc). `ProgressReporter.none` reports nothing and never stops.
public struct ProgressReporter {
    private let reportEvent: (ProgressEvent) throws -> Void
    private let checkStop: () throws -> Void

    /// A progress that sends every event to `report` and asks `check` whether to stop between events.
    public init(report: @escaping (ProgressEvent) throws -> Void,
                check: @escaping () throws -> Void = {}) {
        reportEvent = report
        checkStop = check
    }

    /// Reports nothing, never stops.
    public static var none: ProgressReporter { ProgressReporter(report: { _ in }) }

    /// Reports that `done` of `total` units of `stage` are finished (throws to stop).
    public func report(_ stage: String, done: Int, total: Int?, detail: String? = nil) throws {
        try reportEvent(ProgressEvent(stage: stage, done: done, total: total, detail: detail))
    }

    /// Throws when the caller has asked the operation to stop; cheap enough for inner loops.
    public func check() throws {
        try checkStop()
    }

    /// The same progress with every event's stage replaced by `stage` (for a step inside a larger one).
    public func renamed(_ stage: String) -> ProgressReporter {
        let inner = reportEvent
        return ProgressReporter(report: { e in
            var e = e
            e.stage = stage
            try inner(e)
        }, check: checkStop)
    }
}
