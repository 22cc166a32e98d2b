/// Draws a `Table` as box-drawn text (┌─┬─┐ … └─┴─┘), or with `+`, `-` and `|` when `ascii`.
/// The title is centred above; the footer is set off by a rule. Cells are padded by one space on
/// each side; wide characters count as two columns; cells wider than `maxColumnWidth` end in "…".
public struct TableTextRenderer: Sendable {
    /// Whether to use ASCII characters only.
    public var ascii: Bool
    /// The widest a cell may be, in columns (at least 3).
    public var maxColumnWidth: Int

    /// A renderer; Unicode box drawing unless `ascii`.
    public init(ascii: Bool = false, maxColumnWidth: Int = 60) {
        self.ascii = ascii
        self.maxColumnWidth = maxColumnWidth
    }

    /// The table as text: lines joined by "\n", no trailing newline.
    public func render(_ table: Table) -> String {
        let n = table.columnCount
        let (body, footer) = table.formattedRows()
        let limit = max(3, maxColumnWidth)
        func clean(_ s: String) -> String {
            DisplayWidth.truncate(s.replacingOccurrences(of: "\r\n", with: " ")
                .replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\t", with: " "), to: limit)
        }
        let headers = table.columns.isEmpty ? nil : (0..<n).map { clean(table.columns[$0].header) }
        let bodyRows = body.map { $0.map(clean) }
        let footerRow = footer.map { $0.map(clean) }
        var widths = [Int](repeating: 1, count: n)
        for row in (headers.map { [$0] } ?? []) + bodyRows + (footerRow.map { [$0] } ?? []) {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], DisplayWidth.of(cell)) }
        }
        let g = ascii ? Array("+++++++++-|") : Array("┌┬┐├┼┤└┴┘─│")
        func rule(_ l: Character, _ m: Character, _ r: Character) -> String {
            String(l) + widths.map { String(repeating: g[9], count: $0 + 2) }.joined(separator: String(m)) + String(r)
        }
        func line(_ cells: [String], header: Bool) -> String {
            var parts: [String] = []
            for (i, cell) in cells.enumerated() {
                let pad = widths[i] - DisplayWidth.of(cell)
                let align = header ? (table.alignment(column: i) == .right ? .right : Table.Alignment.left)
                                   : table.alignment(column: i)
                switch align {
                case .left: parts.append(" " + cell + String(repeating: " ", count: pad) + " ")
                case .right: parts.append(" " + String(repeating: " ", count: pad) + cell + " ")
                case .center:
                    parts.append(" " + String(repeating: " ", count: pad / 2) + cell
                                 + String(repeating: " ", count: pad - pad / 2) + " ")
                }
            }
            return String(g[10]) + parts.joined(separator: String(g[10])) + String(g[10])
        }
        var lines: [String] = []
        if n == 0 {
            if let t = table.title, !t.isEmpty { lines.append(clean(t)) }
            lines.append("(empty table)")
            return lines.joined(separator: "\n")
        }
        let top = rule(g[0], g[1], g[2])
        if let t = table.title, !t.isEmpty {
            let tw = DisplayWidth.of(t), total = DisplayWidth.of(top)
            // The title may be wider than one cell: only flatten it, and cut it at 4 cells' width.
            let flat = DisplayWidth.truncate(t.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
                .replacingOccurrences(of: "\t", with: " "), to: 4 * limit)
            lines.append(String(repeating: " ", count: max(0, (total - tw) / 2)) + flat)
        }
        lines.append(top)
        if let headers {
            lines.append(line(headers, header: true))
            lines.append(rule(g[3], g[4], g[5]))
        }
        for row in bodyRows { lines.append(line(row, header: false)) }
        if let footerRow {
            if !bodyRows.isEmpty || headers != nil { lines.append(rule(g[3], g[4], g[5])) }
            lines.append(line(footerRow, header: false))
        }
        lines.append(rule(g[6], g[7], g[8]))
        return lines.map { l in
            var s = Substring(l)
            while s.hasSuffix(" ") { s = s.dropLast() }
            return String(s)
        }.joined(separator: "\n")
    }
}

extension Table {
    /// The table as box-drawn text (ASCII with `ascii`); see `TableTextRenderer`.
    public func text(ascii: Bool = false) -> String { TableTextRenderer(ascii: ascii).render(self) }

    /// The table as an HTML fragment; see `TableHTMLRenderer`.
    public func html() -> String { TableHTMLRenderer().render(self) }
}
