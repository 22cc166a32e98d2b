/// A token `tokenizers` matches in text before the model sees it (an entry of tokenizer.json's
/// `added_tokens`, such as `[CLS]` or `[MASK]`): occurrences become its id directly.
public struct AddedToken: Sendable, Equatable {
    /// Its id.
    public var id: Int32
    /// The text it matches.
    public var content: String
    /// Whether it is a special token (left out of decoded text by default).
    public var special: Bool
    /// Whether it matches only as a whole word (not next to a letter, digit or `_`).
    public var singleWord: Bool
    /// Whether a match also takes the whitespace on its left.
    public var lstrip: Bool
    /// Whether a match also takes the whitespace on its right.
    public var rstrip: Bool
    /// Whether it is matched in normalized text rather than in the raw input.
    public var normalized: Bool

    /// An added token; the defaults are those of BERT's special tokens.
    public init(id: Int32, content: String, special: Bool = true, singleWord: Bool = false,
                lstrip: Bool = false, rstrip: Bool = false, normalized: Bool = false) {
        self.id = id
        self.content = content
        self.special = special
        self.singleWord = singleWord
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized
    }
}

/// Splits text at added tokens, leftmost match first and the longest one at a place (the
/// leftmost-longest matching `tokenizers` does).
struct AddedTokenSplitter: Sendable {
    /// The tokens, longest content first.
    private let tokens: [(utf8: [UInt8], token: AddedToken)]

    /// A splitter over `tokens` (empty contents are ignored).
    init(_ tokens: [AddedToken]) {
        self.tokens = tokens.filter { !$0.content.isEmpty }
            .map { (Array($0.content.utf8), $0) }
            .sorted { $0.utf8.count != $1.utf8.count ? $0.utf8.count > $1.utf8.count : $0.token.id < $1.token.id }
    }

    /// Whether there is nothing to match.
    var isEmpty: Bool { tokens.isEmpty }

    /// A piece of split text.
    enum Piece: Equatable {
        case text(String)
        case token(Int32)
    }

    /// `text` cut at every match, in order.
    func split(_ text: String) -> [Piece] {
        if tokens.isEmpty { return text.isEmpty ? [] : [.text(text)] }
        let u = Array(text.utf8)
        var pieces: [Piece] = []
        var textStart = 0
        var i = 0
        while i < u.count {
            guard let (t, len) = longestMatch(u, at: i) else { i += 1; continue }
            var lo = i, hi = i + len
            if t.singleWord && !isWordBoundary(u, lo..<hi) { i += 1; continue }
            if t.lstrip { while lo > textStart && isSpace(u[lo - 1]) { lo -= 1 } }
            if t.rstrip { while hi < u.count && isSpace(u[hi]) { hi += 1 } }
            let range = lo..<hi
            if range.lowerBound > textStart {
                pieces.append(.text(String(decoding: u[textStart..<range.lowerBound], as: UTF8.self)))
            }
            pieces.append(.token(t.id))
            textStart = range.upperBound
            i = range.upperBound
        }
        if textStart < u.count { pieces.append(.text(String(decoding: u[textStart...], as: UTF8.self))) }
        return pieces
    }

    /// The longest token whose content starts at byte `i` (only at character starts).
    private func longestMatch(_ u: [UInt8], at i: Int) -> (AddedToken, Int)? {
        if u[i] & 0xC0 == 0x80 { return nil }
        for (pattern, token) in tokens where pattern.count <= u.count - i {
            var k = 0
            while k < pattern.count && u[i + k] == pattern[k] { k += 1 }
            if k == pattern.count { return (token, k) }
        }
        return nil
    }

    /// ASCII whitespace, the whitespace `lstrip`/`rstrip` take.
    private func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }

    /// Whether the match `range` is not glued to a word character on either side.
    private func isWordBoundary(_ u: [UInt8], _ range: Range<Int>) -> Bool {
        func isWord(_ s: Unicode.Scalar?) -> Bool {
            guard let s else { return false }
            return s == "_" || s.properties.isAlphabetic || s.properties.numericType != nil
        }
        let before = String(decoding: u[..<range.lowerBound], as: UTF8.self).unicodeScalars.last
        let after = String(decoding: u[range.upperBound...], as: UTF8.self).unicodeScalars.first
        return !isWord(before) && !isWord(after)
    }
}
