/// One axis of a figure: its label, scale, optional fixed limits, optional category names and
/// direction.
public struct Axis: Sendable, Equatable {
    /// Text written along the axis ("" for none).
    public var label: String
    /// Linear or log₁₀ (see `Scale` for how non-positive values are treated on a log axis).
    public var scale: Scale
    /// Fixed limits; nil (the default) fits the data with a small margin. Limits that are not
    /// finite, empty (lower ≥ upper) or not positive on a log axis are ignored as if nil.
    public var limits: ClosedRange<Double>?
    /// Names for the integer positions 0, 1, 2, …: the axis shows these instead of numbers
    /// (bar charts by category use it).
    public var categories: [String]?
    /// True to run from the upper limit to the lower (a heatmap's row axis: row 0 at the top).
    public var reversed: Bool

    /// An axis; every part is optional.
    public init(label: String = "", scale: Scale = .linear, limits: ClosedRange<Double>? = nil,
                categories: [String]? = nil, reversed: Bool = false) {
        self.label = label
        self.scale = scale
        self.limits = limits
        self.categories = categories
        self.reversed = reversed
    }
}
