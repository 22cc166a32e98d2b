/// One character cell of rendered text with an optional colour.
struct TextCell: Equatable {
    var char: Character = " "
    var color: Color? = nil
}

/// A line of coloured characters that becomes plain text or text with ANSI colour codes.
struct StyledLine {
    var cells: [TextCell] = []

    /// Appends `text`, every character in `color`.
    mutating func append(_ text: String, color: Color? = nil) {
        for ch in text { cells.append(TextCell(char: ch, color: color)) }
    }

    /// Appends cells.
    mutating func append(_ more: [TextCell]) { cells += more }

    /// Pads with spaces up to `width` cells (wide characters count as two).
    mutating func pad(to width: Int) {
        let w = DisplayWidth.of(cells.map { String($0.char) }.joined())
        if w < width { append(String(repeating: " ", count: width - w)) }
    }

    /// Display width of the line so far.
    var width: Int { DisplayWidth.of(cells.map { String($0.char) }.joined()) }

    /// The text: with `ESC[38;5;Nm` … `ESC[0m` around coloured runs when `ansi`, and without
    /// trailing spaces.
    func render(ansi: Bool) -> String {
        var end = cells.count
        while end > 0 && cells[end - 1].char == " " { end -= 1 }
        var out = ""
        var current: Int? = nil
        for cell in cells[0..<end] {
            // a space looks the same in any colour: it keeps the current one
            let code = cell.color?.xterm256
            if ansi && cell.char != " " && code != current {
                if current != nil { out += "\u{1B}[0m" }
                if let code { out += "\u{1B}[38;5;\(code)m" }
                current = code
            }
            out.append(cell.char)
        }
        if ansi && current != nil { out += "\u{1B}[0m" }
        return out
    }
}

/// How many terminal columns text takes: East Asian wide and fullwidth characters (and most
/// emoji) take two, combining marks and zero-width characters none, ANSI colour codes none.
public enum DisplayWidth {
    /// The display width of `text` in terminal columns.
    public static func of(_ text: String) -> Int {
        var width = 0
        var inEscape = false
        for scalar in text.unicodeScalars {
            if inEscape {
                if (0x40...0x7E).contains(scalar.value) && scalar != "[" { inEscape = false }
                continue
            }
            if scalar == "\u{1B}" { inEscape = true; continue }
            width += of(scalar)
        }
        return width
    }

    /// The display width of one Unicode scalar (0, 1 or 2).
    public static func of(_ s: Unicode.Scalar) -> Int {
        let v = s.value
        if v < 0x20 || (0x7F..<0xA0).contains(v) { return 0 }
        switch s.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if (0xFE00...0xFE0F).contains(v) || (0x200B...0x200F).contains(v) { return 0 }
        let wide: [ClosedRange<UInt32>] = [
            0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
            0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60,
            0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD,
        ]
        return wide.contains { $0.contains(v) } ? 2 : 1
    }

    /// `text` cut to at most `width` columns, ending in "…" when cut.
    public static func truncate(_ text: String, to width: Int) -> String {
        guard of(text) > width else { return text }
        guard width > 0 else { return "" }
        var out = ""
        var w = 0
        for ch in text {
            let cw = of(String(ch))
            if w + cw > width - 1 { break }
            out.append(ch)
            w += cw
        }
        return out + "…"
    }
}
