import Foundation
import Numerics
import Models
import Pruning

/// The pruning methods of the paper's baselines as the `prune` builtin offers them: magnitude
/// (unstructured, per matrix or global, N:M), and the calibrated methods Wanda, SparseGPT,
/// SliceGPT, ShortGPT and LaCo, which draw their calibration windows from the C4 sample of the
/// data folder. One entry point, so the builtin only dispatches here.
enum CalibratedPruneMethods {
    /// The method names, for the builtin's doc and errors.
    static let names = ["magnitude", "wanda", "sparsegpt", "slicegpt", "shortgpt", "laco"]
    /// Tokens per calibration window.
    static let windowLength = 512
    /// Calibration windows drawn by default.
    static let defaultWindows = 16

    /// The builtin parameters these methods read besides `model`, `method`, `ratio` and `seed`.
    static var params: [Param] { [
        .optional("pattern", "string", default: .none, "N:M semi-structured pattern for magnitude/wanda/sparsegpt, e.g. \"2:4\" (keep 2 of every 4 consecutive input weights); ratio is then ignored"),
        .optional("scope", "string", default: .string("layer"), "magnitude only: \"layer\" (each matrix loses ratio) or \"global\" (one threshold over all matrices)"),
        .optional("calib", "number", default: .number(Double(defaultWindows)), "calibration windows of \(windowLength) C4 tokens for wanda/sparsegpt/slicegpt/shortgpt/laco"),
    ] }

    /// The doc paragraph on these methods, for the builtin's doc.
    static let doc = "Unstructured (the seven linears q/k/v/o/gate/up/down of every block; embeddings and head stay dense): \"magnitude\" zeroes the `ratio` smallest |w| per matrix (scope=\"layer\") or over all of them (scope=\"global\"); \"wanda\" zeroes the lowest |W_ij|·‖X_j‖₂ of each output row; \"sparsegpt\" prunes with SparseGPT's OBS weight reconstruction (H = 2XᵀX/n, 1% dampening, blocks of 128 columns). With pattern=\"2:4\" each of these keeps 2 of every 4 consecutive input weights instead. Wanda and SparseGPT calibrate sequentially: each block sees the outputs of the already-pruned blocks before it. Structured: \"slicegpt\" folds the RMSNorm scales into the linears (untying a tied head), rotates the residual stream onto the principal components of calibration activations and slices it to (1−ratio)·d (rounded down to a multiple of 8), with shortcut matrices on the residual connections (the result saves as safetensors only: llama.cpp cannot load the shortcut form); \"shortgpt\" removes round(ratio·blocks) blocks of lowest Block Influence 1 − cos(h_in, h_out); \"laco\" collapses up to round(ratio·blocks) blocks by merging one block into its neighbour at a time (RDSC, θ_l + Σ(θ_{l+k} − θ_l)), scanning down from the top, and keeps a merge only while the final hidden states, centred by the dense model's mean, stay above cosine 0.65 of the dense model's; when no merge passes it stops short (the model's block count says how many went). Calibration: `calib` windows of \(windowLength) tokens from the C4 sample (default \(defaultWindows), i.e. 8192 tokens, more than SliceGPT's PCA needs for d = 576; each pass of the windows through SmolLM2-135M costs about as much as a 16-window perplexity, and wanda/sparsegpt/slicegpt make two, so a prune takes one to a few minutes on 2 cores, longer when they are shared; use calib=2 to try things out; laco scores merges on min(calib, 4) windows), drawn with `seed`."

    /// Which methods read each of `params`: the one table `rejectOptions` checks every call against.
    /// `noneIsUnset`: an explicit `none` counts as leaving the option out (`pattern=none` means no pattern).
    static let optionReaders: [(option: String, methods: [String], noneIsUnset: Bool)] = [
        ("pattern", ["magnitude", "wanda", "sparsegpt"], true),
        ("scope", ["magnitude"], false),
        ("calib", ["wanda", "sparsegpt", "slicegpt", "shortgpt", "laco"], false),
    ]

    /// Refuses an option of `params` written in the call when `method` (a method name, or "a policy")
    /// does not read it, rather than ignoring it silently.
    static func rejectOptions(_ a: Arguments, method: String) throws {
        for (option, methods, noneIsUnset) in optionReaders where !methods.contains(method) {
            guard noneIsUnset ? a.has(option) : a.given(option) else { continue }
            let readers = methods.count == 1 ? "\(methods[0]) only"
                : methods.dropLast().joined(separator: ", ") + " and " + methods.last!
            throw a.fail(argument: option, "\(option) applies to \(readers), not \(method)")
        }
    }

    /// Whether `method` is one of these.
    static func handles(_ method: String) -> Bool { names.contains(method) }

    /// `model` pruned by `method` with the builtin's arguments `a` (ratio, pattern, scope, calib, seed),
    /// which the builtin has already checked with `rejectOptions`.
    static func prune(_ m: ModelObject, method: String, arguments a: Arguments) throws -> Value {
        let model = m.model
        let ratio = try a.fraction("ratio")
        let seed = try a.seed()
        var pattern = SparsityPattern.fraction(ratio)
        if a.has("pattern") {
            do { pattern = try SparsityPattern.parse(try a.string("pattern")) } catch let e as PruningError {
                throw a.fail(argument: "pattern", e.message)
            }
        }
        let scope = try a.choice("scope", MagnitudePruning.Scope.allCases.map(\.rawValue))
        if method != "magnitude", model.config.architecture != .llama {
            throw a.fail(argument: "method", "\(method) runs on llama models; '\(model.name)' is a \(model.config.architecture.rawValue) model")
        }
        let blocks = model.blockCount
        let suffix: String
        if case let .nOfM(keep, group) = pattern { suffix = "\(keep)of\(group)" } else { suffix = "\(Int((ratio * 100).rounded()))" }
        let pruned: Model
        do {
            switch method {
            case "magnitude":
                pruned = try MagnitudePruning.prune(model, pattern: pattern, scope: MagnitudePruning.Scope(rawValue: scope)!) { done in
                    try a.progress("magnitude pruning", done: done, total: blocks)
                }
            case "wanda", "sparsegpt":
                let samples = try calibration(m, a, seed: seed)
                pruned = try CalibratedUnstructured.prune(model, method: CalibratedUnstructured.Method(rawValue: method)!, pattern: pattern,
                                                          samples: samples) { done, total in
                    try a.progress("\(method) (sequential, \(samples.count) windows)", done: done, total: total)
                }
            case "slicegpt":
                let samples = try calibration(m, a, seed: seed)
                pruned = try SliceGPT.prune(model, ratio: ratio, samples: samples) { done, total in
                    try a.progress("slicegpt rotating and slicing", done: done, total: total)
                }
            case "shortgpt":
                let samples = try calibration(m, a, seed: seed)
                let count = try ShortGPT.removedCount(blocks: blocks, ratio: ratio)
                pruned = try ShortGPT.prune(model, removing: count, samples: samples) { done, total in
                    (try? a.progress("shortgpt block influence", done: done, total: total)) != nil
                }.model
            default:   // laco
                let samples = Array(try calibration(m, a, seed: seed).prefix(4))
                let count = try ShortGPT.removedCount(blocks: blocks, ratio: ratio)
                pruned = try LaCo.prune(model, removing: count, samples: samples) { done, total in
                    try a.progress("laco merging", done: done, total: total)
                }.model
            }
        } catch let e as PruningError {
            throw a.fail(e.message)
        }
        var renamed = pruned
        renamed.name = "\(model.name)-\(method)-\(suffix)"
        return .object(ModelObject(renamed))
    }

    /// `calib` windows of `windowLength` tokens from the C4 sample, drawn with `seed`.
    static func calibration(_ m: ModelObject, _ a: Arguments, seed: UInt64) throws -> [[Int32]] {
        let count = try a.int("calib", 1...4096)
        let documents = try DataCatalog.c4Documents(in: URL(fileURLWithPath: DataCatalog.folder).appendingPathComponent("c4").path)
        return try Calibration.samples(documents: documents, tokenizer: try m.tokenizer(), count: count, length: windowLength, seed: seed)
    }
}
