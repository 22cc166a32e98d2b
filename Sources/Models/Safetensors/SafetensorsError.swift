/// A malformed safetensors file or an impossible request, naming what is wrong and where (the
/// tensor or header field, and the byte offset when there is one).
public struct SafetensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong, in words.
    public let message: String
    /// The tensor or header field concerned.
    public let field: String
    /// The byte offset in the file, when the problem has one.
    public let offset: Int?
    /// The file, once known.
    public var path: String?

    /// An error about `field` (at `offset`), explained by `message`.
    public init(_ field: String, _ message: String, offset: Int? = nil, path: String? = nil) {
        self.field = field
        self.message = message
        self.offset = offset
        self.path = path
    }

    public var description: String {
        var s = "safetensors"
        if let path { s += " '\(path)'" }
        s += ": \(field): \(message)"
        if let offset { s += " (byte \(offset))" }
        return s
    }
}
