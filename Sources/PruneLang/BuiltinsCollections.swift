import Foundation
import Numerics

extension BuiltinRegistry {
    /// Registers the builtins that build and reshape lists, vectors and matrices.
    public func registerCollections() {
        register(Builtin(
            name: "range",
            params: [.required("start", "number", "the end when it is the only argument"),
                     .optional("stop", "number", default: .none), .optional("step", "number", default: .number(1))],
            returns: "range", category: "collections",
            doc: "The numbers start, start+step, ... up to stop (excluded), as Python's range: `range(n)` is 0..n. The step may be fractional or negative, never 0. Ranges are lazy; one of more than 2^27 elements is an error.",
            example: "range(0, 10, 3)") { a in
                var start = try a.finiteNumber("start")
                var stop: Double
                if a.has("stop") { stop = try a.finiteNumber("stop") } else { stop = start; start = 0 }
                let step = try a.finiteNumber("step")
                guard step != 0 else { throw a.fail(argument: "step", "step must not be 0") }
                if !a.has("stop") && stop < 0 { stop = 0 }
                switch RangeValue.make(start, stop, step, limit: a.interpreter.limits.maxElements) {
                case .success(let r): return .range(r)
                case .failure(let e): throw a.fail(e.message)
                }
            })
        register(Builtin(
            name: "linspace", params: [.required("start", "number"), .required("stop", "number"), .optional("n", "number", default: .number(50))],
            returns: "vector", category: "collections",
            doc: "`n` evenly spaced numbers from start to stop, both included, as numpy.linspace.",
            example: "linspace(0, 1, 5)") { a in
                let lo = try a.finiteNumber("start"), hi = try a.finiteNumber("stop")
                let n = try a.int("n", 0...a.interpreter.limits.maxElements)
                if n == 1 { return .vector([lo]) }
                let step = (hi - lo) / Double(max(n - 1, 1))
                return .vector((0..<n).map { $0 == n - 1 ? hi : lo + Double($0) * step })
            })
        register(Builtin(
            name: "list", params: [.required("x", "vector|range|string|record|list")], returns: "list", category: "collections",
            doc: "The elements as a list: numbers of a vector or range, characters of a string, field names of a record, rows of a matrix (as vectors).",
            example: "list(0..3)") { a in
                switch a.value("x") {
                case .list(let xs): return .list(xs)
                case .vector(let xs): return .list(xs.map { .number($0) })
                case .range(let r): return .list(r.elements.map { .number($0) })
                case .string(let s): return .list(s.map { .string(String($0)) })
                case .record(let r): return .list(r.keys.map { .string($0) })
                case .matrix(let m): return .list((0..<m.rows).map { .vector(widenAll(m.row($0))) })
                case .object(let o) where o.length != nil: return .list(try (0..<o.length!).map { try o.element(at: $0) })
                default: throw a.typeError("x", expected: "a vector, range, string, record, matrix or list")
                }
            })
        register(Builtin(
            name: "vector", params: [.required("x", "list|range|vector|matrix")], returns: "vector", category: "collections",
            doc: "The numbers as a vector: a list of numbers, a range, or a matrix's elements row after row.",
            example: "vector([1, 2, 3]) * 2") { a in
                if case .matrix(let m) = a.value("x") { return .vector(widenAll(m.data)) }
                return .vector(try a.numbers("x", flattenMatrix: true))
            })
        register(Builtin(
            name: "matrix", params: [.required("rows", "list of lists|matrix", "equal-length rows of numbers")], returns: "matrix", category: "collections",
            doc: "A matrix from a list of equal-length rows (lists or vectors of numbers). Values are stored as 32-bit floats.",
            example: "matrix([[1, 2, 3], [4, 5, 6]])") { a in .matrix(try a.matrix("rows")) }
        )
        register(Builtin(
            name: "reshape", params: [.required("x", "vector|list|matrix"), .required("rows", "number"), .required("cols", "number")],
            returns: "matrix", category: "collections",
            doc: "The numbers of `x` (a matrix's row after row) laid out as a rows×cols matrix; the counts must agree.",
            example: "reshape(0..6, 2, 3)") { a in
                let xs: [Float]
                if case .matrix(let m) = a.value("x") { xs = m.data } else { xs = try a.numbers("x").map { Float($0) } }
                let r = try a.int("rows", 0...a.interpreter.limits.maxElements), c = try a.int("cols", 0...a.interpreter.limits.maxElements)
                guard r.multipliedReportingOverflow(by: c).partialValue == xs.count, !r.multipliedReportingOverflow(by: c).overflow else {
                    throw a.fail("cannot lay out \(xs.count) values as \(r)×\(c)")
                }
                return .matrix(try Matrix(rows: r, cols: c, data: xs))
            })
        func shapeArgs(_ a: Arguments) throws -> (Int, Int) {
            let limit = a.interpreter.limits.maxElements
            let r = try a.int("rows", 0...limit), c = try a.int("cols", 0...limit)
            let (n, overflow) = r.multipliedReportingOverflow(by: c)
            guard !overflow, n <= limit else { throw a.fail("a \(r)×\(c) matrix is larger than the limit of \(limit) elements") }
            return (r, c)
        }
        register(Builtin(
            name: "zeros", params: [.required("rows", "number"), .required("cols", "number")], returns: "matrix", category: "collections",
            doc: "A rows×cols matrix of zeros.", example: "zeros(2, 3)") { a in
                let (r, c) = try shapeArgs(a)
                return .matrix(Matrix(rows: r, cols: c))
            })
        register(Builtin(
            name: "ones", params: [.required("rows", "number"), .required("cols", "number")], returns: "matrix", category: "collections",
            doc: "A rows×cols matrix of ones.", example: "ones(2, 2)") { a in
                let (r, c) = try shapeArgs(a)
                return .matrix(Matrix(rows: r, cols: c, repeating: 1))
            })
        register(Builtin(
            name: "eye", params: [.required("n", "number")], returns: "matrix", category: "collections",
            doc: "The n×n identity matrix.", example: "eye(3)") { a in
                let n = try a.int("n", 0...Int(Double(a.interpreter.limits.maxElements).squareRoot()))
                return .matrix(Matrix.identity(n))
            })
        for (name, normal) in [("randn", true), ("rand", false)] {
            register(Builtin(
                name: name,
                params: [.required("rows", "number"), .required("cols", "number"),
                         .optional("seed", "number", default: .none, "a non-negative integer; without it the session's stream is used")],
                returns: "matrix", category: "collections",
                doc: normal
                    ? "A rows×cols matrix of standard normal draws. The same seed gives the same matrix on every machine (SeededRandom: xoshiro256** and Box–Muller); without a seed the draws continue the session's stream, which starts from seed 0."
                    : "A rows×cols matrix of draws uniform on [0, 1). The same seed gives the same matrix on every machine; without a seed the draws continue the session's stream, which starts from seed 0.",
                example: "\(name)(2, 3, seed=42)") { a in
                    let (r, c) = try shapeArgs(a)
                    if a.has("seed") {
                        var g = SeededRandom(seed: try a.seed())
                        return .matrix(normal ? g.normalMatrix(rows: r, cols: c) : g.uniformMatrix(rows: r, cols: c))
                    }
                    return .matrix(normal ? a.interpreter.random.normalMatrix(rows: r, cols: c) : a.interpreter.random.uniformMatrix(rows: r, cols: c))
                })
        }
        register(Builtin(
            name: "shape", params: [.required("x", "matrix|vector|list|range")], returns: "list", category: "collections",
            doc: "The dimensions as a list: [rows, cols] for a matrix, [n] for a vector, list or range.",
            example: "shape(randn(3, 4, seed=0))") { a in
                switch a.value("x") {
                case .vector(let xs): return .list([.number(Double(xs.count))])
                case .list(let xs): return .list([.number(Double(xs.count))])
                case .range(let r): return .list([.number(Double(r.count))])
                default:
                    let m = try a.matrix("x")
                    return .list([.number(Double(m.rows)), .number(Double(m.cols))])
                }
            })
        register(Builtin(
            name: "transpose", params: [.required("W", "matrix")], returns: "matrix", category: "collections",
            doc: "The transpose of a matrix (also written `W.T`).", example: "transpose(matrix([[1, 2, 3]]))") { a in
                .matrix(try a.matrix("W").transposed)
            })
        register(Builtin(
            name: "sort", params: [.required("x", "list|vector|range"), .optional("reverse", "bool", default: .bool(false))],
            returns: "same as x", category: "collections",
            doc: "The elements in ascending order (descending with reverse=true): numbers, or strings. A vector stays a vector; a range becomes one.",
            example: "sort([3, 1, 2], reverse=true)") { a in
                let rev = try a.bool("reverse")
                switch a.value("x") {
                case .vector, .range:
                    let xs = try a.numbers("x")
                    if xs.contains(where: \.isNaN) { throw a.fail(argument: "x", "cannot sort NaN values") }
                    return .vector(rev ? xs.sorted(by: >) : xs.sorted())
                case .list(let items):
                    if items.isEmpty { return .list([]) }
                    if items.allSatisfy({ if case .string = $0 { return true }; return false }) {
                        let ss = items.map { if case .string(let s) = $0 { return s }; return "" }
                        return .list((rev ? ss.sorted(by: >) : ss.sorted()).map { .string($0) })
                    }
                    let xs = try a.numbers("x")
                    if xs.contains(where: \.isNaN) { throw a.fail(argument: "x", "cannot sort NaN values") }
                    return .list((rev ? xs.sorted(by: >) : xs.sorted()).map { .number($0) })
                default: throw a.typeError("x", expected: "a list, vector or range")
                }
            })
        register(Builtin(
            name: "append", params: [.required("xs", "list"), .required("item", "any")], returns: "list", category: "collections",
            doc: "A new list: `xs` with `item` added at the end (`xs` itself is unchanged; write `xs = append(xs, item)`, or `xs += [item]`).",
            example: "append([1, 2], 3)") { a in
                guard case .list(var xs) = a.value("xs") else { throw a.typeError("xs", expected: "a list") }
                try a.interpreter.checkSize(xs.count + 1, a.callSpan, "list")
                xs.append(a.value("item"))
                return .list(xs)
            })
        register(Builtin(
            name: "keys", params: [.required("r", "record")], returns: "list", category: "collections",
            doc: "The field names of a record, in order.", example: "keys({a: 1, b: 2})") { a in
                guard case .record(let r) = a.value("r") else { throw a.typeError("r", expected: "a record") }
                return .list(r.keys.map { .string($0) })
            })
        register(Builtin(
            name: "map", params: [.required("xs", "list|vector|range"), .required("f", "function")], returns: "list", category: "collections",
            doc: "The list of f(x) for each element x.", example: "map([1, 2, 3], fn(x) { x * x })") { a in
                let f = try a.callable("f")
                return .list(try sequence(a, "xs").map { try a.interpreter.call(f, [$0], span: a.callSpan) })
            })
        register(Builtin(
            name: "filter", params: [.required("xs", "list|vector|range"), .required("f", "function")], returns: "list", category: "collections",
            doc: "The elements x for which f(x) holds.", example: "filter(0..10, fn(x) { x % 3 == 0 })") { a in
                let f = try a.callable("f")
                return .list(try sequence(a, "xs").filter { try a.interpreter.truthy(try a.interpreter.call(f, [$0], span: a.callSpan), a.callSpan) })
            })
        for (name, isAny) in [("any", true), ("all", false)] {
            register(Builtin(
                name: name, params: [.required("x", "list|vector|matrix")], returns: "bool", category: "collections",
                doc: isAny ? "Whether any element holds (is true or non-zero)." : "Whether every element holds (is true or non-zero); true for an empty input.",
                example: "\(name)(vector([0, 1, 2]) > 0)") { a in
                    if case .list(let items) = a.value("x") {
                        for it in items {
                            let t = try a.interpreter.truthy(it, a.span("x"))
                            if t == isAny { return .bool(isAny) }
                        }
                        return .bool(!isAny)
                    }
                    let xs = try a.numbers("x", flattenMatrix: true)
                    return .bool(isAny ? xs.contains { $0 != 0 && !$0.isNaN } : xs.allSatisfy { $0 != 0 && !$0.isNaN })
                })
        }
    }
}

/// Argument `name` as a sequence of values (a list's items, numbers of a vector or range).
func sequence(_ a: Arguments, _ name: String) throws -> [Value] {
    switch a.value(name) {
    case .list(let xs): return xs
    case .vector(let xs): return xs.map { .number($0) }
    case .range(let r): return r.elements.map { .number($0) }
    case .matrix(let m): return (0..<m.rows).map { .vector(widenAll(m.row($0))) }
    default: throw a.typeError(name, expected: "a list, vector or range")
    }
}
