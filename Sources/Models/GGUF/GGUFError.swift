/// A malformed or unsupported GGUF file, or a request the file cannot satisfy. Every error names
/// what is wrong (`kind`, `detail`) and where: the `field` (e.g. `tensor_infos[3].dims[1]`) and
/// the byte `offset` in the file at which that field starts, when there is one.
public struct GGUFError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The class of problem, for callers that branch on it.
    public enum Kind: String, Sendable, Equatable {
        /// The file ends before a field it must hold.
        case truncated
        /// The first four bytes are not "GGUF".
        case badMagic
        /// A GGUF version other than 2 or 3.
        case unsupportedVersion
        /// A metadata value type id outside 0…12.
        case unknownValueType
        /// A tensor type id ggml does not define.
        case unknownTensorType
        /// A count, length or size that cannot fit in the file (would allocate absurd amounts).
        case absurdSize
        /// A key or string value that is not valid UTF-8.
        case invalidUTF8
        /// Tensor dimensions that are malformed (n_dims > 4, a zero-or-negative dimension, a row
        /// length that is not a whole number of blocks, or a size that overflows).
        case invalidShape
        /// Tensor data lying (partly) outside the file.
        case dataOutOfBounds
        /// A tensor data offset that is not a multiple of the alignment.
        case misaligned
        /// Two tensors whose data ranges overlap.
        case overlap
        /// A `general.alignment` that is not a positive power of two, or not a uint32.
        case invalidAlignment
        /// Two metadata entries with the same key, or two tensors with the same name.
        case duplicate
        /// Metadata arrays nested more deeply than the reader allows.
        case nestingTooDeep
        /// A tensor type this library cannot dequantise.
        case unsupportedType
        /// No tensor with the requested name.
        case notFound
    }

    /// The class of problem.
    public let kind: Kind
    /// The field the problem is in, e.g. `metadata[12].value` or `tensor_infos[5].offset`.
    public let field: String
    /// The byte offset in the file where that field starts, when the problem has a place.
    public let offset: Int?
    /// What is wrong, in words.
    public let detail: String
    /// The file the problem was found in, once known.
    public var path: String?

    /// An error of `kind` in `field` at byte `offset`, explained by `detail`.
    public init(_ kind: Kind, field: String, offset: Int?, _ detail: String, path: String? = nil) {
        self.kind = kind
        self.field = field
        self.offset = offset
        self.detail = detail
        self.path = path
    }

    /// This error with `path` filled in.
    func at(path: String) -> GGUFError {
        var copy = self
        copy.path = path
        return copy
    }

    /// The message: file, field, byte offset and what is wrong.
    public var description: String {
        let file = path.map { "GGUF file '\($0)'" } ?? "GGUF file"
        let place = offset.map { " (byte offset \($0))" } ?? ""
        return "\(file): \(field)\(place): \(detail)"
    }
}
