import Foundation
import Models
import Numerics
import Plots

extension BuiltinRegistry {
    /// Registers the compression builtins: round-to-nearest quantisation, entropy, Huffman codes,
    /// and the pipeline's size in bytes (dense → pruned → quantised → entropy-coded).
    public func registerCompression() {
        let quantParams: [Param] = [
            .optional("bits", "number", default: .number(4), "code width, 2 to 8"),
            .optional("block", "number", default: .none, "weights per scale along a row (implies per=\"block\")"),
            .optional("symmetric", "bool", default: .bool(true), "symmetric (code 0 is 0) or asymmetric (an integer zero point)"),
            .optional("per", "string", default: .none, "\"tensor\", \"row\" or \"block\" (default: \"block\" when block is given, else \"tensor\")"),
        ]
        register(Builtin(
            name: "quantize", params: [.required("W", "matrix|model")] + quantParams + [
                .optional("type", "string", default: .none, "a llama.cpp type instead of the teaching form: q8_0, q4_0 (every matrix), or a llama.cpp preset q4_1, q5_0, q5_1, q2_k, q3_k_m, q4_k_m, q5_k_m, q6_k (llama.cpp's per-tensor types)")],
            returns: "quantized|model", category: "compression",
            doc: "Round-to-nearest k-bit quantisation, the teaching form. Symmetric: per group s = max|x| / (2^(k−1) − 1), q = round(x/s) in ±(2^(k−1) − 1), x̂ = q·s. Asymmetric: s = (max − min) / (2^k − 1), zero point z = round(−min/s), q = clamp(round(x/s) + z, 0, 2^k − 1), x̂ = (q − z)·s. Ties round to even; scales are Float32. A group is the whole tensor, a row, or `block` consecutive weights of a row. Weights that are exactly 0 (a pruned matrix) are a mask: left out of the scales' statistics and kept exactly 0 (symmetric keeps 0 exact by itself; asymmetric would move zeros whenever a group's survivors are all of one sign). For a matrix, returns a `quantized` value that stands for the dequantised matrix and has `.codes`, `.scales`, `.zero_points`, `.mse`, `.snr_db`, `.max_error`, `.new_zeros` (survivors rounded to 0), `.entropy` (bits per code) and `.figure` (histograms before and after). For a model, every weight matrix (not norms or biases) is quantised and the model returned holds the dequantised values: `save` writes those values in the type it is given (Q8_0 by default for changed matrices), not the k-bit codes. With `type=`, the weights go through llama.cpp's own quantiser instead (bytes equal to llama.cpp's `llama_model_quantize` without an importance matrix; the presets give each matrix the type llama.cpp gives it, with its fallback when a row is not whole 256-blocks) and come back dequantised: a matrix gives the dequantised matrix, a model the model. To write llama.cpp's exact file, save the unquantised model with `save(m, path, type=)`; saving the returned model requantises its values.",
            example: "q = quantize(matrix([[0.5, -1, 0], [0.25, 2, -0.75]]), bits=4, per=\"row\")\nq.codes\n[q.scales, q.snr_db > 20]") { a in
                if a.has("type") { return try BuiltinRegistry.quantizeGGML(a) }
                let (bits, groups, symmetric) = try BuiltinRegistry.quantOptions(a)
                if case .object(let o) = a.value("W"), let m = o as? ModelObject {
                    var model = m.model
                    let places = BuiltinRegistry.weightPlaces(model)
                    for (k, place) in places.enumerated() {
                        try a.progress("quantize", done: k, total: places.count)
                        let w = try model.tensors[place]!.matrix()
                        let q = try BuiltinRegistry.coding(a, "W") { try quantizeRTN(w, bits: bits, symmetric: symmetric, groups: groups) }
                        model.set(place.role, place.part, block: place.block, to: q.dequantized)
                    }
                    model.name = m.model.name + "-rtn\(bits)"
                    return .object(ModelObject(model))
                }
                let w = try a.matrix("W")
                let q = try BuiltinRegistry.coding(a, "W") { try quantizeRTN(w, bits: bits, symmetric: symmetric, groups: groups) }
                return .object(QuantizedMatrixObject(original: w, q: q))
            })
        register(Builtin(
            name: "entropy_bits", params: [.required("x", "vector|list|matrix|quantized", "a discrete array: codes, quantised values, any numbers")],
            returns: "number", category: "compression",
            doc: "The Shannon entropy of x's values in bits per symbol, H = −Σ p log₂ p over the distinct values (as scipy.stats.entropy(counts, base=2)): the fewest bits per symbol any code for these symbols, one at a time, can average. Given a `quantized` value, the entropy of its codes (the survivors' only when a mask was kept). 0 for an empty or constant array; NaN is an error.",
            example: "entropy_bits([1, 1, 2, 3])\nentropy_bits(quantize(randn(50, 50, seed=1), bits=4))") { a in
                if case .object(let o) = a.value("x"), let q = o as? QuantizedMatrixObject {
                    return try q.member("entropy")!
                }
                let xs = try a.numbers("x", flattenMatrix: true)
                return .number(try BuiltinRegistry.coding(a, "x") { try shannonEntropy(xs) })
            })
        register(Builtin(
            name: "huffman", params: [.required("x", "vector|list|matrix|quantized", "the values to build the code from (a quantized value: its codes)")],
            returns: "huffman", category: "compression",
            doc: "A canonical Huffman code built from the counts of x's distinct values. Members: `.table` (symbol, count, code length, code bits), `.bits_per_symbol` (average code length, between the entropy and entropy + 1), `.entropy`, `.encode(x)` (bytes: `.count`, `len`), `.decode(bytes)` (the values back, exactly), `.table_bytes` (what storing the table costs), `.max_length`. Code lengths are capped at 32 bits (counts are halved and the code rebuilt when a deeper tree would be optimal). A one-value array gets a 1-bit code.",
            example: "h = huffman([0, 0, 0, 0, 1, 1, 2, 3])\nh.table\nb = h.encode([0, 1, 2, 3, 0])\n[b.count, h.decode(b), h.bits_per_symbol, h.entropy]") { a in
                var xs: [Double]
                if case .object(let o) = a.value("x"), let q = o as? QuantizedMatrixObject {
                    xs = q.q.codedCodes.map(Double.init)
                } else {
                    xs = try a.numbers("x", flattenMatrix: true)
                }
                let counts = try BuiltinRegistry.coding(a, "x") { try SymbolCounts(xs) }
                xs = []
                let code = try BuiltinRegistry.coding(a, "x") { try HuffmanCode(counts: counts.counts) }
                return .object(HuffmanObject(code: code, values: counts.values))
            })
        register(Builtin(
            name: "size", params: [.required("m", "model|matrix")], returns: "record", category: "compression",
            doc: "How big a model or matrix is: `params` (elements), `nonzeros`, `f32_bytes` (4 per element), and for a model `stored_bytes` (its tensors in the types they are held in now, e.g. a GGUF's Q8_0 blocks) and `file_bytes` (the file it was loaded from; a pruned or otherwise changed copy reports its source's file, whatever it would take saved, so `save` gives a new model's bytes; 0 when built in memory).",
            example: "size(matrix([[1, 0], [0, 2]]))") { a in
                if case .object(let o) = a.value("m"), let mo = o as? ModelObject {
                    let model = mo.model
                    var nz = 0, stored = 0
                    for t in Array(model.tensors.values) + model.otherTensors where t.isParameter {
                        nz += try t.floats().reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
                        stored += t.storedBytes
                        try a.checkInterrupt()
                    }
                    return .record(Record([("params", .number(Double(model.parameterCount))), ("nonzeros", .number(Double(nz))),
                                           ("f32_bytes", .number(Double(model.parameterCount * 4))), ("stored_bytes", .number(Double(stored))),
                                           ("file_bytes", .number(Double(model.fileSize)))]))
                }
                let w = try a.matrix("m")
                return .record(Record([("params", .number(Double(w.count))), ("nonzeros", .number(Double(w.data.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }))),
                                       ("f32_bytes", .number(Double(w.count * 4)))]))
            })
        register(Builtin(
            name: "compressed_size",
            params: [.required("m", "model|matrix|number", "a model, one weight matrix, or a parameter count (the arithmetic form)")] + quantParams + [
                .optional("sparsity", "number", default: .none, "number form: the fraction pruned (unstructured, random positions)"),
                .optional("coded_bits", "number", default: .none, "number form: bits per non-zero after entropy coding (default: bits, no coding)"),
                .optional("blocks", "list", default: .none, "model form: only these blocks (and no embeddings or head)"),
                .optional("base", "model", default: .none, "model form: the unpruned model, so that rows removed by structured pruning count in the dense stage"),
                .optional("stored", "bool", default: .bool(false), "model form: code each weight matrix's GGUF blocks as the file stores them (llama.cpp's types) instead of re-quantising"),
            ],
            returns: "record {table, figure, dense_bytes, pruned_bytes, quantized_bytes, coded_bytes, bits_per_weight, ...}", category: "compression",
            doc: "The bytes a model (or a matrix) takes at each stage: dense Float32 → pruned (structured: rows gone; unstructured: non-zeros in Float32 plus the sparsity pattern) → k-bit quantised (packed codes of the survivors, the pattern, Float32 scales and for asymmetric 32-bit zero points) → entropy-coded (the survivors' codes really coded with rANS, plus its frequency table, the pattern, and the scales coded losslessly by byte planes). The pattern is costed three ways — a bitmap (1 bit per weight), Huffman-coded runs of zeros, ⌈log₂ n⌉-bit positions — and the cheapest is charged; when storing every weight's code without a pattern is smaller (a few stray zeros), that is used instead (\"dense codes\"). Returns a record: `table` per tensor (with totals), `figure` (the stages in MB), the four totals in bytes, `bits_per_weight` per stage (per dense weight) and `pattern_bytes`. With `stored=true` a model loaded from GGUF is measured as its file stores it: each field of each block type (fp16 scales by byte plane, packed 4-bit codes as nibbles, 8-bit codes, packed sub-block scales) is one stream over the tensor's blocks, coded with its own rANS code or kept raw where smaller, losslessly; the record has `table`, `weights`, `stored_bytes`, `coded_bytes` and `bits_per_weight` {stored, coded}. The number form does the arithmetic for `m` parameters with `sparsity` and `coded_bits` (the lecture's exercise), and adds what the exercise ignores: the pattern's cost at random positions (bitmap, run-length entropy n·H(1 − sparsity), positions), `honest_bytes` = coded + the cheapest pattern.",
            example: "e = compressed_size(100e6, sparsity=0.9, bits=4, coded_bits=1.5)\n[e.coded_bytes / 1e6, e.honest_bytes / 1e6]\nc = compressed_size(randn(64, 64, seed=0), bits=4, per=\"row\")\nc.bits_per_weight") { a in
                let (bits, groups, symmetric) = try BuiltinRegistry.quantOptions(a)
                if case .number = a.value("m") {
                    return try BuiltinRegistry.exercise(a, bits: bits, groups: groups)
                }
                for name in ["sparsity", "coded_bits"] where a.has(name) {
                    throw a.fail(argument: name, "\(name) is for the number form (a parameter count); a matrix or model is measured")
                }
                if try a.bool("stored") {
                    guard case .object(let o) = a.value("m"), let mo = o as? ModelObject else {
                        throw a.fail(argument: "stored", "stored=true codes a model's GGUF blocks; give a model loaded from a GGUF file")
                    }
                    for name in ["bits", "block", "per", "symmetric", "base"] where a.given(name) {
                        throw a.fail(argument: name, "\(name) is for re-quantising; stored=true codes the blocks the file holds")
                    }
                    return try BuiltinRegistry.storedCoding(a, mo.model)
                }
                var entries: [(name: String, stages: CompressionStages)] = []
                if case .object(let o) = a.value("m"), let mo = o as? ModelObject {
                    let model = mo.model
                    let places = try BuiltinRegistry.weightPlaces(model, blocks: a)
                    var base: Model?
                    if a.has("base") { base = try a.model("base").model }
                    for (k, place) in places.enumerated() {
                        try a.progress("compressed_size", done: k, total: places.count)
                        let t = model.tensors[place]!
                        let w = try t.matrix()
                        let dense = base?.tensors[place]?.elementCount
                        let s = try BuiltinRegistry.coding(a, "m") { try CompressionStages(w, bits: bits, symmetric: symmetric, groups: groups, denseElements: dense) }
                        entries.append((t.name, s))
                    }
                } else {
                    if a.has("blocks") || a.has("base") { throw a.fail(argument: a.has("blocks") ? "blocks" : "base", "blocks and base are for a model") }
                    let w = try a.matrix("m", finite: true)
                    let s = try BuiltinRegistry.coding(a, "m") { try CompressionStages(w, bits: bits, symmetric: symmetric, groups: groups) }
                    entries.append(("W", s))
                }
                return .record(BuiltinRegistry.stagesReport(entries, bits: bits))
            })
        register(Builtin(
            name: "kld", params: [.required("m", "model", "the quantised or pruned model"), .required("base", "model", "the reference (e.g. the F32 model)"),
                                  .optional("windows", "number|none", default: .none, "how many windows (all when none)"),
                                  .optional("data", "string", default: .string("wikitext2"), "a data set name or a text file path"),
                                  .optional("ctx", "number", default: .number(512), "window length in tokens"), .arithmetic],
            returns: "record {mean, max, p99_9, p99, p95, p90, median, p10, p5, p1, p0_1, top1, ppl, base_ppl, delta_ppl, tokens, windows}", category: "compression",
            doc: "How far `m`'s next-token distributions are from `base`'s, as llama.cpp's `llama-perplexity --kl-divergence` reports it: the text (WikiText-2 by default) is cut into non-overlapping windows of `ctx` tokens, each run from an empty cache in both models; at the second half of each window's positions (llama.cpp's scoring) the KL divergence KL(base ‖ m) = Σ p_base·(log p_base − log p_m) of the full softmaxes (nats, Float64). Returns the mean per token (`mean`), its maximum and percentiles (99.9 … 0.1, linear interpolation as llama.cpp), `top1` (the fraction of tokens where both models' most likely token agree: llama.cpp's \"Same top p\"), both perplexities on those tokens and `delta_ppl` = ppl − base_ppl. Both models need the same tokenizer.",
            example: "m = load(\"smollm2-135m\")\nkld(quantize(m, type=\"q4_0\"), m, windows=1, ctx=64).mean") { a in
                let m = try a.causalModel("m", for: "kld"), base = try a.causalModel("base", for: "kld")
                guard m.model.config.vocabSize == base.model.config.vocabSize else {
                    throw a.fail(argument: "base", "the models' vocabularies differ (\(m.model.config.vocabSize) and \(base.model.config.vocabSize) tokens)")
                }
                let ctx = try a.int("ctx", 4...1 << 20)
                guard ctx <= min(m.model.config.contextLength, base.model.config.contextLength) else {
                    throw a.fail(argument: "ctx", "ctx must be at most the models' context length, got \(ctx)")
                }
                let windows = a.has("windows") ? try a.int("windows", 1...1 << 30) : nil
                let text: String
                do { text = try DataCatalog.text(of: try a.string("data")) }
                catch let e as InferenceError { throw a.fail(argument: "data", e.description) }
                let tokens = try base.tokenizer().encode(text)
                let arithmetic = try a.arithmetic()
                let r = try KLDivergence.evaluate(try m.forward(arithmetic), base: try base.forward(arithmetic), tokens: tokens, context: ctx,
                                                  windows: windows, progress: a.reporter("kld of \(m.model.name)"))
                let sorted = r.perToken.sorted()
                let names = ["p99_9", "p99", "p95", "p90", "median", "p10", "p5", "p1", "p0_1"]
                var fields: [(String, Value)] = [("mean", .number(r.mean)), ("max", .number(r.maximum))]
                for (n, level) in zip(names, KLDivergenceResult.levels) { fields.append((n, .number(KLDivergenceResult.percentile(sorted, level)))) }
                fields += [("top1", .number(r.sameTopFraction)), ("ppl", .number(r.perplexity)), ("base_ppl", .number(r.basePerplexity)),
                           ("delta_ppl", .number(r.perplexity - r.basePerplexity)), ("tokens", .number(Double(r.tokens))),
                           ("windows", .number(Double(r.windows)))]
                return .record(Record(fields))
            })
    }

    /// The types `quantize(..., type=)` takes.
    static let ggmlTypeNames = ["q8_0", "q4_0"] + GGMLTypeMix.Preset.allCases.map(\.rawValue)

    /// `quantize(W | model, type=)`: llama.cpp's quantiser, dequantised back.
    static func quantizeGGML(_ a: Arguments) throws -> Value {
        let name = try a.choice("type", ggmlTypeNames)
        func roundTrip(_ w: Matrix, _ type: GGMLType) throws -> Matrix {
            let bytes = try GGMLQuantizer.encode(w.data, as: type)
            let values = try bytes.withUnsafeBytes { try GGMLDequantizer.dequantize($0, type: type, count: w.count) }
            return try Matrix(rows: w.rows, cols: w.cols, data: values)
        }
        let uniform: GGMLType? = name == "q8_0" ? .q8_0 : name == "q4_0" ? .q4_0 : nil
        if case .object(let o) = a.value("W"), let m = o as? ModelObject {
            var model = m.model
            let config = model.config
            let mix = GGMLTypeMix.Preset(rawValue: name).map {
                GGMLTypeMix(preset: $0, blocks: config.intermediateSizes.count, queryGroups: config.heads / max(1, config.kvHeads),
                            hasOutputHead: model.tensors.keys.contains { $0.role == .outputHead })
            }
            let places = BuiltinRegistry.weightPlaces(model)
            for (k, place) in places.enumerated() {
                try a.progress("quantize", done: k, total: places.count)
                let w = try model.tensors[place]!.matrix()
                var type = uniform ?? .q8_0
                if let mix { type = mix.type(name: TensorNaming.gguf.name(of: place) ?? "", rowLength: w.cols).type }
                if w.cols % type.blockSize != 0 { type = .f16 }
                model.set(place.role, place.part, block: place.block, to: try roundTrip(w, type))
            }
            model.name = m.model.name + "-" + name
            return .object(ModelObject(model))
        }
        let w = try a.matrix("W")
        var type = uniform ?? GGMLTypeMix.Preset(rawValue: name)!.baseType
        if w.cols % type.blockSize != 0 {
            guard let preset = GGMLTypeMix.Preset(rawValue: name) else {
                throw a.fail(argument: "W", "\(name) needs rows of whole blocks of \(type.blockSize); this matrix has \(w.cols) columns")
            }
            type = GGMLTypeMix(preset: preset, blocks: 1, queryGroups: 1, hasOutputHead: true).type(name: "matrix", rowLength: w.cols).type
            guard type != .f16 else { throw a.fail(argument: "W", "\(name) needs rows of whole blocks of 32; this matrix has \(w.cols) columns") }
        }
        return .matrix(try roundTrip(w, type))
    }

    /// bits, groups and symmetric from a call's `bits`, `block`, `per` and `symmetric`.
    static func quantOptions(_ a: Arguments) throws -> (Int, QuantizationGroups, Bool) {
        let bits = try a.int("bits", 2...8)
        let symmetric = try a.bool("symmetric")
        var per = a.has("per") ? try a.choice("per", ["tensor", "row", "block"]) : (a.has("block") ? "block" : "tensor")
        if a.has("block") {
            guard per == "block" else { throw a.fail(argument: "block", "block is the size of per=\"block\" groups; per is \(Render.quote(per))") }
            per = "block"
        }
        switch per {
        case "row": return (bits, .row, symmetric)
        case "block":
            guard a.has("block") else { throw a.fail(argument: "per", "per=\"block\" needs block=n (weights per scale)") }
            return (bits, .block(try a.int("block", 1...(1 << 30))), symmetric)
        default: return (bits, .tensor, symmetric)
        }
    }

    /// Runs library coding work, turning its errors into errors at argument `name`.
    static func coding<T>(_ a: Arguments, _ name: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as CodingError { throw a.fail(argument: name, e.message) }
    }

    /// `weightPlaces(model)`, only those of the blocks argument `blocks` lists when it is given.
    static func weightPlaces(_ model: Model, blocks a: Arguments) throws -> [TensorPlace] {
        guard a.has("blocks") else { return weightPlaces(model) }
        let blocks = Set(try a.indices("blocks", count: model.blockCount, what: "block"))
        return weightPlaces(model).filter { $0.block.map(blocks.contains) ?? false }
    }

    /// The weight matrices of a model (2-D `.weight` tensors), in block order then role order.
    static func weightPlaces(_ model: Model) -> [TensorPlace] {
        let roles = TensorRole.allCases
        return model.tensors.filter { $0.key.part == .weight && $0.value.shape.count >= 2 && $0.value.rows > 1 && $0.value.isParameter }
            .map(\.key)
            .sorted { ($0.block ?? -1, roles.firstIndex(of: $0.role)!) < ($1.block ?? -1, roles.firstIndex(of: $1.role)!) }
    }

    /// The record `compressed_size` returns for measured tensors.
    static func stagesReport(_ entries: [(name: String, stages: CompressionStages)], bits: Int) -> Record {
        var rows: [[Table.Cell]] = []
        var dense = 0, elements = 0, nonzeros = 0, pruned = 0, quantized = 0, coded = 0, pattern = 0, scales = 0
        var entropyBits = 0.0, codes = 0
        for (name, s) in entries {
            rows.append([.text(name), .text("\(s.quantization.dequantized.rows)×\(s.quantization.dequantized.cols)"),
                         .number(s.elements == 0 ? 0 : Double(s.nonzeros) / Double(s.elements)),
                         .integer(s.denseBytes), .integer(s.prunedBytes), .integer(s.quantizedBytes), .integer(s.codedBytes),
                         .number(s.codeEntropy), .number(s.bitsPerWeight(s.codedBytes)), .text(s.codedUsesPattern ? s.pattern!.cheapest.method : (s.pattern == nil ? "none" : "dense codes"))])
            dense += s.denseBytes; elements += s.denseElements; nonzeros += s.nonzeros
            pruned += s.prunedBytes; quantized += s.quantizedBytes; coded += s.codedBytes
            pattern += s.codedUsesPattern ? s.patternBytes : 0; scales += s.scaleBytes
            codes += s.codedUsesPattern ? s.nonzeros : s.elements
            entropyBits += s.codeEntropy * Double(s.codedUsesPattern ? s.nonzeros : s.elements)
        }
        let bpw = { (b: Int) -> Double in elements == 0 ? 0 : Double(b) * 8 / Double(elements) }
        let table = Table(
            title: "bytes at each stage, \(bits)-bit",
            columns: [Table.Column("tensor", alignment: .left), Table.Column("shape"), Table.Column("nonzero", numberStyle: .percent(1)),
                      Table.Column("dense F32", numberStyle: .grouped), Table.Column("pruned", numberStyle: .grouped),
                      Table.Column("quantized", numberStyle: .grouped), Table.Column("coded", numberStyle: .grouped),
                      Table.Column("code entropy", numberStyle: .fixed(3)), Table.Column("coded bits/weight", numberStyle: .fixed(3)),
                      Table.Column("pattern (coded)", alignment: .left)],
            rows: rows,
            footer: [.text("total"), .empty, .number(elements == 0 ? 0 : Double(nonzeros) / Double(elements)), .integer(dense), .integer(pruned),
                     .integer(quantized), .integer(coded), .number(codes == 0 ? 0 : entropyBits / Double(codes)), .number(bpw(coded)), .empty])
        let stages = ["dense F32", "pruned", "\(bits)-bit", "entropy-coded"]
        let figure = Figure.bar(categories: stages, values: [dense, pruned, quantized, coded].map { Double($0) / 1e6 },
                                label: "MB", title: "the pipeline in bytes", xLabel: "stage", yLabel: "MB")
        return Record([
            ("table", .object(TableObject(table))), ("figure", .object(FigureObject(figure))),
            ("dense_bytes", .number(Double(dense))), ("pruned_bytes", .number(Double(pruned))),
            ("quantized_bytes", .number(Double(quantized))), ("coded_bytes", .number(Double(coded))),
            ("pattern_bytes", .number(Double(pattern))), ("scale_bytes", .number(Double(scales))),
            ("bits_per_weight", .record(Record([("dense", .number(bpw(dense))), ("pruned", .number(bpw(pruned))),
                                                ("quantized", .number(bpw(quantized))), ("coded", .number(bpw(coded)))]))),
            ("code_entropy", .number(codes == 0 ? 0 : entropyBits / Double(codes))),
        ])
    }

    /// The number form of `compressed_size`: the arithmetic of the lecture's exercise, with the
    /// sparsity pattern's cost the exercise leaves out.
    static func exercise(_ a: Arguments, bits: Int, groups: QuantizationGroups) throws -> Value {
        let p = try a.number("m", "a positive whole number of parameters") { exactInt($0).map { $0 > 0 } ?? false }
        let n = Int(p)
        let sparsity = a.has("sparsity") ? try a.fraction("sparsity") : 0
        let coded = a.has("coded_bits") ? try a.number("coded_bits", "positive and finite") { $0 > 0 && $0.isFinite } : Double(bits)
        if a.has("blocks") || a.has("base") { throw a.fail(argument: a.has("blocks") ? "blocks" : "base", "blocks and base are for a model") }
        if case .tensor = groups {} else {
            throw a.fail(argument: a.has("block") ? "block" : "per", "the number form has no matrix to group; use per=\"tensor\"")
        }
        let k = Int((Double(n) * (1 - sparsity)).rounded())
        let dense = Double(n) * 4
        let pc = PatternCost(count: n, nonzeros: k)
        let patternBytes = k == n ? 0 : Double(pc.cheapest.bits) / 8
        let pruned = Double(k) * 4
        let quantized = Double(k) * Double(bits) / 8
        let codedBytes = Double(k) * coded / 8
        let honest = codedBytes + patternBytes
        let rows: [[Table.Cell]] = [
            [.text("dense F32"), .number(dense / 1e6), .number(dense / 1e6)],
            [.text("pruned (F32 non-zeros)"), .number(pruned / 1e6), .number((pruned + patternBytes) / 1e6)],
            [.text("\(bits)-bit quantised"), .number(quantized / 1e6), .number((quantized + patternBytes) / 1e6)],
            [.text("entropy-coded, \(formatNumber(coded)) bits/non-zero"), .number(codedBytes / 1e6), .number(honest / 1e6)],
        ]
        let table = Table(title: "\(formatNumber(p)) parameters, \(formatNumber(sparsity * 100))% pruned (MB = 10⁶ bytes)",
                          columns: [Table.Column("stage", alignment: .left), Table.Column("MB, pattern ignored", numberStyle: .fixed(3)),
                                    Table.Column("MB, with pattern (\(k == n ? "none" : pc.cheapest.method))", numberStyle: .fixed(3))],
                          rows: rows)
        let figure = Figure.groupedBar(categories: ["dense F32", "pruned", "\(bits)-bit", "coded"],
                                       groups: [("pattern ignored", [dense, pruned, quantized, codedBytes].map { $0 / 1e6 }),
                                                ("with pattern", [dense, pruned + patternBytes, quantized + patternBytes, honest].map { $0 / 1e6 })],
                                       title: "the exercise in bytes", xLabel: "stage", yLabel: "MB")
        return .record(Record([
            ("table", .object(TableObject(table))), ("figure", .object(FigureObject(figure))),
            ("dense_bytes", .number(dense)), ("pruned_bytes", .number(pruned)), ("quantized_bytes", .number(quantized)),
            ("coded_bytes", .number(codedBytes)), ("nonzeros", .number(Double(k))),
            ("pattern", .record(Record([("bitmap_bytes", .number(Double(pc.bitmapBits) / 8)), ("run_length_bytes", .number(Double(pc.runLengthBits) / 8)),
                                        ("positions_bytes", .number(Double(pc.positionBits) / 8)), ("bound_bytes", .number(pc.boundBits / 8)),
                                        ("cheapest", .string(k == n ? "none" : pc.cheapest.method))]))),
            ("pattern_bytes", .number(patternBytes)), ("honest_bytes", .number(honest)),
            ("bits_per_weight", .record(Record([("dense", .number(32)), ("coded", .number(codedBytes * 8 / Double(n))), ("honest", .number(honest * 8 / Double(n)))]))),
        ]))
    }
}
