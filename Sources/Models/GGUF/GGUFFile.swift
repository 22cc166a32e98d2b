import Numerics

/// A GGUF file (versions 2 and 3), memory-mapped: opening reads only the header (metadata and
/// tensor infos); tensor data is read, and dequantised, one tensor at a time on request.
public struct GGUFFile: Sendable {
    /// The mapped file.
    public let file: MappedFile
    /// The GGUF version (2 or 3).
    public let version: UInt32
    /// The metadata key/value pairs, in file order.
    public let metadata: [GGUFMetadataEntry]
    /// The tensors, in file order.
    public let tensors: [GGUFTensorInfo]
    /// The data alignment in bytes (`general.alignment`, default 32).
    public let alignment: Int
    /// The absolute byte offset where the data section starts.
    public let dataOffset: Int

    private let keyIndex: [String: Int]
    private let nameIndex: [String: Int]

    /// Opens and validates the GGUF file at `path`; throws `MappedFileError` when it cannot be
    /// read and `GGUFError` (naming the field and byte offset) when it is malformed.
    public init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    /// Reads the header of an already mapped file; throws `GGUFError` when it is malformed.
    public init(file: MappedFile) throws {
        self.file = file
        let header: GGUFHeaderParser.Header
        do {
            var parser = GGUFHeaderParser(file.unsafeBytes)
            header = try parser.parse()
        } catch let error as GGUFError {
            throw error.at(path: file.path)
        }
        version = header.version
        metadata = header.metadata
        tensors = header.tensors
        alignment = header.alignment
        dataOffset = header.dataOffset
        keyIndex = Dictionary(metadata.enumerated().map { ($1.key, $0) }, uniquingKeysWith: { a, _ in a })
        nameIndex = Dictionary(tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The path the file was opened from.
    public var path: String { file.path }

    /// The file's size in bytes.
    public var fileSize: Int { file.count }

    /// The metadata value for `key`, or nil.
    public subscript(key: String) -> GGUFValue? {
        keyIndex[key].map { metadata[$0].value }
    }

    /// The metadata keys, in file order.
    public var keys: [String] { metadata.map(\.key) }

    /// The model architecture (`general.architecture`), when given.
    public var architecture: String? { self[GGUFKey.architecture]?.string }

    /// The total number of tensor elements (the model's parameter count).
    public var parameterCount: Int { tensors.reduce(0) { $0 + $1.elementCount } }

    /// The tensor named `name`, or nil.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        nameIndex[name].map { tensors[$0] }
    }

    /// The tensor named `name`, or a `GGUFError` of kind `.notFound`.
    public func requireTensor(named name: String) throws -> GGUFTensorInfo {
        guard let info = tensor(named: name) else {
            throw GGUFError(.notFound, field: "tensor '\(name)'", offset: nil,
                            "no tensor of that name among the file's \(tensors.count) tensors", path: path)
        }
        return info
    }

    /// The stored bytes of `info`'s data, in place (no copy).
    public func rawBytes(of info: GGUFTensorInfo) throws -> MappedBytes {
        try file.bytes(at: info.fileOffset, count: info.byteCount)
    }

    /// The tensor's elements as Float32, in GGUF (row-major, innermost-fastest) order.
    public func dequantize(_ info: GGUFTensorInfo) throws -> [Float] {
        do {
            return try rawBytes(of: info).withUnsafeBytes { raw in
                try GGMLDequantizer.dequantize(raw, type: info.type, count: info.elementCount)
            }
        } catch var error as GGUFError {
            error = GGUFError(error.kind, field: "tensor '\(info.name)'", offset: info.fileOffset, error.detail)
            throw error.at(path: path)
        }
    }

    /// The tensor named `name` as Float32 values.
    public func dequantize(named name: String) throws -> [Float] {
        try dequantize(requireTensor(named: name))
    }

    /// The tensor as a row-major matrix, `rows × cols` of `info` (HF `[out, in]`; 1-D as 1×n;
    /// outer dimensions of a 3-D or 4-D tensor are folded into the rows).
    public func matrix(_ info: GGUFTensorInfo) throws -> Matrix {
        try Matrix(rows: info.rows, cols: info.cols, data: dequantize(info))
    }

    /// The tensor named `name` as a row-major matrix.
    public func matrix(named name: String) throws -> Matrix {
        try matrix(requireTensor(named: name))
    }
}
