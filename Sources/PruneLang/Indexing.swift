import Numerics

/// An evaluated index component: a single index (with its span) or a slice's bounds.
enum IndexPart {
    case single(Value, Span)
    case slice(Value?, Value?, Value?)
}

extension Interpreter {
    /// `i` as a position in a sequence of `count`, negatives counting from the end.
    func normalizedIndex(_ v: Value, count: Int, _ span: Span, what: String) throws -> Int {
        guard case .number(let x) = v else {
            throw LangError(.type, "\(what) index must be a number, got \(v.typeName)", span)
        }
        guard let i = exactInt(x) else {
            throw LangError(.type, "\(what) index must be an integer, got \(formatNumber(x))", span)
        }
        let j = i < 0 ? i + count : i
        guard j >= 0, j < count else {
            throw LangError(.value, "index \(i) is out of range for a \(what) of length \(count)", span)
        }
        return j
    }

    /// The positions a slice selects from `count` elements, as Python's `slice.indices`.
    func slicePositions(_ start: Value?, _ stop: Value?, _ step: Value?, count: Int, _ span: Span) throws -> [Int] {
        func integer(_ v: Value?, _ name: String) throws -> Int? {
            guard let v, !v.isNone else { return nil }
            guard case .number(let x) = v else { throw LangError(.type, "slice \(name) must be a number, got \(v.typeName)", span) }
            guard x.isFinite else {
                // ±inf bounds are clamped like huge integers.
                if x.isNaN { throw LangError(.type, "slice \(name) must be an integer, got nan", span) }
                return x > 0 ? Int.max / 2 : Int.min / 2
            }
            guard x == x.rounded() else { throw LangError(.type, "slice \(name) must be an integer, got \(formatNumber(x))", span) }
            return Int(max(min(x, 4e18), -4e18))
        }
        let st = try integer(step, "step") ?? 1
        guard st != 0 else { throw LangError(.value, "slice step must not be 0", span) }
        var a = try integer(start, "start")
        var b = try integer(stop, "stop")
        if st > 0 {
            a = a.map { $0 < 0 ? max(0, $0 + count) : min($0, count) } ?? 0
            b = b.map { $0 < 0 ? max(0, $0 + count) : min($0, count) } ?? count
            guard a! < b! else { return [] }
            return Array(stride(from: a!, to: b!, by: st))
        } else {
            a = a.map { $0 < 0 ? max(-1, $0 + count) : min($0, count - 1) } ?? (count - 1)
            b = b.map { $0 < 0 ? max(-1, $0 + count) : min($0, count - 1) } ?? -1
            guard a! > b! else { return [] }
            return Array(stride(from: a!, to: b!, by: st))
        }
    }

    /// `base[parts]`.
    func index(_ base: Value, _ parts: [IndexPart], _ span: Span) throws -> Value {
        func one(_ what: String) throws -> IndexPart {
            guard parts.count == 1 else {
                throw LangError(.type, "a \(what) takes one index, got \(parts.count)", span)
            }
            return parts[0]
        }
        switch base {
        case .list(let xs):
            switch try one("list") {
            case .single(let v, let s): return xs[try normalizedIndex(v, count: xs.count, s, what: "list")]
            case .slice(let a, let b, let c): return .list(try slicePositions(a, b, c, count: xs.count, span).map { xs[$0] })
            }
        case .vector(let xs):
            switch try one("vector") {
            case .single(let v, let s): return .number(xs[try normalizedIndex(v, count: xs.count, s, what: "vector")])
            case .slice(let a, let b, let c): return .vector(try slicePositions(a, b, c, count: xs.count, span).map { xs[$0] })
            }
        case .range(let r):
            switch try one("range") {
            case .single(let v, let s): return .number(r.element(try normalizedIndex(v, count: r.count, s, what: "range")))
            case .slice(let a, let b, let c): return .vector(try slicePositions(a, b, c, count: r.count, span).map { r.element($0) })
            }
        case .string(let str):
            let chars = Array(str)
            switch try one("string") {
            case .single(let v, let s): return .string(String(chars[try normalizedIndex(v, count: chars.count, s, what: "string")]))
            case .slice(let a, let b, let c): return .string(String(try slicePositions(a, b, c, count: chars.count, span).map { chars[$0] }))
            }
        case .record(let r):
            guard case .single(let v, let s) = try one("record") else {
                throw LangError(.type, "a record cannot be sliced", span)
            }
            guard case .string(let key) = v else {
                throw LangError(.type, "a record is indexed by a field name string, got \(v.typeName)", s)
            }
            guard let x = r[key] else {
                throw LangError(.name, "record has no field \(Render.quote(key))\(didYouMean(key, r.keys))", s)
            }
            return x
        case .matrix(let m):
            return try indexMatrix(m, parts, span)
        case .object(let o):
            if let n = o.length {
                switch try one(o.typeName) {
                case .single(let v, let s):
                    let i = try normalizedIndex(v, count: n, s, what: o.typeName)
                    do { return try o.element(at: i) } catch { throw hostError(error, o.typeName, span) }
                case .slice(let a, let b, let c):
                    return .list(try slicePositions(a, b, c, count: n, span).map { i in
                        do { return try o.element(at: i) } catch { throw hostError(error, o.typeName, span) }
                    })
                }
            }
            if let m = try o.matrixValue() { return try indexMatrix(m, parts, span) }
            throw LangError(.type, "a \(o.typeName) cannot be indexed", span)
        default:
            throw LangError(.type, "a \(base.typeName) cannot be indexed", span)
        }
    }

    private func indexMatrix(_ m: Matrix, _ parts: [IndexPart], _ span: Span) throws -> Value {
        guard parts.count == 1 || parts.count == 2 else {
            throw LangError(.type, "a matrix takes one or two indices, got \(parts.count)", span)
        }
        func positions(_ p: IndexPart, _ count: Int, _ what: String) throws -> (single: Int?, many: [Int]) {
            switch p {
            case .single(let v, let s): return (try normalizedIndex(v, count: count, s, what: what), [])
            case .slice(let a, let b, let c): return (nil, try slicePositions(a, b, c, count: count, span))
            }
        }
        let (ri, rows) = try positions(parts[0], m.rows, "matrix row")
        let (ci, cols): (Int?, [Int]) = parts.count == 2 ? try positions(parts[1], m.cols, "matrix column") : (nil, Array(0..<m.cols))
        switch (ri, ci) {
        case let (i?, j?): return .number(widen(m[i, j]))
        case let (i?, nil): return .vector(cols.map { widen(m[i, $0]) })
        case let (nil, j?): return .vector(rows.map { widen(m[$0, j]) })
        case (nil, nil):
            if cols.count == m.cols, cols == Array(0..<m.cols) { return .matrix(try m.rows(rows)) }
            return .matrix(try m.selecting(rows: rows, cols: cols).copy())
        }
    }

    /// Member names a value offers after `.` (for completion).
    func memberNames(of v: Value) -> [String] {
        switch v {
        case .record(let r): return r.keys
        case .matrix: return ["T", "cols", "rows", "shape"]
        case .object(let o): return o.memberNames
        default: return []
        }
    }

    /// `base.name`.
    func member(_ base: Value, _ name: String, _ nameSpan: Span, _ span: Span) throws -> Value {
        switch base {
        case .record(let r):
            if let v = r[name] { return v }
            let fields = r.keys.isEmpty ? "it has no fields" : "fields: \(r.keys.joined(separator: ", "))"
            throw LangError(.name, "record has no field '\(name)'\(didYouMean(name, r.keys)) (\(fields))", nameSpan)
        case .matrix(let m):
            switch name {
            case "T": return .matrix(m.transposed)
            case "rows": return .number(Double(m.rows))
            case "cols": return .number(Double(m.cols))
            case "shape": return .list([.number(Double(m.rows)), .number(Double(m.cols))])
            default:
                throw LangError(.name, "a matrix has no member '\(name)'\(didYouMean(name, memberNames(of: base))) (members: T, rows, cols, shape)", nameSpan)
            }
        case .object(let o):
            let v: Value?
            do { v = try o.member(name) } catch { throw hostError(error, "\(o.typeName).\(name)", span) }
            if let v { return v }
            let names = o.memberNames
            throw LangError(.name, "a \(o.typeName) has no member '\(name)'\(didYouMean(name, names))" + (names.isEmpty ? "" : " (members: \(names.joined(separator: ", ")))"), nameSpan)
        default:
            throw LangError(.name, "a \(base.typeName) has no member '\(name)'", nameSpan)
        }
    }
}
