import CBLAS

/// How a spectrum (the eigenvalues of a Gram matrix WᵀW or WWᵀ, or W's singular values) is
/// computed: exactly (the Gram matrix and all its eigenvalues), by the stochastic block Lanczos
/// sketch (`sketchSpectrum`), or by size (`auto`: exact below `SpectrumMode.sketchDimension`).
public enum SpectrumMode: String, Sendable, CaseIterable, Codable {
    /// Every eigenvalue of the Gram matrix (dsyevd): O(p³) for p = the smaller dimension.
    case exact
    /// The stochastic block Lanczos sketch: the top eigenvalues exact, the rest as quantiles of
    /// the estimated spectral distribution (`SpectrumSketch.eigenvalues()`).
    case sketch
    /// `exact` when the smaller dimension is below `sketchDimension`, `sketch` from there on.
    case auto

    /// The smaller dimension from which `auto` sketches. Exact eigenvalues cost p³: a 2048² Gram
    /// takes about a second here and a 4096² one (LLaMA-2-7B's d) 8 s or more, with its Float64
    /// Gram (134 MB) on top, so every matrix of SmolLM2 (576), MiniLM (384) and a 1B-shaped
    /// model (2048) stays exact and a 7B-shaped one (4096) is sketched.
    public static let sketchDimension = 3072

    /// Whether a spectrum of `dimension` eigenvalues (the matrix's smaller side) is sketched.
    public func sketches(dimension: Int) -> Bool {
        switch self {
        case .exact: return false
        case .sketch: return true
        case .auto: return dimension >= Self.sketchDimension
        }
    }
}

/// The settings of `sketchSpectrum`: `probes` Gaussian start vectors (the block size b) and
/// `steps` block Lanczos steps, so the Krylov space has K = b·steps dimensions (at most p) and
/// the operator is applied to K vectors in all, `probes` at a time.
public struct SpectrumSketchOptions: Sendable, Equatable, Codable {
    /// Gaussian probe vectors, the block size b.
    public var probes: Int
    /// Block Lanczos steps.
    public var steps: Int
    /// Seed of the probes.
    public var seed: UInt64
    /// A Ritz value θ counts as an exact eigenvalue when its residual ‖A·x − θ·x‖ is at most
    /// `tolerance`·θ (then some eigenvalue lies within that distance, usually far closer).
    public var tolerance: Double

    /// 4 probes and 96 steps (a 384-dimensional Krylov space), residual tolerance 1e-3. The
    /// error in the spectral distribution is mostly the quadrature's resolution, about 1/steps,
    /// rather than the probes' sampling (√(2F(1−F)/(b·p))): for a fixed K = b·steps, deeper beats
    /// wider. On a heavy-tailed 4096×4096 matrix (bench: prunelang-bench sketch spectra), KS from
    /// the exact spectrum 0.045 with 8×48, 0.025 with 4×96, 0.018 with 8×96, in 2.3, 3.5 and 6.1
    /// CPU seconds against 12.1 for the exact path.
    public init(probes: Int = 4, steps: Int = 96, seed: UInt64 = 0, tolerance: Double = 1e-3) {
        self.probes = probes
        self.steps = steps
        self.seed = seed
        self.tolerance = tolerance
    }
}

/// An estimate of the spectrum of a p×p symmetric positive semi-definite operator A from
/// products A·X only (stochastic block Lanczos quadrature): the Ritz values of A on the block
/// Krylov space of b Gaussian probes, with Gauss quadrature weights (the share of the probes'
/// energy on each Ritz vector), and which of the largest Ritz values have converged to
/// eigenvalues. The estimated spectral distribution F̂(x) = Σ_{θᵢ ≤ x} wᵢ is exact in expectation
/// over the probes for polynomials of degree below 2·steps; its sampling error is about
/// √(2F(1−F)/(b·p)) and its quadrature resolution about 1/K.
public struct SpectrumSketch: Sendable, Equatable {
    /// p, the number of eigenvalues of the operator.
    public let dimension: Int
    /// The Ritz values θ, ascending (clamped at 0).
    public let nodes: [Double]
    /// The quadrature weight of each node (summing to 1).
    public let weights: [Double]
    /// The residual norm ‖A·x − θ·x‖ of each node's Ritz vector.
    public let residuals: [Double]
    /// How many of the largest nodes have converged (consecutive from the top): those are
    /// eigenvalues, counted once each.
    public let converged: Int
    /// Vectors the operator was applied to (K).
    public let products: Int

    /// The converged eigenvalues, largest first.
    public var topEigenvalues: [Double] { Array(nodes.suffix(converged).reversed()) }

    /// The estimated spectrum as p eigenvalues, ascending: the converged top ones exactly, the
    /// other p − t as the quantiles (i + ½)/(p − t) of the distribution of the remaining nodes,
    /// their weights renormalised and the CDF linear between midpoints of its steps. This is the
    /// form a two-sample KS or AD distance, a histogram or a power-law fit takes.
    public func eigenvalues() -> [Double] {
        let p = dimension, t = converged
        let top = Array(nodes.suffix(t))
        let restCount = p - t
        if restCount <= 0 { return Array(top.suffix(p)) }
        let restNodes = Array(nodes.prefix(nodes.count - t))
        var restWeights = Array(weights.prefix(nodes.count - t))
        guard !restNodes.isEmpty else {
            // Everything converged but fewer nodes than eigenvalues: the rest sit at the smallest.
            return [Double](repeating: top.first ?? 0, count: restCount) + top
        }
        let total = restWeights.reduce(0, +)
        if total > 0 { restWeights = restWeights.map { $0 / total } } else { restWeights = restWeights.map { _ in 1 / Double(restNodes.count) } }
        // Knots of the piecewise-linear CDF: (x, F) ascending in both.
        var xs: [Double] = [], fs: [Double] = []
        let r = restNodes.count
        let lowStep = r > 1 ? restNodes[1] - restNodes[0] : restNodes[0] * 0.5
        xs.append(Swift.max(0, restNodes[0] - lowStep)); fs.append(0)
        var acc = 0.0
        for i in 0..<r {
            xs.append(restNodes[i]); fs.append(acc + restWeights[i] / 2)
            acc += restWeights[i]
        }
        var hi = r > 1 ? restNodes[r - 1] + (restNodes[r - 1] - restNodes[r - 2]) : restNodes[r - 1] * 1.5
        if let smallestTop = top.first { hi = Swift.min(hi, Swift.max(smallestTop, restNodes[r - 1])) }
        xs.append(Swift.max(hi, restNodes[r - 1])); fs.append(1)
        var out = [Double](); out.reserveCapacity(p)
        var k = 0
        for i in 0..<restCount {
            let q = (Double(i) + 0.5) / Double(restCount)
            while k + 1 < fs.count - 1 && fs[k + 1] < q { k += 1 }
            let f0 = fs[k], f1 = fs[k + 1]
            let x = f1 > f0 ? xs[k] + (xs[k + 1] - xs[k]) * (q - f0) / (f1 - f0) : xs[k + 1]
            out.append(x)
        }
        return out + top
    }

    /// The estimated spectral distribution at x: the share of eigenvalues ≤ x (the converged top
    /// ones counted as 1/p each, the other nodes sharing the rest by their weights).
    public func cdf(_ x: Double) -> Double {
        let sample = eigenvalues()
        var lo = 0, hi = sample.count
        while lo < hi { let mid = (lo + hi) / 2; if sample[mid] <= x { lo = mid + 1 } else { hi = mid } }
        return Double(lo) / Double(Swift.max(sample.count, 1))
    }
}

/// Sketches the spectrum of a p×p symmetric positive semi-definite operator given only its
/// products: `apply(x, b, y)` must write A·X into `y` for the b vectors of X stored one after
/// another (b×p row-major Float32, as `y`). Block Lanczos with full reorthogonalisation (each new
/// block orthogonalised twice against the whole basis) builds an orthonormal basis Q of the
/// Krylov space of b Gaussian probes Z, K = min(b·steps, p) vectors; the Ritz values are the
/// eigenvalues of T = QᵀAQ; the quadrature weight of Ritz vector u is ‖Zᵀu‖²/‖Z‖²_F; its residual
/// is ‖(AQ − QT)·y‖. When K reaches p the basis spans everything and every eigenvalue is exact.
/// Cost: K operator products (in blocks of b) plus O(K²·p) for the basis and O(K³) for T's
/// eigenvalues. `check` is called before every block (throw from it to stop).
public func sketchSpectrum(dimension p: Int, options: SpectrumSketchOptions = SpectrumSketchOptions(),
                           check: () throws -> Void = {},
                           apply: (_ x: UnsafePointer<Float>, _ count: Int, _ y: UnsafeMutablePointer<Float>) throws -> Void) throws -> SpectrumSketch {
    guard options.probes >= 1, options.steps >= 1 else {
        throw NumericsError.invalidArgument("a spectrum sketch needs at least 1 probe and 1 step, got \(options.probes) and \(options.steps)")
    }
    guard p >= 1 else { return SpectrumSketch(dimension: 0, nodes: [], weights: [], residuals: [], converged: 0, products: 0) }
    let b = Swift.min(options.probes, p)
    let kMax = Swift.min(b * options.steps, p)
    var rng = SeededRandom(seed: options.seed)
    // Probes Z (b×p), kept for the quadrature weights.
    let z = (0..<(b * p)).map { _ in rng.normal() }
    var q = [Double](repeating: 0, count: kMax * p)      // basis, one vector per row
    var aq = [Double](repeating: 0, count: kMax * p)     // A·q for each basis vector
    var filled = 0
    var xf = [Float](repeating: 0, count: b * p), yf = [Float](repeating: 0, count: b * p)

    /// Orthonormalises `block` (count×p) against the basis rows 0..<filled and within itself,
    /// appending what survives to the basis; a vector that vanishes is replaced by a random one.
    func extend(with block: [Double], count: Int) {
        var x = block
        let take = Swift.min(count, kMax - filled)
        guard take > 0 else { return }
        // Two passes of block classical Gram–Schmidt against the basis.
        if filled > 0 {
            var c = [Double](repeating: 0, count: filled * count)
            for _ in 0..<2 {
                q.withUnsafeBufferPointer { pq in
                    x.withUnsafeMutableBufferPointer { px in
                        c.withUnsafeMutableBufferPointer { pc in
                            Float64LinearAlgebra.gemm(transB: true, m: filled, n: count, k: p, a: pq.baseAddress!, lda: p,
                                                      b: UnsafePointer(px.baseAddress!), ldb: p, c: pc.baseAddress!, ldc: count)
                            Float64LinearAlgebra.gemm(transA: true, m: count, n: p, k: filled, alpha: -1, a: UnsafePointer(pc.baseAddress!), lda: count,
                                                      b: pq.baseAddress!, ldb: p, beta: 1, c: px.baseAddress!, ldc: p)
                        }
                    }
                }
            }
        }
        // Modified Gram–Schmidt within the block (twice), against the basis as it grows.
        var added = 0
        for j in 0..<count where added < take {
            var v = Array(x[(j * p)..<((j + 1) * p)])
            let before = norm(v)
            for _ in 0..<2 { orthogonalise(&v, againstRows: filled + added) }
            var after = norm(v)
            var tries = 0
            while after <= 1e-10 * Swift.max(before, 1e-300) && tries < 3 {
                // Breakdown (an invariant subspace, or a zero block): continue with a random vector.
                v = (0..<p).map { _ in rng.normal() }
                for _ in 0..<2 { orthogonalise(&v, againstRows: filled + added) }
                after = norm(v)
                tries += 1
            }
            guard after > 0 else { continue }
            let row = filled + added
            for i in 0..<p { q[row * p + i] = v[i] / after }
            added += 1
        }
        filled += added
    }
    func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    func orthogonalise(_ v: inout [Double], againstRows rows: Int) {
        guard rows > 0 else { return }
        q.withUnsafeBufferPointer { pq in
            v.withUnsafeMutableBufferPointer { pv in
                var c = [Double](repeating: 0, count: rows)
                cblas_dgemv(CblasRowMajor, CblasNoTrans, Int32(rows), Int32(p), 1, pq.baseAddress, Int32(p), pv.baseAddress, 1, 0, &c, 1)
                cblas_dgemv(CblasRowMajor, CblasTrans, Int32(rows), Int32(p), -1, pq.baseAddress, Int32(p), c, 1, 1, pv.baseAddress, 1)
            }
        }
    }

    extend(with: z, count: b)
    var products = 0
    var start = 0
    while start < filled {
        try check()
        let count = filled - start
        for i in 0..<(count * p) { xf[i] = Float(q[start * p + i]) }
        try xf.withUnsafeBufferPointer { px in
            try yf.withUnsafeMutableBufferPointer { py in try apply(px.baseAddress!, count, py.baseAddress!) }
        }
        products += count
        var next = [Double](repeating: 0, count: count * p)
        for i in 0..<(count * p) {
            let y = Double(yf[i])
            aq[start * p + i] = y
            next[i] = y
        }
        let old = filled
        start = filled
        if filled < kMax { extend(with: next, count: count) }
        if filled == old { break }
    }
    let k = filled
    // T = Q·(AQ)ᵀ, symmetrised.
    var t = [Double](repeating: 0, count: k * k)
    q.withUnsafeBufferPointer { pq in
        aq.withUnsafeBufferPointer { pa in
            t.withUnsafeMutableBufferPointer { pt in
                Float64LinearAlgebra.gemm(transB: true, m: k, n: k, k: p, a: pq.baseAddress!, lda: p, b: pa.baseAddress!, ldb: p,
                                          c: pt.baseAddress!, ldc: k)
            }
        }
    }
    for i in 0..<k { for j in 0..<i { let s = (t[i * k + j] + t[j * k + i]) / 2; t[i * k + j] = s; t[j * k + i] = s } }
    let eig = try Float64LinearAlgebra.symmetricEigenDescending(t, n: k)   // vectors: columns of a row-major k×k
    // Residuals: E = AQ − T·Q (k×p), R = Yᵀ·E, one row per Ritz vector.
    var e = aq
    var r = [Double](repeating: 0, count: k * p)
    var cz = [Double](repeating: 0, count: b * k), cy = [Double](repeating: 0, count: b * k)
    t.withUnsafeBufferPointer { pt in
        q.withUnsafeBufferPointer { pq in
            e.withUnsafeMutableBufferPointer { pe in
                Float64LinearAlgebra.gemm(m: k, n: p, k: k, alpha: -1, a: pt.baseAddress!, lda: k, b: pq.baseAddress!, ldb: p,
                                          beta: 1, c: pe.baseAddress!, ldc: p)
            }
        }
    }
    eig.vectors.withUnsafeBufferPointer { py in
        e.withUnsafeBufferPointer { pe in
            r.withUnsafeMutableBufferPointer { pr in
                Float64LinearAlgebra.gemm(transA: true, m: k, n: p, k: k, a: py.baseAddress!, lda: k, b: pe.baseAddress!, ldb: p,
                                          c: pr.baseAddress!, ldc: p)
            }
        }
        z.withUnsafeBufferPointer { pz in
            q.withUnsafeBufferPointer { pq in
                cz.withUnsafeMutableBufferPointer { pc in
                    Float64LinearAlgebra.gemm(transB: true, m: b, n: k, k: p, a: pz.baseAddress!, lda: p, b: pq.baseAddress!, ldb: p,
                                              c: pc.baseAddress!, ldc: k)
                }
            }
        }
        cz.withUnsafeBufferPointer { pc in
            cy.withUnsafeMutableBufferPointer { po in
                Float64LinearAlgebra.gemm(m: b, n: k, k: k, a: pc.baseAddress!, lda: k, b: py.baseAddress!, ldb: k,
                                          c: po.baseAddress!, ldc: k)
            }
        }
    }
    let zNorm2 = z.reduce(0) { $0 + $1 * $1 }
    // Descending order from LAPACK; the sketch stores ascending.
    var nodes = [Double](), weights = [Double](), residuals = [Double]()
    for i in stride(from: k - 1, through: 0, by: -1) {
        nodes.append(Swift.max(eig.values[i], 0))
        var w = 0.0
        for j in 0..<b { w += cy[j * k + i] * cy[j * k + i] }
        weights.append(w / zNorm2)
        var s = 0.0
        for c in 0..<p { s += r[i * p + c] * r[i * p + c] }
        residuals.append(s.squareRoot())
    }
    let wsum = weights.reduce(0, +)
    if wsum > 0 { weights = weights.map { $0 / wsum } }
    var converged = 0
    if k == p {
        converged = k   // the basis spans the whole space: Rayleigh–Ritz is exact
    } else {
        for i in stride(from: k - 1, through: 0, by: -1) {
            guard residuals[i] <= options.tolerance * Swift.max(nodes[i], 0), nodes[i] > 0 else { break }
            converged += 1
        }
    }
    return SpectrumSketch(dimension: p, nodes: nodes, weights: weights, residuals: residuals, converged: converged, products: products)
}

/// How `sketchGramSpectrum` applies the Gram operator to its probe blocks.
public enum SketchProducts: String, Sendable, CaseIterable {
    /// Through W and Wᵀ (two sgemm a block), never forming the Gram matrix: each block streams W
    /// twice, so a matrix much longer than wide pays for its long side on every block.
    case factors
    /// Form the Float32 Gram matrix of the smaller side once (ssyrk, about n·p² multiply-adds),
    /// then multiply by it (one p×p sgemm a block).
    case gram
    /// By a cost model of the two forms, both streaming memory: per block of b probes the factor
    /// form reads W twice (2·n·p floats, n the longer side) and the Gram form reads G once (p²),
    /// after ssyrk's one compute-bound pass that costs about as much as streaming p²/16 floats
    /// for each of n rows. So the Gram form wins when K·(2n − p) > n·p/16 (K = probes·steps).
    /// Measured on this 2-core AVX-512 VM (bench: prunelang-bench sketch spectra, idle): at K = 384
    /// the Gram form took 4096×4096 from 2.11 s to 1.36 s, 11008×4096 from 4.14 s to 1.94 s and
    /// 4096×11008 from 3.32 s to 1.94 s; at K = 192, 11008×4096 from 2.07 s to 1.50 s, while the
    /// factor form stayed faster on 4096×4096 (0.79 s against 0.94 s), as the model predicts.
    case auto

    /// Whether a rows×cols matrix is sketched through its Gram matrix when `krylov` vectors are
    /// multiplied (probes·steps).
    public func formsGram(rows: Int, cols: Int, krylov: Int) -> Bool {
        switch self {
        case .factors: return false
        case .gram: return true
        case .auto:
            let n = Double(Swift.max(rows, cols)), p = Double(Swift.min(rows, cols))
            return Double(krylov) * (2 * n - p) > n * p / 16
        }
    }
}

/// Sketches the eigenvalues of the Gram matrix of `w`'s smaller side (WᵀW when rows ≥ cols, WWᵀ
/// otherwise: the p = min(rows, cols) values σᵢ² of W's singular values). By `products`: either
/// W and Wᵀ are applied in Float32 (sgemm), never forming the Gram matrix, at 4·rows·cols flops
/// per probe vector (K = probes·steps vectors: 69 GFLOP for 11008×4096 at K = 384, against
/// rows·cols² + O(cols³) for the exact path), or the Float32 Gram matrix G is formed once
/// (ssyrk) and the vectors are multiplied by G (2·p² flops each; G is p² floats, 64 MB at
/// p = 4096). Memory besides W: the basis and its products, 2·K·p Float64 (25 MB at K = 384,
/// p = 4096), and G when formed.
public func sketchGramSpectrum(_ w: Matrix, options: SpectrumSketchOptions = SpectrumSketchOptions(),
                               products: SketchProducts = .auto,
                               check: () throws -> Void = {}) throws -> SpectrumSketch {
    try w.requireFinite("spectrum sketch input")
    let n = w.rows, d = w.cols
    let p = Swift.min(n, d)
    if p == 0 { return SpectrumSketch(dimension: 0, nodes: [], weights: [], residuals: [], converged: 0, products: 0) }
    let tall = n >= d
    if products.formsGram(rows: n, cols: d, krylov: options.probes * options.steps) {
        try check()
        let g = gram(w, side: tall ? .columns : .rows)
        return try g.data.withUnsafeBufferPointer { pg in
            try sketchSpectrum(dimension: p, options: options, check: check) { x, b, y in
                // Rows of X·G = rows of (G·Xᵀ)ᵀ, G symmetric.
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(b), Int32(p), Int32(p), 1,
                            x, Int32(p), pg.baseAddress, Int32(p), 0, y, Int32(p))
            }
        }
    }
    let other = tall ? n : d
    var mid = [Float](repeating: 0, count: options.probes * other)
    return try w.data.withUnsafeBufferPointer { pw in
        try sketchSpectrum(dimension: p, options: options, check: check) { x, b, y in
            if mid.count < b * other { mid = [Float](repeating: 0, count: b * other) }
            mid.withUnsafeMutableBufferPointer { pm in
                if tall {
                    // X (b×d) → X·Wᵀ (b×n) → (X·Wᵀ)·W (b×d): rows of (WᵀW·Xᵀ)ᵀ.
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(b), Int32(n), Int32(d), 1,
                                x, Int32(d), pw.baseAddress, Int32(d), 0, pm.baseAddress, Int32(n))
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(b), Int32(d), Int32(n), 1,
                                pm.baseAddress, Int32(n), pw.baseAddress, Int32(d), 0, y, Int32(d))
                } else {
                    // X (b×n) → X·W (b×d) → (X·W)·Wᵀ (b×n).
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(b), Int32(d), Int32(n), 1,
                                x, Int32(n), pw.baseAddress, Int32(d), 0, pm.baseAddress, Int32(d))
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(b), Int32(n), Int32(d), 1,
                                pm.baseAddress, Int32(d), pw.baseAddress, Int32(d), 0, y, Int32(n))
                }
            }
        }
    }
}

/// The ESD eigenvalues λ = σ² of `w` (ascending, p = min(rows, cols) of them) by `mode`: exact as
/// `esdEigenvalues`, or sketched (`sketchGramSpectrum(...).eigenvalues()`). Returns the values and
/// whether they were sketched.
public func esdEigenvalues(_ w: Matrix, mode: SpectrumMode, sketch options: SpectrumSketchOptions = SpectrumSketchOptions(),
                           check: () throws -> Void = {}) throws -> (values: [Double], sketched: Bool) {
    guard mode.sketches(dimension: w.minDimension) else { return (try esdEigenvalues(w), false) }
    return (try sketchGramSpectrum(w, options: options, check: check).eigenvalues(), true)
}
