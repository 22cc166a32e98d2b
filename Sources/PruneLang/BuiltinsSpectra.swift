import Foundation
import Numerics
import Models
import Plots
import Pruning

extension BuiltinRegistry {
    /// Registers the spectral builtins: singular values, SVD, stable rank, power-law tails, the
    /// KS and Anderson–Darling two-sample tests, and row/column selection and dropping.
    public func registerSpectra() {
        register(Builtin(
            name: "svdvals", params: [.required("W", "matrix"),
                                      .optional("spectrum", "string", default: .string("exact"), spectrumParamDoc + " svdvals is exact unless asked, since a vector cannot say it was sketched.")],
            returns: "vector", category: "spectra",
            doc: "The singular values of W, largest first (min(rows, cols) of them). Accurate to 1e-6 of the largest singular value (large matrices go through the eigenvalues of their smaller Gram matrix, WᵀW or WWᵀ). A NaN or infinity in W is an error.",
            example: "svdvals(matrix([[3, 0], [0, 4]]))") { a in
                let w = try a.matrix("W", finite: true)
                try a.checkInterrupt()
                let mode = try spectrumMode(a)
                if mode.sketches(dimension: w.minDimension) {
                    let e = try sketchGramSpectrum(w, check: { try a.checkInterrupt() }).eigenvalues()
                    return .vector(e.reversed().map { Swift.max($0, 0).squareRoot() })
                }
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
        registerSpectralAnalysis()
    }
}

// MARK: - WeightWatcher-style spectral analysis (issue 28)

/// The short role names the language uses, in block order.
private let spectralRoleNames: [(String, TensorRole)] = [
    ("q", .attentionQuery), ("k", .attentionKey), ("v", .attentionValue), ("o", .attentionOutput),
    ("gate", .ffnGate), ("up", .ffnUp), ("down", .ffnDown)]

private func shortName(_ role: TensorRole) -> String {
    spectralRoleNames.first { $0.1 == role }?.0 ?? role.rawValue
}

/// The `spectrum=` option's help, shared by svdvals, analyze and esd.
private let spectrumParamDoc = "\"exact\" (every eigenvalue of the Gram matrix), \"sketch\" (stochastic block Lanczos quadrature from 384 products with the Gram matrix, through W and Wᵀ or with the Gram matrix formed once where that is cheaper: the top eigenvalues exact, the rest as quantiles of the estimated spectral distribution, KS error 0.02–0.05 on 4096-sized heavy-tailed matrices) or \"auto\" (sketch when the smaller dimension is at least \(SpectrumMode.sketchDimension), as for a 7B model's 4096; exact below)."

/// The `spectrum=` argument as a mode.
private func spectrumMode(_ a: Arguments) throws -> SpectrumMode {
    SpectrumMode(rawValue: try a.choice("spectrum", SpectrumMode.allCases.map(\.rawValue))) ?? .auto
}

/// The interpretation paragraphs shared by analyze's and esd's help.
private let spectralInterpretation = """
 Reading α (Martin & Mahoney, "Implicit self-regularization in deep neural networks", JMLR 2021; "Predicting trends in the quality of state-of-the-art neural networks without access to training or testing data", Nature Communications 2021): a well-trained layer's ESD has a heavy power-law tail with α between 2 and 6; α near 2 or below marks a very strongly correlated (possibly over-fitted) layer, α above 6 a layer that learned little beyond its random initialisation (WeightWatcher warns "over-trained" below 2 and "under-trained" above 6). alpha_weighted = α·log10 λmax and the mean α over layers track test accuracy across models of one family.
 Fingers and traps: a few very large eigenvalues separated from the rest ("fingers", WeightWatcher issues 102/103) can pull the fitted tail to a spuriously large α; fix_fingers="clip_xmax" refits with up to 9 of them clipped, fix_fingers="xmin_peak" keeps xmin near the ESD's peak. A correlation trap (Martin & Mahoney, "Heavy-tailed universality predicts trends in test accuracies", SDM 2021; WeightWatcher's randomize=True) is a large eigenvalue that survives shuffling the matrix's elements: one or a few huge weights, not learned correlations; num_traps counts the shuffled ESD's eigenvalues beyond its Marchenko–Pastur edge, and rand_distance (the Jensen–Shannon distance between the ESD and the shuffled one) is near 0 for a layer that looks random.
"""

/// The analysis of a model as a language value: shown as its table; members give the rows as
/// records, the summary and the figures.
final class SpectralAnalysisObject: HostObject {
    let analysis: ModelSpectralAnalysis
    let options: SpectralOptions
    let hasBase: Bool
    let modelName: String
    lazy var table: Table = makeTable()

    init(_ analysis: ModelSpectralAnalysis, options: SpectralOptions, hasBase: Bool, modelName: String) {
        self.analysis = analysis
        self.options = options
        self.hasBase = hasBase
        self.modelName = modelName
    }

    var typeName: String { "analysis" }
    var memberNames: [String] { ["figure", "records", "rows", "skipped", "summary", "table"] }

    func member(_ name: String) throws -> Value? {
        switch name {
        case "table": return .object(TableObject(table))
        case "rows": return .number(Double(analysis.rows.count))
        case "records": return .list(analysis.rows.map { spectrumRecord($0.metrics, block: $0.block, role: $0.role, row: $0) })
        case "skipped": return .list(analysis.skipped.map { .record(Record([("block", .number(Double($0.block))), ("role", .string(shortName($0.role)))])) })
        case "summary": return .record(summaryRecord())
        case "figure": return .object(FigureObject(alphaFigure()))
        default: return nil
        }
    }

    var length: Int? { analysis.rows.count }
    func element(at i: Int) throws -> Value {
        let r = analysis.rows[i]
        return spectrumRecord(r.metrics, block: r.block, role: r.role, row: r)
    }

    func display() -> MIMEBundle { MIMEBundle(text: table.text(), html: table.html()) }
    var summary: String { "<analysis: \(analysis.rows.count) matrices of \(modelName)>" }

    func summaryRecord() -> Record {
        var fields: [(String, Value)] = [("matrices", .number(Double(analysis.rows.count)))]
        let means: [(String, (MatrixSpectrum) -> Double?)] = [
            ("log_norm", { $0.metrics.logNorm }), ("alpha", { $0.metrics.alpha }), ("alpha_weighted", { $0.metrics.alphaWeighted }),
            ("log_alpha_norm", { $0.metrics.logAlphaNorm }), ("log_spectral_norm", { $0.metrics.logSpectralNorm }),
            ("stable_rank", { $0.metrics.stableRank }), ("mp_softrank", { $0.metrics.mp.softRank })]
        for (k, f) in means { fields.append((k, analysis.mean(f).map(Value.number) ?? .none)) }
        if options.randomize { fields.append(("rand_distance", analysis.mean { $0.metrics.randDistance }.map(Value.number) ?? .none)) }
        if hasBase {
            fields.append(("d_alpha", analysis.mean { $0.deltaAlpha }.map(Value.number) ?? .none))
            fields.append(("d_D", analysis.mean { $0.deltaD }.map(Value.number) ?? .none))
            fields.append(("ks_base", analysis.mean { $0.ksFromBase }.map(Value.number) ?? .none))
        }
        return Record(fields)
    }

    func makeTable() -> Table {
        var headers = ["block", "role", "shape", "alpha", "alpha_weighted", "D", "log_norm", "log_spectral_norm",
                       "stable_rank", "mp_softrank", "num_spikes", "sigma_mp"]
        if options.randomize { headers += ["rand_distance", "num_traps"] }
        if options.fixFingers == .clipXmax { headers += ["num_fingers"] }
        if hasBase { headers += ["d_alpha", "d_D", "ks_base"] }
        let anySketched = analysis.rows.contains { $0.metrics.sketched }
        if anySketched { headers += ["spectrum"] }
        headers += ["warning"]
        func num(_ x: Double?) -> Table.Cell { x.map { .number($0) } ?? .empty }
        let rows: [[Table.Cell]] = analysis.rows.map { r in
            let m = r.metrics
            var cells: [Table.Cell] = [.integer(r.block), .text(shortName(r.role)), .text("\(r.rows)×\(r.cols)"),
                                       .number(m.alpha), .number(m.alphaWeighted), .number(m.fit.D), .number(m.logNorm),
                                       .number(m.logSpectralNorm), .number(m.stableRank), .number(m.mp.softRank),
                                       .integer(m.mp.spikes), .number(m.mp.sigma)]
            if options.randomize { cells += [num(m.randDistance), m.traps.map { .integer($0) } ?? .empty] }
            if options.fixFingers == .clipXmax { cells += [.integer(m.fit.fingers)] }
            if hasBase { cells += [num(r.deltaAlpha), num(r.deltaD), num(r.ksFromBase)] }
            if anySketched { cells.append(.text(m.sketched ? "sketch" : "exact")) }
            cells.append(.text(m.warning))
            return cells
        }
        let s = summaryRecord()
        let footer: [Table.Cell] = headers.map { h in
            if h == "block" { return .text("mean") }
            if case .number(let x)? = s[h], h != "matrices" { return .number(x) }
            return .empty
        }
        let title = "spectral analysis of \(modelName)" + (hasBase ? " against its base" : "")
        return Table(title: title, headers: headers, rows: rows, footer: rows.isEmpty ? nil : footer)
    }

    /// α by block, one line per role.
    func alphaFigure() -> Figure {
        var f = Figure(title: "α by block and role (\(modelName))", xLabel: "block", yLabel: hasBase ? "Δα (pruned − base)" : "α")
        for (name, role) in spectralRoleNames {
            let rs = analysis.rows.filter { $0.role == role }
            guard !rs.isEmpty else { continue }
            let ys = rs.map { hasBase ? ($0.deltaAlpha ?? .nan) : $0.metrics.alpha }
            f.add(.line(x: rs.map { Double($0.block) }, y: ys, label: name))
        }
        // WeightWatcher's band of well-trained layers, 2 ≤ α ≤ 6 (without base=: α itself is drawn).
        if !hasBase, let lo = analysis.rows.map(\.block).min(), let hi = analysis.rows.map(\.block).max() {
            f.add(.line(x: [Double(lo), Double(hi)], y: [2, 2], label: "α = 2", color: Color("gray")))
            f.add(.line(x: [Double(lo), Double(hi)], y: [6, 6], label: "α = 6", color: Color("gray")))
        }
        return f
    }
}

/// One matrix's metrics as a record (WeightWatcher's column names).
private func spectrumRecord(_ m: SpectralMetrics, block: Int?, role: TensorRole?, row: MatrixSpectrum? = nil) -> Value {
    var fields: [(String, Value)] = []
    if let block { fields.append(("block", .number(Double(block)))) }
    if let role { fields.append(("role", .string(shortName(role)))) }
    fields += [("N", .number(Double(m.n))), ("M", .number(Double(m.m))),
               ("alpha", .number(m.alpha)), ("alpha_weighted", .number(m.alphaWeighted)), ("D", .number(m.fit.D)),
               ("xmin", .number(m.fit.xmin)), ("xmax", .number(m.fit.xmax)), ("sigma", .number(m.fit.sigma)),
               ("num_pl_spikes", .number(Double(m.fit.tailCount))), ("lambda_max", .number(m.lambdaMax)),
               ("log_norm", .number(m.logNorm)), ("log_spectral_norm", .number(m.logSpectralNorm)),
               ("log_alpha_norm", .number(m.logAlphaNorm)), ("stable_rank", .number(m.stableRank)),
               ("mp_softrank", .number(m.mp.softRank)), ("num_spikes", .number(Double(m.mp.spikes))),
               ("sigma_mp", .number(m.mp.sigma)), ("bulk_min", .number(m.mp.bulkMin)), ("bulk_max", .number(m.mp.bulkMax)),
               ("num_fingers", .number(Double(m.fit.fingers))), ("raw_alpha", .number(m.fit.rawAlpha)),
               ("warning", .string(m.warning))]
    if m.sketched { fields.append(("spectrum", .string("sketch"))) }
    if let d = m.randDistance { fields.append(("rand_distance", .number(d))) }
    if let t = m.traps { fields.append(("num_traps", .number(Double(t)))) }
    if let row, row.base != nil {
        fields += [("d_alpha", row.deltaAlpha.map(Value.number) ?? .none), ("d_D", row.deltaD.map(Value.number) ?? .none),
                   ("ks_base", row.ksFromBase.map(Value.number) ?? .none)]
    }
    return .record(Record(fields))
}

/// The ESD of one matrix on log-log axes: the density of the eigenvalues in 100 log-spaced bins,
/// the fitted power law from xmin (scaled to the tail's share), xmin, and the MP bulk.
func esdFigure(_ m: SpectralMetrics, title: String) -> Figure {
    var f = Figure(title: title, xLabel: "eigenvalue λ = σ²", yLabel: "density", xScale: .log10, yScale: .log10)
    func density(_ evals: [Double]) -> (x: [Double], y: [Double]) {
        let lo = max(m.fit.xmin / 100, evals.first { $0 > 0 } ?? 1), hi = evals.last ?? 1
        let xs = evals.filter { $0 >= lo }
        guard hi > lo, !xs.isEmpty else { return ([], []) }
        let bins = 100
        let l0 = log10(lo), w = (log10(hi) - l0) / Double(bins)
        var counts = [Double](repeating: 0, count: bins)
        for x in xs { counts[min(bins - 1, Int((log10(x) - l0) / w))] += 1 }
        var px: [Double] = [], py: [Double] = []
        for b in 0..<bins where counts[b] > 0 {
            let a = pow(10, l0 + Double(b) * w), c = pow(10, l0 + Double(b + 1) * w)
            px.append((a * c).squareRoot())
            py.append(counts[b] / (Double(evals.count) * (c - a)))
        }
        return (px, py)
    }
    let d = density(m.eigenvalues)
    f.add(.scatter(x: d.x, y: d.y, label: "ESD"))
    if let r = m.randomEigenvalues {
        let dr = density(r)
        let distance = m.randDistance.map { ", distance \(formatShort($0, digits: 3))" } ?? ""
        f.add(.scatter(x: dr.x, y: dr.y, label: "shuffled\(distance)"))
    }
    // The fitted law p(λ) = (α − 1)/xmin · (λ/xmin)^(−α), times the tail's share of the eigenvalues.
    let share = Double(m.fit.tailCount) / Double(m.eigenvalues.count)
    let a = m.fit.alpha
    if a > 1, m.fit.xmax > m.fit.xmin {
        let xs = (0...40).map { m.fit.xmin * pow(m.fit.xmax / m.fit.xmin, Double($0) / 40) }
        f.add(.line(x: xs, y: xs.map { share * (a - 1) / m.fit.xmin * pow($0 / m.fit.xmin, -a) }, label: "power law α=\(formatShort(a, digits: 3))"))
    }
    let ys = d.y.filter { $0 > 0 }
    if let yl = ys.min(), let yh = ys.max() {
        f.add(.line(x: [m.fit.xmin, m.fit.xmin], y: [yl, yh], label: "xmin \(formatShort(m.fit.xmin, digits: 3))"))
    }
    // The MP density in the ESD's units: λ scaled by scale² has density ρ_MP, so p(λ) = scale²·ρ_MP(λ·scale²).
    let s2 = m.mp.scale * m.mp.scale
    if m.mp.bulkMax > 0, m.mp.q != 1 {
        let lo = max(m.mp.bulkMin, m.mp.bulkMax * 1e-3)
        let xs = (0...60).map { lo * pow(m.mp.bulkMax / lo, Double($0) / 60) }
        let pts = xs.map { ($0, s2 * marchenkoPasturDensity($0 * s2, q: m.mp.q, sigma: m.mp.sigma)) }.filter { $0.1 > 0 }
        f.add(.line(x: pts.map(\.0), y: pts.map(\.1), label: "MP bulk"))
    }
    // The bulk's right edge λ+: eigenvalues beyond it are the spikes (num_spikes).
    if m.mp.bulkMax > 0 {
        f.add(.line(x: [m.mp.bulkMax, m.mp.bulkMax], y: [ys.min() ?? 1e-6, ys.max() ?? 1],
                    label: "MP edge \(formatShort(m.mp.bulkMax, digits: 3)), \(m.mp.spikes) spikes"))
    }
    return f
}

extension BuiltinRegistry {
    /// The WeightWatcher-style analysis builtins: analyze and esd.
    func registerSpectralAnalysis() {
        let analysisParams: [Param] = [
            .optional("randomize", "bool", default: .bool(false), "also compare each matrix with its element-wise shuffle: rand_distance, num_traps"),
            .optional("fix_fingers", "string|none", default: .none, "\"clip_xmax\" or \"xmin_peak\" (see below); none fits plainly"),
            .optional("min_evals", "number", default: .number(50), "skip matrices with fewer eigenvalues (the smaller dimension)"),
            .optional("seed", "number", default: .number(0), "the shuffle's seed (randomize)"),
            .optional("spectrum", "string", default: .string("auto"), spectrumParamDoc),
        ]
        func options(_ a: Arguments) throws -> SpectralOptions {
            var o = SpectralOptions(minEvals: try a.int("min_evals", 0...1 << 30), randomize: try a.bool("randomize"), seed: try a.seed())
            o.spectrum = try spectrumMode(a)
            if a.has("fix_fingers") {
                o.fixFingers = FingerFix(rawValue: try a.choice("fix_fingers", FingerFix.allCases.map(\.rawValue)))
            }
            return o
        }
        register(Builtin(
            name: "analyze",
            params: [.required("m", "model|matrix"),
                     .optional("base", "model|none", default: .none, "the dense original of a pruned model: adds d_alpha, d_D and ks_base"),
                     .optional("roles", "list|none", default: .none, "which projections, among q k v o gate up down (all by default)")] + analysisParams,
            returns: "analysis|record", category: "spectra",
            doc: "WeightWatcher's per-layer analysis. For a model: every block's q, k, v, o, gate, up and down matrix (or `roles`), one row each with block, role, shape and WeightWatcher's columns, the means below (its get_summary), with progress per matrix (Ctrl-C stops between and inside matrices). For a matrix: one record. The ESD is λ = σ² of W's singular values (no 1/N, as WeightWatcher); alpha is the power-law tail exponent fitted as WeightWatcher's default fitter does (every eigenvalue but the largest tried as xmin, smallest KS distance D wins), alpha_weighted = α·log10 λmax, log_norm = log10 Σλ, log_spectral_norm = log10 λmax, stable_rank = Σλ/λmax, and the Marchenko–Pastur fit of the bulk (sigma_mp, num_spikes above its edge, mp_softrank = bulk edge / λmax). With base=, each matrix is matched to the base's by block and role (pruned shapes may differ): d_alpha and d_D are the differences from the dense original and ks_base the KS distance between the two ESDs. The result shows as a table; .records gives the rows as records, .summary the means, .figure α by block and role with WeightWatcher's band 2 ≤ α ≤ 6 (Δα with base=; plot(a) draws the same figure and overlays it with others), .table the table itself. Agrees with weightwatcher 0.7.7 on SmolLM2 and MiniLM matrices (alpha, D, norms to 1e-6; MP fit to 1e-4). Matrices whose smaller side is \(SpectrumMode.sketchDimension) or more (a 7B model's 4096) are sketched by default (spectrum=\"auto\"): the table then has a spectrum column (sketch or exact) and a sketched record a spectrum field; spectrum=\"exact\" forces every eigenvalue." + spectralInterpretation,
            example: "r = analyze(randn(120, 80, seed=0))\n[r.alpha > 1, r.num_spikes]") { a in
                let opts = try options(a)
                if case .object(let o) = a.value("m"), let mo = o as? ModelObject {
                    var roles = spectralRoles
                    if a.has("roles") {
                        guard case .list(let items) = a.value("roles"), !items.isEmpty else { throw a.typeError("roles", expected: "a non-empty list of projection names") }
                        roles = try items.map { v in
                            guard case .string(let s) = v, let r = spectralRoleNames.first(where: { $0.0 == s })?.1 else {
                                throw a.fail(argument: "roles", "roles must be among q k v o gate up down, got \(Render.inline(v, depth: 1))")
                            }
                            return r
                        }
                    }
                    var base: Model?
                    if a.has("base") { base = try a.model("base").model }
                    let result = try analyzeSpectra(mo.model, base: base, roles: roles, options: opts, progress: a.reporter("analyze of \(mo.model.name)"))
                    return .object(SpectralAnalysisObject(result, options: opts, hasBase: base != nil, modelName: mo.model.name))
                }
                if a.has("base") || a.has("roles") { throw a.fail("base= and roles= apply to a model, not a matrix") }
                let w = try a.matrix("m", finite: true)
                guard let m = try analyzeSpectrum(w, options: opts, check: { try a.checkInterrupt() }) else {
                    throw a.fail(argument: "m", "the matrix has \(w.minDimension) eigenvalues, fewer than min_evals=\(opts.minEvals)")
                }
                return spectrumRecord(m, block: nil, role: nil)
            })
        register(Builtin(
            name: "esd",
            params: [.required("W", "matrix"), .optional("title", "string", default: .string(""))] + analysisParams,
            returns: "figure", category: "spectra",
            doc: "A figure of W's empirical spectral density on log-log axes, as WeightWatcher plots it: the density of λ = σ² in 100 log-spaced bins (from xmin/100 up), the fitted power-law tail from xmin (α in its label), xmin itself, the Marchenko–Pastur bulk fitted to the rescaled ESD (its density for a rectangular matrix) and the bulk's edge λ+ (with the number of spikes beyond it); with randomize=true also the ESD of the element-wise shuffled matrix, labelled with rand_distance. Fit options as in analyze." + spectralInterpretation,
            example: "esd(randn(200, 100, seed=0), title=\"noise against its shuffle\", randomize=true)") { a in
                let w = try a.matrix("W", finite: true)
                var opts = try options(a)
                opts.minEvals = min(opts.minEvals, 4)
                guard let m = try analyzeSpectrum(w, options: opts, check: { try a.checkInterrupt() }) else {
                    throw a.fail(argument: "W", "the matrix needs at least 4 eigenvalues, got \(w.minDimension)")
                }
                let t = try a.string("title")
                return .object(FigureObject(esdFigure(m, title: t.isEmpty ? "ESD, α = \(formatShort(m.alpha, digits: 3)), D = \(formatShort(m.fit.D, digits: 3))" : t)))
            })
    }
}
