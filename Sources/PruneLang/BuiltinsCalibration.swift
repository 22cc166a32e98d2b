import Foundation
import Numerics
import Models
import Pruning

extension BuiltinRegistry {
    /// Registers the view of calibration data: `input_norms`, the per-channel activation norms
    /// ‖X_j‖₂ that Wanda multiplies each weight by, drawn as `prune` draws its windows.
    public func registerCalibration() {
        let inputs = ["attn", "attn_out", "ffn", "down"]
        register(Builtin(
            name: "input_norms", params: [.required("model", "model", "a llama model"),
                                          .optional("block", "number|none", default: .none, "the block, from 0 (none: every block, one row each)"),
                                          .optional("input", "string", default: .string("down"), "whose input: \"attn\" (q, k, v), \"attn_out\" (o), \"ffn\" (gate, up) or \"down\""),
                                          .optional("calib", "number", default: .number(4), "calibration windows of 512 tokens"),
                                          .optional("calib_data", "string", default: .string("c4"), "\"c4\", \"wikitext2\" (train split), \"wikitext2-test\" (leakage) or a text file's path, as prune takes it"),
                                          .optional("calib_seed", "number", default: .number(0), "seed of the windows' draw")],
            returns: "vector|matrix", category: "pruning",
            doc: "The norm over calibration tokens of each input channel of one linear layer, ‖X_j‖₂ = √(Σ_t x_tj²): the activation half of Wanda's score |W_ij|·‖X_j‖₂, computed on the dense model from windows drawn exactly as `prune` draws them (`calib` windows of 512 tokens of `calib_data` with `calib_seed`; `prune(..., calib=4, calib_data=..., calib_seed=s)` sees these windows). `input` picks the layer: \"attn\" is the normed residual stream entering q, k and v (d channels), \"attn_out\" the attention output entering o (d), \"ffn\" the normed stream entering gate and up (d), \"down\" the FFN activation SiLU(gate)·up entering the down projection (the FFN width). Without `block`, a matrix with one row per block (Float32). One forward pass per window, with progress; a few channels far above the median are the outliers that make Wanda keep their weights.",
            example: "m = load(\"smollm2-135m\")\nx = input_norms(m, 3, input=\"ffn\", calib=1)\nmax(x) / median(x)") { a in
                let m = try a.causalModel("model", for: "input_norms")
                let blocks = a.has("block") ? [try a.int("block", 0...(m.model.blockCount - 1))] : Array(0..<m.model.blockCount)
                let role: TensorRole
                switch try a.choice("input", inputs) {
                case "attn": role = .attentionQuery
                case "attn_out": role = .attentionOutput
                case "ffn": role = .ffnUp
                default: role = .ffnDown
                }
                var settings = CalibrationSettings()
                settings.windows = try a.int("calib", 1...4096)
                settings.source = CalibrationSource(try a.string("calib_data"))
                settings.seed = try a.seed("calib_seed")
                settings.tokenizer = try m.tokenizer()
                do { try settings.checkSource() } catch let e as PruningError { throw a.fail(argument: "calib_data", e.message) }
                if let warning = settings.warning { a.interpreter.errorOutput("warning: \(warning)\n") }
                let samples: [[Int32]]
                do { samples = try settings.windows(for: m.model, seed: 0) } catch let e as PruningError { throw a.fail(argument: "calib_data", e.message) }
                let forward = try m.forward()
                let stats = try Calibration.collect(forward, samples: samples, wanted: .squaredNorms,
                                                    progress: a.reporter("calibration windows", of: m.model.name))
                let rows = try blocks.map { b -> [Double] in
                    guard let s = stats.inputs[Calibration.Site(block: b, role: role)] else {
                        throw a.fail(argument: "input", "block \(b) of \(m.model.name) has no \(role.rawValue) input")
                    }
                    return s.squaredNorms.map { $0.squareRoot() }
                }
                if rows.count == 1 { return .vector(rows[0]) }
                guard rows.allSatisfy({ $0.count == rows[0].count }) else {
                    throw a.fail(argument: "block", "the blocks of \(m.model.name) differ in width here: give one block")
                }
                return .matrix(try Matrix(rows: rows.count, cols: rows[0].count, data: rows.flatMap { $0.map(Float.init) }))
            })
    }
}
