import Foundation
import Numerics

/// A value's representations keyed by MIME type, as Jupyter's display messages carry them.
/// `text/plain` is always present; `text/html`, `image/svg+xml` and `text/markdown` are added
/// where they fit (tables, figures, help).
public struct MIMEBundle: Equatable, Sendable {
    /// The representations: MIME type → content.
    public var data: [String: String]

    /// A bundle with the plain-text form and any others.
    public init(text: String, html: String? = nil, svg: String? = nil, markdown: String? = nil) {
        data = ["text/plain": text]
        if let html { data["text/html"] = html }
        if let svg { data["image/svg+xml"] = svg }
        if let markdown { data["text/markdown"] = markdown }
    }

    /// The plain-text form.
    public var text: String { data["text/plain"] ?? "" }

    /// The representation for `mime`, nil when absent.
    public subscript(mime: String) -> String? {
        get { data[mime] }
        set { data[mime] = newValue }
    }
}

/// A number as a plain decimal: integers without `.0` (up to 10¹⁶), other values in their
/// shortest round-trip form, plain for magnitudes from 1e-7 on and scientific beyond
/// (`1.5e-09`, `2e+20`); `nan`, `inf`, `-inf`.
public func formatNumber(_ x: Double) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    if x == x.rounded(), abs(x) < 1e16 { return String(Int64(x)) }
    let s = "\(x)"
    guard let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }), let exp = Int(s[s.index(after: e)...]) else { return s }
    guard exp < 0, exp >= -7 else { return s }
    var mantissa = String(s[..<e])
    var sign = ""
    if mantissa.hasPrefix("-") { sign = "-"; mantissa.removeFirst() }
    let digits = mantissa.replacingOccurrences(of: ".", with: "")
    return sign + "0." + String(repeating: "0", count: -exp - 1) + digits
}

/// How many significant digits a number shows (REPL, notebooks, `print`, `str`): what a reader
/// needs. The value keeps its full precision; `str(x, digits=17)` shows all of it.
public let displayDigits = 6

/// A number in at most `digits` significant digits: how numbers show in every displayed value
/// (integers in full up to 10¹⁵; `nan`, `inf`, `-inf`).
public func formatShort(_ x: Double, digits: Int = displayDigits) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    // Past `digits` integer digits, the whole part alone says more than a mantissa (5862443, not 5.86244e+06).
    if abs(x) >= pow(10, Double(digits)), abs(x) < 1e15 { return String(Int64(x.rounded())) }
    var s = String(format: "%.\(digits)g", x)
    if s.contains("e") {
        // 1e-05 stays scientific; trim a mantissa's trailing zeros.
        return s
    }
    if s.contains(".") {
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
    }
    return s
}

/// The Double nearest to the shortest decimal that reads back as `f`: so a Float32 0.1 becomes the
/// Double 0.1 rather than 0.10000000149011612 (what a student expects to see).
@inline(__always)
func widen(_ f: Float) -> Double {
    if f == f.rounded(), abs(f) < 1e7 { return Double(f) }
    if !f.isFinite { return Double(f) }
    return Double(f.description) ?? Double(f)
}

/// How values render as text.
enum Render {
    /// Longest vector shown in full at top level; longer ones are cut with `…`.
    static let vectorFull = 12
    /// Longest list shown in full.
    static let listFull = 60
    /// Deepest nesting rendered; deeper parts show as `…`.
    static let maxDepth = 12

    /// The MIME bundle of a value.
    static func bundle(_ v: Value) -> MIMEBundle {
        if case .object(let o) = v { return o.display() }
        return MIMEBundle(text: text(v))
    }

    /// The top-level `text/plain` form of a value.
    static func text(_ v: Value) -> String {
        switch v {
        case .matrix(let m): return matrixText(m)
        case .vector(let xs): return vectorText(xs, full: vectorFull)
        case .object(let o): return o.display().text
        case .record(let r) where r.count > 0:
            let one = inline(v, depth: 0)
            if one.count <= 80 && !one.contains("\n") { return one }
            var lines = ["{"]
            for (k, x) in zip(r.keys, r.values) {
                let shown: String
                switch x {
                case .matrix(let m): shown = "\(m.rows)×\(m.cols) matrix"
                default: shown = inline(x, depth: 1)
                }
                lines.append("  \(fieldName(k)): \(shown.replacingOccurrences(of: "\n", with: "\n  ")),")
            }
            lines.append("}")
            return lines.joined(separator: "\n")
        default: return inline(v, depth: 0)
        }
    }

    /// A field name as written in a record literal: bare when it is an identifier, quoted otherwise.
    static func fieldName(_ k: String) -> String {
        Identifier.isName(k) ? k : quote(k)
    }

    /// A string as a literal with escapes.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
            default:
                if u.value < 0x20 || u.value == 0x7F { out += "\\u{\(String(u.value, radix: 16))}" }
                else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    /// The one-line form used inside lists and records.
    static func inline(_ v: Value, depth: Int) -> String {
        if depth > maxDepth { return "…" }
        switch v {
        case .number(let x): return formatShort(x)
        case .string(let s): return quote(s)
        case .bool(let b): return b ? "true" : "false"
        case .none: return "none"
        case .list(let xs):
            var parts: [String] = []
            if xs.count <= listFull {
                parts = xs.map { inline($0, depth: depth + 1) }
            } else {
                parts = xs.prefix(20).map { inline($0, depth: depth + 1) } + ["…"] + xs.suffix(5).map { inline($0, depth: depth + 1) }
            }
            return "[" + parts.joined(separator: ", ") + "]" + (xs.count > listFull ? " (\(xs.count) items)" : "")
        case .record(let r):
            return "{" + zip(r.keys, r.values).map { "\(fieldName($0)): \(inline($1, depth: depth + 1))" }.joined(separator: ", ") + "}"
        case .range(let r):
            if r.step == 1 { return "\(formatNumber(r.start))..\(formatNumber(r.stop))" }
            return "range(\(formatNumber(r.start)), \(formatNumber(r.stop)), \(formatNumber(r.step)))"
        case .vector(let xs): return vectorText(xs, full: depth == 0 ? vectorFull : 6)
        case .matrix(let m): return "<\(m.rows)×\(m.cols) matrix>"
        case .function(let f): return "fn \(f.signature)"
        case .builtin(let b): return "builtin \(b.signature)"
        case .object(let o): return o.summary
        }
    }

    /// `[1, 2.5, 3]`, cut as `[a, b, c, …, y, z] (n values)` past `full` elements.
    static func vectorText(_ xs: [Double], full: Int) -> String {
        if xs.count <= full { return "[" + xs.map { formatShort($0) }.joined(separator: ", ") + "]" }
        let head = max(1, full / 2), tail = max(1, full / 4)
        return "[" + (xs.prefix(head).map { formatShort($0) } + ["…"] + xs.suffix(tail).map { formatShort($0) })
            .joined(separator: ", ") + "] (\(xs.count) values)"
    }

    /// `r×c matrix` then numpy-style rows, with `…` for the middle rows and columns of big ones.
    static func matrixText(_ m: Matrix) -> String {
        let header = "\(m.rows)×\(m.cols) matrix"
        if m.rows == 0 || m.cols == 0 { return header + "\n[]" }
        let rowIdx: [Int?] = m.rows <= 10 ? Array(0..<m.rows) : Array(0..<4) + [nil] + Array((m.rows - 3)..<m.rows)
        let colIdx: [Int?] = m.cols <= 8 ? Array(0..<m.cols) : Array(0..<3) + [nil] + Array((m.cols - 3)..<m.cols)
        // Format cells, then right-align each column.
        var cells: [[String]] = []
        for ri in rowIdx {
            guard let i = ri else { cells.append([]); continue }
            cells.append(colIdx.map { cj in cj.map { formatShort(Double(m[i, $0])) } ?? "…" })
        }
        var widths = [Int](repeating: 1, count: colIdx.count)
        for row in cells { for (j, c) in row.enumerated() { widths[j] = max(widths[j], c.count) } }
        var lines: [String] = []
        for (k, row) in cells.enumerated() {
            let open = k == 0 ? "[[" : " ["
            let close = k == cells.count - 1 ? "]]" : "],"
            if row.isEmpty { lines.append(" …"); continue }
            let body = row.enumerated().map { j, c in String(repeating: " ", count: widths[j] - c.count) + c }
            lines.append(open + body.joined(separator: ", ") + close)
        }
        return header + "\n" + lines.joined(separator: "\n")
    }

    /// What `print` writes for a value: strings raw, everything else as displayed.
    static func printed(_ v: Value) -> String {
        if case .string(let s) = v { return s }
        return text(v)
    }
}
