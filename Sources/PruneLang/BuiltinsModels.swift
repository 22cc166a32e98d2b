import Foundation
import Numerics
import Models
import Pruning
import Plots

extension BuiltinRegistry {
    /// Registers the model builtins: loading, listing, counting, saving, tokenising and
    /// measuring perplexity.
    public func registerModels() {
        register(Builtin(
            name: "load", params: [.required("name_or_path", "string")], returns: "model", category: "models",
            doc: "Opens a model by short name (`smollm2-135m`, `minilm-l6`, resolved in the models folder: PRUNELANG_MODELS, else ./models) or by path: a .gguf file, a .safetensors file with config.json beside it, a sharded model.safetensors.index.json, or a folder holding config.json and model.safetensors. Only headers are read; weights are dequantised when first used. A missing model's error names the command that fetches it.",
            example: "m = load(\"smollm2-135m\")\nm.layers[12].ffn.up") { a in
                let name = try a.string("name_or_path")
                do { return .object(ModelObject(try ModelLoader.load(name))) }
                catch let e as ModelError { throw a.fail(argument: "name_or_path", e.description) }
                catch let e as GGUFError { throw a.fail(argument: "name_or_path", "\(e)") }
                catch let e as SafetensorsError { throw a.fail(argument: "name_or_path", "\(e)") }
                catch let e as ModelConfigError { throw a.fail(argument: "name_or_path", e.description) }
            })
        register(Builtin(
            name: "models", params: [], returns: "table", category: "models",
            doc: "The models known by short name, whether each is in the models folder, and where; `scripts/fetch-models` fetches them.",
            example: "models()") { _ in
                let folder = ModelCatalog.folder
                let rows: [[Table.Cell]] = ModelCatalog.entries.map { e in
                    [.text(e.name), .text(ModelCatalog.isFetched(e.name, in: folder) ? "yes" : "no — run scripts/fetch-models"),
                     .text(e.summary)]
                }
                return .object(TableObject(Table(title: "models in \(folder)", headers: ["name", "fetched", "what"], rows: rows)))
            })
        register(Builtin(
            name: "params", params: [.required("x", "model|weight|matrix")], returns: "number", category: "models",
            doc: "The number of parameters: of a model, every floating-point weight (integer buffers such as BERT's position_ids are not parameters); of a weight or matrix, its elements.",
            example: "params(load(\"smollm2-135m\"))") { a in
                if case .object(let o) = a.value("x") {
                    if let m = o as? ModelObject { return .number(Double(m.model.parameterCount)) }
                    if let w = o as? WeightObject { return .number(Double(w.tensor.elementCount)) }
                }
                let m = try a.matrix("x")
                return .number(Double(m.count))
            })
        register(Builtin(
            name: "save", params: [.required("model", "model|policy"), .required("path", "string"),
                                   .optional("type", "string", default: .string("auto"), "auto, f32, f16, bf16, q8_0 or q4_0")],
            returns: "record {path, tensors, passed_through, bytes, notes}", category: "models",
            doc: "Writes a model where other tools load it, by extension: `.gguf` for llama.cpp (the source's metadata and tokenizer kept, untouched tensors copied byte for byte, changed matrices as Q8_0 unless `type` says otherwise; per-layer FFN widths are written as llama.cpp's `deci` architecture), `.safetensors` (with config.json beside it), or a path without extension for a Hugging Face folder (model.safetensors, config.json, tokenizer files). A PruneNet policy saves as a safetensors file (W_inter, W_proj, JSON metadata) that `load_policy` reads. The file appears atomically (a save killed midway leaves a hidden `.part` file, which the next save to that folder removes). It replaces nothing unnamed: an empty path fails, and so does a safetensors or folder save whose config.json or tokenizer files would replace those of a folder that holds no model.",
            example: "save(load(\"minilm-l6\"), \"/tmp/minilm-copy\")") { a in
                if case .object(let o) = a.value("model"), let p = o as? PolicyObject {
                    let path = (try a.string("path") as NSString).expandingTildeInPath
                    do { try p.policy.save(to: path) }
                    catch let e as SafetensorsError { throw a.fail(argument: "path", "\(e)") }
                    catch let e as AtomicFileError { throw a.fail(argument: "path", e.description) }
                    let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                    return .record(Record([("path", .string(path)), ("tensors", .number(2)), ("passed_through", .number(0)),
                                           ("bytes", .number(Double(bytes ?? 0))), ("notes", .list([]))]))
                }
                let model = try a.model("model")
                let path = try a.string("path")
                guard let type = WeightType(rawValue: try a.string("type")) else {
                    throw a.fail(argument: "type", "type must be one of \(WeightType.allCases.map(\.rawValue).joined(separator: ", ")), got \(try a.string("type"))")
                }
                do {
                    let r = try ModelWriter.save(model.model, to: (path as NSString).expandingTildeInPath, weightType: type)
                    return .record(Record([("path", .string(r.path)), ("tensors", .number(Double(r.tensorCount))),
                                           ("passed_through", .number(Double(r.passedThrough))), ("bytes", .number(Double(r.bytes))),
                                           ("notes", .list(r.notes.map { .string($0) }))]))
                } catch let e as ModelError { throw a.fail(argument: "path", e.description) }
                catch let e as MemoryBudgetError { throw a.fail(e.description) }
                catch { throw a.fail(argument: "path", "cannot save '\(path)': \(error.localizedDescription)") }
            })
        register(Builtin(
            name: "tokenize", params: [.required("model", "model"), .required("text", "string"),
                                       .optional("special", "bool", default: .bool(false), "parse control tokens such as <|im_start|>")],
            returns: "list", category: "models",
            doc: "The token ids of `text` under the model's tokenizer (GPT-2 byte-level BPE from the GGUF, as llama.cpp tokenises; no BOS).",
            example: "tokenize(load(\"smollm2-135m\"), \"Hello world\")") { a in
                let m = try a.model("model")
                let ids = try m.tokenizer().encode(try a.string("text"), special: try a.bool("special"))
                return .list(ids.map { .number(Double($0)) })
            })
        register(Builtin(
            name: "detokenize", params: [.required("model", "model"), .required("ids", "list")], returns: "string", category: "models",
            doc: "The text of token ids under the model's tokenizer.",
            example: "m = load(\"smollm2-135m\")\ndetokenize(m, tokenize(m, \"Hello world\"))") { a in
                let m = try a.model("model")
                let tok = try m.tokenizer()
                let ids = try a.numbers("ids").map { v -> Int32 in
                    guard v.isFinite, v >= 0, v < Double(tok.vocabularySize), v == v.rounded() else {
                        throw a.fail(argument: "ids", "ids must be integers in 0..<\(tok.vocabularySize), got \(v)")
                    }
                    return Int32(v)
                }
                return .string(tok.decode(ids))
            })
        register(Builtin(
            name: "ppl", params: [.required("model", "model"),
                                  .optional("data", "string", default: .string("wikitext2"), "a data set name or a text file path"),
                                  .optional("ctx", "number", default: .number(512), "window length in tokens"),
                                  .optional("windows", "number|none", default: .none, "how many windows (all when none)"), .arithmetic],
            returns: "number", category: "evaluation",
            doc: "Perplexity of a causal model: the text is tokenised once, cut into non-overlapping windows of `ctx` tokens from the start, each scored from an empty cache with no BOS (tokens 1…ctx−1), and ppl = exp(mean NLL). `data=\"wikitext2\"` is the WikiText-2 test split joined as SparseGPT and Wanda do (../shared/data/README.md); a path is read whole. Shows progress per window; Ctrl-C stops between windows.",
            example: "ppl(load(\"smollm2-135m\"), ctx=512, windows=2)") { a in
                let m = try a.causalModel("model", for: "ppl")
                let ctx = try a.int("ctx", 2...1 << 20)
                guard ctx <= m.model.config.contextLength else {
                    throw a.fail(argument: "ctx", "ctx must be at most the model's context length \(m.model.config.contextLength), got \(ctx)")
                }
                let windows = a.has("windows") ? try a.int("windows", 1...1 << 30) : nil
                let text: String
                do { text = try DataCatalog.text(of: try a.string("data")) }
                catch let e as InferenceError { throw a.fail(argument: "data", e.description) }
                let tokens = try m.tokenizer().encode(text)
                let forward = try a.forward(m)
                let r = try Perplexity.evaluate(forward, tokens: tokens, context: ctx, windows: windows,
                                                progress: a.reporter("perplexity of \(m.model.name)"))
                return .number(r.perplexity)
            })
    }
}

extension BuiltinRegistry {
    /// Registers sentence embeddings for BERT models.
    public func registerEmbeddings() {
        register(Builtin(
            name: "embed", params: [.required("model", "model"), .required("text", "string|list of strings")],
            returns: "vector|matrix", category: "evaluation",
            doc: "Sentence embeddings from a BERT encoder as sentence-transformers computes them for all-MiniLM-L6-v2: WordPiece tokens (truncated at the model's max_seq_length), the encoder, mean pooling over the tokens, L2 normalisation (as the model's modules.json says). One text gives a vector; a list gives a matrix with one row per text.",
            example: "e = embed(load(\"minilm-l6\"), \"A cat sits on the mat.\")\nlen(e)") { a in
                let m = try a.model("model")
                guard m.model.config.architecture == .bert else {
                    throw a.fail(argument: "model", "embed needs a BERT encoder; \(m.model.name) is a \(m.model.config.architecture.rawValue) model")
                }
                let e = try m.embedder()
                if case .string(let text) = a.value("text") { return .vector(try e.embed(text).map(Double.init)) }
                guard case .list(let items) = a.value("text") else { throw a.typeError("text", expected: "string or list of strings") }
                let texts = try items.map { v -> String in
                    guard case .string(let s) = v else { throw a.typeError("text", expected: "list of strings") }
                    return s
                }
                return .matrix(try e.embed(texts))
            })
        register(Builtin(
            name: "similarity", params: [.required("a", "vector"), .required("b", "vector")], returns: "number", category: "evaluation",
            doc: "The cosine similarity a·b / (‖a‖‖b‖) of two vectors of the same length (1 for the same direction, 0 for orthogonal).",
            example: "similarity([1, 0], [1, 1])") { a in
                let x = try a.numbers("a"), y = try a.numbers("b")
                guard x.count == y.count, !x.isEmpty else {
                    throw a.fail("the vectors must have the same, nonzero length, got \(x.count) and \(y.count)")
                }
                var dot = 0.0, nx = 0.0, ny = 0.0
                for i in x.indices { dot += x[i] * y[i]; nx += x[i] * x[i]; ny += y[i] * y[i] }
                guard nx > 0, ny > 0 else { throw a.fail("similarity of a zero vector is undefined") }
                return .number(dot / (nx * ny).squareRoot())
            })
    }
}

extension Arguments {
    /// Argument `name` as a model ("f: argument m must be a model, got T").
    func model(_ name: String) throws -> ModelObject {
        if case .object(let o) = value(name), let m = o as? ModelObject { return m }
        throw typeError(name, expected: "model")
    }
}

