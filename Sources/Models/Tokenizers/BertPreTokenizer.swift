/// BERT's pre-tokenizer as Hugging Face `tokenizers` runs it (`BertPreTokenizer`): split at
/// whitespace (which is dropped), then make every punctuation character a word of its own
/// (ASCII punctuation and Unicode's P* categories).
public struct BertPreTokenizer: Sendable {
    /// A pre-tokenizer (it has no settings).
    public init() {}

    /// The words of (normalized) `text`, in order.
    public func split(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() }
        }
        for s in text.unicodeScalars {
            if s.properties.isWhitespace {
                flush()
            } else if BertCharacters.isPunctuation(s) {
                flush()
                words.append(String(s))
            } else {
                current.append(s)
            }
        }
        flush()
        return words
    }
}
