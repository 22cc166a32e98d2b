import Foundation
import Numerics
import Pruning

// `prunelang-bench sketch spectra|prunenet ...`: the spectral sketch (issue 26 items 2 and 3) on
// in-process matrices of LLaMA-2-7B's shapes (11008×4096 gate/up, 4096×11008 down, 4096×4096
// attention), built like trained weights: a rank-16 spike plus heavy-tailed noise (Gaussian
// entries scaled by Pareto row and column factors), so the ESD has a power-law tail.

/// CPU seconds of this process so far (all threads).
func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Peak resident set (VmHWM) in MiB.
func peakRSSMiB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return .nan }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return (Double(line.split(separator: " ").dropFirst().first ?? "") ?? .nan) / 1024
    }
    return .nan
}

/// A heavy-tailed rows×cols matrix from `seed`: noise D_r·G·D_c/√cols (Pareto(α=3) row and column
/// scales) plus a rank-16 spike, generated in chunks (sgemm for the spike).
func heavyTailedMatrix(rows: Int, cols: Int, seed: UInt64) throws -> Matrix {
    var g = SeededRandom(seed: seed)
    let pareto = { (g: inout SeededRandom) -> Float in Float(pow(1 - g.uniform(), -1.0 / 3.0)) }
    let dr = (0..<rows).map { _ in pareto(&g) }, dc = (0..<cols).map { _ in pareto(&g) }
    let scale = Float(1 / Double(cols).squareRoot())
    var w = Matrix(rows: rows, cols: cols)
    for r in 0..<rows {
        let s = dr[r] * scale
        for c in 0..<cols { w.data[r * cols + c] = Float(g.normal()) * s * dc[c] }
    }
    let rank = 16
    let u = Matrix(rows: rows, cols: rank) { _, j in Float(g.normal()) * Float(4 * pow(Double(j + 1), -0.8)) / Float(Double(rows).squareRoot()) }
    let v = Matrix(rows: rank, cols: cols) { _, _ in Float(g.normal()) }
    let spike = try matmul(u, v)
    for i in 0..<w.data.count { w.data[i] += spike.data[i] }
    return w
}

func runSketch(_ args: [String]) throws {
    let mode = args.first ?? "spectra"
    if mode == "spectra" {
        // One matrix of each shape: the sketch (each PROBESxSTEPS given, 4x96 by default; each product form given: factors, gram, auto by default) and
        // the exact path, their KS distance, α both ways, and the extrapolation to the 224
        // matrices of LLaMA-2-7B (32 blocks of q, k, v, o at 4096², gate and up at 11008×4096,
        // down at 4096×11008). Wall and process CPU seconds both (the machine is shared).
        let exactToo = !args.contains("--no-exact")
        let configs: [(Int, Int)] = args.filter { $0.contains("x") && Int($0.split(separator: "x")[0]) != nil }.map {
            let p = $0.split(separator: "x"); return (Int(p[0])!, Int(p[1])!)
        }
        let only = Set(args.filter { ["attn", "gate", "down"].contains($0) })
        // How the Gram operator is applied (SketchProducts): each one named, or auto alone.
        let productForms = args.compactMap { SketchProducts(rawValue: $0) }
        let forms = productForms.isEmpty ? [SketchProducts.auto] : productForms
        let shapes: [(String, Int, Int, Int)] = [("attn", 4096, 4096, 128), ("gate", 11008, 4096, 64), ("down", 4096, 11008, 32)]
        var sketchTotal = 0.0, exactTotal = 0.0, sketchCPU = 0.0, exactCPU = 0.0
        for (name, rows, cols, perModel) in shapes where only.isEmpty || only.contains(name) {
            let w = try heavyTailedMatrix(rows: rows, cols: cols, seed: UInt64(rows + cols))
            var exact: [Double] = []
            var extra: [String: Any] = ["shape": "\(rows)x\(cols)"]
            if exactToo {
                let c0 = cpuSeconds()
                let te = try time(repeats: 1) { exact = try esdEigenvalues(w) }
                let ce = cpuSeconds() - c0
                let fe = try fitESDPowerLaw(exact)
                exactTotal += te * Double(perModel); exactCPU += ce * Double(perModel)
                extra["exact_s"] = te; extra["exact_cpu_s"] = ce; extra["alpha_exact"] = fe.alpha; extra["xmin_exact"] = fe.xmin
            }
            let runs = (configs.isEmpty ? [(4, 96)] : configs).flatMap { c in forms.map { (c.0, c.1, $0) } }
            for (i, (probes, steps, form)) in runs.enumerated() {
                var sk: SpectrumSketch?
                let c0 = cpuSeconds()
                let ts = time(repeats: 1) {
                    sk = try? sketchGramSpectrum(w, options: SpectrumSketchOptions(probes: probes, steps: steps), products: form)
                }
                let cs = cpuSeconds() - c0
                let approx = sk!.eigenvalues()
                let fa = try fitESDPowerLaw(approx)
                if i == 0 { sketchTotal += ts * Double(perModel); sketchCPU += cs * Double(perModel) }
                var e = extra
                e["config"] = "\(probes)x\(steps)"; e["products_form"] = form.rawValue; e["cpu_s"] = cs; e["products"] = sk!.products; e["converged"] = sk!.converged
                e["alpha_sketch"] = fa.alpha; e["xmin_sketch"] = fa.xmin; e["rss_mib"] = peakRSSMiB()
                if exactToo {
                    e["ks_sketch_exact"] = try ksStatistic(exact, approx)
                    e["top_rel_err"] = zip(sk!.topEigenvalues, exact.reversed()).map { abs($0 - $1) / $1 }.max() ?? 0
                }
                report("sketch_spectrum_\(name)", ts, e)
            }
        }
        report("sketch_spectra_224_extrapolated", sketchTotal, ["cpu_s": sketchCPU, "exact_s": exactTotal, "exact_cpu_s": exactCPU,
                                                              "note": "one matrix of each shape timed (first config), times 128 (attention), 64 (gate, up), 32 (down)"])
    } else if mode == "prunenet" {
        // train_policy's sketched path on in-process 7B-shaped gates: `layers` gates 11008×4096,
        // each read per use as a shared heavy-tailed noise matrix with its rows rotated by the
        // layer plus its own rank-16 spike (as cheap as dequantising a Q4_0 gate).
        let episodes = args.count > 1 ? Int(args[1]) ?? 20 : 20
        let count = args.count > 2 ? Int(args[2]) ?? 32 : 32
        let n = args.count > 3 ? Int(args[3]) ?? 11008 : 11008, d = args.count > 4 ? Int(args[4]) ?? 4096 : 4096
        let noise = try heavyTailedMatrix(rows: n, cols: d, seed: 42)
        let load: @Sendable (Int) throws -> Matrix = { l in
            var g = SeededRandom(seed: UInt64(1000 + l))
            let shift = (l * 337) % n
            var w = Matrix(rows: n, cols: d)
            w.data.withUnsafeMutableBufferPointer { dst in
                noise.data.withUnsafeBufferPointer { src in
                    (dst.baseAddress!).update(from: src.baseAddress! + shift * d, count: (n - shift) * d)
                    (dst.baseAddress! + (n - shift) * d).update(from: src.baseAddress!, count: shift * d)
                }
            }
            let u = Matrix(rows: n, cols: 16) { _, j in Float(g.normal()) * Float(4 * pow(Double(j + 1), -0.8)) / Float(Double(n).squareRoot()) }
            let v = Matrix(rows: 16, cols: d) { _, _ in Float(g.normal()) }
            let spike = try matmul(u, v)
            for i in 0..<w.data.count { w.data[i] += spike.data[i] }
            return w
        }
        let t0 = Date(), c0 = cpuSeconds()
        let tl = Date()
        _ = try load(0)
        let loadSeconds = Date().timeIntervalSince(tl)
        var options = PolicyTrainingOptions()
        options.ratio = 0.3
        options.episodes = episodes
        options.spectrum = .sketch
        let layers = try SketchedLayers(count: count, rows: n, cols: d, sketch: options.sketch, seed: 0, load: load)
        let prepared = Date().timeIntervalSince(t0)
        let progress = ProgressReporter(report: { e in
            FileHandle.standardError.write("\(e.stage) \(e.done)/\(e.total ?? 0) \(e.detail ?? "") rss \(Int(peakRSSMiB())) MiB\n".data(using: .utf8)!)
        })
        let r = try PolicyTraining.train(sketched: layers, options: options, progress: progress)
        let total = Date().timeIntervalSince(t0)
        report("sketch_prunenet", total, ["cpu_s": cpuSeconds() - c0, "episodes": episodes, "layers": count, "shape": "\(n)x\(d)", "prepare_s": prepared,
                                          "train_s": r.seconds, "load_one_s": loadSeconds, "best": r.curve.map(\.bestSoFar).last ?? .nan,
                                          "first_mean": r.curve.first?.meanPenalty ?? .nan, "rss_mib": peakRSSMiB()])
    }
}
