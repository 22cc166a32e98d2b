import Foundation
import Numerics

extension Interpreter {
    /// Applies a binary operator: numbers, strings, lists; vectors and matrices element-wise,
    /// with numbers broadcast and a vector broadcast across a matrix's rows; `@` is the matrix
    /// product. Lists of numbers and ranges take part in arithmetic as vectors.
    func binary(_ op: BinaryOp, _ a: Value, _ b: Value, _ span: Span) throws -> Value {
        // The fast path: two numbers.
        if case .number(let x) = a, case .number(let y) = b {
            return try numberOp(op, x, y, span)
        }
        switch op {
        case .eq: return .bool(try equal(a, b, depth: 0, span))
        case .ne: return .bool(!(try equal(a, b, depth: 0, span)))
        case .in: return .bool(try contains(b, a, span))
        case .notIn: return .bool(!(try contains(b, a, span)))
        default: break
        }
        switch (op, a, b) {
        case (.add, .string(let x), .string(let y)):
            try checkSize(x.utf8.count + y.utf8.count, span, "string")
            return .string(x + y)
        case (.mul, .string(let s), .number(let n)), (.mul, .number(let n), .string(let s)):
            guard let k = exactInt(n), k >= 0 else { throw LangError(.value, "a string can be repeated a whole, non-negative number of times, got \(formatNumber(n))", span) }
            let (total, overflow) = s.utf8.count.multipliedReportingOverflow(by: k)
            if overflow { try checkSize(Int.max, span, "string") }
            try checkSize(total, span, "string")
            return .string(String(repeating: s, count: k))
        case (.add, .list(let x), .list(let y)):
            try checkSize(x.count + y.count, span, "list")
            return .list(x + y)
        case (.lt, .string(let x), .string(let y)): return .bool(x < y)
        case (.le, .string(let x), .string(let y)): return .bool(x <= y)
        case (.gt, .string(let x), .string(let y)): return .bool(x > y)
        case (.ge, .string(let x), .string(let y)): return .bool(x >= y)
        default: break
        }
        if op == .matmul { return try matmulOp(a, b, span) }
        // Element-wise arithmetic and comparisons on vectors and matrices.
        let ea = try elementwise(a), eb = try elementwise(b)
        switch (ea, eb) {
        case (.scalar(let x), .scalar(let y)):
            return try numberOp(op, x, y, span)
        case (.vector(let xs), .scalar(let y)):
            return .vector(try xs.map { try numberOpD(op, $0, y, span) })
        case (.scalar(let x), .vector(let ys)):
            return .vector(try ys.map { try numberOpD(op, x, $0, span) })
        case (.vector(let xs), .vector(let ys)):
            guard xs.count == ys.count else {
                throw LangError(.value, "shape mismatch for '\(op.rawValue)': vector of \(xs.count) and vector of \(ys.count)", span)
            }
            var out = [Double](repeating: 0, count: xs.count)
            for i in 0..<xs.count { out[i] = try numberOpD(op, xs[i], ys[i], span) }
            return .vector(out)
        case (.matrix(let m), .scalar(let y)):
            let f = Float(y)
            return .matrix(try mapMatrix(m) { try floatOp(op, $0, f, span) })
        case (.scalar(let x), .matrix(let m)):
            let f = Float(x)
            return .matrix(try mapMatrix(m) { try floatOp(op, f, $0, span) })
        case (.matrix(let m), .matrix(let n)):
            guard m.rows == n.rows, m.cols == n.cols else {
                throw LangError(.value, "shape mismatch for '\(op.rawValue)': \(m.rows)×\(m.cols) and \(n.rows)×\(n.cols)", span)
            }
            var out = m
            for k in 0..<m.count { out.data[k] = try floatOp(op, m.data[k], n.data[k], span) }
            return .matrix(out)
        case (.matrix(let m), .vector(let v)), (.vector(let v), .matrix(let m)):
            guard v.count == m.cols else {
                throw LangError(.value, "shape mismatch for '\(op.rawValue)': a vector of \(v.count) broadcasts across the rows of a matrix only when the matrix has \(v.count) columns, not \(m.cols)", span)
            }
            let leftIsMatrix: Bool = { if case .matrix = ea { return true }; return false }()
            let fv = v.map { Float($0) }
            var out = m
            for i in 0..<m.rows {
                for j in 0..<m.cols {
                    let k = i * m.cols + j
                    out.data[k] = leftIsMatrix ? try floatOp(op, m.data[k], fv[j], span) : try floatOp(op, fv[j], m.data[k], span)
                }
            }
            return .matrix(out)
        default:
            var hint = ""
            if op == .add, case .string = a { hint = " (convert with str(x) to join text)" }
            else if op == .add, case .string = b { hint = " (convert with str(x) to join text)" }
            throw LangError(.type, "unsupported operand types for '\(op.rawValue)': \(a.typeName) and \(b.typeName)\(hint)", span)
        }
    }

    private enum Elementwise {
        case scalar(Double)
        case vector([Double])
        case matrix(Matrix)
        case other
    }

    private func elementwise(_ v: Value) throws -> Elementwise {
        switch v {
        case .number(let x): return .scalar(x)
        case .vector(let xs): return .vector(xs)
        case .matrix(let m): return .matrix(m)
        case .range(let r): return .vector(r.elements)
        case .list(let items):
            var out: [Double] = []
            out.reserveCapacity(items.count)
            for it in items {
                guard case .number(let x) = it else { return .other }
                out.append(x)
            }
            return items.isEmpty ? .other : .vector(out)
        case .object(let o):
            if let m = try o.matrixValue() { return .matrix(m) }
            return .other
        default: return .other
        }
    }

    private func mapMatrix(_ m: Matrix, _ f: (Float) throws -> Float) throws -> Matrix {
        var out = m
        for k in 0..<m.count { out.data[k] = try f(m.data[k]) }
        return out
    }

    @inline(__always)
    private func numberOp(_ op: BinaryOp, _ x: Double, _ y: Double, _ span: Span) throws -> Value {
        switch op {
        case .add: return .number(x + y)
        case .sub: return .number(x - y)
        case .mul: return .number(x * y)
        case .div:
            if y == 0 { throw LangError(.value, "division by zero", span) }
            return .number(x / y)
        case .mod:
            if y == 0 { throw LangError(.value, "modulo by zero", span) }
            return .number(floorMod(x, y))
        case .pow: return .number(Foundation.pow(x, y))
        case .lt: return .bool(x < y)
        case .le: return .bool(x <= y)
        case .gt: return .bool(x > y)
        case .ge: return .bool(x >= y)
        case .eq: return .bool(x == y)
        case .ne: return .bool(x != y)
        case .matmul: throw LangError(.type, "'@' multiplies matrices and vectors, got number and number (use '*')", span)
        case .in, .notIn: throw LangError(.type, "'in' needs a list, string, record, range or vector on its right, got number", span)
        }
    }

    /// An element-wise operation on doubles (vectors); comparisons give 1 or 0.
    private func numberOpD(_ op: BinaryOp, _ x: Double, _ y: Double, _ span: Span) throws -> Double {
        try elementOp(op, x, y, span, pow: Foundation.pow)
    }

    /// An element-wise operation on floats (matrices); comparisons give 1 or 0.
    private func floatOp(_ op: BinaryOp, _ x: Float, _ y: Float, _ span: Span) throws -> Float {
        try elementOp(op, x, y, span, pow: Foundation.powf)
    }

    /// The element-wise arithmetic shared by vectors (Double) and matrices (Float), in the element
    /// type itself; `pow` is that type's libm power.
    @inline(__always)
    private func elementOp<T: BinaryFloatingPoint>(_ op: BinaryOp, _ x: T, _ y: T, _ span: Span, pow: (T, T) -> T) throws -> T {
        switch op {
        case .add: return x + y
        case .sub: return x - y
        case .mul: return x * y
        case .div:
            if y == 0 { throw LangError(.value, "division by zero (in an element-wise '/')", span) }
            return x / y
        case .mod:
            if y == 0 { throw LangError(.value, "modulo by zero (in an element-wise '%')", span) }
            return floorMod(x, y)
        case .pow: return pow(x, y)
        case .lt: return x < y ? 1 : 0
        case .le: return x <= y ? 1 : 0
        case .gt: return x > y ? 1 : 0
        case .ge: return x >= y ? 1 : 0
        default: throw LangError(.type, "'\(op.rawValue)' does not apply element-wise", span)
        }
    }

    /// x mod y with the sign of y (Python's %).
    private func floorMod<T: BinaryFloatingPoint>(_ x: T, _ y: T) -> T {
        let r = x.truncatingRemainder(dividingBy: y)
        return (r != 0 && (r < 0) != (y < 0)) ? r + y : r
    }

    private func matmulOp(_ a: Value, _ b: Value, _ span: Span) throws -> Value {
        func operand(_ v: Value) throws -> (Matrix?, [Double]?) {
            switch v {
            case .matrix(let m): return (m, nil)
            case .object(let o): if let m = try o.matrixValue() { return (m, nil) }
            case .vector(let xs): return (nil, xs)
            case .range(let r): return (nil, r.elements)
            case .list:
                if let m = try? v.asMatrix(limit: limits.maxElements), m.rows > 0, case .list(let items) = v, case .list = items[0] { return (m, nil) }
                if let xs = try? v.asNumbers(flattenMatrix: false, limit: limits.maxElements) { return (nil, xs) }
            default: break
            }
            throw LangError(.type, "'@' multiplies matrices and vectors, got \(a.typeName) and \(b.typeName)", span)
        }
        let (ma, va) = try operand(a)
        let (mb, vb) = try operand(b)
        do {
            switch (ma, va, mb, vb) {
            case let (m?, _, n?, _):
                guard m.cols == n.rows else {
                    throw LangError(.value, "shape mismatch for '@': \(m.rows)×\(m.cols) @ \(n.rows)×\(n.cols) (inner sizes \(m.cols) and \(n.rows) differ)", span)
                }
                let (size, overflow) = m.rows.multipliedReportingOverflow(by: n.cols)
                try checkSize(overflow ? Int.max : size, span, "matrix")
                return .matrix(try matmul(m, n))
            case let (m?, _, _, x?):
                guard m.cols == x.count else { throw LangError(.value, "shape mismatch for '@': \(m.rows)×\(m.cols) @ vector of \(x.count)", span) }
                return .vector(try gemv(m, x.map { Float($0) }).map { Double($0) })
            case let (_, x?, m?, _):
                guard m.rows == x.count else { throw LangError(.value, "shape mismatch for '@': vector of \(x.count) @ \(m.rows)×\(m.cols)", span) }
                return .vector(try gemv(m, x.map { Float($0) }, transpose: true).map { Double($0) })
            case let (_, x?, _, y?):
                guard x.count == y.count else { throw LangError(.value, "shape mismatch for '@': vectors of \(x.count) and \(y.count)", span) }
                var s = 0.0
                for i in 0..<x.count { s += x[i] * y[i] }
                return .number(s)
            default:
                throw LangError(.type, "'@' multiplies matrices and vectors, got \(a.typeName) and \(b.typeName)", span)
            }
        } catch let e as NumericsError {
            throw LangError(.value, "'@': \(e.description)", span)
        }
    }

    /// Throws when `count` elements would pass the element limit.
    func checkSize(_ count: Int, _ span: Span, _ what: String) throws {
        if count > limits.maxElements {
            let shown = count == Int.max ? "too many" : "\(count)"
            throw LangError(.value, "a \(what) of \(shown) elements is larger than the limit of \(limits.maxElements)", span)
        }
    }

    func unary(_ op: UnaryOp, _ v: Value, _ span: Span) throws -> Value {
        switch (op, v) {
        case (.not, _): return .bool(!(try truthy(v, span)))
        case (.neg, .number(let x)): return .number(-x)
        case (.plus, .number(let x)): return .number(x)
        case (.neg, .vector(let xs)): return .vector(xs.map { -$0 })
        case (.neg, .matrix(let m)): return .matrix(m.map { -$0 })
        case (.neg, .range(let r)): return .vector(r.elements.map { -$0 })
        case (.plus, .vector), (.plus, .matrix): return v
        default:
            throw LangError(.type, "unsupported operand type for unary '\(op.rawValue)': \(v.typeName)", span)
        }
    }

    /// Structural equality (numbers by value, containers element by element).
    func equal(_ a: Value, _ b: Value, depth: Int, _ span: Span) throws -> Bool {
        if depth > 200 { throw LangError(.runtime, "values nested too deeply to compare", span) }
        switch (a, b) {
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.none, .none): return true
        case (.list(let x), .list(let y)):
            guard x.count == y.count else { return false }
            for i in 0..<x.count where !(try equal(x[i], y[i], depth: depth + 1, span)) { return false }
            return true
        case (.record(let x), .record(let y)):
            guard x.keys == y.keys else { return false }
            for i in 0..<x.count where !(try equal(x.values[i], y.values[i], depth: depth + 1, span)) { return false }
            return true
        case (.range(let x), .range(let y)): return x.count == y.count && (x.count == 0 || (x.start == y.start && x.step == y.step))
        case (.vector(let x), .vector(let y)): return x == y
        case (.range(let r), .vector(let v)), (.vector(let v), .range(let r)): return r.elements == v
        case (.matrix(let x), .matrix(let y)): return x == y
        case (.function(let f), .function(let g)): return f === g
        case (.builtin(let f), .builtin(let g)): return f.name == g.name
        case (.object(let x), .object(let y)): return x.isEqual(to: y)
        default: return false
        }
    }

    /// `needle in haystack`.
    func contains(_ haystack: Value, _ needle: Value, _ span: Span) throws -> Bool {
        switch haystack {
        case .list(let xs):
            for x in xs where try equal(x, needle, depth: 0, span) { return true }
            return false
        case .string(let s):
            guard case .string(let sub) = needle else {
                throw LangError(.type, "'in' on a string needs a string on its left, got \(needle.typeName)", span)
            }
            return sub.isEmpty || s.contains(sub)
        case .record(let r):
            guard case .string(let k) = needle else {
                throw LangError(.type, "'in' on a record needs a field name string on its left, got \(needle.typeName)", span)
            }
            return r[k] != nil
        case .vector(let xs):
            guard case .number(let x) = needle else { return false }
            return xs.contains(x)
        case .range(let r):
            guard case .number(let x) = needle, r.count > 0 else { return false }
            let k = (x - r.start) / r.step
            guard k >= 0, k < Double(r.count), k == k.rounded() else { return false }
            return r.element(Int(k)) == x
        default:
            throw LangError(.type, "'in' needs a list, string, record, range or vector on its right, got \(haystack.typeName)", span)
        }
    }
}
