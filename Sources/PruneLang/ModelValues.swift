import Numerics
import Models
import Plots
import Training

/// How a model was trained by `finetune` or `distill`: its curve and settings.
public struct ModelTraining {
    /// "fine-tuned", "distilled (LoRA rank 8)"...
    public var what: String
    /// One record per step.
    public var curve: [FineTuningStep]
    /// Whether Ctrl-C stopped it.
    public var interrupted: Bool
    /// The peak learning rate, the sequence length, the batch and the data's name.
    public var learningRate: Double, sequence: Int, batch: Int, data: String
}

/// A loaded model as a language value: `m.layers`, `m.embed`, `m.config`; shows itself as its
/// summary table. Holds the forward pass and tokenizer once built, so repeated `ppl` or
/// `generate` calls do not dequantise again.
public final class ModelObject: HostObject {
    /// The model.
    public let model: Model
    /// The llama forward pass in each arithmetic asked for, built on first use.
    private var forwardCache: [ForwardArithmetic: LlamaForward] = [:]
    /// The tokenizer, built on first use.
    private var tokenizerCache: BPETokenizer?
    /// The sentence embedder (BERT models), built on first use.
    private var embedderCache: SentenceEmbedder?

    /// How `finetune` or `distill` made it (nil otherwise).
    public let training: ModelTraining?

    /// Wraps `model`, with the training that made it when there was one.
    public init(_ model: Model, training: ModelTraining? = nil) {
        self.model = model
        self.training = training
    }

    /// "model".
    public var typeName: String { "model" }
    /// Members of a model.
    public var memberNames: [String] { ["blocks", "config", "curve", "embed", "figure", "head", "interrupted", "layers", "name", "params", "path", "summary"] }

    /// The member `name`.
    public func member(_ name: String) throws -> Value? {
        switch name {
        case "name": return .string(model.name)
        case "path": return model.path.map { .string($0) } ?? Value.none
        case "params": return .number(Double(model.parameterCount))
        case "blocks": return .number(Double(model.blockCount))
        case "layers": return .list((0..<model.blockCount).map { .object(LayerObject(model, index: $0)) })
        case "embed": return weight(.tokenEmbedding)
        case "head": return model.has(.outputHead) ? weight(.outputHead) : weight(.tokenEmbedding)
        case "summary": return .object(TableObject(ModelTables.summary(model)))
        case "config": return ModelTables.configRecord(model.config)
        case "curve":
            return .list((training?.curve ?? []).map { s in
                .record(Record([("step", .number(Double(s.step))), ("tokens", .number(Double(s.tokens))), ("loss", .number(s.loss)),
                                ("lr", .number(s.learningRate)), ("grad_norm", .number(s.gradientNorm)), ("seconds", .number(s.seconds))]))
            })
        case "figure": return training.map { .object(FigureObject(curveFigure($0))) } ?? Value.none
        case "interrupted": return .bool(training?.interrupted ?? false)
        default: return nil
        }
    }

    /// The loss of every training step against the tokens seen.
    func curveFigure(_ t: ModelTraining) -> Figure {
        Figure.line(x: t.curve.map { Double($0.tokens) }, y: t.curve.map(\.loss), label: "batch loss",
                    title: "\(model.name) \(t.what) on \(t.data) (seq \(t.sequence) × batch \(t.batch), lr \(formatNumber(t.learningRate)))",
                    xLabel: "training tokens", yLabel: "loss")
    }

    func weight(_ role: TensorRole) -> Value {
        model.tensor(role).map { .object(WeightObject($0, label: "\(model.name) \(role.rawValue)")) } ?? Value.none
    }

    /// The summary table (text and HTML).
    public func display() -> MIMEBundle {
        let t = ModelTables.summary(model)
        return MIMEBundle(text: t.text(), html: t.html())
    }

    /// One line: name, architecture, parameters.
    public var summary: String {
        var trained = ""
        if let t = training { trained = ", \(t.what) \(t.curve.count) steps" + (t.interrupted ? " (interrupted)" : "") }
        return "<model \(model.name): \(model.config.architecture.rawValue), \(model.blockCount) blocks, \(ModelSummary.shortCount(model.parameterCount)) params\(trained)>"
    }

    /// The blocks, for `len(m)` and `for l in m`.
    public var length: Int? { model.blockCount }
    /// Block `i` as a layer.
    public func element(at i: Int) throws -> Value { .object(LayerObject(model, index: i)) }

    /// The llama forward pass of this model in `arithmetic` (dequantised once per arithmetic).
    func forward(_ arithmetic: ForwardArithmetic = .float32) throws -> LlamaForward {
        if let f = forwardCache[arithmetic] { return f }
        let f = LlamaForward(weights: try LlamaWeights(model, arithmetic: arithmetic))
        forwardCache[arithmetic] = f
        return f
    }

    /// The sentence-transformers pipeline of a BERT model (dequantised once).
    func embedder() throws -> SentenceEmbedder {
        if let e = embedderCache { return e }
        let e = try SentenceEmbedder(model: model)
        embedderCache = e
        return e
    }

    /// The tokenizer from the model's GGUF metadata.
    func tokenizer() throws -> BPETokenizer {
        if let t = tokenizerCache { return t }
        let t = try BPETokenizer(model: model)
        tokenizerCache = t
        return t
    }
}

/// One block of a model: `l.index`, `l.ffn.up|gate|down`, `l.attn.q|k|v|o`, `l.norm`.
public final class LayerObject: HostObject {
    /// The model the block belongs to.
    public let model: Model
    /// The block index.
    public let index: Int

    /// Block `index` of `model`.
    public init(_ model: Model, index: Int) {
        self.model = model
        self.index = index
    }

    /// "layer".
    public var typeName: String { "layer" }
    /// Members of a layer.
    public var memberNames: [String] { ["attn", "ffn", "index", "width"] }

    /// The member `name`.
    public func member(_ name: String) throws -> Value? {
        switch name {
        case "index": return .number(Double(index))
        case "width": return .number(Double(model.config.intermediateSizes[index]))
        case "ffn":
            var fields: [(String, Value)] = []
            for (key, role) in [("gate", TensorRole.ffnGate), ("up", .ffnUp), ("down", .ffnDown)] {
                if let w = weight(role, .weight) { fields.append((key, w)) }
                if let b = weight(role, .bias) { fields.append((key + "_bias", b)) }
            }
            return .record(Record(fields))
        case "attn":
            var fields: [(String, Value)] = []
            for (key, role) in [("q", TensorRole.attentionQuery), ("k", .attentionKey), ("v", .attentionValue), ("o", .attentionOutput)] {
                if let w = weight(role, .weight) { fields.append((key, w)) }
                if let b = weight(role, .bias) { fields.append((key + "_bias", b)) }
            }
            return .record(Record(fields))
        default: return nil
        }
    }

    func weight(_ role: TensorRole, _ part: TensorPart) -> Value? {
        model.tensor(role, part, block: index).map { .object(WeightObject($0, label: "\(model.name) layer \(index) \(role.rawValue)")) }
    }

    /// The block's tensors as a table.
    public func display() -> MIMEBundle {
        let rows: [[Table.Cell]] = model.tensors.filter { $0.key.block == index }
            .sorted { $0.value.name < $1.value.name }
            .map { [.text($0.value.name), .text("\($0.value.shape)"), .text($0.value.typeName), .integer($0.value.elementCount)] }
        let t = Table(title: "\(model.name) layer \(index)", headers: ["tensor", "shape", "type", "params"], rows: rows)
        return MIMEBundle(text: t.text(), html: t.html())
    }

    /// One line.
    public var summary: String { "<layer \(index) of \(model.name)>" }
}

/// A weight tensor of a model, dequantised on first use: usable wherever a matrix is.
public final class WeightObject: HostObject {
    /// The tensor.
    public let tensor: WeightTensor
    /// Where it is from, in words.
    public let label: String
    private var cached: Matrix?

    /// Wraps `tensor`.
    public init(_ tensor: WeightTensor, label: String) {
        self.tensor = tensor
        self.label = label
    }

    /// "weight".
    public var typeName: String { "weight" }
    /// Members of a weight.
    public var memberNames: [String] { ["T", "cols", "name", "rows", "shape", "type"] }

    /// The member `name`.
    public func member(_ name: String) throws -> Value? {
        switch name {
        case "name": return .string(tensor.name)
        case "type": return .string(tensor.typeName)
        case "rows": return .number(Double(tensor.rows))
        case "cols": return .number(Double(tensor.cols))
        case "shape": return .list(tensor.shape.map { .number(Double($0)) })
        case "T": return .matrix(try matrix().transposed)
        default: return nil
        }
    }

    func matrix() throws -> Matrix {
        if let m = cached { return m }
        let m = try tensor.matrix()
        cached = m
        return m
    }

    /// The dequantised values.
    public func matrixValue() throws -> Matrix? { try matrix() }

    /// Name, shape and stored type.
    public func display() -> MIMEBundle {
        MIMEBundle(text: "weight \(tensor.name): \(tensor.rows)×\(tensor.cols) \(tensor.typeName) (\(label))")
    }

    /// One line.
    public var summary: String { "<weight \(tensor.name) \(tensor.rows)×\(tensor.cols) \(tensor.typeName)>" }
}

/// Tables and records that show models.
enum ModelTables {
    /// Parameters by role, with a total row and the model's heading as the title.
    static func summary(_ model: Model) -> Table {
        let s = ModelSummary(model)
        let last: Set<TensorRole> = [.outputNorm, .outputHead, .pooler]
        let ordered = s.rows.filter { !last.contains($0.role) } + s.rows.filter { last.contains($0.role) }
        let rows: [[Table.Cell]] = ordered.map {
            [.text($0.role.rawValue + ($0.part == .bias ? " bias" : "")), .integer($0.tensors), .text($0.shape), .text($0.types), .number(Double($0.parameters))]
        } + s.others.map { [.text($0.name), .integer(1), .text("\($0.shape)"), .text($0.type), .number(Double($0.elements))] }
        let widths = s.intermediateSizes.min() == s.intermediateSizes.max() ? "FFN \(s.intermediateSizes.first ?? 0)" : "FFN \(s.intermediateSizes.min() ?? 0)…\(s.intermediateSizes.max() ?? 0)"
        let title = "\(s.name) · \(s.architecture.rawValue) · \(s.blocks) blocks · d \(s.hiddenSize) · \(widths) · \(ModelSummary.shortCount(s.parameters)) params"
            + (s.fileSize > 0 ? " · \(ModelSummary.shortBytes(s.fileSize))" : "")
        return Table(title: title,
                     columns: [.init("role"), .init("tensors"), .init("shape"), .init("type"), .init("params", numberStyle: .grouped)],
                     rows: rows, footer: [.text("total"), .integer(model.tensors.count + model.otherTensors.count), .empty, .empty,
                                          .number(Double(s.parameters + s.bufferElements))])
    }

    /// The config as a record.
    /// A head-pruned model's record adds `block_heads` and `block_kv_heads` (one count per block).
    static func configRecord(_ c: ModelConfig) -> Value {
        var fields: [(String, Value)] = [
            ("architecture", .string(c.architecture.rawValue)), ("hidden", .number(Double(c.hiddenSize))),
            ("ffn", .list(c.intermediateSizes.map { .number(Double($0)) })), ("heads", .number(Double(c.heads))),
            ("kv_heads", .number(Double(c.kvHeads))), ("vocab", .number(Double(c.vocabSize))),
            ("context", .number(Double(c.contextLength))), ("norm_eps", .number(c.normEpsilon)),
            ("rope_base", .number(c.ropeBase)), ("tied_head", .bool(c.tiedOutputHead)),
        ]
        if c.hasPerBlockHeads {
            fields.append(("block_heads", .list((0..<c.blockCount).map { .number(Double(c.heads(inBlock: $0))) })))
            fields.append(("block_kv_heads", .list((0..<c.blockCount).map { .number(Double(c.kvHeads(inBlock: $0))) })))
        }
        return .record(Record(fields))
    }
}
