import Foundation
import Numerics

/// The spectral demo: two matrices of SmolLM2-135M's FFN shape (1536×576), one Gaussian (its
/// singular values follow Marchenko–Pastur) and one heavy-tailed like a trained layer, and the KS
/// distance between each one's singular values before and after dropping a fraction of its rows,
/// for three row choices. The distance is PruneNet's penalty (paper eq. 5): the policy learns
/// which rows to drop so that it stays small.
struct SpectralDemo {
    let seed: UInt64
    let ratio: Double
    let draws: Int
    let rows = 1536
    let cols = 576

    /// One matrix's line of the report.
    struct Line {
        let name: String
        let sigmaMax: Float
        let stableRank: Double
        let alpha: PowerLawFit
        let ksRandom: (mean: Double, std: Double)
        let ksSmallest: Double
        let ksLargest: Double
    }

    /// A Gaussian matrix scaled by 1/√cols.
    func gaussian(_ rng: inout SeededRandom) -> Matrix {
        rng.normalMatrix(rows: rows, cols: cols).map { $0 / Float(cols).squareRoot() }
    }

    /// A heavy-tailed matrix: Gaussian entries times a Pareto(μ = 2.5) scale, the regime in which
    /// Martin & Mahoney find trained layers' spectra.
    func heavyTailed(_ rng: inout SeededRandom) -> Matrix {
        var m = Matrix(rows: rows, cols: cols)
        for k in 0..<m.count {
            let scale = Foundation.pow(rng.uniformOpen(), -1 / 2.5)
            m.data[k] = Float(rng.normal() * scale / Double(cols).squareRoot())
        }
        return m
    }

    func analyse(_ name: String, _ w: Matrix, _ rng: inout SeededRandom) throws -> Line {
        let s = try singularValues(w)
        let keep = rows - Int((Double(rows) * ratio).rounded())
        func ksAfterKeeping(_ idx: [Int]) throws -> Double {
            try ksStatistic(s, singularValues(w.rows(idx.sorted())))
        }
        var randomKS = [Double]()
        for _ in 0..<draws {
            let idx = try rng.sampleWithoutReplacement(weights: [Double](repeating: 1, count: rows), count: keep)
            randomKS.append(try ksAfterKeeping(idx))
        }
        let norms = (0..<rows).map { i in w.row(i).reduce(0.0) { $0 + Double($1) * Double($1) } }
        let byNorm = (0..<rows).sorted { norms[$0] < norms[$1] }
        return Line(
            name: name, sigmaMax: s[0], stableRank: try stableRank(w),
            alpha: try fitPowerLaw(s.map { $0 * $0 }),
            ksRandom: (try mean(randomKS), draws > 1 ? try standardDeviation(randomKS, ddof: 1) : 0),
            ksSmallest: try ksAfterKeeping(Array(byNorm.suffix(keep))),
            ksLargest: try ksAfterKeeping(Array(byNorm.prefix(keep))))
    }

    /// Builds both matrices, analyses them and formats the report.
    func run() throws -> String {
        let start = Date()
        var rng = SeededRandom(seed: seed)
        let lines = [
            try analyse("gaussian (Marchenko–Pastur)", gaussian(&rng), &rng),
            try analyse("heavy-tailed (trained-like)", heavyTailed(&rng), &rng),
        ]
        let pct = Int((ratio * 100).rounded())
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func f(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
        var out = """
        PruneLang spectral demo — what dropping \(pct)% of an FFN matrix's rows does to its spectrum
        Two \(rows)×\(cols) matrices (SmolLM2-135M's FFN shape), seed \(seed).

        \(pad("matrix", 30))\(pad("σ_max", 9))\(pad("stable rank", 13))power-law tail of σ² (α, xmin, KS D, n)

        """
        for l in lines {
            out += pad(l.name, 30) + pad(f(Double(l.sigmaMax)), 9) + pad(f(l.stableRank, 1), 13)
            out += "α = \(f(l.alpha.alpha, 2)), xmin = \(f(l.alpha.xmin)), D = \(f(l.alpha.ksDistance)), n = \(l.alpha.tailCount)\n"
        }
        out += """

        KS distance between the singular values before and after dropping \(pct)% of the rows
        (PruneNet's penalty; smaller keeps the spectrum closer):
        \(pad("matrix", 30))\(pad("random rows (\(draws) draws)", 26))\(pad("smallest-norm rows", 20))largest-norm rows

        """
        for l in lines {
            out += pad(l.name, 30) + pad("\(f(l.ksRandom.mean)) ± \(f(l.ksRandom.std))", 26)
            out += pad(f(l.ksSmallest), 20) + f(l.ksLargest) + "\n"
        }
        out += "\nspectra of \(2 * (draws + 3)) matrices in \(f(Date().timeIntervalSince(start), 2)) s\n"
        return out
    }
}
