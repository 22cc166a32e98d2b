import Foundation

/// A dense row-major matrix of Float32 with value semantics: copies share storage until one of
/// them is written (copy-on-write through Swift's array). The element at (i, j) is
/// `data[i * cols + j]`. Shapes may be empty (0 rows or 0 columns).
public struct Matrix: Equatable, Sendable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let cols: Int
    /// The elements, row after row.
    public var data: [Float]

    /// A matrix of the given shape filled with `value`.
    public init(rows: Int, cols: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && cols >= 0, "Matrix shape must be non-negative")
        self.rows = rows
        self.cols = cols
        self.data = [Float](repeating: value, count: rows * cols)
    }

    /// A matrix wrapping `data` (row-major, `rows * cols` elements).
    public init(rows: Int, cols: Int, data: [Float]) throws {
        guard rows >= 0, cols >= 0 else {
            throw NumericsError.invalidArgument("matrix shape must be non-negative, got \(rows)×\(cols)")
        }
        guard data.count == rows * cols else {
            throw NumericsError.shapeMismatch("\(data.count) values for a \(rows)×\(cols) matrix")
        }
        self.rows = rows
        self.cols = cols
        self.data = data
    }

    /// A matrix from equal-length rows.
    public init(_ rowArrays: [[Float]]) throws {
        let cols = rowArrays.first?.count ?? 0
        for (i, row) in rowArrays.enumerated() where row.count != cols {
            throw NumericsError.shapeMismatch("row \(i) has \(row.count) values, row 0 has \(cols)")
        }
        try self.init(rows: rowArrays.count, cols: cols, data: rowArrays.flatMap { $0 })
    }

    /// A matrix whose element (i, j) is `f(i, j)`.
    public init(rows: Int, cols: Int, _ f: (Int, Int) -> Float) {
        self.init(rows: rows, cols: cols)
        data.withUnsafeMutableBufferPointer { p in
            for i in 0..<rows { for j in 0..<cols { p[i * cols + j] = f(i, j) } }
        }
    }

    /// The n×n identity.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        for i in 0..<n { m.data[i * n + i] = 1 }
        return m
    }

    /// (rows, cols).
    public var shape: (rows: Int, cols: Int) { (rows, cols) }
    /// rows × cols.
    public var count: Int { data.count }
    /// The smaller of the two dimensions (the number of singular values).
    public var minDimension: Int { Swift.min(rows, cols) }

    /// Element (i, j), bounds-checked.
    public subscript(i: Int, j: Int) -> Float {
        get {
            precondition(i >= 0 && i < rows && j >= 0 && j < cols, "Matrix index (\(i), \(j)) out of bounds for \(rows)×\(cols)")
            return data[i * cols + j]
        }
        set {
            precondition(i >= 0 && i < rows && j >= 0 && j < cols, "Matrix index (\(i), \(j)) out of bounds for \(rows)×\(cols)")
            data[i * cols + j] = newValue
        }
    }

    /// Row i as an array.
    public func row(_ i: Int) -> [Float] { Array(data[(i * cols)..<((i + 1) * cols)]) }
    /// Column j as an array.
    public func column(_ j: Int) -> [Float] { (0..<rows).map { data[$0 * cols + j] } }

    /// The transpose, blocked for cache reuse.
    public var transposed: Matrix {
        var t = Matrix(rows: cols, cols: rows)
        let (r, c) = (rows, cols)
        data.withUnsafeBufferPointer { src in
            t.data.withUnsafeMutableBufferPointer { dst in
                let block = 32
                var i0 = 0
                while i0 < r {
                    var j0 = 0
                    while j0 < c {
                        for i in i0..<Swift.min(i0 + block, r) {
                            for j in j0..<Swift.min(j0 + block, c) { dst[j * r + i] = src[i * c + j] }
                        }
                        j0 += block
                    }
                    i0 += block
                }
            }
        }
        return t
    }

    /// Throws `NumericsError.nonFiniteMatrix` naming `what` and the (row, column) of the first NaN or
    /// infinity; LAPACK routines give garbage or hang on such input, so every decomposition checks.
    public func requireFinite(_ what: String = "matrix") throws {
        let c = cols
        try data.withUnsafeBufferPointer { p in
            for k in 0..<p.count where !p[k].isFinite {
                throw NumericsError.nonFiniteMatrix(what: what, row: k / c, col: k % c)
            }
        }
    }

    /// The Frobenius norm, accumulated in Float64.
    public var frobeniusNorm: Double {
        data.withUnsafeBufferPointer { p in
            var s = 0.0
            for x in p { s += Double(x) * Double(x) }
            return s.squareRoot()
        }
    }

    /// Elementwise map.
    public func map(_ f: (Float) -> Float) -> Matrix {
        var m = self
        m.data = data.map(f)
        return m
    }
}

extension Matrix: CustomStringConvertible {
    /// A short summary with the corner values, for debugging and test messages.
    public var description: String {
        let shown = (0..<Swift.min(rows, 4)).map { i in
            (0..<Swift.min(cols, 6)).map { j in String(format: "%.4g", Double(self[i, j])) }
                .joined(separator: " ") + (cols > 6 ? " …" : "")
        }
        return "Matrix \(rows)×\(cols)\n" + shown.joined(separator: "\n") + (rows > 4 ? "\n…" : "")
    }
}
