import Foundation

/// BERT's text normalizer as Hugging Face `tokenizers` runs it (`BertNormalizer`), in its order:
/// clean the text (drop NUL, U+FFFD and control/format/private-use characters, turn
/// every whitespace character into a space), put spaces around CJK ideographs, strip accents
/// (canonical decomposition, then drop nonspacing marks), lowercase (each character's full
/// lowercase mapping, without context).
public struct BertNormalizer: Sendable, Equatable {
    /// Whether to drop control characters and turn whitespace into spaces.
    public var cleanText: Bool
    /// Whether to put spaces around CJK ideographs, so each becomes a word.
    public var handleChineseChars: Bool
    /// Whether to decompose (NFD) and drop nonspacing marks.
    public var stripAccents: Bool
    /// Whether to lowercase.
    public var lowercase: Bool

    /// A normalizer with the given steps; `stripAccents: nil` follows `lowercase`, as in
    /// `tokenizers` (an uncased BERT strips accents, a cased one keeps them).
    public init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil,
                lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents ?? lowercase
        self.lowercase = lowercase
    }

    /// `text` normalized.
    public func normalize(_ text: String) -> String {
        // Clean-up and CJK spacing, scalar by scalar (ASCII takes a short path).
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.utf8.count)
        var allASCII = true
        for s in text.unicodeScalars {
            let v = s.value
            if v < 0x80 {
                if cleanText {
                    if v == 0x09 || v == 0x0A || v == 0x0D || v == 0x20 { scalars.append(" "); continue }
                    if v < 0x20 || v == 0x7F { continue }      // NUL and the other C0 controls, DEL
                }
                scalars.append(s)
                continue
            }
            allASCII = false
            if cleanText {
                if v == 0xFFFD || BertCharacters.isControl(s) { continue }
                if BertCharacters.isWhitespace(s) { scalars.append(" "); continue }
            }
            if handleChineseChars && BertCharacters.isChinese(s) {
                scalars.append(" "); scalars.append(s); scalars.append(" ")
            } else {
                scalars.append(s)
            }
        }
        if stripAccents && !allASCII {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars)
            let decomposed = String(view).decomposedStringWithCanonicalMapping
            scalars.removeAll(keepingCapacity: true)
            for s in decomposed.unicodeScalars where s.value < 0x80 || !BertCharacters.isNonspacingMark(s) {
                scalars.append(s)
            }
        }
        var out = String.UnicodeScalarView()
        out.reserveCapacity(scalars.count)
        for s in scalars {
            if !lowercase {
                out.append(s)
            } else if s.value < 0x80 {
                out.append(s.value >= 0x41 && s.value <= 0x5A ? Unicode.Scalar(UInt8(s.value + 32)) : s)
            } else {
                out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return String(out)
    }
}

/// The character classes BERT's normalizer and pre-tokenizer use, as `tokenizers` computes them.
/// Its general categories come from the `unicode_categories` crate, whose tables are Unicode 8.0
/// (checked against tokenizers 0.23: U+2E44, a 9.0 punctuation mark, does not split a word; the
/// 8.0 mark U+1DA87 does) and list no unassigned code points: a character assigned after 8.0 or
/// not at all is neither control, punctuation nor mark, so it survives clean-up as a letter
/// would. Whitespace and case mappings are Rust's own, i.e. current Unicode.
enum BertCharacters {
    /// The Unicode version of the `unicode_categories` tables.
    static let categoryVersion = (major: 8, minor: 0)

    /// The general category `tokenizers` sees for `s`.
    static func category(_ s: Unicode.Scalar) -> Unicode.GeneralCategory {
        guard let age = s.properties.age else { return .unassigned }
        if age.major > categoryVersion.major || (age.major == categoryVersion.major && age.minor > categoryVersion.minor) {
            return .unassigned
        }
        return s.properties.generalCategory
    }

    /// Tab, newline, carriage return and the White_Space property.
    static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        s == "\t" || s == "\n" || s == "\r" || s.properties.isWhitespace
    }

    /// Category C as the crate lists it (control, format, private use, surrogate; no unassigned
    /// code points), except tab, newline and carriage return, which count as whitespace.
    static func isControl(_ s: Unicode.Scalar) -> Bool {
        if s == "\t" || s == "\n" || s == "\r" { return false }
        switch category(s) {
        case .control, .format, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// A CJK ideograph (the blocks BERT spaces out): U+4E00…9FFF, U+3400…4DBF, U+20000…2A6DF,
    /// U+2A700…2B73F, U+2B740…2B81F, U+2B920…2CEAF, U+F900…FAFF, U+2F800…2FA1F.
    static func isChinese(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }

    /// General category Mn.
    static func isNonspacingMark(_ s: Unicode.Scalar) -> Bool { category(s) == .nonspacingMark }

    /// ASCII punctuation (`!`…`/`, `:`…`@`, `[`…`` ` ``, `{`…`~`) or general category P*.
    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E: return true
        default: break
        }
        switch category(s) {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }
}
