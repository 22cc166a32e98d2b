import Foundation
import Numerics

/// One tensor listed in a safetensors header: its name, type, shape (row-major, outermost
/// first) and where its bytes lie in the file.
public struct SafetensorsTensor: Sendable, Equatable {
    /// The tensor's name.
    public let name: String
    /// The element type.
    public let dtype: SafetensorsDType
    /// The shape, outermost first (HF `[out, in]` for a linear layer).
    public let shape: [Int]
    /// The absolute byte range in the file.
    public let byteRange: Range<Int>

    /// Number of elements (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A safetensors file opened by memory mapping: the header is parsed and checked at open, tensor
/// bytes are read (and converted to Float) only when asked for, one tensor at a time.
public final class SafetensorsFile: Sendable {
    /// The mapped file.
    public let file: MappedFile
    /// The tensors in file order.
    public let tensors: [SafetensorsTensor]
    /// The header's `__metadata__` string map.
    public let metadata: [String: String]
    private let index: [String: Int]

    /// The largest header the reader accepts (the reference implementation's limit).
    public static let maxHeaderBytes = 100_000_000

    /// Opens and validates the file at `path`.
    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    /// Validates the header of an already mapped file.
    public init(file: MappedFile) throws {
        self.file = file
        func fail(_ field: String, _ message: String, _ offset: Int? = nil) -> SafetensorsError {
            SafetensorsError(field, message, offset: offset, path: file.path)
        }
        guard file.count >= 8 else { throw fail("header size", "the file has \(file.count) bytes, fewer than the 8 of the header size", 0) }
        let headerSize = try file.load(UInt64.self, at: 0)
        guard headerSize <= UInt64(min(Self.maxHeaderBytes, file.count - 8)) else {
            throw fail("header size", "\(headerSize) bytes does not fit in a file of \(file.count) bytes", 0)
        }
        let dataStart = 8 + Int(headerSize)
        let headerData = try file.bytes(at: 8, count: Int(headerSize)).withUnsafeBytes { Data($0) }
        guard String(data: headerData, encoding: .utf8) != nil else { throw fail("header", "is not valid UTF-8", 8) }
        guard let json = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else {
            throw fail("header", "is not a JSON object", 8)
        }
        var metadata = [String: String]()
        if let meta = json["__metadata__"] {
            guard let m = meta as? [String: Any] else { throw fail("__metadata__", "is not an object of strings") }
            for (k, v) in m {
                guard let s = v as? String else { throw fail("__metadata__.\(k)", "is not a string") }
                metadata[k] = s
            }
        }
        let dataLength = file.count - dataStart
        var tensors = [SafetensorsTensor]()
        for (name, value) in json where name != "__metadata__" {
            guard let entry = value as? [String: Any] else { throw fail(name, "is not an object") }
            guard let typeName = entry["dtype"] as? String else { throw fail("\(name).dtype", "is missing") }
            guard let dtype = SafetensorsDType(rawValue: typeName) else { throw fail("\(name).dtype", "'\(typeName)' is not a safetensors type") }
            guard let dims = entry["shape"] as? [NSNumber] else { throw fail("\(name).shape", "is missing or not a list of numbers") }
            guard let offsets = entry["data_offsets"] as? [NSNumber], offsets.count == 2 else {
                throw fail("\(name).data_offsets", "is missing or not two numbers")
            }
            var count = 1
            for (i, d) in dims.enumerated() {
                let dim = d.int64Value
                guard dim >= 0, Double(dim) == d.doubleValue else { throw fail("\(name).shape[\(i)]", "\(d) is not a non-negative integer") }
                let (p, overflow) = count.multipliedReportingOverflow(by: Int(dim))
                guard !overflow else { throw fail("\(name).shape", "\(dims) has more elements than can exist") }
                count = p
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
            let begin = offsets[0].int64Value, end = offsets[1].int64Value
            guard begin >= 0, end >= begin, Double(begin) == offsets[0].doubleValue, Double(end) == offsets[1].doubleValue else {
                throw fail("\(name).data_offsets", "[\(offsets[0]), \(offsets[1])] is not an ordered pair of byte offsets")
            }
            guard end <= Int64(dataLength) else {
                throw fail("\(name).data_offsets", "end \(end) lies past the data section of \(dataLength) bytes", dataStart + Int(min(begin, Int64(dataLength))))
            }
            guard !overflow, Int64(bytes) == end - begin else {
                throw fail("\(name).data_offsets", "\(end - begin) bytes for \(dtype.rawValue) \(dims) (needs \(overflow ? "overflowing" : String(bytes)))", dataStart + Int(begin))
            }
            tensors.append(SafetensorsTensor(name: name, dtype: dtype, shape: dims.map(\.intValue),
                                             byteRange: (dataStart + Int(begin))..<(dataStart + Int(end))))
        }
        tensors.sort { ($0.byteRange.lowerBound, $0.byteRange.upperBound, $0.name) < ($1.byteRange.lowerBound, $1.byteRange.upperBound, $1.name) }
        // The format packs tensors back to back: no overlap, no hole, nothing after the last.
        var cursor = dataStart
        for t in tensors {
            if t.byteRange.lowerBound < cursor {
                throw fail("\(t.name).data_offsets", "overlaps the tensor before it", t.byteRange.lowerBound)
            }
            if t.byteRange.lowerBound > cursor {
                throw fail("\(t.name).data_offsets", "leaves \(t.byteRange.lowerBound - cursor) unused bytes before it", cursor)
            }
            cursor = t.byteRange.upperBound
        }
        guard cursor == file.count else {
            throw fail("data section", "\(file.count - cursor) bytes after the last tensor belong to none", cursor)
        }
        self.tensors = tensors
        self.metadata = metadata
        self.index = Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($1.name, $0) })
    }

    /// The path the file was opened from.
    public var path: String { file.path }

    /// The tensor called `name`, or nil.
    public func tensor(named name: String) -> SafetensorsTensor? { index[name].map { tensors[$0] } }

    /// The tensor's raw bytes, not copied.
    public func rawBytes(of tensor: SafetensorsTensor) throws -> MappedBytes {
        try file.bytes(at: tensor.byteRange.lowerBound, count: tensor.byteRange.count)
    }

    /// The tensor's values as Float (F32 as is; F16, BF16 and F64 converted).
    public func floats(of tensor: SafetensorsTensor) throws -> [Float] {
        let n = tensor.elementCount
        return try rawBytes(of: tensor).withUnsafeBytes { raw -> [Float] in
            switch tensor.dtype {
            case .f32:
                return [Float](unsafeUninitializedCapacity: n) { out, initialized in
                    for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                    initialized = n
                }
            case .f16:
                return (0..<n).map { HalfPrecision.float(fromHalf: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
            case .bf16:
                return (0..<n).map { HalfPrecision.float(fromBFloat16: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
            case .f64:
                return (0..<n).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))) }
            default:
                throw SafetensorsError(tensor.name, "has type \(tensor.dtype.rawValue), which is not a floating-point weight", path: path)
            }
        }
    }

    /// The tensor as a matrix: 2-D as rows × cols, 1-D as a 1×n row, higher ranks flattened to
    /// (product of leading dims) × last dim.
    public func matrix(of tensor: SafetensorsTensor) throws -> Matrix {
        let cols = tensor.shape.last ?? 1
        let rows = tensor.shape.count <= 1 ? 1 : tensor.shape.dropLast().reduce(1, *)
        return try Matrix(rows: rows, cols: cols, data: floats(of: tensor))
    }
}
