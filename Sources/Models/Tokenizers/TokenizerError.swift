/// A tokenizer that cannot be built from what it was given: a missing or malformed GGUF metadata
/// key, tokenizer.json field or vocabulary file. The message names the key or field and says what
/// is wrong, so a user can tell a truncated download from an unsupported model.
public struct TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The class of problem, for callers that branch on it.
    public enum Kind: String, Sendable, Equatable {
        /// A required key or field is absent.
        case missing
        /// A key or field holds a value of the wrong type.
        case wrongType
        /// A value of the right type whose contents are wrong (an id out of range, a duplicate
        /// token, a merge without a separator, ...).
        case malformed
        /// A well-formed setting this library does not implement (another pre-tokenizer, model type).
        case unsupported
        /// A file that cannot be read or parsed at all.
        case unreadable
    }

    /// The class of problem.
    public let kind: Kind
    /// The metadata key or field the problem is in, e.g. `tokenizer.ggml.merges[17]`.
    public let field: String
    /// What is wrong, in words.
    public let detail: String

    /// An error of `kind` in `field`, described by `detail`.
    public init(_ kind: Kind, field: String, _ detail: String) {
        self.kind = kind
        self.field = field
        self.detail = detail
    }

    /// "tokenizer: FIELD: DETAIL".
    public var description: String { "tokenizer: \(field): \(detail)" }
}
