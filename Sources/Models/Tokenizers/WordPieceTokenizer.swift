/// BERT's WordPiece tokenizer as Hugging Face `tokenizers` runs it for MiniLM and other BERT
/// encoders: added tokens (`[CLS]`, `[MASK]`, ...) are matched in the raw text, the rest is
/// normalized (`BertNormalizer`), split into words (`BertPreTokenizer`), and each word becomes
/// the longest vocabulary pieces from its start (continuations written `##piece`), or `[UNK]`
/// when that fails or the word is longer than `maxInputCharsPerWord`. `[CLS] … [SEP]` go around
/// the result and it is truncated to `maxLength`. No padding: every id is a real token, so the
/// attention mask is all ones.
public struct WordPieceTokenizer: Sendable {
    /// Token text by id (an id the vocabulary skips has the empty string).
    public let vocabulary: [String]
    /// The id of the unknown token.
    public let unkID: Int32
    /// The unknown token's text, e.g. `[UNK]`.
    public let unknownToken: String
    /// The prefix written before a piece that continues a word, e.g. `##`.
    public let continuingSubwordPrefix: String
    /// Words with more characters than this become the unknown token (100 for BERT).
    public let maxInputCharsPerWord: Int
    /// The normalizer, or nil for none.
    public let normalizer: BertNormalizer?
    /// Whether text is split into words by `BertPreTokenizer` (false: each piece is one word).
    public let preTokenizes: Bool
    /// The tokens matched in text before normalization (or after, for `normalized` ones).
    public let addedTokens: [AddedToken]
    /// The ids put before a sequence when special tokens are added (`[CLS]`).
    public let prefixIDs: [Int32]
    /// The ids put after a sequence when special tokens are added (`[SEP]`).
    public let suffixIDs: [Int32]
    /// The most ids `encode` returns, special tokens included (nil: no truncation).
    public var maxLength: Int?
    /// Whether truncation drops ids from the start instead of the end.
    public var truncatesFromLeft: Bool
    /// Whether decoding joins `##` pieces and removes spaces before punctuation (the WordPiece
    /// decoder); false joins tokens with spaces.
    public let decodesWordPieces: Bool
    /// Whether the WordPiece decoder also tidies spaces around punctuation and contractions.
    public let decoderCleanup: Bool

    /// Token UTF-8 → id, added tokens included (keyed on bytes: Swift's String equality would
    /// match canonically equivalent spellings, which `tokenizers` keeps apart).
    private let idForToken: [[UInt8]: Int32]
    /// Token UTF-8 → id in the model's vocabulary alone (what WordPiece looks pieces up in).
    private let modelIDs: [[UInt8]: Int32]
    /// The continuation prefix as UTF-8.
    private let prefixBytes: [UInt8]
    /// Added tokens matched in the raw text.
    private let rawSplitter: AddedTokenSplitter
    /// Added tokens matched in normalized text.
    private let normalizedSplitter: AddedTokenSplitter
    /// Ids of special added tokens, left out of decoded text by default.
    private let specialIDs: Set<Int32>
    /// Text of added tokens by id.
    private let addedText: [Int32: String]

    /// The number of ids (one past the largest id).
    public var vocabularySize: Int { vocabulary.count }

    /// A tokenizer from its parts (`vocabulary`: token → id); throws `TokenizerError` when the
    /// unknown token is not in the vocabulary or an id is negative or repeated.
    public init(vocabulary: [String: Int32], unknownToken: String = "[UNK]",
                continuingSubwordPrefix: String = "##", maxInputCharsPerWord: Int = 100,
                normalizer: BertNormalizer? = BertNormalizer(), preTokenizes: Bool = true, addedTokens: [AddedToken] = [],
                prefixIDs: [Int32] = [], suffixIDs: [Int32] = [], maxLength: Int? = 512,
                truncatesFromLeft: Bool = false, decodesWordPieces: Bool = true, decoderCleanup: Bool = true) throws {
        try self.init(entries: vocabulary.map { ($0.key, $0.value) }, unknownToken: unknownToken,
                      continuingSubwordPrefix: continuingSubwordPrefix, maxInputCharsPerWord: maxInputCharsPerWord,
                      normalizer: normalizer, preTokenizes: preTokenizes, addedTokens: addedTokens,
                      prefixIDs: prefixIDs, suffixIDs: suffixIDs, maxLength: maxLength,
                      truncatesFromLeft: truncatesFromLeft, decodesWordPieces: decodesWordPieces,
                      decoderCleanup: decoderCleanup)
    }

    /// The designated initializer, on (token, id) entries; a token given twice keeps its last id.
    init(entries: [(String, Int32)], unknownToken: String, continuingSubwordPrefix: String,
         maxInputCharsPerWord: Int, normalizer: BertNormalizer?, preTokenizes: Bool, addedTokens: [AddedToken],
         prefixIDs: [Int32], suffixIDs: [Int32], maxLength: Int?, truncatesFromLeft: Bool,
         decodesWordPieces: Bool, decoderCleanup: Bool) throws {
        guard let maxID = entries.map(\.1).max(), entries.allSatisfy({ $0.1 >= 0 }) else {
            throw TokenizerError(.malformed, field: "model.vocab", entries.isEmpty ? "the vocabulary is empty" : "a token id is negative")
        }
        var vocabulary = [String](repeating: "", count: Int(maxID) + 1)
        var seen = [Bool](repeating: false, count: vocabulary.count)
        var modelIDs: [[UInt8]: Int32] = [:]
        modelIDs.reserveCapacity(entries.count)
        for (token, id) in entries {
            let key = Array(token.utf8)
            if let old = modelIDs[key] { seen[Int(old)] = false; vocabulary[Int(old)] = "" }
            if seen[Int(id)] {
                throw TokenizerError(.malformed, field: "model.vocab", "id \(id) is given to both \"\(vocabulary[Int(id)])\" and \"\(token)\"")
            }
            seen[Int(id)] = true
            vocabulary[Int(id)] = token
            modelIDs[key] = id
        }
        guard let unk = modelIDs[Array(unknownToken.utf8)] else {
            throw TokenizerError(.missing, field: "model.unk_token", "the unknown token \"\(unknownToken)\" is not in the vocabulary")
        }
        var ids = modelIDs
        var addedText: [Int32: String] = [:]
        for t in addedTokens {
            guard t.id >= 0 else { throw TokenizerError(.malformed, field: "added_tokens", "\"\(t.content)\" has a negative id") }
            ids[Array(t.content.utf8)] = t.id
            addedText[t.id] = t.content
            if Int(t.id) >= vocabulary.count {
                vocabulary += [String](repeating: "", count: Int(t.id) + 1 - vocabulary.count)
            }
            if vocabulary[Int(t.id)].isEmpty { vocabulary[Int(t.id)] = t.content }
        }
        for id in prefixIDs + suffixIDs where id < 0 || Int(id) >= vocabulary.count {
            throw TokenizerError(.malformed, field: "post_processor", "special token id \(id) is outside the vocabulary")
        }
        if let m = maxLength, m < 0 { throw TokenizerError(.malformed, field: "truncation.max_length", "\(m) is negative") }
        self.vocabulary = vocabulary
        self.idForToken = ids
        self.modelIDs = modelIDs
        self.prefixBytes = Array(continuingSubwordPrefix.utf8)
        self.unkID = unk
        self.unknownToken = unknownToken
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        self.normalizer = normalizer
        self.preTokenizes = preTokenizes
        self.addedTokens = addedTokens
        self.prefixIDs = prefixIDs
        self.suffixIDs = suffixIDs
        self.maxLength = maxLength
        self.truncatesFromLeft = truncatesFromLeft
        self.decodesWordPieces = decodesWordPieces
        self.decoderCleanup = decoderCleanup
        self.rawSplitter = AddedTokenSplitter(addedTokens.filter { !$0.normalized })
        self.normalizedSplitter = AddedTokenSplitter(addedTokens.filter { $0.normalized })
        self.specialIDs = Set(addedTokens.filter(\.special).map(\.id))
        self.addedText = addedText
    }

    /// The id of `token` (a vocabulary entry or added token), or nil.
    public func id(of token: String) -> Int32? { idForToken[Array(token.utf8)] }

    /// The token ids of `text`: with `addSpecialTokens`, `[CLS] … [SEP]` around them; truncated to
    /// `maxLength` ids in all (the special tokens are kept).
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int32] {
        var ids = tokenize(text)
        let added = addSpecialTokens ? prefixIDs.count + suffixIDs.count : 0
        if let maxLength, ids.count + added > maxLength {
            let keep = max(0, maxLength - added)
            ids = truncatesFromLeft ? Array(ids.suffix(keep)) : Array(ids.prefix(keep))
        }
        return addSpecialTokens ? prefixIDs + ids + suffixIDs : ids
    }

    /// The attention mask for `ids` from `encode`: one 1 per id (there is no padding).
    public func attentionMask(for ids: [Int32]) -> [Int32] {
        [Int32](repeating: 1, count: ids.count)
    }

    /// The ids of `text` without special tokens or truncation.
    private func tokenize(_ text: String) -> [Int32] {
        var out: [Int32] = []
        for piece in rawSplitter.split(text) {
            switch piece {
            case let .token(id): out.append(id)
            case let .text(raw):
                let normalized = normalizer?.normalize(raw) ?? raw
                for inner in normalizedSplitter.split(normalized) {
                    switch inner {
                    case let .token(id): out.append(id)
                    case let .text(t):
                        if preTokenizes {
                            for word in BertPreTokenizer().split(t) { wordPiece(word, into: &out) }
                        } else if !t.isEmpty {
                            wordPiece(t, into: &out)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Appends the pieces of one word: longest vocabulary match first, `[UNK]` for the whole word
    /// when some part has no match or the word is too long.
    private func wordPiece(_ word: String, into out: inout [Int32]) {
        let bytes = Array(word.utf8)
        // The byte offset of each character, and the end.
        var offsets: [Int] = []
        offsets.reserveCapacity(bytes.count + 1)
        for (i, b) in bytes.enumerated() where b & 0xC0 != 0x80 { offsets.append(i) }
        let count = offsets.count
        offsets.append(bytes.count)
        if count > maxInputCharsPerWord { out.append(unkID); return }
        var pieces: [Int32] = []
        var start = 0
        var key: [UInt8] = []
        while start < count {
            var end = count
            var found: Int32?
            while start < end {
                key.removeAll(keepingCapacity: true)
                if start > 0 { key.append(contentsOf: prefixBytes) }
                key.append(contentsOf: bytes[offsets[start]..<offsets[end]])
                if let id = modelIDs[key] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let id = found else { out.append(unkID); return }
            pieces.append(id)
            start = end
        }
        out.append(contentsOf: pieces)
    }

    /// The text of `ids` as `tokenizers` decodes it: special tokens left out (unless
    /// `skipSpecialTokens` is false), `##` pieces joined to the previous token, other tokens
    /// separated by spaces, and with cleanup, no space before `.`, `?`, `!`, `,` and contractions.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = true) -> String {
        var tokens: [String] = []
        for id in ids where id >= 0 && Int(id) < vocabulary.count {
            if skipSpecialTokens && specialIDs.contains(id) { continue }
            tokens.append(addedText[id] ?? vocabulary[Int(id)])
        }
        guard decodesWordPieces else { return tokens.joined(separator: " ") }
        var out = ""
        for (i, token) in tokens.enumerated() {
            var t = token
            if i != 0 {
                let u = Array(t.utf8)
                if !prefixBytes.isEmpty, u.starts(with: prefixBytes) {
                    t = String(decoding: u[prefixBytes.count...], as: UTF8.self)
                } else {
                    t = " " + t
                }
            }
            if decoderCleanup { t = Self.cleanup(t) }
            out += t
        }
        return out
    }

    /// The WordPiece decoder's clean-up of one (space-prefixed) token.
    static func cleanup(_ s: String) -> String {
        var bytes = Array(s.utf8)
        for (from, to) in cleanupRules { bytes = replace(bytes, from, to) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The clean-up replacements, in the order `tokenizers` applies them, as UTF-8.
    private static let cleanupRules: [([UInt8], [UInt8])] = [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
        (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ].map { (Array($0.0.utf8), Array($0.1.utf8)) }

    /// `bytes` with every non-overlapping occurrence of `from` (left to right) replaced by `to`.
    private static func replace(_ bytes: [UInt8], _ from: [UInt8], _ to: [UInt8]) -> [UInt8] {
        guard bytes.count >= from.count else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if i + from.count <= bytes.count && bytes[i..<(i + from.count)].elementsEqual(from) {
                out.append(contentsOf: to)
                i += from.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }
}
