import Foundation
import Models
import Numerics

/// Which projections of each block carry LoRA adapters, and their rank and alpha (PEFT's
/// `LoraConfig(r=, lora_alpha=, target_modules=)`); `seed` draws the A matrices.
public struct LoRASettings: Sendable, Equatable {
    /// Rank r.
    public var rank: Int
    /// alpha: the update is scaled by alpha / r.
    public var alpha: Double
    /// The projections adapted, among q k v o gate up down.
    public var targets: Set<TensorRole>
    /// Seed of the A matrices' initialisation.
    public var seed: UInt64

    /// Settings; the targets default to q and v (PEFT's default for llama).
    public init(rank: Int, alpha: Double, targets: Set<TensorRole> = [.attentionQuery, .attentionValue], seed: UInt64 = 0) {
        self.rank = rank
        self.alpha = alpha
        self.targets = targets
        self.seed = seed
    }
}

/// A llama that cannot be trained as asked (a shape that does not chain, a bad batch).
public struct LlamaTrainingError: Error, CustomStringConvertible, Equatable {
    /// What is wrong.
    public let message: String
    /// An error saying `message`.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A trainable llama over `LlamaWeights` (Float32 arithmetic): the loss of next-token prediction
/// on a batch and the gradient of every trainable parameter, and an optimiser step.
///
/// It takes every shape PruneLang produces: per-block FFN widths (row-pruned), blocks removed,
/// unstructured masks held fixed (a mask per linear: masked weights get zero gradient and are
/// re-zeroed after every step), LoRA adapters (base weights frozen; `merged()` folds them in and
/// re-applies the masks), and SliceGPT's sliced models (the shortcut matrices on the residual
/// connections are held fixed; gradients flow through them).
///
/// The forward pass calls the inference pass's kernels (`Linear.apply`, `ForwardKernels.rmsNorm`,
/// `RoPE.apply`, `ForwardKernels.swiglu`, the same attention products and softmax), so its logits
/// are `LlamaForward`'s. Each op's backward sits beside its forward in `Sources/Training/Ops`;
/// this type strings them together block by block, as llm.c's train_gpt2.c does.
///
/// Parameters are named as GGUF names the tensors ("token_embd.weight", "blk.0.attn_q.weight",
/// "output_norm.weight"; an untied head is "output.weight"); a LoRA adapter's matrices are
/// "<weight name>.lora_a" (r × in) and ".lora_b" (out × r), as llama.cpp names adapters.
public struct LlamaTrainingModel: Sendable {
    /// The seven projections of a block, in the order gradients and masks index them.
    public static let projections: [TensorRole] = [.attentionQuery, .attentionKey, .attentionValue, .attentionOutput, .ffnGate, .ffnUp, .ffnDown]

    /// What a parameter is, inside the model.
    public enum ParameterKind: Sendable, Equatable {
        case embedding, head, outputNorm
        case attentionNorm(block: Int), ffnNorm(block: Int)
        /// Projection `projection` (an index into `projections`) of a block.
        case linear(block: Int, projection: Int)
        case loraA(block: Int, projection: Int), loraB(block: Int, projection: Int)
    }

    /// A trainable parameter: its name and what it is.
    public struct Parameter: Sendable, Equatable {
        /// The GGUF-style name.
        public let name: String
        /// What it is.
        public let kind: ParameterKind
    }

    /// The weights (Float32 arithmetic). The tied head shares the embedding's storage.
    public private(set) var weights: LlamaWeights
    /// Whether the output head is the token embedding (its gradient adds into the embedding's).
    public let tiedHead: Bool
    /// Fixed masks (1 keep, 0 pruned), one optional per block and projection (out × in, row-major).
    public private(set) var masks: [[[Float]?]]
    /// The LoRA settings, nil for full fine-tuning.
    public let lora: LoRASettings?
    /// The adapters, one optional per block and projection (nil where none).
    public var adapters: [[LoRAAdapter?]]
    /// Recompute each block's activations in the backward pass (gradient checkpointing): only each
    /// block's input is kept through the forward pass.
    public var checkpointing: Bool

    var config: ModelConfig { weights.config }

    /// A trainable model of `weights`, converted to Float32 arithmetic (a weight's llama.cpp
    /// stored form is dropped). With `lora` every projection among its targets gets an adapter
    /// (A seeded kaiming-uniform, B zero) and only the adapters train. With `holdZerosFixed` every
    /// projection with exact zeros gets a mask that holds them at zero. Throws when the shapes do
    /// not chain (a broken model) or the settings are out of range.
    public init(_ weights: LlamaWeights, lora: LoRASettings? = nil, holdZerosFixed: Bool = false, checkpointing: Bool = false) throws {
        var w = weights
        w.arithmetic = .float32
        for b in w.blocks.indices {
            for role in Self.projections {
                let kp = Self.keyPath(role)
                if w.blocks[b][keyPath: kp].stored != nil { w.blocks[b][keyPath: kp] = Linear(w.blocks[b][keyPath: kp].weight) }
            }
        }
        tiedHead = w.config.tiedOutputHead
        if tiedHead {
            w.head = Linear(w.embedding)
        } else if w.head.stored != nil {
            w.head = Linear(w.head.weight)
        }
        self.weights = w
        self.lora = lora
        self.checkpointing = checkpointing
        masks = Array(repeating: Array(repeating: nil, count: 7), count: w.blocks.count)
        adapters = Array(repeating: Array(repeating: nil, count: 7), count: w.blocks.count)
        try checkShapes()
        if let lora {
            guard lora.rank > 0, lora.alpha > 0 else { throw LlamaTrainingError("LoRA needs a positive rank and alpha, got rank \(lora.rank), alpha \(lora.alpha)") }
            guard lora.targets.isSubset(of: Set(Self.projections)), !lora.targets.isEmpty else {
                throw LlamaTrainingError("LoRA targets must be among q k v o gate up down")
            }
            var rng = SeededRandom(seed: lora.seed)
            for b in w.blocks.indices {
                for (p, role) in Self.projections.enumerated() where lora.targets.contains(role) {
                    let lin = w.blocks[b][keyPath: Self.keyPath(role)]
                    adapters[b][p] = LoRAAdapter(inputs: lin.inputs, outputs: lin.outputs, rank: lora.rank, alpha: lora.alpha, rng: &rng)
                }
            }
        }
        if holdZerosFixed {
            for b in w.blocks.indices {
                for (p, role) in Self.projections.enumerated() {
                    let data = w.blocks[b][keyPath: Self.keyPath(role)].weight.data
                    if data.contains(0) { masks[b][p] = data.map { $0 == 0 ? 0 : 1 } }
                }
            }
        }
    }

    /// Where projection `role` lives in a block.
    static func keyPath(_ role: TensorRole) -> WritableKeyPath<LlamaWeights.Block, Linear> { LlamaWeights.Block.linear(role) }

    /// Checks that every width chains from the embedding through the blocks to the head.
    func checkShapes() throws {
        let heads = config.heads, kvHeads = config.kvHeads, hd = config.headDimension
        guard heads > 0, kvHeads > 0, heads % kvHeads == 0, hd > 0 else {
            throw LlamaTrainingError("the config's heads (\(heads)) must be a positive multiple of its key/value heads (\(kvHeads))")
        }
        var width = weights.embedding.cols
        for (b, w) in weights.blocks.enumerated() {
            func fail(_ what: String) -> LlamaTrainingError { LlamaTrainingError("block \(b): \(what)") }
            guard w.attentionNorm.count == width else { throw fail("attention norm has \(w.attentionNorm.count) entries, the stream \(width)") }
            guard w.query.outputs == heads * hd, w.query.inputs == width, w.key.outputs == kvHeads * hd, w.key.inputs == width,
                  w.value.outputs == kvHeads * hd, w.value.inputs == width, w.output.inputs == heads * hd else {
                throw fail("attention projections do not match \(heads) heads, \(kvHeads) key/value heads of \(hd) on a stream of \(width)")
            }
            var mid = width
            if let s = w.attentionShortcut {
                guard s.rows == width else { throw fail("attention shortcut is \(s.rows) × \(s.cols), the stream \(width)") }
                mid = s.cols
            }
            guard w.output.outputs == mid, w.ffnNorm.count == mid else { throw fail("attention output and FFN norm must have width \(mid)") }
            guard w.gate.inputs == mid, w.up.inputs == mid, w.gate.outputs == w.up.outputs, w.down.inputs == w.up.outputs else {
                throw fail("FFN projections do not chain (gate \(w.gate.outputs) × \(w.gate.inputs), up \(w.up.outputs) × \(w.up.inputs), down \(w.down.outputs) × \(w.down.inputs))")
            }
            var out = mid
            if let s = w.ffnShortcut {
                guard s.rows == mid else { throw fail("FFN shortcut is \(s.rows) × \(s.cols), the stream \(mid)") }
                out = s.cols
            }
            guard w.down.outputs == out else { throw fail("FFN down projection gives \(w.down.outputs), the stream needs \(out)") }
            width = out
        }
        guard weights.outputNorm.count == width, weights.head.inputs == width else {
            throw LlamaTrainingError("the output norm (\(weights.outputNorm.count)) and head (\(weights.head.inputs) inputs) must match the stream (\(width))")
        }
    }

    // MARK: Parameters and masks

    /// The trainable parameters in a fixed order (the optimiser's slots): every tensor under full
    /// fine-tuning, only the adapters under LoRA.
    public var parameters: [Parameter] {
        var list: [Parameter] = []
        func name(_ role: TensorRole, _ block: Int? = nil) -> String { TensorNaming.gguf.name(of: TensorPlace(role, block: block))! }
        if lora != nil {
            for b in weights.blocks.indices {
                for (p, role) in Self.projections.enumerated() where adapters[b][p] != nil {
                    list.append(Parameter(name: name(role, b) + ".lora_a", kind: .loraA(block: b, projection: p)))
                    list.append(Parameter(name: name(role, b) + ".lora_b", kind: .loraB(block: b, projection: p)))
                }
            }
            return list
        }
        list.append(Parameter(name: name(.tokenEmbedding), kind: .embedding))
        for b in weights.blocks.indices {
            list.append(Parameter(name: name(.attentionNorm, b), kind: .attentionNorm(block: b)))
            for (p, role) in Self.projections.enumerated() {
                if p == 4 { list.append(Parameter(name: name(.ffnNorm, b), kind: .ffnNorm(block: b))) }
                list.append(Parameter(name: name(role, b), kind: .linear(block: b, projection: p)))
            }
        }
        list.append(Parameter(name: name(.outputNorm), kind: .outputNorm))
        if !tiedHead { list.append(Parameter(name: name(.outputHead), kind: .head)) }
        return list
    }

    /// The values of the parameter called `name` (trainable or not: any weight, norm or adapter),
    /// nil for an unknown name.
    public func parameter(named name: String) -> [Float]? {
        guard let kind = Self.kind(of: name, blocks: weights.blocks.count) else { return nil }
        return value(kind)
    }

    /// The values of parameter `kind`.
    func value(_ kind: ParameterKind) -> [Float]? {
        switch kind {
        case .embedding: return weights.embedding.data
        case .head: return weights.head.weight.data
        case .outputNorm: return weights.outputNorm
        case let .attentionNorm(b): return weights.blocks[b].attentionNorm
        case let .ffnNorm(b): return weights.blocks[b].ffnNorm
        case let .linear(b, p): return weights.blocks[b][keyPath: Self.keyPath(Self.projections[p])].weight.data
        case let .loraA(b, p): return adapters[b][p]?.a.data
        case let .loraB(b, p): return adapters[b][p]?.b.data
        }
    }

    /// Replaces the values of the parameter called `name` (same count; a masked projection is
    /// re-masked, a tied head follows the embedding). Throws on an unknown name or a wrong count.
    public mutating func setParameter(named name: String, to values: [Float]) throws {
        guard let kind = Self.kind(of: name, blocks: weights.blocks.count), let old = value(kind) else {
            throw LlamaTrainingError("no parameter named \(name)")
        }
        guard old.count == values.count else { throw LlamaTrainingError("\(name) has \(old.count) values, got \(values.count)") }
        switch kind {
        case .embedding:
            weights.embedding.data = values
            if tiedHead { weights.head = Linear(weights.embedding) }
        case .head: weights.head.weight.data = values
        case .outputNorm: weights.outputNorm = values
        case let .attentionNorm(b): weights.blocks[b].attentionNorm = values
        case let .ffnNorm(b): weights.blocks[b].ffnNorm = values
        case let .linear(b, p):
            let kp = Self.keyPath(Self.projections[p])
            weights.blocks[b][keyPath: kp].weight.data = values
            if let mask = masks[b][p] { Self.applyMask(mask, to: &weights.blocks[b][keyPath: kp].weight.data) }
        case let .loraA(b, p): adapters[b][p]!.a.data = values
        case let .loraB(b, p): adapters[b][p]!.b.data = values
        }
    }

    /// The kind of the parameter called `name` in a model of `blocks` blocks.
    static func kind(of name: String, blocks: Int) -> ParameterKind? {
        var stem = name, suffix = ""
        for s in [".lora_a", ".lora_b"] where name.hasSuffix(s) { stem = String(name.dropLast(s.count)); suffix = s }
        guard let place = TensorNaming.gguf.place(of: stem), place.part == .weight else { return nil }
        if let b = place.block {
            guard b < blocks else { return nil }
            if let p = projections.firstIndex(of: place.role) {
                switch suffix {
                case ".lora_a": return .loraA(block: b, projection: p)
                case ".lora_b": return .loraB(block: b, projection: p)
                default: return .linear(block: b, projection: p)
                }
            }
            guard suffix.isEmpty else { return nil }
            if place.role == .attentionNorm { return .attentionNorm(block: b) }
            if place.role == .ffnNorm { return .ffnNorm(block: b) }
            return nil
        }
        guard suffix.isEmpty else { return nil }
        switch place.role {
        case .tokenEmbedding: return .embedding
        case .outputNorm: return .outputNorm
        case .outputHead: return .head
        default: return nil
        }
    }

    /// Holds the pruned entries of projection `role` in `block` fixed: `keep` (out × in, 1 keep,
    /// 0 pruned) zeroes those weights now, their gradients always, and again after every step.
    public mutating func setMask(_ keep: [Bool], block: Int, role: TensorRole) throws {
        guard weights.blocks.indices.contains(block), let p = Self.projections.firstIndex(of: role) else {
            throw LlamaTrainingError("no projection \(role.rawValue) in block \(block)")
        }
        let kp = Self.keyPath(role)
        guard keep.count == weights.blocks[block][keyPath: kp].weight.count else {
            throw LlamaTrainingError("a mask for block \(block)'s \(role.rawValue) needs \(weights.blocks[block][keyPath: kp].weight.count) entries, got \(keep.count)")
        }
        let mask = keep.map { $0 ? Float(1) : 0 }
        masks[block][p] = mask
        Self.applyMask(mask, to: &weights.blocks[block][keyPath: kp].weight.data)
    }

    static func applyMask(_ mask: [Float], to values: inout [Float]) {
        values.withUnsafeMutableBufferPointer { v in
            mask.withUnsafeBufferPointer { m in for i in 0..<v.count { v[i] *= m[i] } }
        }
    }

    /// The weights with every adapter folded in (W += (alpha/r)·B·A) and the masks re-applied, so
    /// a pruned model keeps its shape and its zeros. Without LoRA, the weights as they are.
    public func merged() -> LlamaWeights {
        var w = weights
        for b in w.blocks.indices {
            for (p, role) in Self.projections.enumerated() {
                guard let adapter = adapters[b][p] else { continue }
                let kp = Self.keyPath(role)
                let delta = adapter.delta()
                w.blocks[b][keyPath: kp].weight.data.withUnsafeMutableBufferPointer { wp in
                    delta.data.withUnsafeBufferPointer { dp in for i in 0..<wp.count { wp[i] += dp[i] } }
                }
                if let mask = masks[b][p] { Self.applyMask(mask, to: &w.blocks[b][keyPath: kp].weight.data) }
            }
        }
        return w
    }

    // MARK: Forward

    /// What one block's forward pass keeps for its backward pass.
    struct BlockTape {
        var x: [Float]          // block input (rows × din)
        var h1: [Float]         // attention norm output
        var q: [Float], k: [Float], v: [Float]   // after RoPE
        var probabilities: [Float]
        var attended: [Float]   // heads' outputs (rows × heads·hd)
        var x2: [Float]         // stream after attention (rows × dmid)
        var h2: [Float]         // FFN norm output
        var gate: [Float], up: [Float]   // FFN pre-activations (rows × n)
        var hidden: [[Float]?]  // LoRA x·Aᵀ per projection

        var floats: Int {
            x.count + h1.count + q.count + k.count + v.count + probabilities.count + attended.count + x2.count + h2.count
                + gate.count + up.count + hidden.reduce(0) { $0 + ($1?.count ?? 0) }
        }
    }

    /// The geometry of a batch: `sequences` of `length` positions.
    struct Batch {
        var sequences: Int
        var length: Int
        var rows: Int { sequences * length }
        var positions: [Int] { (0..<rows).map { $0 % length } }
    }

    /// y = x·Wᵀ (+ LoRA) for projection p of block b; returns y and the adapter's hidden values.
    func project(_ b: Int, _ p: Int, _ x: [Float], rows: Int) -> ([Float], [Float]?) {
        var y = weights.blocks[b][keyPath: Self.keyPath(Self.projections[p])].apply(x, rows: rows)
        guard let adapter = adapters[b][p] else { return (y, nil) }
        let hidden = adapter.down(x, rows: rows)
        adapter.up(hidden, rows: rows, addingTo: &y)
        return (y, hidden)
    }

    /// residual += x·Wᵀ (+ LoRA) for projection p of block b; returns the adapter's hidden values.
    func project(_ b: Int, _ p: Int, _ x: [Float], rows: Int, addingTo residual: inout [Float]) -> [Float]? {
        weights.blocks[b][keyPath: Self.keyPath(Self.projections[p])].apply(x, rows: rows, addingTo: &residual)
        guard let adapter = adapters[b][p] else { return nil }
        let hidden = adapter.down(x, rows: rows)
        adapter.up(hidden, rows: rows, addingTo: &residual)
        return hidden
    }

    /// dy·Sᵀ (rows × S.rows): the shortcut's input gradient.
    static func shortcutBackward(_ dy: [Float], rows: Int, _ s: Matrix) -> [Float] {
        var out = [Float](repeating: 0, count: rows * s.rows)
        dy.withUnsafeBufferPointer { dp in
            s.data.withUnsafeBufferPointer { sp in
                out.withUnsafeMutableBufferPointer { op in
                    StridedBLAS.gemm(transB: true, m: rows, n: s.rows, k: s.cols, a: dp.baseAddress!, lda: s.cols,
                                     b: sp.baseAddress!, ldb: s.cols, c: op.baseAddress!, ldc: s.rows)
                }
            }
        }
        return out
    }

    /// Block b on the stream x: its output and what its backward pass needs.
    func blockForward(_ b: Int, _ x: [Float], batch: Batch, positions: [Int]) -> (out: [Float], tape: BlockTape) {
        let w = weights.blocks[b], t = batch.rows
        let heads = config.heads, kvHeads = config.kvHeads, hd = config.headDimension
        var hidden = [[Float]?](repeating: nil, count: 7)
        // Attention: x2 = x·S + attention(norm(x))·Woᵀ
        let h1 = RMSNorm.forward(x, rows: t, weight: w.attentionNorm, epsilon: config.normEpsilon, meanOver: config.hiddenSize)
        var q: [Float], k: [Float], v: [Float]
        (q, hidden[0]) = project(b, 0, h1, rows: t)
        (k, hidden[1]) = project(b, 1, h1, rows: t)
        (v, hidden[2]) = project(b, 2, h1, rows: t)
        Rotary.forward(&q, rows: t, heads: heads, headDim: hd, ropeDims: config.ropeDimensions, base: config.ropeBase, positions: positions)
        Rotary.forward(&k, rows: t, heads: kvHeads, headDim: hd, ropeDims: config.ropeDimensions, base: config.ropeBase, positions: positions)
        let shape = CausalAttention.Shape(sequences: batch.sequences, length: batch.length, heads: heads, kvHeads: kvHeads, headDim: hd)
        var probabilities: [Float] = []
        let attended = CausalAttention.forward(q: q, k: k, v: v, shape: shape, probabilities: &probabilities)
        var x2 = w.attentionShortcut.map { LlamaForward.shortcut(x, rows: t, $0) } ?? x
        hidden[3] = project(b, 3, attended, rows: t, addingTo: &x2)
        // FFN: out = x2·S + down(silu(gate(h2)) ⊙ up(h2))
        let h2 = RMSNorm.forward(x2, rows: t, weight: w.ffnNorm, epsilon: config.normEpsilon, meanOver: config.hiddenSize)
        let g: [Float], u: [Float]
        (g, hidden[4]) = project(b, 4, h2, rows: t)
        (u, hidden[5]) = project(b, 5, h2, rows: t)
        let act = SwiGLU.forward(gate: g, up: u)
        var out = w.ffnShortcut.map { LlamaForward.shortcut(x2, rows: t, $0) } ?? x2
        hidden[6] = project(b, 6, act, rows: t, addingTo: &out)
        return (out, BlockTape(x: x, h1: h1, q: q, k: k, v: v, probabilities: probabilities, attended: attended,
                               x2: x2, h2: h2, gate: g, up: u, hidden: hidden))
    }

    /// Checks a batch: equal lengths of at least 2, ids in the vocabulary.
    func checkBatch(_ batch: [[Int32]]) throws -> Batch {
        guard let first = batch.first, first.count >= 2 else { throw LlamaTrainingError("a batch needs at least one sequence of 2 or more tokens") }
        guard batch.allSatisfy({ $0.count == first.count }) else { throw LlamaTrainingError("every sequence of a batch must have the same length") }
        let vocab = weights.embedding.rows
        if let bad = batch.lazy.flatMap({ $0 }).first(where: { $0 < 0 || Int($0) >= vocab }) {
            throw LlamaTrainingError("token id \(bad) is outside the vocabulary (0..<\(vocab))")
        }
        return Batch(sequences: batch.count, length: first.count - 1)
    }

    /// The logits (Σ lengths × vocab, sequences stacked) of `sequences` of equal length, each
    /// from position 0: the training forward pass alone.
    public func logits(_ sequences: [[Int32]]) throws -> Matrix {
        let batch = try checkBatch(sequences.map { $0 + [0] })
        let positions = batch.positions
        var x = Embedding.forward(sequences.flatMap { $0 }, table: weights.embedding)
        for b in weights.blocks.indices { x = blockForward(b, x, batch: batch, positions: positions).out }
        let hf = RMSNorm.forward(x, rows: batch.rows, weight: weights.outputNorm, epsilon: config.normEpsilon, meanOver: config.hiddenSize)
        return try Matrix(rows: batch.rows, cols: weights.head.outputs, data: weights.head.apply(hf, rows: batch.rows))
    }

    /// The mean next-token loss of `batch` (sequences × (seq + 1) ids: inputs [0..<seq], targets [1...seq]).
    public func loss(_ batch: [[Int32]]) throws -> Double {
        let shape = try checkBatch(batch)
        let logits = try self.logits(batch.map { Array($0.dropLast()) })
        return NextTokenCrossEntropy.forward(logits: logits.data, rows: shape.rows, vocab: weights.head.outputs,
                                             targets: batch.flatMap { $0.dropFirst() })
    }

    // MARK: Backward

    /// The bytes of activations a forward pass on `sequences` × `length` positions keeps for the
    /// backward pass: `kept` is what the tape holds when the forward pass ends (every block's
    /// tape, or with checkpointing only each block's input, plus the final stream, its norm and
    /// the vocabulary-wide logits); `peak` adds what the backward pass holds at once beyond it
    /// (with checkpointing, one block's recomputed tape).
    public func activationBytes(sequences: Int, length: Int) -> (kept: Int, peak: Int) {
        let t = sequences * length, heads = config.heads, hd = config.headDimension
        let qWidth = heads * hd, kvWidth = config.kvHeads * hd
        var blockFloats: [Int] = [], inputs = 0, width = weights.embedding.cols
        for (b, w) in weights.blocks.enumerated() {
            let mid = w.output.outputs, n = w.width
            var f = t * (2 * width + 2 * qWidth + 2 * kvWidth + 2 * mid + 2 * n) + sequences * heads * length * length
            for p in 0..<7 { if let a = adapters[b][p] { f += t * a.rank } }
            blockFloats.append(f)
            inputs += t * width
            width = w.down.outputs
        }
        let final = t * (2 * width + weights.head.outputs)
        if checkpointing { return ((inputs + final) * 4, (inputs + final + (blockFloats.max() ?? 0)) * 4) }
        let kept = (blockFloats.reduce(0, +) + final) * 4
        return (kept, kept)
    }

    /// The loss of `batch` (sequences × (seq + 1) ids: inputs [0..<seq], targets [1...seq]; the
    /// mean over all predicted positions) and the gradient of every trainable parameter. `head`
    /// picks the loss: next-token cross-entropy, or distillation from a teacher's logits.
    public func lossAndGradients(_ batch: [[Int32]], head: LlamaLossHead = .crossEntropy) throws -> LlamaGradients {
        let shape = try checkBatch(batch)
        let t = shape.rows, positions = shape.positions
        let inputs = batch.flatMap { $0.dropLast() }, targets = batch.flatMap { $0.dropFirst() }
        var grads = LlamaGradients(model: self)

        // Forward, keeping each block's tape (or only its input, with checkpointing).
        var x = Embedding.forward(inputs, table: weights.embedding)
        var tapes = [BlockTape?](repeating: nil, count: weights.blocks.count)
        var kept = [[Float]](repeating: [], count: weights.blocks.count)
        var keptFloats = 0
        for b in weights.blocks.indices {
            let (out, tape) = blockForward(b, x, batch: shape, positions: positions)
            if checkpointing { keptFloats += x.count; kept[b] = x } else { keptFloats += tape.floats; tapes[b] = tape }
            x = out
        }
        let hf = RMSNorm.forward(x, rows: t, weight: weights.outputNorm, epsilon: config.normEpsilon, meanOver: config.hiddenSize)
        var logits = weights.head.apply(hf, rows: t)
        keptFloats += x.count + hf.count + logits.count
        grads.keptActivationBytes = keptFloats * 4
        grads.loss = head.lossAndGradient(logits: &logits, rows: t, vocab: weights.head.outputs, targets: targets)

        // Output head (tied: its gradient adds into the embedding's), then the final norm.
        if lora == nil {
            if tiedHead { weights.head.accumulateWeightGradient(logits, input: hf, rows: t, into: &grads.embedding!) }
            else { weights.head.accumulateWeightGradient(logits, input: hf, rows: t, into: &grads.head!) }
        }
        var dhf = [Float](repeating: 0, count: hf.count)
        weights.head.backward(logits, rows: t, addingTo: &dhf)
        logits = []
        var dx = grads.withNormGradient(.outputNorm) { g in
            RMSNorm.backward(dhf, x: x, rows: t, weight: weights.outputNorm, epsilon: config.normEpsilon, meanOver: config.hiddenSize, weightGradient: g)
        }

        // Blocks, last to first.
        for b in weights.blocks.indices.reversed() {
            let tape = checkpointing ? blockForward(b, kept[b], batch: shape, positions: positions).tape : tapes[b]!
            tapes[b] = nil
            kept[b] = []
            dx = blockBackward(b, dx, tape: tape, batch: shape, positions: positions, grads: &grads)
        }
        if lora == nil { Embedding.backward(dx, ids: inputs, into: &grads.embedding!) }

        // Masked weights get no gradient.
        for b in weights.blocks.indices {
            for p in 0..<7 {
                if let mask = masks[b][p], grads.blocks[b].linears[p] != nil { Self.applyMask(mask, to: &grads.blocks[b].linears[p]!.data) }
            }
        }
        return grads
    }

    /// Block b's backward pass from the gradient of its output; returns the gradient of its input.
    func blockBackward(_ b: Int, _ dOut: [Float], tape: BlockTape, batch: Batch, positions: [Int], grads: inout LlamaGradients) -> [Float] {
        let w = weights.blocks[b], t = batch.rows
        let heads = config.heads, kvHeads = config.kvHeads, hd = config.headDimension
        // FFN
        let act = SwiGLU.forward(gate: tape.gate, up: tape.up)
        var dAct = [Float](repeating: 0, count: act.count)
        linearBackward(b, 6, dOut, input: act, hidden: tape.hidden[6], rows: t, inputGradient: &dAct, grads: &grads)
        var dx2 = w.ffnShortcut.map { Self.shortcutBackward(dOut, rows: t, $0) } ?? dOut
        let (dg, du) = SwiGLU.backward(dAct, gate: tape.gate, up: tape.up)
        var dh2 = [Float](repeating: 0, count: tape.h2.count)
        linearBackward(b, 4, dg, input: tape.h2, hidden: tape.hidden[4], rows: t, inputGradient: &dh2, grads: &grads)
        linearBackward(b, 5, du, input: tape.h2, hidden: tape.hidden[5], rows: t, inputGradient: &dh2, grads: &grads)
        let dNorm2 = grads.withNormGradient(.ffnNorm(block: b)) { g in
            RMSNorm.backward(dh2, x: tape.x2, rows: t, weight: w.ffnNorm, epsilon: config.normEpsilon, meanOver: config.hiddenSize, weightGradient: g)
        }
        for i in dx2.indices { dx2[i] += dNorm2[i] }
        // Attention
        var dAttended = [Float](repeating: 0, count: tape.attended.count)
        linearBackward(b, 3, dx2, input: tape.attended, hidden: tape.hidden[3], rows: t, inputGradient: &dAttended, grads: &grads)
        var dx = w.attentionShortcut.map { Self.shortcutBackward(dx2, rows: t, $0) } ?? dx2
        let shape = CausalAttention.Shape(sequences: batch.sequences, length: batch.length, heads: heads, kvHeads: kvHeads, headDim: hd)
        var (dq, dk, dv) = CausalAttention.backward(dAttended, q: tape.q, k: tape.k, v: tape.v, probabilities: tape.probabilities, shape: shape)
        Rotary.backward(&dq, rows: t, heads: heads, headDim: hd, ropeDims: config.ropeDimensions, base: config.ropeBase, positions: positions)
        Rotary.backward(&dk, rows: t, heads: kvHeads, headDim: hd, ropeDims: config.ropeDimensions, base: config.ropeBase, positions: positions)
        var dh1 = [Float](repeating: 0, count: tape.h1.count)
        linearBackward(b, 0, dq, input: tape.h1, hidden: tape.hidden[0], rows: t, inputGradient: &dh1, grads: &grads)
        linearBackward(b, 1, dk, input: tape.h1, hidden: tape.hidden[1], rows: t, inputGradient: &dh1, grads: &grads)
        linearBackward(b, 2, dv, input: tape.h1, hidden: tape.hidden[2], rows: t, inputGradient: &dh1, grads: &grads)
        let dNorm1 = grads.withNormGradient(.attentionNorm(block: b)) { g in
            RMSNorm.backward(dh1, x: tape.x, rows: t, weight: w.attentionNorm, epsilon: config.normEpsilon, meanOver: config.hiddenSize, weightGradient: g)
        }
        for i in dx.indices { dx[i] += dNorm1[i] }
        return dx
    }

    /// Projection p of block b backward from dy: its weight's gradient (when it trains), its
    /// adapter's, and dx += dy·W (+ the adapter's share).
    func linearBackward(_ b: Int, _ p: Int, _ dy: [Float], input x: [Float], hidden: [Float]?, rows t: Int,
                        inputGradient dx: inout [Float], grads: inout LlamaGradients) {
        let linear = weights.blocks[b][keyPath: Self.keyPath(Self.projections[p])]
        if grads.blocks[b].linears[p] != nil { linear.accumulateWeightGradient(dy, input: x, rows: t, into: &grads.blocks[b].linears[p]!) }
        linear.backward(dy, rows: t, addingTo: &dx)
        if let adapter = adapters[b][p], let hidden {
            var ga = grads.blocks[b].loraA[p]!, gb = grads.blocks[b].loraB[p]!   // small (rank × width): copied out and back
            adapter.backward(dy, input: x, hidden: hidden, rows: t, gradientA: &ga, gradientB: &gb, addingTo: &dx)
            grads.blocks[b].loraA[p] = ga
            grads.blocks[b].loraB[p] = gb
        }
    }

    // MARK: Optimiser step

    /// One optimiser step over every trainable parameter from `gradients` (slot i is parameter i
    /// of `parameters`), then the masks re-applied: masked weights stay exactly zero.
    public mutating func step<O: Optimizer>(_ gradients: LlamaGradients, optimizer: inout O) {
        optimizer.beginStep()
        if tiedHead { weights.head = Linear(Matrix(rows: 0, cols: 0)) }   // release the shared storage: update in place
        for (slot, parameter) in parameters.enumerated() {
            guard let g = gradients.value(parameter.kind) else { continue }
            switch parameter.kind {
            case .embedding: optimizer.update(&weights.embedding.data, gradient: g, slot: slot)
            case .head: optimizer.update(&weights.head.weight.data, gradient: g, slot: slot)
            case .outputNorm: optimizer.update(&weights.outputNorm, gradient: g, slot: slot)
            case let .attentionNorm(b): optimizer.update(&weights.blocks[b].attentionNorm, gradient: g, slot: slot)
            case let .ffnNorm(b): optimizer.update(&weights.blocks[b].ffnNorm, gradient: g, slot: slot)
            case let .linear(b, p):
                let kp = Self.keyPath(Self.projections[p])
                optimizer.update(&weights.blocks[b][keyPath: kp].weight.data, gradient: g, slot: slot)
                if let mask = masks[b][p] { Self.applyMask(mask, to: &weights.blocks[b][keyPath: kp].weight.data) }
            case let .loraA(b, p): optimizer.update(&adapters[b][p]!.a.data, gradient: g, slot: slot)
            case let .loraB(b, p): optimizer.update(&adapters[b][p]!.b.data, gradient: g, slot: slot)
            }
        }
        if tiedHead { weights.head = Linear(weights.embedding) }
    }
}

/// The loss of a batch and the gradient of every trainable parameter of a `LlamaTrainingModel`
/// (nil where a tensor does not train), addressable by the parameters' names.
public struct LlamaGradients: Sendable {
    /// One block's gradients.
    public struct Block: Sendable {
        /// Attention norm scale.
        public var attentionNorm: [Float]?
        /// FFN norm scale.
        public var ffnNorm: [Float]?
        /// The projections' weights, in `LlamaTrainingModel.projections` order.
        public var linears: [Matrix?]
        /// The adapters' A matrices.
        public var loraA: [Matrix?]
        /// The adapters' B matrices.
        public var loraB: [Matrix?]
    }

    /// The mean next-token loss of the batch.
    public var loss: Double = 0
    /// Bytes of activations the forward pass kept for the backward pass (as counted while it ran).
    public var keptActivationBytes = 0
    /// The token embedding's gradient (with a tied head's added in).
    public var embedding: Matrix?
    /// An untied head's gradient.
    public var head: Matrix?
    /// The final norm's gradient.
    public var outputNorm: [Float]?
    /// The blocks' gradients.
    public var blocks: [Block]
    /// The trainable parameters, in the model's order.
    public let parameters: [LlamaTrainingModel.Parameter]

    /// Zero gradients for every trainable parameter of `model`.
    init(model: LlamaTrainingModel) {
        parameters = model.parameters
        let full = model.lora == nil
        let w = model.weights
        if full {
            embedding = Matrix(rows: w.embedding.rows, cols: w.embedding.cols)
            if !model.tiedHead { head = Matrix(rows: w.head.outputs, cols: w.head.inputs) }
            outputNorm = [Float](repeating: 0, count: w.outputNorm.count)
        }
        blocks = w.blocks.indices.map { b in
            let block = w.blocks[b]
            let linears: [Matrix?] = LlamaTrainingModel.projections.map { role in
                guard full else { return nil }
                let l = block[keyPath: LlamaTrainingModel.keyPath(role)]
                return Matrix(rows: l.outputs, cols: l.inputs)
            }
            let adapters = model.adapters[b]
            return Block(attentionNorm: full ? [Float](repeating: 0, count: block.attentionNorm.count) : nil,
                         ffnNorm: full ? [Float](repeating: 0, count: block.ffnNorm.count) : nil,
                         linears: linears,
                         loraA: adapters.map { $0.map { Matrix(rows: $0.a.rows, cols: $0.a.cols) } },
                         loraB: adapters.map { $0.map { Matrix(rows: $0.b.rows, cols: $0.b.cols) } })
        }
    }

    /// The names of the parameters with gradients, in the model's order.
    public var names: [String] { parameters.map(\.name) }

    /// The gradient of the parameter called `name`, nil when it does not train.
    public subscript(name: String) -> [Float]? {
        guard let p = parameters.first(where: { $0.name == name }) else { return nil }
        return value(p.kind)
    }

    /// The gradient of parameter `kind`.
    func value(_ kind: LlamaTrainingModel.ParameterKind) -> [Float]? {
        switch kind {
        case .embedding: return embedding?.data
        case .head: return head?.data
        case .outputNorm: return outputNorm
        case let .attentionNorm(b): return blocks[b].attentionNorm
        case let .ffnNorm(b): return blocks[b].ffnNorm
        case let .linear(b, p): return blocks[b].linears[p]?.data
        case let .loraA(b, p): return blocks[b].loraA[p]?.data
        case let .loraB(b, p): return blocks[b].loraB[p]?.data
        }
    }

    /// Runs `body` with a pointer to the gradient of norm `kind` (nil when it does not train).
    mutating func withNormGradient<R>(_ kind: LlamaTrainingModel.ParameterKind, _ body: (UnsafeMutablePointer<Float>?) -> R) -> R {
        switch kind {
        case .outputNorm where outputNorm != nil: return outputNorm!.withUnsafeMutableBufferPointer { body($0.baseAddress) }
        case let .attentionNorm(b) where blocks[b].attentionNorm != nil: return blocks[b].attentionNorm!.withUnsafeMutableBufferPointer { body($0.baseAddress) }
        case let .ffnNorm(b) where blocks[b].ffnNorm != nil: return blocks[b].ffnNorm!.withUnsafeMutableBufferPointer { body($0.baseAddress) }
        default: return body(nil)
        }
    }
}
