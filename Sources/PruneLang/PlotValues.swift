import Plots

/// A figure as a PruneLang value: shown as a text plot at a prompt (`text/plain`) and as SVG in a
/// notebook (`image/svg+xml`). The REPL may render `figure` itself at the terminal's size.
public final class FigureObject: HostObject {
    /// The figure.
    public let figure: Figure

    /// Wraps `figure`.
    public init(_ figure: Figure) { self.figure = figure }

    /// "figure".
    public var typeName: String { "figure" }
    /// The members: title, xlabel, ylabel, series (how many), text and svg (renderings).
    public var memberNames: [String] { ["series", "svg", "text", "title", "xlabel", "ylabel"] }

    /// The member `name`.
    public func member(_ name: String) throws -> Value? {
        switch name {
        case "title": return .string(figure.title)
        case "xlabel": return .string(figure.xLabel)
        case "ylabel": return .string(figure.yLabel)
        case "series": return .number(Double(figure.series.count))
        case "text": return .string(figure.text())
        case "svg": return .string(figure.svg())
        default: return nil
        }
    }

    /// The text plot and the SVG.
    public func display() -> MIMEBundle {
        MIMEBundle(text: figure.text(), svg: figure.svg())
    }

    /// `<figure: 2 series, "title">`.
    public var summary: String {
        "<figure: \(figure.series.count) series" + (figure.title.isEmpty ? "" : ", \(Render.quote(figure.title))") + ">"
    }

    /// Help on figures.
    public var helpText: String? {
        "figure: \(figure.series.count) series" + (figure.title.isEmpty ? "" : ", \"\(figure.title)\"")
            + "\n\nCombine figures with plot(a, b, title=...); show one mid-cell with display(f)."
    }
}

/// A table as a PruneLang value: box-drawn text and HTML.
public final class TableObject: HostObject {
    /// The table.
    public let table: Table

    /// Wraps `table`.
    public init(_ table: Table) { self.table = table }

    /// "table".
    public var typeName: String { "table" }
    /// The members: columns (names), rows (count), title, text and html.
    public var memberNames: [String] { ["columns", "html", "rows", "text", "title"] }

    /// The member `name`.
    public func member(_ name: String) throws -> Value? {
        switch name {
        case "columns": return .list(table.columns.map { .string($0.header) })
        case "rows": return .number(Double(table.rows.count))
        case "title": return table.title.map { .string($0) } ?? .none
        case "text": return .string(table.text())
        case "html": return .string(table.html())
        default: return nil
        }
    }

    /// `<table: 3 rows × 2 columns>`.
    public var summary: String { "<table: \(table.rows.count) rows × \(table.columnCount) columns>" }

    /// The box-drawn text and the HTML.
    public func display() -> MIMEBundle { MIMEBundle(text: table.text(), html: table.html()) }
}
