/// A user error with where it happened: the kind, the message, the span, and for runtime errors
/// the calls that led there. `render()` draws it as a compiler would, with the source line and a
/// caret under the span.
public struct Diagnostic: Error, Sendable, CustomStringConvertible {
    /// What went wrong, broadly.
    public enum Kind: String, Sendable {
        /// The code does not parse.
        case syntax
        /// A name is not defined (or a member/field does not exist).
        case name
        /// A value has the wrong type for an operation or argument.
        case type
        /// A value has the right type but is out of range or otherwise invalid.
        case value
        /// Any other failure while running (a limit, a numerical routine failing).
        case runtime
        /// The cell was interrupted (Ctrl-C, a kernel interrupt).
        case interrupted
    }

    /// What went wrong, broadly.
    public let kind: Kind
    /// The message, without location.
    public let message: String
    /// Where it happened; nil when the place is unknown.
    public let span: Span?
    /// The call sites that led to the error, innermost first (for errors in user functions).
    public private(set) var trace: [Span]
    /// The sources the spans point into, kept alive with the diagnostic.
    private let sources: [SourceText]

    /// A diagnostic of `kind` with `message` at `span`.
    public init(_ kind: Kind, _ message: String, span: Span?, trace: [Span] = []) {
        self.kind = kind
        self.message = message
        self.span = span
        self.trace = trace
        var sources: [SourceText] = []
        for s in (span.map { [$0] } ?? []) + trace where !sources.contains(where: { $0 === s.source }) { sources.append(s.source) }
        self.sources = sources
    }

    /// Line number of the span's start (0 when unknown).
    public var line: Int { span?.line ?? 0 }
    /// Column of the span's start, 1-based (0 when unknown).
    public var column: Int { span?.column ?? 0 }
    /// The span's length in scalars, at least 1 (0 when unknown).
    public var length: Int { span?.length ?? 0 }

    /// `file:line:col: error: message`, then the source line and a caret `^~~~` under the span
    /// (cut at the end of the first line), then one `called from` line per call in the trace.
    public func render() -> String {
        let label = kind == .interrupted ? "interrupted" : "error"
        guard let span else { return "\(label): \(message)" }
        let loc = span.location
        var out = "\(span.source.name):\(loc.line):\(loc.column): \(label): \(message)"
        let lineText = span.source.line(loc.line)
        if !lineText.isEmpty || loc.column == 1 {
            // Tabs become single spaces so the caret lines up in a terminal.
            let shown = String(String.UnicodeScalarView(lineText.unicodeScalars.map { $0 == "\t" ? " " : $0 }))
            let lineLength = lineText.unicodeScalars.count
            let available = max(1, lineLength - (loc.column - 1))
            let width = max(1, min(span.length, available))
            out += "\n" + shown + "\n" + String(repeating: " ", count: loc.column - 1) + "^" + String(repeating: "~", count: width - 1)
        }
        // One line per call site, repeats collapsed ("(×999)"), the middle of long traces elided.
        var lines: [String] = []
        var k = 0
        while k < trace.count {
            var n = 1
            while k + n < trace.count, trace[k + n].start == trace[k].start, trace[k + n].source === trace[k].source { n += 1 }
            lines.append("  called from \(trace[k].source.name):\(trace[k].location)" + (n > 1 ? " (×\(n))" : ""))
            k += n
        }
        if lines.count > 10 {
            lines = Array(lines.prefix(5)) + ["  … \(lines.count - 9) more"] + Array(lines.suffix(4))
        }
        for l in lines { out += "\n" + l }
        return out
    }

    public var description: String { render() }
}

/// An error raised while evaluating: like `Diagnostic` but the span may be filled in later by
/// the evaluator (a builtin throws without knowing where its call is).
struct LangError: Error {
    var kind: Diagnostic.Kind
    var message: String
    var span: Span?
    var trace: [Span] = []

    init(_ kind: Diagnostic.Kind, _ message: String, _ span: Span? = nil) {
        self.kind = kind
        self.message = message
        self.span = span
    }

    var diagnostic: Diagnostic { Diagnostic(kind, message, span: span, trace: trace) }
}

/// The closest of `candidates` to `name` by edit distance, when close enough to suggest.
func closestName(to name: String, in candidates: some Sequence<String>) -> String? {
    let target = Array(name.lowercased().unicodeScalars)
    guard !target.isEmpty else { return nil }
    var best: (String, Int)?
    for c in candidates where c != name {
        let cs = Array(c.lowercased().unicodeScalars)
        if abs(cs.count - target.count) > 3 { continue }
        let d = editDistance(target, cs)
        let limit = max(1, min(3, target.count / 3 + 1))
        if d <= limit, best == nil || d < best!.1 || (d == best!.1 && c < best!.0) { best = (c, d) }
    }
    return best?.0
}

/// " (did you mean 'x'?)" or "".
func didYouMean(_ name: String, _ candidates: some Sequence<String>) -> String {
    if let c = closestName(to: name, in: candidates) { return "; did you mean '\(c)'?" }
    return ""
}

/// Levenshtein distance with adjacent transpositions counted as one edit.
func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev2 = [Int](repeating: 0, count: b.count + 1)
    var prev = Array(0...b.count)
    var cur = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            var v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { v = min(v, prev2[j - 2] + 1) }
            cur[j] = v
        }
        prev2 = prev
        prev = cur
    }
    return prev[b.count]
}
