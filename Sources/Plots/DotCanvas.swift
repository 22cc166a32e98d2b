/// A grid of character cells, each holding `dotsX` × `dotsY` dots: 2 × 4 for braille (U+2800…
/// U+28FF), 1 × 1 for plain ASCII. Remembers, per cell, the last series that set a dot there.
struct DotCanvas {
    let columns: Int
    let rows: Int
    let dotsX: Int
    let dotsY: Int
    private(set) var bits: [UInt8]
    private(set) var owner: [Int]

    /// A blank canvas of `columns` × `rows` cells.
    init(columns: Int, rows: Int, braille: Bool) {
        self.columns = max(1, columns)
        self.rows = max(1, rows)
        dotsX = braille ? 2 : 1
        dotsY = braille ? 4 : 1
        bits = [UInt8](repeating: 0, count: self.columns * self.rows)
        owner = [Int](repeating: -1, count: self.columns * self.rows)
    }

    /// Width and height in dots.
    var pixelWidth: Int { columns * dotsX }
    var pixelHeight: Int { rows * dotsY }

    /// The braille bit of dot (dx, dy) inside its cell: dots 1–3 and 7 down the left column, 4–6
    /// and 8 down the right.
    private static let brailleBit: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]

    /// Sets the dot at pixel (px, py), (0, 0) being top-left; ignores dots off the canvas.
    mutating func set(_ px: Int, _ py: Int, series: Int) {
        guard px >= 0, py >= 0, px < pixelWidth, py < pixelHeight else { return }
        let cell = (py / dotsY) * columns + px / dotsX
        bits[cell] |= dotsX == 1 ? 1 : DotCanvas.brailleBit[px % dotsX][py % dotsY]
        owner[cell] = series
    }

    /// The pixel of a point in normalised plot coordinates.
    func pixel(_ p: PlotPoint) -> (x: Double, y: Double) {
        (p.x * Double(pixelWidth - 1), (1 - p.y) * Double(pixelHeight - 1))
    }

    /// Sets the dot nearest to normalised point `p`.
    mutating func point(_ p: PlotPoint, series: Int) {
        let (x, y) = pixel(p)
        set(Int(x.rounded()), Int(y.rounded()), series: series)
    }

    /// Draws the segment a→b (normalised coordinates, already clipped to the unit square).
    mutating func line(_ a: PlotPoint, _ b: PlotPoint, series: Int) {
        let (x0, y0) = pixel(a), (x1, y1) = pixel(b)
        let steps = Int(max(abs(x1 - x0), abs(y1 - y0)).rounded(.up))
        guard steps > 0, steps < 1_000_000 else {
            set(Int(x0.rounded()), Int(y0.rounded()), series: series)
            return
        }
        for i in 0...steps {
            let t = Double(i) / Double(steps)
            set(Int((x0 + t * (x1 - x0)).rounded()), Int((y0 + t * (y1 - y0)).rounded()), series: series)
        }
    }

    /// The character of cell (column, row) in braille, or nil when no dot is set there.
    func braille(_ column: Int, _ row: Int) -> Character? {
        let b = bits[row * columns + column]
        guard b != 0 else { return nil }
        return Character(Unicode.Scalar(0x2800 + UInt32(b))!)
    }

    /// The series that last drew in cell (column, row), or nil.
    func seriesAt(_ column: Int, _ row: Int) -> Int? {
        let i = row * columns + column
        return bits[i] == 0 ? nil : owner[i]
    }

    /// The cell row of normalised height `v` (0 bottom, 1 top), as the dots are placed.
    func row(of v: Double) -> Int {
        let py = Int(((1 - v) * Double(pixelHeight - 1)).rounded())
        return max(0, min(rows - 1, py / dotsY))
    }

    /// The cell column of normalised position `u`, as the dots are placed.
    func column(of u: Double) -> Int {
        let px = Int((u * Double(pixelWidth - 1)).rounded())
        return max(0, min(columns - 1, px / dotsX))
    }
}
