import Numerics

extension Value {
    /// The value as a matrix: a matrix, a list of equal-length lists (or vectors) of numbers, or
    /// an object standing for one; nil for anything else. Throws for ragged rows or non-numbers.
    func asMatrix(limit: Int) throws -> Matrix? {
        switch self {
        case .matrix(let m): return m
        case .object(let o): return try o.matrixValue()
        case .list(let rows):
            guard !rows.isEmpty else { return Matrix(rows: 0, cols: 0) }
            var data: [Float] = []
            var cols = -1
            for (i, row) in rows.enumerated() {
                guard let xs = try row.asNumbers(flattenMatrix: false, limit: limit) else {
                    if i == 0 { return nil }
                    throw LimitError("row \(i) is a \(row.typeName), not a list of numbers")
                }
                if cols < 0 {
                    cols = xs.count
                    if rows.count.multipliedReportingOverflow(by: max(cols, 1)).overflow || rows.count * cols > limit {
                        throw LimitError("a matrix of \(rows.count)×\(cols) is larger than the limit of \(limit) elements")
                    }
                    data.reserveCapacity(rows.count * cols)
                } else if xs.count != cols {
                    throw LimitError("row \(i) has \(xs.count) values, row 0 has \(cols)")
                }
                data.append(contentsOf: xs.map { Float($0) })
            }
            return try Matrix(rows: rows.count, cols: cols, data: data)
        default: return nil
        }
    }

    /// The value as numbers: a vector, a range, a list of numbers, a matrix's elements (when
    /// `flattenMatrix`), or an object standing for a matrix (then flattened); nil otherwise.
    func asNumbers(flattenMatrix: Bool, limit: Int) throws -> [Double]? {
        switch self {
        case .vector(let xs): return xs
        case .range(let r): return r.elements
        case .list(let items):
            var out: [Double] = []
            out.reserveCapacity(items.count)
            for (i, item) in items.enumerated() {
                guard case .number(let x) = item else {
                    if i == 0 { return nil }
                    throw LimitError("element \(i) is a \(item.typeName), not a number")
                }
                out.append(x)
            }
            return out
        case .matrix(let m) where flattenMatrix: return m.data.map { Double($0) }
        case .object(let o) where flattenMatrix:
            return try o.matrixValue().map { $0.data.map { Double($0) } }
        default: return nil
        }
    }

    /// Numbers as Float32 for the numerical routines.
    func asFloats(limit: Int) throws -> [Float]? {
        if case .matrix(let m) = self { return m.data }
        return try asNumbers(flattenMatrix: true, limit: limit)?.map { Float($0) }
    }
}

/// A vector of Float32 values widened for display (0.1f becomes 0.1).
func widenAll(_ xs: [Float]) -> [Double] { xs.map(widen) }
