import Foundation

/// Writes GGUF version 3 files: metadata, tensor infos, then every tensor's data at an aligned
/// offset. Tensors are produced one at a time by a closure and streamed to disk, so writing a
/// model never holds more than one tensor in memory; the file appears atomically (temp + rename).
public enum GGUFWriter {
    /// One tensor to write: its name, shape (outermost first, as `GGUFTensorInfo.shape`), type,
    /// and a closure giving its stored bytes (exactly `byteCount` of them).
    public struct Tensor {
        /// The GGUF tensor name.
        public let name: String
        /// The shape, outermost first (a linear layer is `[out, in]`).
        public let shape: [Int]
        /// The stored type.
        public let type: GGMLType
        /// Produces the bytes; called once, while writing.
        public let bytes: () throws -> Data

        /// A tensor whose bytes `bytes` produces.
        public init(name: String, shape: [Int], type: GGMLType, bytes: @escaping () throws -> Data) {
            self.name = name
            self.shape = shape
            self.type = type
            self.bytes = bytes
        }

        /// Bytes the tensor takes in the file, or nil when its row length is not a whole number
        /// of the type's blocks.
        public var byteCount: Int? {
            GGUFTensorInfo.byteCount(elements: shape.reduce(1, *), type: type).flatMap {
                (shape.last ?? 1) % type.blockSize == 0 ? $0 : nil
            }
        }
    }

    /// Writes `metadata` (in order; `general.alignment` is added when `alignment` is not 32) and
    /// `tensors` to `path`. Throws `GGUFError` for a duplicate key or name, or a tensor whose
    /// bytes do not match its type and shape.
    public static func write(metadata: [(String, GGUFValue)], tensors: [Tensor], alignment: Int = 32,
                             to path: String) throws {
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw GGUFError(.invalidAlignment, field: GGUFKey.alignment, offset: nil, "must be a power of two, got \(alignment)")
        }
        var entries = metadata.filter { $0.0 != GGUFKey.alignment }
        if alignment != 32 { entries.append((GGUFKey.alignment, .uint32(UInt32(alignment)))) }
        var keys = Set<String>(), names = Set<String>()
        for (k, _) in entries where !keys.insert(k).inserted {
            throw GGUFError(.duplicate, field: "metadata key '\(k)'", offset: nil, "is given twice")
        }
        var header = GGUFEncoder()
        header.append(Array("GGUF".utf8))
        header.append(UInt32(3))
        header.append(UInt64(tensors.count))
        header.append(UInt64(entries.count))
        for (k, v) in entries {
            header.append(string: k)
            header.append(UInt32(v.type.rawValue))
            header.append(value: v)
        }
        var offsets = [Int]()
        var offset = 0
        for t in tensors {
            guard names.insert(t.name).inserted else {
                throw GGUFError(.duplicate, field: "tensor '\(t.name)'", offset: nil, "is given twice")
            }
            guard !t.shape.isEmpty, t.shape.count <= 4, t.shape.allSatisfy({ $0 > 0 }), let size = t.byteCount else {
                throw GGUFError(.invalidShape, field: "tensor '\(t.name)'", offset: nil,
                                "shape \(t.shape) cannot be stored as \(t.type.name) (rows must be whole blocks of \(t.type.blockSize))")
            }
            header.append(string: t.name)
            header.append(UInt32(t.shape.count))
            for dim in t.shape.reversed() { header.append(UInt64(dim)) }
            header.append(UInt32(t.type.rawValue))
            header.append(UInt64(offset))
            offsets.append(offset)
            offset += (size + alignment - 1) / alignment * alignment
        }
        header.pad(to: alignment)
        try AtomicFile.stream(to: path) { handle in
            try handle.write(contentsOf: header.data)
            for (t, start) in zip(tensors, offsets) {
                let data = try t.bytes()
                guard data.count == t.byteCount else {
                    throw GGUFError(.invalidShape, field: "tensor '\(t.name)'", offset: header.data.count + start,
                                    "has \(data.count) bytes, but \(t.type.name) \(t.shape) needs \(t.byteCount ?? 0)")
                }
                try handle.write(contentsOf: data)
                let pad = (alignment - data.count % alignment) % alignment
                if pad > 0 { try handle.write(contentsOf: Data(count: pad)) }
            }
        }
    }
}

/// Little-endian encoding of GGUF header fields.
struct GGUFEncoder {
    /// The bytes so far.
    private(set) var data = Data()

    mutating func append(_ bytes: [UInt8]) { data.append(contentsOf: bytes) }

    mutating func append<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) }
    }

    mutating func append(string s: String) {
        append(UInt64(s.utf8.count))
        data.append(contentsOf: Array(s.utf8))
    }

    mutating func append(value v: GGUFValue) {
        switch v {
        case let .uint8(x): append(x)
        case let .int8(x): append(x)
        case let .uint16(x): append(x)
        case let .int16(x): append(x)
        case let .uint32(x): append(x)
        case let .int32(x): append(x)
        case let .uint64(x): append(x)
        case let .int64(x): append(x)
        case let .float32(x): append(x.bitPattern)
        case let .float64(x): append(x.bitPattern)
        case let .bool(x): append(UInt8(x ? 1 : 0))
        case let .string(x): append(string: x)
        case let .array(a): append(array: a)
        }
    }

    mutating func append(array a: GGUFArray) {
        append(UInt32(a.elementType.rawValue))
        append(UInt64(a.count))
        switch a {
        case let .uint8(xs): data.append(contentsOf: xs)
        case let .int8(xs): for x in xs { append(x) }
        case let .uint16(xs): for x in xs { append(x) }
        case let .int16(xs): for x in xs { append(x) }
        case let .uint32(xs): for x in xs { append(x) }
        case let .int32(xs): for x in xs { append(x) }
        case let .uint64(xs): for x in xs { append(x) }
        case let .int64(xs): for x in xs { append(x) }
        case let .float32(xs): for x in xs { append(x.bitPattern) }
        case let .float64(xs): for x in xs { append(x.bitPattern) }
        case let .bool(xs): for x in xs { append(UInt8(x ? 1 : 0)) }
        case let .string(xs): for x in xs { append(string: x) }
        case let .array(xs): for x in xs { append(array: x) }
        }
    }

    mutating func pad(to alignment: Int) {
        let n = (alignment - data.count % alignment) % alignment
        data.append(contentsOf: [UInt8](repeating: 0, count: n))
    }
}
