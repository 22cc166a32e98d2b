/// One cell of a `.prune` script split at its `#%%` lines.
public struct ScriptCell: Equatable, Sendable {
    /// What a cell holds.
    public enum Kind: String, Sendable {
        /// PruneLang code, run in order.
        case code
        /// Markdown text (a notebook's prose; not run).
        case markdown
    }

    /// Code or markdown.
    public var kind: Kind
    /// The cell's text: code as written, or markdown with the comment marks taken off.
    public var source: String
    /// The script line (1-based) the cell's text starts on, so diagnostics point into the script.
    public var line: Int

    /// A cell of `kind` holding `source`, starting on script line `line`.
    public init(_ kind: Kind, _ source: String, line: Int) {
        self.kind = kind
        self.source = source
        self.line = line
    }
}

/// The one rule for splitting a `.prune` script into notebook cells. `prunelang run` runs the code
/// cells it gives; `prunelang cells` prints them as JSON for scripts/prune-to-ipynb, which makes the
/// notebook from them. The rule, line by line (lines end at "\n"; a "\r" before it is dropped):
///
/// - A line that starts with `#%%` ends the cell before it and starts a code cell. Text after the
///   mark (`#%% The model`) becomes a markdown cell placed before that code cell.
/// - A line that starts with `#%% [markdown]` starts a markdown cell instead: its `# `-prefixed
///   lines become the text (a bare `#` is an empty line; other lines are kept as they are).
/// - The lines before the first `#%%` are a markdown cell when each is a comment (`#…`) or blank,
///   and a code cell otherwise.
/// - Blank lines at the start and end of a cell are dropped, and a cell left empty is dropped.
///
/// The mark counts only at the start of a line, wherever that line is (inside a string literal
/// too); an indented `#%%` is an ordinary comment.
public enum ScriptCells {
    /// The cells of `text`, in order.
    public static func split(_ text: String) -> [ScriptCell] {
        var cells: [ScriptCell] = []
        enum Pending { case preamble, code, markdown }
        var kind = Pending.preamble
        var lines: [(text: Substring, number: Int)] = []

        func isBlank(_ s: Substring) -> Bool { s.allSatisfy(\.isWhitespace) }
        func flush() {
            var body = lines[...]
            while let last = body.last, isBlank(last.text) { body = body.dropLast() }
            while let first = body.first, isBlank(first.text) { body = body.dropFirst() }
            guard let first = body.first else { return }
            let texts = body.map { $0.text }
            let prose = kind == .markdown
                || (kind == .preamble && texts.allSatisfy { $0.hasPrefix("#") || isBlank($0) })
            if prose {
                cells.append(ScriptCell(.markdown, uncommented(texts), line: first.number))
            } else {
                cells.append(ScriptCell(.code, texts.joined(separator: "\n"), line: first.number))
            }
        }

        for (i, line) in lineTexts(text).enumerated() {
            guard line.hasPrefix("#%%") else {
                lines.append((line, i + 1))
                continue
            }
            flush()
            lines = []
            let rest = line.dropFirst(3).trimmingWhitespace()
            if rest.hasPrefix("[markdown]") {
                kind = .markdown
                continue
            }
            if !rest.isEmpty { cells.append(ScriptCell(.markdown, String(rest), line: i + 1)) }
            kind = .code
        }
        flush()
        return cells
    }

    /// The lines of `text`: split at "\n", each without a "\r" at its end. (Swift's `Character`
    /// holds "\r\n" as one, so the split is done on Unicode scalars.)
    static func lineTexts(_ text: String) -> [Substring] {
        text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { scalars in
            var line = Substring(scalars)
            if line.unicodeScalars.last == "\r" { line = Substring(line.unicodeScalars.dropLast()) }
            return line
        }
    }

    /// Markdown from comment lines: `# ` taken off the front, a bare `#` an empty line, other lines
    /// kept; newlines at either end dropped.
    static func uncommented(_ lines: [Substring]) -> String {
        let text = lines.map { line -> Substring in
            if line.hasPrefix("# ") { return line.dropFirst(2) }
            if line.trimmingWhitespace() == "#" { return "" }
            return line
        }.joined(separator: "\n")
        var scalars = Substring(text).unicodeScalars[...]
        while scalars.first == "\n" { scalars = scalars.dropFirst() }
        while scalars.last == "\n" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}

fileprivate extension Substring {
    /// The text without white space at either end.
    func trimmingWhitespace() -> Substring {
        var s = self[...]
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return s
    }
}
