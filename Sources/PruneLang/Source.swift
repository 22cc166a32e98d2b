import Foundation

/// The text of one cell or script, with its name (shown in diagnostics) and the line number its
/// first line has in a larger file (so a cell cut out of a script reports the script's lines).
public final class SourceText: Sendable {
    /// The name shown in diagnostics, such as `<cell>` or `examples/spectra.prune`.
    public let name: String
    /// The source code.
    public let text: String
    /// The line number of the first line (1 for a whole file).
    public let firstLine: Int
    /// The text as Unicode scalars, which is what the lexer walks and offsets index.
    let scalars: [Unicode.Scalar]
    /// Scalar offsets at which each line starts.
    let lineStarts: [Int]

    /// A source called `name` holding `text`, whose first line is line `firstLine`.
    public init(_ text: String, name: String = "<cell>", firstLine: Int = 1) {
        self.name = name
        self.text = text
        self.firstLine = firstLine
        let scalars = Array(text.unicodeScalars)
        self.scalars = scalars
        var starts = [0]
        for (i, s) in scalars.enumerated() where s == "\n" { starts.append(i + 1) }
        self.lineStarts = starts
    }

    /// The 0-based line index holding scalar offset `offset`.
    func lineIndex(of offset: Int) -> Int {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// The location (line and column, both 1-based, in this file's numbering) of `offset`.
    public func location(of offset: Int) -> Location {
        let clamped = max(0, min(offset, scalars.count))
        let li = lineIndex(of: clamped)
        return Location(line: li + firstLine, column: clamped - lineStarts[li] + 1, offset: clamped)
    }

    /// The text of the line (in this file's numbering) without its newline; empty when out of range.
    public func line(_ number: Int) -> String {
        let li = number - firstLine
        guard li >= 0, li < lineStarts.count else { return "" }
        let start = lineStarts[li]
        var end = li + 1 < lineStarts.count ? lineStarts[li + 1] - 1 : scalars.count
        if end > start, scalars[end - 1] == "\r" { end -= 1 }
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars[start..<max(start, end)])
        return String(s)
    }

    /// The source text between two scalar offsets.
    func slice(_ start: Int, _ end: Int) -> String {
        let a = max(0, min(start, scalars.count)), b = max(a, min(end, scalars.count))
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars[a..<b])
        return String(s)
    }
}

/// A position in a source: line and column (1-based, counted in Unicode scalars) and the offset.
public struct Location: Equatable, Sendable, CustomStringConvertible {
    /// The line number, 1-based (in the file's numbering).
    public let line: Int
    /// The column, 1-based, in Unicode scalars.
    public let column: Int
    /// The scalar offset from the start of the source.
    public let offset: Int

    /// A location from its parts.
    public init(line: Int, column: Int, offset: Int) {
        self.line = line
        self.column = column
        self.offset = offset
    }

    public var description: String { "\(line):\(column)" }
}

/// A range of a source, half-open in scalar offsets: what a token, a node or a diagnostic covers.
/// A span does not keep its source alive (spans are copied at every step of evaluation, and
/// reference counting them would cost more than the rest of a loop iteration): the interpreter
/// keeps every cell's source for its lifetime, and `Diagnostic` and `Function` hold theirs.
public struct Span: @unchecked Sendable, CustomStringConvertible {
    /// The source the offsets refer to.
    public unowned(unsafe) let source: SourceText
    /// The first scalar offset covered.
    public let start: Int
    /// One past the last scalar offset covered.
    public let end: Int

    /// A span of `source` from `start` up to (not including) `end`.
    public init(source: SourceText, start: Int, end: Int) {
        self.source = source
        self.start = start
        self.end = max(start, end)
    }

    /// Where the span starts.
    public var location: Location { source.location(of: start) }
    /// The line the span starts on.
    public var line: Int { location.line }
    /// The column the span starts at.
    public var column: Int { location.column }
    /// How many scalars the span covers (at least 1 for display).
    public var length: Int { max(1, end - start) }
    /// The source text the span covers.
    public var text: String { source.slice(start, end) }

    /// The smallest span covering both.
    public func to(_ other: Span) -> Span {
        Span(source: source, start: min(start, other.start), end: max(end, other.end))
    }

    public var description: String { "\(source.name):\(location)" }
}
