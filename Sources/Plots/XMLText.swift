/// Escaping for text placed in XML and HTML (SVG documents, HTML tables).
public enum XMLText {
    /// `text` with `&`, `<`, `>`, `"` and `'` escaped, and the control characters XML 1.0 forbids
    /// (all below U+0020 except tab, newline and carriage return) replaced by U+FFFD, so the result
    /// is safe both as element content and inside a quoted attribute.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
