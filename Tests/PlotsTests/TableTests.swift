import Testing
@testable import Plots

/// Tables as box-drawn text (golden files) and as HTML (well-formed, escaped).
@Suite("Tables")
struct TableTests {
    static func compare() -> Table {
        Table(title: "SmolLM2-135M, 20% pruned",
              columns: [Table.Column("method"), Table.Column("params", numberStyle: .grouped),
                        Table.Column("sparsity", numberStyle: .percent(1)), Table.Column("ppl"),
                        Table.Column("note", alignment: .center)],
              rows: [[.text("dense"), .number(134_515_008), .number(0), .number(18.432), .text("—")],
                     [.text("magnitude"), .number(107_612_006), .number(0.2), .number(25.1), .text("2:4")],
                     [.text("prunenet"), .number(112_001_536), .number(0.1673), .number(21.75), .empty],
                     [.text("slicegpt")]],
              footer: [.text("total"), .number(354_128_550), .empty, .number(.nan), .text("")])
    }

    @Test func textGolden() {
        expectGolden(Self.compare().text(), "table")
        expectGolden(Self.compare().text(ascii: true), "table_ascii")
    }

    @Test func automaticNumberFormatsAreConsistentPerColumn() {
        let t = Table(headers: ["a", "b", "c", "d"],
                      rows: [[.number(0.5), .number(3), .number(0.0123), .number(2.5e7)],
                             [.number(12.25), .number(-40), .number(0.456), .number(1)],
                             [.number(100), .integer(7), .number(1), .number(3.25)]])
        let (body, _) = t.formattedRows()
        #expect(body.map { $0[0] } == ["0.50", "12.25", "100.00"])
        #expect(body.map { $0[1] } == ["3", "-40", "7"])
        #expect(body.map { $0[2] } == ["0.0123", "0.4560", "1.0000"])
        #expect(body.map { $0[3] } == ["2.5e7", "1", "3.25"])
        #expect(t.alignment(column: 0) == .right)
        let text = t.text()
        // numbers right-aligned: the column's right edges line up
        let rows = text.split(separator: "\n").filter { $0.hasPrefix("│") }
        let ends = rows.map { row in row.firstIndex(of: "│").map { row.distance(from: row.startIndex, to: $0) } }
        #expect(Set(ends).count == 1)
        #expect(text.contains("│  12.25 │"))
    }

    @Test func htmlIsWellFormedAndEscaped() {
        var t = Self.compare()
        t.rows.append([.text("<b>bold</b> & \"quoted\" 'x'"), .number(1), .number(0.5), .number(3), .text("a\u{01}b")])
        t.className = "cmp \"table\""
        let html = t.html()
        let parsed = parseXML(html)
        #expect(parsed.ok, "\(parsed.error ?? "")")
        #expect(parsed.elements.first == "table")
        #expect(parsed.elements.contains("thead") && parsed.elements.contains("tbody") && parsed.elements.contains("tfoot"))
        #expect(parsed.elements.contains("caption"))
        #expect(!html.contains("<b>"))
        #expect(html.contains("&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; &#39;x&#39;"))
        #expect(parsed.text.contains("<b>bold</b> & \"quoted\" 'x'"))
        #expect(parsed.attributes.contains { $0.element == "table" && $0.name == "class" && $0.value == "cmp \"table\"" })
        #expect(html.contains("<td class=\"num\" style=\"text-align:right\">134,515,008</td>"))
        #expect(html.contains("<th style=\"text-align:left\">method</th>"))
        #expect(parsed.elements.filter { $0 == "tr" }.count == 1 + 5 + 1)
    }

    @Test func oddTables() {
        let empty = Table(headers: [], rows: [])
        #expect(empty.text() == "(empty table)")
        #expect(parseXML(empty.html()).ok)
        let headerOnly = Table(title: "t", headers: ["x"], rows: [])
        #expect(headerOnly.text().contains("│ x │"))
        let noHeaders = Table(headers: [], rows: [[.text("a")], [.text("b"), .number(2.5)]])
        #expect(noHeaders.columnCount == 2)
        #expect(noHeaders.text().contains("│ b │ 2.5 │"))
        #expect(parseXML(noHeaders.html()).ok)
        let wide = Table(headers: ["名前", "n"], rows: [[.text("長い名前"), .integer(1)], [.text("a\nb"), .integer(22)]])
        let lines = wide.text().split(separator: "\n")
        #expect(Set(lines.map { DisplayWidth.of(String($0)) }).count == 1)
        #expect(wide.text().contains("│ a b      │"))
        let long = Table(headers: ["x"], rows: [[.text(String(repeating: "y", count: 500))]])
        #expect(long.text().split(separator: "\n").allSatisfy { DisplayWidth.of(String($0)) <= 64 })
        #expect(TableTextRenderer(maxColumnWidth: 0).render(long).contains("yy…"))
    }

    @Test func displayWidth() {
        #expect(DisplayWidth.of("abc") == 3)
        #expect(DisplayWidth.of("長い") == 4)
        #expect(DisplayWidth.of("e\u{301}") == 1)
        #expect(DisplayWidth.of("\u{1B}[38;5;31mab\u{1B}[0m") == 2)
        #expect(DisplayWidth.truncate("abcdef", to: 4) == "abc…")
        #expect(DisplayWidth.truncate("ab", to: 4) == "ab")
    }
}
