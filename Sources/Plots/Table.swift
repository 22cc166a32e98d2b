import Foundation

/// A table for display: optional title, column headers, rows of cells (text or numbers) and an
/// optional footer (a total row). Rendered as box-drawn text (`text()`) and as HTML (`html()`).
///
/// Numbers are right-aligned and formatted the same way down a column (see `NumberStyle`); text is
/// left-aligned unless the column says otherwise. Rows shorter than the header are padded with
/// empty cells; longer ones are cut to the header's width (or, without headers, to the widest row).
public struct Table: Sendable, Equatable {
    /// One cell.
    public enum Cell: Sendable, Equatable {
        /// Text, shown as is (newlines become spaces in text output).
        case text(String)
        /// A number, formatted by its column's `NumberStyle`.
        case number(Double)
        /// An integer, shown in full.
        case integer(Int)
        /// Nothing.
        case empty
    }

    /// Where a column's cells sit within its width.
    public enum Alignment: String, Sendable, Equatable {
        /// Flush left.
        case left
        /// Flush right.
        case right
        /// Centred.
        case center
    }

    /// How the numbers (`.number` cells) of a column are written.
    public enum NumberStyle: Sendable, Equatable {
        /// Chosen from the column: whole numbers as integers; otherwise the same number of decimals
        /// for every value, the fewest that show each value to four significant digits (at most
        /// four decimals); exponent form when values reach 10⁶ or all non-zero ones are below 10⁻⁴.
        case automatic
        /// This many decimals.
        case fixed(Int)
        /// `%.Ng`-like with this many significant digits.
        case significant(Int)
        /// Multiplied by 100 with this many decimals and a "%" sign.
        case percent(Int)
        /// Whole numbers with thousands separators ("134,515,008").
        case grouped
    }

    /// A column: its header, alignment (nil: numbers right, text left) and number style.
    public struct Column: Sendable, Equatable {
        /// The header text.
        public var header: String
        /// The alignment; nil right-aligns numeric columns and left-aligns the rest.
        public var alignment: Alignment?
        /// How the column's numbers are written.
        public var numberStyle: NumberStyle

        /// A column description.
        public init(_ header: String, alignment: Alignment? = nil, numberStyle: NumberStyle = .automatic) {
            self.header = header
            self.alignment = alignment
            self.numberStyle = numberStyle
        }
    }

    /// The caption above the table (nil or "" for none).
    public var title: String?
    /// The columns; an empty list gives a table without a header row.
    public var columns: [Column]
    /// The body rows.
    public var rows: [[Cell]]
    /// A last row set apart from the body (totals), or nil.
    public var footer: [Cell]?
    /// CSS class of the HTML `<table>`.
    public var className: String

    /// A table from column descriptions and rows.
    public init(title: String? = nil, columns: [Column], rows: [[Cell]], footer: [Cell]? = nil,
                className: String = "prunelang-table") {
        self.title = title
        self.columns = columns
        self.rows = rows
        self.footer = footer
        self.className = className
    }

    /// A table from header names and rows (every column automatic).
    public init(title: String? = nil, headers: [String], rows: [[Cell]], footer: [Cell]? = nil,
                className: String = "prunelang-table") {
        self.init(title: title, columns: headers.map { Column($0) }, rows: rows, footer: footer, className: className)
    }

    /// Number of columns shown: the header count, or the widest row when there are no headers.
    public var columnCount: Int {
        columns.isEmpty ? max(rows.map(\.count).max() ?? 0, footer?.count ?? 0) : columns.count
    }

    /// Every row (body, then footer) as display strings, padded or cut to `columnCount`.
    public func formattedRows() -> (body: [[String]], footer: [String]?) {
        let n = columnCount
        let styles = (0..<n).map { resolvedStyle(column: $0) }
        func format(_ row: [Cell]) -> [String] {
            (0..<n).map { i in
                guard i < row.count else { return "" }
                return Table.format(row[i], styles[i])
            }
        }
        return (rows.map(format), footer.map(format))
    }

    /// The alignment used for column `i`.
    public func alignment(column i: Int) -> Alignment {
        if i < columns.count, let a = columns[i].alignment { return a }
        let cells = (rows + (footer.map { [$0] } ?? [])).compactMap { i < $0.count ? $0[i] : nil }
        let numeric = cells.contains { if case .text = $0 { return false }; if case .empty = $0 { return false }; return true }
        let text = cells.contains { if case .text = $0 { return true }; return false }
        return numeric && !text ? .right : .left
    }

    /// The number style of column `i` with `.automatic` settled from the column's values.
    func resolvedStyle(column i: Int) -> NumberStyle {
        let style = i < columns.count ? columns[i].numberStyle : .automatic
        guard style == .automatic else { return style }
        var values: [Double] = []
        for row in rows + (footer.map { [$0] } ?? []) where i < row.count {
            if case .number(let v) = row[i], v.isFinite { values.append(v) }
        }
        if values.allSatisfy({ $0 == $0.rounded() && abs($0) < 1e15 }) { return .fixed(0) }
        let nonzero = values.filter { $0 != 0 }.map { abs($0) }
        let maxAbs = nonzero.max() ?? 0
        if maxAbs >= 1e6 || (maxAbs > 0 && maxAbs < 1e-4) { return .significant(4) }
        var decimals = 0
        for v in nonzero {
            // the fewest decimals that show v as its four-significant-digit rounding shows it
            let d4 = max(0, min(4, 3 - Int(Foundation.log10(v).rounded(.down))))
            func rounded(_ d: Int) -> Double {
                let p = Foundation.pow(10, Double(d))
                return (v * p).rounded() / p
            }
            let target = rounded(d4)
            var d = 0
            while d < d4 && abs(rounded(d) - target) >= 0.5 * Foundation.pow(10, -Double(d4)) { d += 1 }
            decimals = max(decimals, d)
        }
        return .fixed(decimals)
    }

    /// One cell as text under a settled number style.
    static func format(_ cell: Cell, _ style: NumberStyle) -> String {
        switch cell {
        case .text(let s): return s
        case .integer(let v): return String(v)
        case .empty: return ""
        case .number(let v):
            guard v.isFinite else { return NumberFormatting.compact(v) }
            switch style {
            case .automatic: return NumberFormatting.compact(v)
            case .fixed(let d): return NumberFormatting.fixed(v, decimals: d)
            case .significant(let s): return NumberFormatting.compact(v, significant: s)
            case .percent(let d): return NumberFormatting.fixed(v * 100, decimals: d) + "%"
            case .grouped:
                guard abs(v) < 9e18 else { return NumberFormatting.compact(v, significant: 6) }
                let whole = Int64(v.rounded())
                var digits = String(whole.magnitude)
                var out = ""
                while digits.count > 3 {
                    out = "," + digits.suffix(3) + out
                    digits.removeLast(3)
                }
                return (whole < 0 ? "-" : "") + digits + out
            }
        }
    }
}
