import Numerics

/// Assignment into parts of values: `xs[i] = v`, `r.a.b += 1`, `m[i, j] = x`. The variable is
/// taken out of its slot (Environment.swift's `modifier`), changed in place along the path, and
/// put back, so that containers are changed without copying.

/// Moves the value out of `v`, leaving `none`, so that its storage is uniquely referenced.
@inline(__always)
func take(_ v: inout Value) -> Value {
    let old = v
    v = .none
    return old
}

/// One step of an assignment path: `.field` or `[indices]`.
enum PathStep {
    case member(String, Span)
    case index([Value], Span)
}

extension Interpreter {
    /// Follows `path` down from `v` and assigns `rhs` there (or combines it with `op`, for `op=`).
    /// Assigning a field a record does not have adds it, when it is the last step of a plain `=`.
    func update(_ v: inout Value, _ path: ArraySlice<PathStep>, _ op: BinaryOp?, _ rhs: Value, _ span: Span) throws {
        guard let step = path.first else {
            try combine(&v, op, rhs, span)
            return
        }
        let rest = path.dropFirst()
        switch step {
        case .member(let name, let mspan):
            guard v.tag == .record else {
                throw LangError(.type, "cannot set field '\(name)' of a \(v.typeName) (only records have settable fields)", mspan)
            }
            guard case .record(var r) = take(&v) else { return }
            defer { v = .record(r) }
            guard let i = r.keys.firstIndex(of: name) else {
                if rest.isEmpty && op == nil { r[name] = rhs; return }
                throw LangError(.name, "record has no field '\(name)'\(didYouMean(name, r.keys))", mspan)
            }
            var child = r.takeValue(at: i)
            defer { r.setValue(at: i, child) }
            try update(&child, rest, op, rhs, span)
        case .index(let idx, let ispan):
            // Switch on the kind only, then move the payload out, so that it is uniquely referenced.
            switch v.tag {
            case .list:
                guard case .list(var xs) = take(&v) else { return }
                defer { v = .list(xs) }
                guard idx.count == 1 else { throw LangError(.type, "a list takes one index, got \(idx.count)", ispan) }
                let k = try normalizedIndex(idx[0], count: xs.count, ispan, what: "list")
                var child = xs[k]
                xs[k] = .none
                defer { xs[k] = child }
                try update(&child, rest, op, rhs, span)
            case .record:
                guard case .record(var r) = take(&v) else { return }
                defer { v = .record(r) }
                guard idx.count == 1, case .string(let key) = idx[0] else {
                    throw LangError(.type, "a record is indexed by a field name string, got \(idx.map(\.typeName).joined(separator: ", "))", ispan)
                }
                guard let i = r.keys.firstIndex(of: key) else {
                    if rest.isEmpty && op == nil { r[key] = rhs; return }
                    throw LangError(.name, "record has no field \(Render.quote(key))\(didYouMean(key, r.keys))", ispan)
                }
                var child = r.takeValue(at: i)
                defer { r.setValue(at: i, child) }
                try update(&child, rest, op, rhs, span)
            case .vector:
                guard case .vector(var xs) = take(&v) else { return }
                defer { v = .vector(xs) }
                guard idx.count == 1, rest.isEmpty else { throw LangError(.type, "a vector takes one index and its elements are numbers", ispan) }
                let k = try normalizedIndex(idx[0], count: xs.count, ispan, what: "vector")
                var element: Value = .number(xs[k])
                try update(&element, rest, op, rhs, span)
                guard case .number(let x) = element else {
                    throw LangError(.type, "a vector element must be a number, got \(element.typeName)", span)
                }
                xs[k] = x
            case .matrix:
                guard case .matrix(var m) = take(&v) else { return }
                defer { v = .matrix(m) }
                guard rest.isEmpty else { throw LangError(.type, "a matrix element is a number; it has no parts to assign", ispan) }
                if idx.count == 2 {
                    let i = try normalizedIndex(idx[0], count: m.rows, ispan, what: "matrix row")
                    let j = try normalizedIndex(idx[1], count: m.cols, ispan, what: "matrix column")
                    var element: Value = .number(widen(m[i, j]))
                    try update(&element, rest, op, rhs, span)
                    guard case .number(let x) = element else {
                        throw LangError(.type, "a matrix element must be a number, got \(element.typeName)", span)
                    }
                    m[i, j] = Float(x)
                } else if idx.count == 1 {
                    let i = try normalizedIndex(idx[0], count: m.rows, ispan, what: "matrix row")
                    var row: Value = .vector(widenAll(m.row(i)))
                    try update(&row, rest, op, rhs, span)
                    let xs: [Double]?
                    do { xs = try row.asNumbers(flattenMatrix: false, limit: limits.maxElements) } catch { xs = nil }
                    guard let xs, xs.count == m.cols else {
                        throw LangError(.type, "a matrix row must be \(m.cols) numbers, got \(row.typeName)\(row.vectorLength.map { " of \($0)" } ?? "")", span)
                    }
                    for j in 0..<m.cols { m[i, j] = Float(xs[j]) }
                } else {
                    throw LangError(.type, "a matrix takes one or two indices, got \(idx.count)", ispan)
                }
            default:
                throw LangError(.type, "cannot assign to an element of a \(v.typeName)", ispan)
            }
        }
    }

    /// Applies `op` (or plain assignment) to `v` in place; `xs += ys` on lists appends without copying.
    func combine(_ v: inout Value, _ op: BinaryOp?, _ rhs: Value, _ span: Span) throws {
        guard let op else { v = rhs; return }
        if op == .add, case .list(let ys) = rhs, v.tag == .list {
            guard case .list(var xs) = take(&v) else { return }
            defer { v = .list(xs) }
            try checkSize(xs.count + ys.count, span, "list")
            xs.append(contentsOf: ys)
            return
        }
        v = try binary(op, v, rhs, span)
    }
}

extension Value {
    /// The length of a vector-like value, for messages.
    var vectorLength: Int? {
        switch self {
        case .vector(let xs): return xs.count
        case .list(let xs): return xs.count
        default: return nil
        }
    }
}
