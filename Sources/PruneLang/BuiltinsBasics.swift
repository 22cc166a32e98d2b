import Foundation
import Numerics

extension BuiltinRegistry {
    /// Registers the basic builtins: output, help, types and conversions, math and statistics.
    public func registerBasics() {
        register(Builtin(
            name: "print", params: [.variadic("values", "any")], returns: "none", category: "basics",
            doc: "Writes the values on one line, separated by spaces, and a newline. Strings are written as they are (no quotes); other values as the cell would show them.",
            example: "print(\"rows:\", 1536, [1, 2])") { a in
                a.interpreter.write(line: a.rest.map(Render.printed).joined(separator: " "))
                return .none
            })
        register(Builtin(
            name: "help", params: [.optional("x", "any", default: .none, "a builtin, function, value, or a name as a string")],
            returns: "none", category: "basics",
            doc: "Shows the signature, documentation and example of a builtin, the signature of a user function, or the type and members of a value. Without an argument it lists every builtin by category. `?name` and `name?` are short for `help(name)`.",
            example: "help(svdvals)") { a in
                if !a.given("x") {
                    a.interpreter.write(line: a.interpreter.overviewHelp())
                } else {
                    a.interpreter.show(a.interpreter.helpBundle(for: a.value("x"), written: a.span("x").text))
                }
                return .none
            })
        register(Builtin(
            name: "display", params: [.required("x", "any")], returns: "none", category: "basics",
            doc: "Shows a value now, in the middle of a cell, as the cell's result would be shown (a figure as an image in a notebook). Useful in loops.",
            example: "for n in [2, 3] { display(randn(n, n, seed=n)) }") { a in
                a.interpreter.show(Render.bundle(a.value("x")))
                return .none
            })
        register(Builtin(
            name: "type", params: [.required("x", "any")], returns: "string", category: "basics",
            doc: "The name of the value's type: number, string, bool, none, list, record, range, vector, matrix, function, or an object's type (model, layer, figure...).",
            example: "type(randn(2, 2))") { a in .string(a.value("x").typeName) }
        )
        register(Builtin(
            name: "len", params: [.required("x", "list|string|vector|range|record|matrix")], returns: "number", category: "basics",
            doc: "The number of elements: items of a list, characters of a string (as a reader counts them and as indexing does: \"é\" and \"👍🏽\" are one each, whatever their bytes), elements of a vector or range, fields of a record, rows of a matrix.",
            example: "len([1, 2, 3]) + len(\"abc\")") { a in
                let v = a.value("x")
                switch v {
                case .list(let xs): return .number(Double(xs.count))
                case .string(let s): return .number(Double(s.count))
                case .vector(let xs): return .number(Double(xs.count))
                case .range(let r): return .number(Double(r.count))
                case .record(let r): return .number(Double(r.count))
                case .matrix(let m): return .number(Double(m.rows))
                case .object(let o):
                    if let n = o.length { return .number(Double(n)) }
                    if let m = try o.matrixValue() { return .number(Double(m.rows)) }
                default: break
                }
                throw a.typeError("x", expected: "a list, string, vector, range, record or matrix")
            })
        register(Builtin(
            name: "str", params: [.required("x", "any"), .optional("digits", "number|none", default: .none, "significant digits of a number (default 6, as displayed; 17 keeps every digit)")],
            returns: "string", category: "basics",
            doc: "The value as text, as `print` writes it: a string stays as it is, a number shows 6 significant digits (the value itself keeps full precision; `digits=17` writes all of it).",
            example: "\"ppl \" + str(28.233019028559713) + \" or \" + str(1/3, digits=17)") { a in
                guard a.has("digits") else { return .string(Render.printed(a.value("x"))) }
                let digits = try a.int("digits", 1...17)
                guard case .number(let x) = a.value("x") else { throw a.fail(argument: "digits", "digits applies to a number, got \(a.value("x").typeName)") }
                return .string(digits == 17 ? formatNumber(x) : formatShort(x, digits: digits))
            }
        )
        register(Builtin(
            name: "number", params: [.required("x", "string|number|bool")], returns: "number", category: "basics",
            doc: "Converts to a number: a string holding a decimal (`\"2.5\"`, `\"1e-3\"`, `\"inf\"`), a bool (1 or 0), or a number (unchanged). Fails on text that is not a number.",
            example: "number(\"2.5\") * 2") { a in
                switch a.value("x") {
                case .number(let x): return .number(x)
                case .bool(let b): return .number(b ? 1 : 0)
                case .string(let s):
                    let t = s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
                    if let x = Double(t) { return .number(x) }
                    throw a.fail(argument: "x", "cannot read \(Render.quote(s)) as a number")
                default: throw a.typeError("x", expected: "a string, number or bool")
                }
            })
        register(Builtin(
            name: "assert", params: [.required("condition", "any"), .optional("message", "string", default: .string("assertion failed"))],
            returns: "none", category: "basics",
            doc: "Stops with an error carrying `message` unless `condition` holds. For checks in scripts and notebooks.",
            example: "assert(1 + 1 == 2, \"arithmetic\")") { a in
                if try a.interpreter.truthy(a.value("condition"), a.span("condition")) { return .none }
                throw a.fail(Render.printed(a.value("message")))
            })

        // Math, element-wise.
        func math(_ name: String, _ doc: String, _ example: String, domain: ((Double) -> String?)? = nil, _ f: @escaping (Double) -> Double) {
            register(Builtin(
                name: name, params: [.required("x", "number|vector|matrix")], returns: "same as x", category: "math",
                doc: doc, example: example) { a in try elementwiseMath(a, domain: domain, f) })
        }
        math("abs", "The absolute value, element by element on vectors and matrices.", "abs(-2.5)") { Swift.abs($0) }
        math("sqrt", "The square root, element by element; negative values are an error.", "sqrt([1, 4, 9])",
             domain: { $0 < 0 ? "must be non-negative" : nil }) { $0.squareRoot() }
        math("log", "The natural logarithm, element by element; log(0) is -inf, negative values are an error.", "log(exp(2))",
             domain: { $0 < 0 ? "must be non-negative" : nil }) { Foundation.log($0) }
        math("exp", "e raised to the value, element by element.", "exp(0)") { Foundation.exp($0) }
        math("floor", "The largest integer not above the value, element by element.", "floor(-2.5)") { $0.rounded(.down) }
        math("ceil", "The smallest integer not below the value, element by element.", "ceil(2.1)") { $0.rounded(.up) }
        register(Builtin(
            name: "round", params: [.required("x", "number|vector|matrix"), .optional("digits", "number", default: .number(0), "decimal places, 0 to 15")],
            returns: "same as x", category: "math",
            doc: "Rounds to `digits` decimal places (halves away from zero), element by element.",
            example: "round(3.14159, 2)") { a in
                let d = try a.int("digits", 0...15)
                let scale = Foundation.pow(10, Double(d))
                return try elementwiseMath(a, domain: nil) { ($0 * scale).rounded(.toNearestOrAwayFromZero) / scale }
            })
        register(Builtin(
            name: "norm", params: [.required("x", "vector|matrix")], returns: "number", category: "math",
            doc: "The Euclidean norm of a vector, or the Frobenius norm of a matrix (the square root of the sum of squares), computed in double precision.",
            example: "norm([3, 4])") { a in
                if case .matrix(let m) = a.value("x") { return .number(m.frobeniusNorm) }
                let xs = try a.numbers("x", flattenMatrix: true)
                return .number(xs.reduce(0) { $0 + $1 * $1 }.squareRoot())
            })

        // Statistics.
        register(Builtin(
            name: "sum", params: [.required("x", "vector|list|range|matrix")], returns: "number", category: "statistics",
            doc: "The sum of the numbers (every element of a matrix), with compensated (Neumaier) summation; 0 for an empty list.",
            example: "sum(1..101)") { a in
                var total = 0.0, compensation = 0.0
                for x in try a.numbers("x", flattenMatrix: true) {
                    let t = total + x
                    if Swift.abs(total) >= Swift.abs(x) { compensation += (total - t) + x } else { compensation += (x - t) + total }
                    total = t
                }
                let s = total + compensation
                return .number(s.isNaN && !total.isNaN ? total : s)
            })
        register(Builtin(
            name: "mean", params: [.required("x", "vector|list|range|matrix")], returns: "number", category: "statistics",
            doc: "The arithmetic mean of the numbers (every element of a matrix), as numpy.mean. An empty input or a NaN is an error.",
            example: "mean([1, 2, 3, 4])") { a in .number(try Numerics.mean(try a.sample("x"))) }
        )
        register(Builtin(
            name: "std", params: [.required("x", "vector|list|range|matrix"), .optional("ddof", "number", default: .number(0), "delta degrees of freedom")],
            returns: "number", category: "statistics",
            doc: "The standard deviation sqrt(Σ(x − mean)² / (n − ddof)), as numpy.std (population by default; ddof=1 for the sample estimate).",
            example: "std([2, 4, 4, 4, 5, 5, 7, 9])") { a in
                let xs = try a.sample("x")
                let ddof = try a.int("ddof", 0...(1 << 40))
                guard ddof < xs.count else { throw a.fail(argument: "ddof", "ddof must be less than the number of values (\(xs.count)), got \(ddof)") }
                return .number(try standardDeviation(xs, ddof: ddof))
            })
        for (name, isMin) in [("min", true), ("max", false)] {
            register(Builtin(
                name: name, params: [.variadic("values", "numbers")], returns: "number", category: "statistics",
                doc: "The \(isMin ? "smallest" : "largest") number: of one vector, list, range or matrix, or of several numbers given as arguments. NaN values are an error.",
                example: "\(name)([3, 1, 2]) + \(name)(4, 5)") { a in
                    var xs: [Double] = []
                    if a.rest.count == 1 {
                        guard let ys = try a.rest[0].asNumbers(flattenMatrix: true, limit: a.interpreter.limits.maxElements) else {
                            if case .number(let x) = a.rest[0] { return .number(x) }
                            throw LangError(.type, "\(name): argument values must be numbers (a vector, list, range or matrix), got \(a.rest[0].typeName)", a.restSpans[0])
                        }
                        xs = ys
                    } else {
                        for (v, s) in zip(a.rest, a.restSpans) {
                            guard case .number(let x) = v else { throw LangError(.type, "\(name): with several arguments each must be a number, got \(v.typeName)", s) }
                            xs.append(x)
                        }
                    }
                    guard !xs.isEmpty else { throw a.fail("needs at least one value") }
                    if xs.contains(where: \.isNaN) { throw a.fail("the values contain NaN") }
                    return .number(isMin ? xs.min()! : xs.max()!)
                })
        }
        register(Builtin(
            name: "quantile", params: [.required("x", "vector|list|matrix"), .required("q", "number|list", "between 0 and 1")],
            returns: "number or vector", category: "statistics",
            doc: "The q-quantile of the numbers with linear interpolation, as numpy.quantile; `q` may be a list of levels, giving a vector.",
            example: "quantile([1, 2, 3, 4, 5], [0.25, 0.5])") { a in
                let xs = try a.sample("x")
                if case .number = a.value("q") {
                    let q = try a.number("q", "in [0, 1]") { $0 >= 0 && $0 <= 1 }
                    return .number(try Numerics.quantile(xs, q))
                }
                let qs = try a.numbers("q")
                if let bad = qs.first(where: { !($0 >= 0 && $0 <= 1) }) { throw a.fail(argument: "q", "q must be in [0, 1], got \(formatNumber(bad))") }
                return .vector(try quantiles(xs, qs))
            })
        register(Builtin(
            name: "median", params: [.required("x", "vector|list|matrix")], returns: "number", category: "statistics",
            doc: "The middle value (the mean of the two middle values for an even count), as numpy.median.",
            example: "median([5, 1, 3, 2])") { a in .number(try Numerics.median(try a.sample("x"))) }
        )
    }
}

/// Applies `f` to a number, or to every element of a vector, list, range or matrix; `domain`
/// returns a complaint for values outside the function's domain.
func elementwiseMath(_ a: Arguments, domain: ((Double) -> String?)?, _ f: (Double) -> Double) throws -> Value {
    func check(_ x: Double, at i: Int?) throws {
        if let domain, let problem = domain(x) {
            throw a.fail(argument: "x", "x \(problem), got \(formatNumber(x))" + (i.map { " at index \($0)" } ?? ""))
        }
    }
    switch a.value("x") {
    case .number(let x):
        try check(x, at: nil)
        return .number(f(x))
    case .matrix(let m):
        var out = m
        for k in 0..<m.count {
            let x = Double(m.data[k])
            try check(x, at: k)
            out.data[k] = Float(f(x))
        }
        return .matrix(out)
    default:
        let xs = try a.numbers("x")
        for (i, x) in xs.enumerated() { try check(x, at: i) }
        return .vector(xs.map(f))
    }
}
