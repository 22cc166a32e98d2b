import Foundation

/// How an axis maps data values to positions: evenly (`linear`) or by powers of ten (`log10`).
///
/// On a `log10` axis a value ≤ 0 has no position: it is skipped (a line is broken there, a bar or a
/// histogram bin is left out) and counted in `Figure.skippedValueCount`; it never becomes NaN.
public enum Scale: String, Sendable, Equatable, CaseIterable {
    /// Positions proportional to the value.
    case linear
    /// Positions proportional to log₁₀ of the value; only values > 0 can be shown.
    case log10

    /// The value in the scale's working space (itself, or its log₁₀), or nil when it cannot be
    /// shown: not finite, or ≤ 0 on a log axis.
    public func transform(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        switch self {
        case .linear: return value
        case .log10:
            guard value > 0 else { return nil }
            return Foundation.log10(value)
        }
    }

    /// The data value at a point of the working space (the inverse of `transform`).
    public func inverse(_ t: Double) -> Double {
        switch self {
        case .linear: return t
        case .log10: return Foundation.pow(10, t)
        }
    }
}
