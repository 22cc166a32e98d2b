/// A lazy view of some rows and columns of a matrix, by index sets, without copying: the
/// primitive structured pruning needs (keep these rows of `gate`/`up`, these columns of `down`).
/// `copy()` materialises it. Indices may repeat and come in any order.
public struct MatrixSelection: Sendable {
    /// The matrix viewed (shared, thanks to copy-on-write).
    public let base: Matrix
    /// The base rows kept, in order; every row when nil.
    public let rowIndices: [Int]?
    /// The base columns kept, in order; every column when nil.
    public let colIndices: [Int]?

    /// A view of `base` restricted to `rows` and `cols` (nil keeps all); indices are checked.
    public init(_ base: Matrix, rows: [Int]? = nil, cols: [Int]? = nil) throws {
        if let rows { try Self.check(rows, bound: base.rows, axis: "row") }
        if let cols { try Self.check(cols, bound: base.cols, axis: "column") }
        self.base = base
        self.rowIndices = rows
        self.colIndices = cols
    }

    private static func check(_ idx: [Int], bound: Int, axis: String) throws {
        for (k, i) in idx.enumerated() where i < 0 || i >= bound {
            throw NumericsError.invalidArgument("\(axis) index \(i) (position \(k)) is out of range 0..<\(bound)")
        }
    }

    /// Number of rows in the view.
    public var rows: Int { rowIndices?.count ?? base.rows }
    /// Number of columns in the view.
    public var cols: Int { colIndices?.count ?? base.cols }

    /// Element (i, j) of the view.
    public subscript(i: Int, j: Int) -> Float {
        base[rowIndices?[i] ?? i, colIndices?[j] ?? j]
    }

    /// The view as a new dense matrix.
    public func copy() -> Matrix {
        let (r, c, bc) = (rows, cols, base.cols)
        var out = Matrix(rows: r, cols: c)
        base.data.withUnsafeBufferPointer { src in
            out.data.withUnsafeMutableBufferPointer { dst in
                for i in 0..<r {
                    let srcRow = (rowIndices?[i] ?? i) * bc
                    if let colIndices {
                        for j in 0..<c { dst[i * c + j] = src[srcRow + colIndices[j]] }
                    } else {
                        for j in 0..<c { dst[i * c + j] = src[srcRow + j] }
                    }
                }
            }
        }
        return out
    }
}

extension Matrix {
    /// A copy of the rows at `indices`, in that order.
    public func rows(_ indices: [Int]) throws -> Matrix {
        try MatrixSelection(self, rows: indices).copy()
    }

    /// A copy of the columns at `indices`, in that order.
    public func columns(_ indices: [Int]) throws -> Matrix {
        try MatrixSelection(self, cols: indices).copy()
    }

    /// A lazy view of the rows and columns at the given indices (nil keeps all).
    public func selecting(rows: [Int]? = nil, cols: [Int]? = nil) throws -> MatrixSelection {
        try MatrixSelection(self, rows: rows, cols: cols)
    }
}
