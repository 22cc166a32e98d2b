import Foundation
import Plots

/// The outcome of a pruning study on small networks (`sparsity_sweep`, `lottery`, `distill_study`,
/// `structure_study`) as a language value: every run as a row, the mean and spread over seeds per
/// point, and the figures that make the study's point. It shows as its main figure and the summary
/// table; `.rows` gives the runs as records for a student's own analysis.
public final class StudyObject: HostObject {
    /// One measured point of a series: its x, its y, and the seed that gave it.
    public struct Point: Sendable {
        /// The series (a line of the figure, e.g. "iterative").
        public var series: String
        /// Where on the x axis.
        public var x: Double
        /// The measurement.
        public var y: Double
        /// The seed of the run.
        public var seed: UInt64
    }

    /// What the study was.
    public let title: String
    /// Every run, one row each.
    public let runs: [Record]
    /// The mean, standard deviation and count of every (series, x) over seeds.
    public let summaryTable: Table
    /// The main figure first, then any others, by name.
    public let figures: [(name: String, figure: Figure)]
    /// Wall-clock seconds the study took.
    public let seconds: Double

    /// A study: `runs` as records, the main figure's `points` (summarised by series and x, seeds as
    /// faint points around each mean line), and further figures.
    public init(title: String, runs: [Record], points: [Point], xLabel: String, yLabel: String, xScale: Scale = .linear,
                xHeader: String, extraFigures: [(name: String, figure: Figure)] = [], seconds: Double) {
        self.title = title
        self.runs = runs
        self.seconds = seconds
        let (figure, table) = Self.summarise(points, title: title, xLabel: xLabel, yLabel: yLabel, xScale: xScale, xHeader: xHeader)
        summaryTable = table
        figures = [("figure", figure)] + extraFigures
    }

    /// The mean line of every series over seeds (with each seed's points, faint, in the series'
    /// colour) and a table of mean, standard deviation and runs per series and x.
    public static func summarise(_ points: [Point], title: String, xLabel: String, yLabel: String, xScale: Scale = .linear,
                                 xHeader: String) -> (Figure, Table) {
        var order = [String]()
        for p in points where !order.contains(p.series) { order.append(p.series) }
        var figure = Figure(title: title, xLabel: xLabel, yLabel: yLabel, xScale: xScale)
        var rows = [[Table.Cell]]()
        for (i, name) in order.enumerated() {
            let mine = points.filter { $0.series == name }
            var xs = [Double]()
            for p in mine where !xs.contains(p.x) { xs.append(p.x) }
            xs.sort()
            let color = Palette.color(i)
            var means = [Double]()
            for x in xs {
                let ys = mine.filter { $0.x == x }.map(\.y)
                let mean = ys.reduce(0, +) / Double(ys.count)
                let sd = ys.count > 1 ? (ys.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(ys.count - 1)).squareRoot() : 0
                means.append(mean)
                rows.append([.text(name), .number(x), .number(mean), .number(sd), .integer(ys.count)])
            }
            if Set(mine.map(\.seed)).count > 1 {
                figure.add(.scatter(x: mine.map(\.x), y: mine.map(\.y), color: color.mixed(with: Color(rgb: 0xffffff), 0.55)))
            }
            figure.add(.line(x: xs, y: means, label: name, color: color))
        }
        let table = Table(title: title, headers: ["series", xHeader, "mean", "sd", "runs"], rows: rows)
        return (figure, table)
    }

    /// "study".
    public var typeName: String { "study" }
    /// Members of a study.
    public var memberNames: [String] { (["rows", "seconds", "summary", "title"] + figures.map(\.name)).sorted() }

    /// The member `name`.
    public func member(_ name: String) throws -> Value? {
        switch name {
        case "rows": return .list(runs.map { .record($0) })
        case "seconds": return .number(seconds)
        case "summary": return .object(TableObject(summaryTable))
        case "title": return .string(title)
        default: return figures.first { $0.name == name }.map { .object(FigureObject($0.figure)) }
        }
    }

    /// The main figure above the summary table.
    public func display() -> MIMEBundle {
        let main = figures[0].figure
        return MIMEBundle(text: main.text() + "\n" + summaryTable.text(),
                          html: "<div>" + main.svg() + summaryTable.html() + "</div>")
    }

    /// `<study: title, n runs>`.
    public var summary: String { "<study: \(title), \(runs.count) runs>" }

    /// Help on studies.
    public var helpText: String? {
        "study: the outcome of a pruning experiment on small networks. It shows as its figure (mean over seeds as lines, each seed as a faint point) and a table of mean, sd and runs per point. Members: rows (every run as a record), summary (that table), title, seconds, and its figures: " + figures.map(\.name).joined(separator: ", ")
    }
}
