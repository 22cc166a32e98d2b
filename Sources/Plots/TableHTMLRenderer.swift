/// Draws a `Table` as an HTML fragment: `<table class=…>` with a `<caption>`, `<thead>`, `<tbody>`
/// and `<tfoot>`, every piece of text escaped, and alignment set per cell (numeric cells also get
/// class "num") so the table reads right without a stylesheet.
public struct TableHTMLRenderer: Sendable {
    /// A renderer.
    public init() {}

    /// The table as HTML.
    public func render(_ table: Table) -> String {
        let n = table.columnCount
        let (body, footer) = table.formattedRows()
        func esc(_ s: String) -> String { XMLText.escape(s) }
        func style(_ i: Int) -> String {
            switch table.alignment(column: i) {
            case .left: return " style=\"text-align:left\""
            case .right: return " class=\"num\" style=\"text-align:right\""
            case .center: return " style=\"text-align:center\""
            }
        }
        var out = "<table class=\"\(esc(table.className))\">\n"
        if let t = table.title, !t.isEmpty { out += "<caption>\(esc(t))</caption>\n" }
        if !table.columns.isEmpty {
            out += "<thead><tr>"
            for i in 0..<n { out += "<th\(style(i))>\(esc(table.columns[i].header))</th>" }
            out += "</tr></thead>\n"
        }
        out += "<tbody>\n"
        for row in body {
            out += "<tr>" + row.enumerated().map { "<td\(style($0.offset))>\(esc($0.element))</td>" }.joined() + "</tr>\n"
        }
        out += "</tbody>\n"
        if let footer {
            out += "<tfoot><tr>" + footer.enumerated().map { "<td\(style($0.offset))>\(esc($0.element))</td>" }.joined()
            out += "</tr></tfoot>\n"
        }
        return out + "</table>"
    }
}
