import Numerics

/// A PruneLang value. Lists, records, vectors and matrices are values: assigning one to another
/// name copies it (cheaply, copy-on-write), so changing `b[0]` never changes `a`. Numbers are
/// Double; vectors hold Double (widened from the Float32 of matrices); matrices are
/// `Numerics.Matrix` (Float32, row-major). Models, layers, figures, tables and policies are
/// `object`s supplied by later layers through `HostObject`. (The cases with large payloads are
/// `indirect`, so that a value is one word and a tag and copies cheaply.)
public enum Value {
    /// A number (IEEE double; integers are exact up to 2⁵³).
    case number(Double)
    /// A string of Unicode text.
    indirect case string(String)
    /// `true` or `false`.
    case bool(Bool)
    /// `none`: no value.
    case none
    /// A list of any values.
    case list([Value])
    /// An ordered record of named fields, `{a: 1, b: "x"}`.
    indirect case record(Record)
    /// A lazy arithmetic progression, `0..10` or `range(0, 10, 2)`.
    indirect case range(RangeValue)
    /// A numeric vector (Double elements), such as singular values.
    case vector([Double])
    /// A dense Float32 matrix.
    indirect case matrix(Matrix)
    /// A user function (a closure).
    case function(Function)
    /// A builtin function.
    case builtin(Builtin)
    /// A value from a later layer (a model, a layer, a figure, a table, a policy...).
    indirect case object(any HostObject)

    /// The name of the value's type as `type(x)` reports it and error messages use.
    public var typeName: String {
        switch self {
        case .number: return "number"
        case .string: return "string"
        case .bool: return "bool"
        case .none: return "none"
        case .list: return "list"
        case .record: return "record"
        case .range: return "range"
        case .vector: return "vector"
        case .matrix: return "matrix"
        case .function, .builtin: return "function"
        case .object(let o): return o.typeName
        }
    }

    /// The case, without its payload (for switching without copying it).
    enum Tag { case number, string, bool, none, list, record, range, vector, matrix, function, builtin, object }

    /// The case of this value.
    var tag: Tag {
        switch self {
        case .number: return .number
        case .string: return .string
        case .bool: return .bool
        case .none: return .none
        case .list: return .list
        case .record: return .record
        case .range: return .range
        case .vector: return .vector
        case .matrix: return .matrix
        case .function: return .function
        case .builtin: return .builtin
        case .object: return .object
        }
    }

    /// Whether the value is `none`.
    public var isNone: Bool {
        if case .none = self { return true }
        return false
    }
}

/// What a later layer implements to make its values first-class in PruneLang: a model, a layer,
/// a weight view, a figure, a table, a pruning policy (a class: values share the instance).
/// Everything but `typeName`, `member`,
/// `memberNames` and `display` has a default.
public protocol HostObject: AnyObject {
    /// The type name `type(x)` reports, such as "model" or "figure".
    var typeName: String { get }
    /// The value of member `name` (`x.name`), nil when there is no such member. Methods are
    /// members whose value is a `.builtin` closing over the object.
    func member(_ name: String) throws -> Value?
    /// The member names, for completion after `.` and for `help(x)`.
    var memberNames: [String] { get }
    /// The value as a MIME bundle (`text/plain` always; `text/html`, `image/svg+xml` where useful).
    func display() -> MIMEBundle
    /// The value as a matrix, for objects that stand for one (a weight view); nil otherwise.
    func matrixValue() throws -> Matrix?
    /// The number of elements for `len(x)` and `for` loops; nil when the object is not a sequence.
    var length: Int? { get }
    /// Element `i` (0 ≤ i < length) for indexing and `for` loops.
    func element(at i: Int) throws -> Value
    /// A paragraph for `help(x)`; nil uses the type name and member list.
    var helpText: String? { get }
    /// Whether two objects are the same for `==` (default: never, unless they are one instance).
    func isEqual(to other: any HostObject) -> Bool
    /// A one-line form for inside lists and records (default: `<type>`, or the display's text
    /// when that is one short line).
    var summary: String { get }
}

extension HostObject {
    /// No matrix by default.
    public func matrixValue() throws -> Matrix? { nil }
    /// Not a sequence by default.
    public var length: Int? { nil }
    /// Not a sequence by default.
    public func element(at i: Int) throws -> Value { .none }
    /// No extra help by default.
    public var helpText: String? { nil }
    /// Identity: the same instance.
    public func isEqual(to other: any HostObject) -> Bool { self === other }
    /// The display's text when it is one short line, otherwise `<type>`.
    public var summary: String {
        let t = display().text
        return t.count <= 60 && !t.contains("\n") ? t : "<\(typeName)>"
    }
}

/// An ordered record: field names in insertion order with their values.
public struct Record {
    /// The field names, in order.
    public private(set) var keys: [String]
    /// The values, in the order of `keys`.
    public private(set) var values: [Value]

    /// An empty record.
    public init() {
        keys = []
        values = []
    }

    /// A record with the given fields in order (a later duplicate replaces an earlier one).
    public init(_ fields: [(String, Value)]) {
        self.init()
        for (k, v) in fields { self[k] = v }
    }

    /// The number of fields.
    public var count: Int { keys.count }

    /// The value of field `key`, nil when absent; setting appends new fields at the end.
    public subscript(key: String) -> Value? {
        get {
            guard let i = keys.firstIndex(of: key) else { return nil }
            return values[i]
        }
        set {
            if let i = keys.firstIndex(of: key) {
                if let newValue { values[i] = newValue } else { keys.remove(at: i); values.remove(at: i) }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    /// Replaces the value at position `i` in place.
    mutating func setValue(at i: Int, _ v: Value) { values[i] = v }
    /// Takes the value at position `i` out (leaving none) so it can be changed without a copy.
    mutating func takeValue(at i: Int) -> Value {
        let v = values[i]
        values[i] = .none
        return v
    }
}

/// An arithmetic progression start, start+step, ... stopping before `stop` (as Python's range,
/// but any finite step, not only integers).
public struct RangeValue: Equatable, Sendable {
    /// The first element.
    public let start: Double
    /// The bound, excluded.
    public let stop: Double
    /// The difference between consecutive elements (never 0).
    public let step: Double
    /// How many elements there are.
    public let count: Int

    /// The range, or an error message when the arguments are not finite, the step is 0, or it would
    /// have more than `limit` elements.
    public static func make(_ start: Double, _ stop: Double, _ step: Double, limit: Int) -> Result<RangeValue, LimitError> {
        guard start.isFinite, stop.isFinite, step.isFinite else {
            return .failure(LimitError("range bounds must be finite, got \(formatNumber(start)), \(formatNumber(stop)), step \(formatNumber(step))"))
        }
        guard step != 0 else { return .failure(LimitError("range step must not be 0")) }
        let n = ((stop - start) / step).rounded(.up)
        let count: Double = n > 0 ? n : 0
        guard count <= Double(limit) else {
            return .failure(LimitError("range would have \(formatNumber(count)) elements; the limit is \(limit)"))
        }
        return .success(RangeValue(start: start, stop: stop, step: step, count: Int(count)))
    }

    private init(start: Double, stop: Double, step: Double, count: Int) {
        self.start = start
        self.stop = stop
        self.step = step
        self.count = count
    }

    /// Element `i` (0 ≤ i < count).
    public func element(_ i: Int) -> Double { start + Double(i) * step }
    /// All elements.
    public var elements: [Double] { (0..<count).map(element) }
}

/// A limit or domain violation with its message (a range too long, an allocation too large).
public struct LimitError: Error, Sendable {
    /// What was wrong.
    public let message: String
    /// An error with `message`.
    public init(_ message: String) { self.message = message }
}
