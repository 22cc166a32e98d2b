/// The type tag of a GGUF metadata value, with the id the file stores.
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// The size in bytes of one value of a fixed-size type; nil for string and array.
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string, .array: return nil
        }
    }

    /// The fewest bytes one value of this type can take in a file (a string or array header).
    public var minimumSize: Int {
        switch self {
        case .string: return 8
        case .array: return 12
        default: return fixedSize ?? 1
        }
    }

    /// The type's name as the GGUF specification spells it, e.g. "uint32".
    public var description: String {
        switch self {
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .uint32: return "uint32"
        case .int32: return "int32"
        case .float32: return "float32"
        case .bool: return "bool"
        case .string: return "string"
        case .array: return "array"
        case .uint64: return "uint64"
        case .int64: return "int64"
        case .float64: return "float64"
        }
    }
}

/// A GGUF metadata value: a scalar, a string, or a typed array (arrays may nest).
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), array(GGUFArray)
    case uint64(UInt64), int64(Int64), float64(Double)

    /// The value's type tag.
    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .float32: return .float32
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        case .uint64: return .uint64
        case .int64: return .int64
        case .float64: return .float64
        }
    }

    /// The value as an Int when it is an integer that fits; nil otherwise.
    public var int: Int? {
        switch self {
        case let .uint8(v): return Int(v)
        case let .int8(v): return Int(v)
        case let .uint16(v): return Int(v)
        case let .int16(v): return Int(v)
        case let .uint32(v): return Int(v)
        case let .int32(v): return Int(v)
        case let .uint64(v): return Int(exactly: v)
        case let .int64(v): return Int(v)
        default: return nil
        }
    }

    /// The value as a Double when it is a number (floats, and integers converted); nil otherwise.
    public var double: Double? {
        switch self {
        case let .float32(v): return Double(v)
        case let .float64(v): return v
        case let .uint64(v): return Double(v)
        default: return int.map(Double.init)
        }
    }

    /// The value as a Float when it is a float32 or float64 (rounded) or an integer; nil otherwise.
    public var float: Float? {
        if case let .float32(v) = self { return v }
        return double.map(Float.init)
    }

    /// The value when it is a bool; nil otherwise.
    public var bool: Bool? {
        if case let .bool(v) = self { return v }
        return nil
    }

    /// The value when it is a string; nil otherwise.
    public var string: String? {
        if case let .string(v) = self { return v }
        return nil
    }

    /// The value when it is an array; nil otherwise.
    public var array: GGUFArray? {
        if case let .array(v) = self { return v }
        return nil
    }
}

/// A GGUF metadata array: all elements share one type, stored compactly by that type.
public enum GGUFArray: Sendable, Equatable {
    case uint8([UInt8]), int8([Int8]), uint16([UInt16]), int16([Int16]), uint32([UInt32]), int32([Int32])
    case float32([Float]), bool([Bool]), string([String]), array([GGUFArray])
    case uint64([UInt64]), int64([Int64]), float64([Double])

    /// The type of every element.
    public var elementType: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .float32: return .float32
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        case .uint64: return .uint64
        case .int64: return .int64
        case .float64: return .float64
        }
    }

    /// The number of elements.
    public var count: Int {
        switch self {
        case let .uint8(a): return a.count
        case let .int8(a): return a.count
        case let .uint16(a): return a.count
        case let .int16(a): return a.count
        case let .uint32(a): return a.count
        case let .int32(a): return a.count
        case let .float32(a): return a.count
        case let .bool(a): return a.count
        case let .string(a): return a.count
        case let .array(a): return a.count
        case let .uint64(a): return a.count
        case let .int64(a): return a.count
        case let .float64(a): return a.count
        }
    }

    /// Whether the array has no elements.
    public var isEmpty: Bool { count == 0 }

    /// The element at `index` as a `GGUFValue` (precondition: `index` is in range).
    public subscript(index: Int) -> GGUFValue {
        switch self {
        case let .uint8(a): return .uint8(a[index])
        case let .int8(a): return .int8(a[index])
        case let .uint16(a): return .uint16(a[index])
        case let .int16(a): return .int16(a[index])
        case let .uint32(a): return .uint32(a[index])
        case let .int32(a): return .int32(a[index])
        case let .float32(a): return .float32(a[index])
        case let .bool(a): return .bool(a[index])
        case let .string(a): return .string(a[index])
        case let .array(a): return .array(a[index])
        case let .uint64(a): return .uint64(a[index])
        case let .int64(a): return .int64(a[index])
        case let .float64(a): return .float64(a[index])
        }
    }

    /// Every element as a `GGUFValue`.
    public var values: [GGUFValue] { (0..<count).map { self[$0] } }

    /// The elements as Ints when they are integers that all fit; nil otherwise.
    public var ints: [Int]? {
        switch self {
        case let .uint8(a): return a.map(Int.init)
        case let .int8(a): return a.map(Int.init)
        case let .uint16(a): return a.map(Int.init)
        case let .int16(a): return a.map(Int.init)
        case let .uint32(a): return a.map(Int.init)
        case let .int32(a): return a.map(Int.init)
        case let .int64(a): return a.map(Int.init)
        case let .uint64(a):
            var out: [Int] = []
            out.reserveCapacity(a.count)
            for v in a {
                guard let i = Int(exactly: v) else { return nil }
                out.append(i)
            }
            return out
        default: return nil
        }
    }

    /// The elements as Doubles when they are numbers; nil otherwise.
    public var doubles: [Double]? {
        switch self {
        case let .float32(a): return a.map(Double.init)
        case let .float64(a): return a
        case let .uint64(a): return a.map(Double.init)
        default: return ints?.map(Double.init)
        }
    }

    /// The elements when they are strings; nil otherwise.
    public var strings: [String]? {
        if case let .string(a) = self { return a }
        return nil
    }

    /// The elements when they are bools; nil otherwise.
    public var bools: [Bool]? {
        if case let .bool(a) = self { return a }
        return nil
    }

    /// The elements when they are arrays (a nested array); nil otherwise.
    public var arrays: [GGUFArray]? {
        if case let .array(a) = self { return a }
        return nil
    }
}

/// One metadata key/value pair of a GGUF file, in file order.
public struct GGUFMetadataEntry: Sendable, Equatable {
    /// The key, e.g. `llama.block_count`.
    public let key: String
    /// The value.
    public let value: GGUFValue
    /// The byte offset in the file where this entry's key starts.
    public let offset: Int

    /// An entry for `key` with `value`, found at byte `offset` (0 for one made in memory).
    public init(key: String, value: GGUFValue, offset: Int = 0) {
        self.key = key
        self.value = value
        self.offset = offset
    }
}
