/// Word-wrapping of help text for a terminal: lines longer than the width break at spaces, never
/// inside a word; a continuation keeps the line's indentation (plus two spaces under a
/// `name (type): note` parameter line). Code lines (an example, indented under `Example:`) are
/// left as written.
enum TextWrapping {
    /// Columns help text is wrapped to.
    static let width = 80

    /// `text` with each prose line wrapped to `width` columns.
    static func wrap(_ text: String, width: Int = width) -> String {
        var out: [String] = []
        var inExample = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("Example:") { inExample = true; out.append(line); continue }
            if inExample, line.hasPrefix("  ") || line.isEmpty { out.append(line); continue }
            inExample = false
            out.append(contentsOf: wrapLine(line, width: width))
        }
        return out.joined(separator: "\n")
    }

    /// One line broken at spaces into lines of at most `width` columns (a single word longer than
    /// that stays whole on its own line).
    static func wrapLine(_ line: String, width: Int) -> [String] {
        guard line.count > width else { return [line] }
        let indent = String(line.prefix { $0 == " " })
        let hanging = indent + (indent.isEmpty ? "" : "  ")
        var lines: [String] = []
        var current = indent
        for word in line.dropFirst(indent.count).split(separator: " ", omittingEmptySubsequences: true) {
            let lead = lines.isEmpty ? indent : hanging
            if current.count > lead.count, current.count + 1 + word.count > width {
                lines.append(current)
                current = hanging + word
            } else {
                current += (current.count > lead.count ? " " : "") + word
            }
        }
        lines.append(current)
        return lines
    }
}
