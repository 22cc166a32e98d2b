import Models
import Numerics
import Plots

extension Arguments {
    /// The model argument `name`, which `builtin` needs to be causal (llama): an error on the
    /// argument naming the model's architecture otherwise.
    func causalModel(_ name: String, for builtin: String) throws -> ModelObject {
        let m = try model(name)
        guard m.model.config.architecture == .llama else {
            throw fail(argument: name, "\(builtin) needs a causal (llama) model; \(m.model.name) is a \(m.model.config.architecture.rawValue) encoder")
        }
        return m
    }

    /// The `arithmetic` argument: "float32" (dequantised weights, BLAS), "llamacpp" (llama.cpp's
    /// 8-bit activation blocks and integer dots over the stored quantised blocks, f16 K/V) or
    /// "quantized" (only the stored blocks in memory, products on them, Float32 elsewhere).
    func arithmetic() throws -> ForwardArithmetic {
        switch try choice("arithmetic", ["float32", "llamacpp", "quantized"]) {
        case "llamacpp": return .llamaCpp
        case "quantized": return .quantized
        default: return .float32
        }
    }

    /// The forward pass of model `m` in the `arithmetic` argument; when the weights could not be
    /// held as asked (Float32 would not fit in memory), the first line of output says which
    /// arithmetic runs instead.
    func forward(_ m: ModelObject) throws -> LlamaForward {
        let f: LlamaForward
        do { f = try m.forward(try arithmetic()) } catch let e as MemoryBudgetError { throw fail(argument: "arithmetic", e.description) }
        if let note = f.weights.arithmeticNote { interpreter.write(line: "note: \(m.model.name): \(note)") }
        return f
    }
}

extension Param {
    /// The `arithmetic=` parameter of the causal-model evaluations.
    static var arithmetic: Param { Param.optional("arithmetic", "string", default: .string("float32"),
                                           "\"float32\" (dequantised weights, BLAS: exact, fastest on batches), \"llamacpp\" (llama.cpp's 8-bit activations and integer dots over the stored blocks, f16 K/V: its logits bit for bit on Q4_0/Q4_1/Q8_0, a token's result the same in any batch) or \"quantized\" (only the stored blocks in memory, about the file's size, products on them with 8-bit activations, Float32 elsewhere: the fastest decoding). When the Float32 weights would not fit in memory, float32 runs as \"quantized\" and says so on the first line of output; llamacpp stops with the memory it needs") }
}

extension BuiltinRegistry {
    /// Registers the causal-model evaluations beyond perplexity: zero-shot multiple choice,
    /// text generation and throughput.
    public func registerEvaluation() {
        register(Builtin(
            name: "zeroshot", params: [.required("model", "model"),
                                       .optional("task", "string|list", default: .string("all"), "piqa, hellaswag, arc_easy, arc_challenge, winogrande, a list of them, or \"all\""),
                                       .optional("limit", "number|none", default: .none, "the first `limit` examples of each task (all when none)"), .arithmetic],
            returns: "record|table", category: "evaluation",
            doc: "Zero-shot multiple-choice accuracy as lm-evaluation-harness computes it: each choice is scored by the sum of its continuation tokens' log-likelihoods; acc takes the highest sum, acc_norm the highest sum per character of the choice (lm-eval's len(choice); arc, hellaswag, piqa). WinoGrande scores the shared ending after each option (partial scoring) and has no acc_norm. Data comes from ../shared/data (its README gives each file). One task gives a record (task, n, acc, acc_norm, stderr); a list or \"all\" gives a table. Examples are scored eight at a time (all their shared contexts in one pass, all their choices in a second); progress shows after each eight; Ctrl-C stops between them.",
            example: "zeroshot(load(\"smollm2-135m\"), task=\"arc_easy\", limit=20)") { a in
                let m = try a.causalModel("model", for: "zeroshot")
                let tasks: [ZeroShotTask]
                switch a.value("task") {
                case .string("all"): tasks = ZeroShotTask.allCases
                case .string(let name): tasks = [try Self.task(name, a)]
                case .list(let items):
                    tasks = try items.map { v in
                        guard case .string(let name) = v else { throw a.typeError("task", expected: "a task name or a list of task names") }
                        return try Self.task(name, a)
                    }
                default: throw a.typeError("task", expected: "a task name or a list of task names")
                }
                let limit = a.has("limit") ? try a.int("limit", 1...1 << 30) : nil
                let forward = try a.forward(m), tokenizer = try m.tokenizer()
                var results: [ZeroShotResult] = []
                for task in tasks {
                    let examples: [ZeroShotExample]
                    do { examples = try task.examples(limit: limit) } catch let e as ZeroShotError { throw a.fail(argument: "task", e.description) }
                    let r = try ZeroShot.evaluate(forward: forward, tokenizer: tokenizer, task: task, examples: examples,
                                                  progress: a.reporter("zeroshot \(task.rawValue) of \(m.model.name)"))
                    results.append(r)
                }
                if tasks.count == 1, case .string(let s) = a.value("task"), s != "all" { return Self.record(results[0]) }
                return .object(TableObject(Self.table(results, model: m.model.name)))
            })

        register(Builtin(
            name: "generate", params: [.required("model", "model"), .required("prompt", "string"),
                                       .optional("tokens", "number", default: .number(32), "at most this many new tokens"),
                                       .optional("temperature", "number", default: .number(0), "0 for greedy; otherwise softmax(logits/T) sampling"),
                                       .optional("top_k", "number|none", default: .none, "sample only among the k largest logits"),
                                       .optional("seed", "number", default: .number(0), "the sampling seed"),
                                       .optional("chat", "bool", default: .bool(false), "parse control tokens such as <|im_start|> in the prompt"), .arithmetic],
            returns: "string", category: "evaluation",
            doc: "Continues `prompt` with up to `tokens` new tokens and returns the new text. Greedy (temperature 0) takes the most likely token at each step, as llama.cpp does; a positive temperature samples from softmax(logits / temperature), optionally among the `top_k` largest, with a seeded generator (the same seed gives the same text). Stops at the end-of-sequence token. The prompt is one batch from an empty cache (no BOS), then one token per step through the KV cache. Ctrl-C stops it between tokens (the cell ends interrupted; every variable is kept).",
            example: "generate(load(\"smollm2-135m\"), \"The capital of France is\", tokens=8)") { a in
                let m = try a.causalModel("model", for: "generate")
                let tokens = try a.int("tokens", 1...1 << 20)
                let temperature = try a.number("temperature", "≥ 0") { $0 >= 0 && $0.isFinite }
                let topK = a.has("top_k") ? try a.int("top_k", 1...1 << 30) : nil
                let seed = try a.int("seed", 0...(1 << 53))
                let r: GenerationResult
                do {
                    r = try Generation.generate(forward: try a.forward(m), tokenizer: try m.tokenizer(), prompt: try a.string("prompt"),
                                                maxTokens: tokens, temperature: temperature, topK: topK, seed: UInt64(seed),
                                                special: try a.bool("chat"), progress: a.reporter())
                } catch let e as InferenceError { throw a.fail(e.description) }
                return .string(r.text)
            })

        register(Builtin(
            name: "throughput", params: [.required("model", "model"),
                                         .optional("prompt", "number", default: .number(128), "prompt length in tokens (one batch)"),
                                         .optional("tokens", "number", default: .number(32), "decode steps, one token each"), .arithmetic],
            returns: "record", category: "evaluation",
            doc: "Speed of a causal model on this machine: a prompt of `prompt` tokens (WikiText-2 text) evaluated as one batch, then `tokens` greedy decode steps through the KV cache. Returns prompt and decode tokens per second and the seconds each took; `arithmetic=\"llamacpp\"` decodes on the stored quantised blocks, as llama.cpp does (about 3× faster decoding). For a side-by-side figure with llama.cpp use `bench/run inference`.",
            example: "throughput(load(\"smollm2-135m\"), prompt=64, tokens=8, arithmetic=\"llamacpp\")") { a in
                let m = try a.causalModel("model", for: "throughput")
                let promptLength = try a.int("prompt", 1...m.model.config.contextLength)
                let tokens = try a.int("tokens", 1...m.model.config.contextLength)
                guard promptLength + tokens < m.model.config.contextLength else {
                    throw a.fail(argument: "tokens", "prompt + tokens must be less than the context length \(m.model.config.contextLength), got \(promptLength + tokens)")
                }
                let ids = Array(try m.tokenizer().encode(try DataCatalog.text(of: "wikitext2")).prefix(promptLength))
                let r = try Generation.generate(forward: try a.forward(m), promptIDs: ids, maxTokens: tokens + 1, eos: nil)   // the first new token comes from the prompt batch
                let t = r.throughput
                return .record(Record([
                    ("prompt_tokens", .number(Double(t.promptTokens))), ("prompt_tokens_per_s", .number(t.promptTokensPerSecond)),
                    ("decode_tokens", .number(Double(t.decodeTokens))), ("decode_tokens_per_s", .number(t.decodeTokensPerSecond)),
                    ("prompt_seconds", .number(t.promptSeconds)), ("decode_seconds", .number(t.decodeSeconds)),
                ]))
            })
    }

    /// The task named `name`, or a user error on the `task` argument listing the names.
    private static func task(_ name: String, _ a: Arguments) throws -> ZeroShotTask {
        do { return try ZeroShotTask(name: name) } catch let e as ZeroShotError { throw a.fail(argument: "task", e.description) }
    }

    /// One task's result as a record.
    private static func record(_ r: ZeroShotResult) -> Value {
        .record(Record([
            ("task", .string(r.task.rawValue)), ("n", .number(Double(r.n))), ("acc", .number(r.acc)),
            ("acc_norm", r.accNorm.map { .number($0) } ?? .none), ("stderr", .number(r.accStderr)),
        ]))
    }

    /// Several tasks' results as a table, with their mean.
    private static func table(_ results: [ZeroShotResult], model: String) -> Table {
        let rows: [[Table.Cell]] = results.map {
            [.text($0.task.rawValue), .integer($0.n), .number($0.acc), $0.accNorm.map { .number($0) } ?? .empty, .number($0.accStderr)]
        }
        let mean = results.map(\.acc).reduce(0, +) / Double(max(1, results.count))
        return Table(title: "\(model) · zero-shot", headers: ["task", "n", "acc", "acc_norm", "stderr"], rows: rows,
                     footer: [.text("mean"), .integer(results.map(\.n).reduce(0, +)), .number(mean), .empty, .empty])
    }
}
