import Numerics

extension BuiltinRegistry {
    /// Registers the spectral builtins: singular values, SVD, stable rank, power-law tails, the
    /// KS and Anderson–Darling two-sample tests, and row/column selection and dropping.
    public func registerSpectra() {
        register(Builtin(
            name: "svdvals", params: [.required("W", "matrix")], returns: "vector", category: "spectra",
            doc: "The singular values of W, largest first (min(rows, cols) of them). Accurate to 1e-6 of the largest singular value (the Gram method is used for large matrices; see Numerics.singularValues). A NaN or infinity in W is an error.",
            example: "svdvals(matrix([[3, 0], [0, 4]]))") { a in
                let w = try a.matrix("W", finite: true)
                try a.checkInterrupt()
                return .vector(widenAll(try singularValues(w)))
            })
        register(Builtin(
            name: "svd", params: [.required("W", "matrix")], returns: "record {u, s, vt}", category: "spectra",
            doc: "The thin singular value decomposition W = u · diag(s) · vt: `u` is rows×k, `s` the k singular values largest first, `vt` is k×cols, with k = min(rows, cols).",
            example: "d = svd(matrix([[3, 0], [0, 4]]))\nd.s") { a in
                let w = try a.matrix("W", finite: true)
                let d = try Numerics.svd(w)
                return .record(Record([("u", .matrix(d.u)), ("s", .vector(widenAll(d.s))), ("vt", .matrix(d.vt))]))
            })
        register(Builtin(
            name: "stable_rank", params: [.required("W", "matrix")], returns: "number", category: "spectra",
            doc: "The stable rank ‖W‖_F² / σ_max²: a smooth lower bound on the rank, between 1 and rank(W) (0 for a zero matrix).",
            example: "stable_rank(eye(4))") { a in .number(try stableRank(try a.matrix("W", finite: true))) }
        )
        register(Builtin(
            name: "powerlaw", params: [.required("W", "matrix|vector", "a weight matrix, or eigenvalues directly")],
            returns: "record {alpha, xmin, D, tail, sigma}", category: "spectra",
            doc: "Fits a power law p(x) ∝ x^(−α) to the tail of the eigenvalues σ² of WᵀW, choosing xmin by the smallest Kolmogorov–Smirnov distance D, as WeightWatcher does with the powerlaw package. Given a vector, fits its values directly. Returns α, xmin, D, the number of tail values and the standard error of α. Needs at least 4 distinct positive values.",
            example: "powerlaw(randn(60, 40, seed=0)).alpha > 1") { a in
                let values: [Double]
                if case .vector = a.value("W") {
                    values = try a.sample("W")
                } else if case .list(let items) = a.value("W"), case .number? = items.first {
                    values = try a.sample("W")
                } else {
                    let w = try a.matrix("W", finite: true)
                    values = try singularValues(w).map { Double($0) * Double($0) }
                }
                // The fit tries every distinct value as xmin: O(n²). Bound n so a call cannot hang.
                guard values.count <= 20_000 else {
                    throw a.fail(argument: "W", "powerlaw fits at most 20000 values (the fit is quadratic), got \(values.count)")
                }
                let fit = try fitPowerLaw(values)
                return .record(Record([("alpha", .number(fit.alpha)), ("xmin", .number(fit.xmin)), ("D", .number(fit.ksDistance)),
                                       ("tail", .number(Double(fit.tailCount))), ("sigma", .number(fit.sigma))]))
            })
        register(Builtin(
            name: "ks", params: [.required("a", "vector|list|matrix"), .required("b", "vector|list|matrix")],
            returns: "record {statistic, pvalue}", category: "spectra",
            doc: "The two-sample Kolmogorov–Smirnov test, as scipy.stats.ks_2samp: `statistic` is the largest gap between the two empirical CDFs (the distance PruneNet's reward uses), `pvalue` the two-sided p-value (exact for samples up to 10,000). Matrices count as samples of their elements.",
            example: "ks([1, 2, 3, 4], [3, 4, 5, 6])") { a in
                let r = try ks2samp(try a.sample("a"), try a.sample("b"))
                return .record(Record([("statistic", .number(r.statistic)), ("pvalue", .number(r.pValue))]))
            })
        register(Builtin(
            name: "ad", params: [.required("a", "vector|list|matrix"), .required("b", "vector|list|matrix")],
            returns: "record {statistic, pvalue, capped}", category: "spectra",
            doc: "The two-sample Anderson–Darling test, as scipy.stats.anderson_ksamp([a, b]): the standardized statistic and the approximate p-value, which is capped to [0.001, 0.25] (`capped` says when it sits at a cap). Needs 4 values in all and 2 distinct.",
            example: "ad([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])") { a in
                let r = try andersonKSample([try a.sample("a"), try a.sample("b")])
                return .record(Record([("statistic", .number(r.statistic)), ("pvalue", .number(r.significanceLevel)), ("capped", .bool(r.isCapped))]))
            })
        register(Builtin(
            name: "drop_rows",
            params: [.required("W", "matrix"), .required("ratio", "number", "the fraction of rows to drop, in [0, 1)"),
                     .optional("seed", "number", default: .none, "for mode \"random\"; without it the session's stream is used"),
                     .optional("mode", "string", default: .string("random"), "\"random\", \"smallest\" or \"largest\" (by row norm)")],
            returns: "matrix", category: "spectra",
            doc: "W without round(ratio × rows) of its rows (at least one row is always kept), the others in their original order: random rows (uniformly, by the seed), or the rows of smallest or largest Euclidean norm. Structured pruning of an FFN's first matrix removes rows this way.",
            example: "shape(drop_rows(randn(10, 4, seed=0), 0.3, seed=1))") { a in
                let w = try a.matrix("W")
                let ratio = try a.fraction("ratio")
                let mode = try a.choice("mode", ["random", "smallest", "largest"])
                let n = w.rows
                let drop = n == 0 ? 0 : Swift.min(n - 1, Int((ratio * Double(n)).rounded()))
                var dropped: Set<Int>
                switch mode {
                case "random":
                    let weights = [Double](repeating: 1, count: n)
                    if a.has("seed") {
                        var g = SeededRandom(seed: try a.seed())
                        dropped = Set(try g.sampleWithoutReplacement(weights: weights, count: drop))
                    } else {
                        dropped = Set(try a.interpreter.random.sampleWithoutReplacement(weights: weights, count: drop))
                    }
                default:
                    let norms = (0..<n).map { i -> Double in w.row(i).reduce(0) { $0 + Double($1) * Double($1) } }
                    let order = (0..<n).sorted { norms[$0] != norms[$1] ? (mode == "smallest" ? norms[$0] < norms[$1] : norms[$0] > norms[$1]) : $0 < $1 }
                    dropped = Set(order.prefix(drop))
                }
                return .matrix(try w.rows((0..<n).filter { !dropped.contains($0) }))
            })
        register(Builtin(
            name: "rows", params: [.required("W", "matrix"), .required("idx", "list|vector|range", "row indices; negatives count from the end")],
            returns: "matrix", category: "spectra",
            doc: "The rows of W at the given indices, in that order (indices may repeat).",
            example: "rows(eye(3), [2, 0])") { a in
                let w = try a.matrix("W")
                return .matrix(try w.rows(try a.indices("idx", count: w.rows, what: "row index")))
            })
        register(Builtin(
            name: "cols", params: [.required("W", "matrix"), .required("idx", "list|vector|range", "column indices; negatives count from the end")],
            returns: "matrix", category: "spectra",
            doc: "The columns of W at the given indices, in that order (indices may repeat).",
            example: "cols(eye(3), [-1])") { a in
                let w = try a.matrix("W")
                return .matrix(try w.columns(try a.indices("idx", count: w.cols, what: "column index")))
            })
    }
}
