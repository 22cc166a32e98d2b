/// A pruning argument that cannot be honoured (an index out of range, a ratio outside [0, 1), a
/// block that does not exist, an option the method does not read), naming the option when one is
/// at fault so that a caller can point at it.
public struct PruningError: Error, CustomStringConvertible, Equatable {
    /// What is wrong, in words, naming the argument.
    public let message: String
    /// The option (or argument: "ratio", "method") at fault, when one is.
    public let option: String?

    /// An error saying `message`.
    public init(_ message: String) {
        self.message = message
        option = nil
    }

    /// An error about `option` saying `message`.
    public init(option: String, _ message: String) {
        self.message = message
        self.option = option
    }

    public var description: String { message }

    /// `x` as messages show it: an integer without a decimal point, otherwise the shortest form.
    public static func format(_ x: Double) -> String {
        if x.isFinite, x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return "\(x)"
    }
}
