/// A value given for a pruning or training option, as the caller wrote it (before the option's
/// own check): a number, a string, a bool, or nothing.
public enum OptionValue: Sendable, Equatable {
    /// A number.
    case number(Double)
    /// A string.
    case string(String)
    /// A bool.
    case bool(Bool)
    /// FFN neurons by block (`protect=`: a list of (block, neuron) pairs or a super-weight table).
    case neurons([Int: [Int]])
    /// No value: an option left unset.
    case none
}

/// One option a pruning method (or policy training) reads, declared once: its name, the kind of
/// value it takes, its default, a line for the docs, and how it lands in a `PruneRequest`. The
/// language's `prune` and `train_policy` builtins, their help and their errors are made from these.
public struct MethodOption: Sendable {
    /// The kind of value an option takes; values of the wrong kind are refused before `apply`.
    public enum Kind: Sendable {
        /// A finite number accepted by `valid`; `expected` completes "name must be …" ("in [0, 1]").
        case number(expected: String, valid: @Sendable (Double) -> Bool)
        /// An integer in the range.
        case integer(ClosedRange<Int>)
        /// One of the strings.
        case choice([String])
        /// Any string, read by `apply` (which throws on a malformed one).
        case text
        /// true or false.
        case bool
        /// FFN neurons by block.
        case neurons

        /// What a value must be, as messages say it: "a number", "a string", "true or false".
        public var expected: String {
            switch self {
            case .number, .integer: return "a number"
            case .choice, .text: return "a string"
            case .bool: return "true or false"
            case .neurons: return "a list of [block, neuron] pairs or a table with block and neuron columns"
            }
        }

        /// The type as the docs show it: "number", "string", "bool".
        public var typeName: String {
            switch self {
            case .number, .integer: return "number"
            case .choice, .text: return "string"
            case .bool: return "bool"
            case .neurons: return "list|table"
            }
        }
    }

    /// The name a call uses.
    public let name: String
    /// What it takes.
    public let kind: Kind
    /// The value when the call leaves it out (`.none`: unset, and an explicit none leaves it unset too).
    public let defaultValue: OptionValue
    /// A few words for the docs.
    public let doc: String
    /// Whether the option is a setting several methods share, shown in `prune`'s own signature
    /// (pattern, scope, calib, deterministic), rather than a keyword of one method's own.
    public let shared: Bool
    /// Stores a checked value in the request (throws a `PruningError` for a value the kind admits
    /// but the method cannot use, e.g. pattern "3:2").
    let apply: @Sendable (inout PruneRequest, OptionValue) throws -> Void

    /// Declares an option.
    public init(_ name: String, _ kind: Kind, default defaultValue: OptionValue, shared: Bool = false, _ doc: String,
                apply: @escaping @Sendable (inout PruneRequest, OptionValue) throws -> Void) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.doc = doc
        self.shared = shared
        self.apply = apply
    }
}

extension OptionValue {
    /// The number held (0 for any other case; `MethodOption.Kind` has checked the case before `apply`).
    var number: Double { if case .number(let x) = self { return x }; return 0 }
    /// The string held ("" for any other case).
    var string: String { if case .string(let s) = self { return s }; return "" }
    /// The bool held (false for any other case).
    var bool: Bool { if case .bool(let b) = self { return b }; return false }
    /// The neurons held (none for any other case).
    var neurons: [Int: [Int]] { if case .neurons(let n) = self { return n }; return [:] }
}
