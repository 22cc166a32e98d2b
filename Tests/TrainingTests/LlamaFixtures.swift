import Foundation
import Models
import Numerics
import TestHelpers
@testable import Training

/// What the llama-training tests share with Tests/fixtures/make_llama_grad_fixtures.py: its hash
/// of (seed, index) to exact float32 values, its tensor seeds, the tiny model built from them,
/// the kept FFN neurons of the pruned case, and the fixture files' shapes.
enum LlamaFixtures {
    /// n values in [−1, 1), each exactly a float32: the fixture script's `hashed`.
    static func hashed(_ seed: UInt64, _ n: Int) -> [Float] {
        (0..<n).map { i in
            var h = (UInt64(i) &* 2654435761 &+ seed &* 40503 &+ 12345) & 0xFFFF_FFFF
            h ^= h >> 15
            h = (h &* 2246822519) & 0xFFFF_FFFF
            h ^= h >> 13
            h = (h &* 3266489917) & 0xFFFF_FFFF
            h ^= h >> 16
            return Float(Double(h >> 8) / 8_388_608 - 1)
        }
    }

    static let roles = ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"]

    /// The script's `seed_of`: token_embd 1, output_norm 2, output 3, blk.b.<role> 100(b+1)+k; LoRA A +50, B +70.
    static func seed(of name: String) -> UInt64 {
        var stem = name, extra: UInt64 = 0
        if stem.hasSuffix(".lora_a") { stem.removeLast(7); extra = 50 }
        if stem.hasSuffix(".lora_b") { stem.removeLast(7); extra = 70 }
        stem.removeLast(".weight".count)
        switch stem {
        case "token_embd": return 1 + extra
        case "output_norm": return 2 + extra
        case "output": return 3 + extra
        default:
            let parts = stem.split(separator: ".")
            return 100 * (UInt64(parts[1])! + 1) + UInt64(roles.firstIndex(of: String(parts[2]))!) + extra
        }
    }

    /// A llama config of the given shape (SwiGLU, RoPE over the whole head).
    static func config(vocab: Int, d: Int, heads: Int, kvHeads: Int, ffn: [Int], epsilon: Double, ropeBase: Double, tied: Bool) -> ModelConfig {
        ModelConfig(architecture: .llama, hiddenSize: d, intermediateSizes: ffn, heads: heads, kvHeads: kvHeads, vocabSize: vocab,
                    contextLength: 512, normEpsilon: epsilon, ropeBase: ropeBase, tiedOutputHead: tied, activation: .swiglu)
    }

    /// Weights of `config` built by `value(name, rows, cols)` (cols 0 for a vector), via an
    /// in-memory `Model` so `LlamaWeights` reads them as it reads a file.
    static func weights(_ config: ModelConfig, value: (String, Int, Int) -> [Float]) throws -> LlamaWeights {
        let d = config.hiddenSize, hd = config.headDimension
        var shapes: [(String, Int, Int)] = [("token_embd.weight", config.vocabSize, d), ("output_norm.weight", d, 0)]
        if !config.tiedOutputHead { shapes.append(("output.weight", config.vocabSize, d)) }
        for (b, n) in config.intermediateSizes.enumerated() {
            shapes += [("blk.\(b).attn_norm.weight", d, 0), ("blk.\(b).attn_q.weight", config.heads * hd, d),
                       ("blk.\(b).attn_k.weight", config.kvHeads * hd, d), ("blk.\(b).attn_v.weight", config.kvHeads * hd, d),
                       ("blk.\(b).attn_output.weight", d, config.heads * hd), ("blk.\(b).ffn_norm.weight", d, 0),
                       ("blk.\(b).ffn_gate.weight", n, d), ("blk.\(b).ffn_up.weight", n, d), ("blk.\(b).ffn_down.weight", d, n)]
        }
        var tensors: [TensorPlace: WeightTensor] = [:]
        for (name, rows, cols) in shapes {
            let values = value(name, rows, cols)
            let m = try Matrix(rows: cols == 0 ? 1 : rows, cols: cols == 0 ? rows : cols, data: values)
            tensors[TensorNaming.gguf.place(of: name)!] = WeightTensor(name: name, matrix: m, isVector: cols == 0)
        }
        return try LlamaWeights(Model(name: "tiny", format: .memory, config: config, tensors: tensors))
    }

    /// The fixture's tiny model: norms 1 + u/4, everything else u/4, u = hashed(seed(of: name)).
    static func tinyWeights(_ config: ModelConfig) throws -> LlamaWeights {
        try weights(config) { name, rows, cols in
            let u = hashed(seed(of: name), rows * max(cols, 1))
            return cols == 0 ? u.map { 1 + 0.25 * $0 } : u.map { 0.25 * $0 }
        }
    }

    /// The FFN neurons block `block` keeps in the pruned case: the round(0.8·n) smallest
    /// hashed(9000 + block) values (ties to the lower index), ascending.
    static func keptNeurons(block: Int, n: Int) -> [Int] {
        let h = hashed(9000 + UInt64(block), n)
        let keep = Int((0.8 * Double(n)).rounded())
        return (0..<n).sorted { h[$0] != h[$1] ? h[$0] < h[$1] : $0 < $1 }.prefix(keep).sorted()
    }

    /// `weights` with every block's FFN narrowed to its kept neurons.
    static func rowPruned(_ weights: LlamaWeights) -> LlamaWeights {
        var w = weights
        for b in w.blocks.indices {
            let keep = keptNeurons(block: b, n: w.blocks[b].width)
            let d = w.blocks[b].gate.inputs
            func rows(_ m: Matrix) -> Matrix { Matrix(rows: keep.count, cols: d) { r, c in m[keep[r], c] } }
            let down = w.blocks[b].down.weight
            w.blocks[b].gate = Linear(rows(w.blocks[b].gate.weight))
            w.blocks[b].up = Linear(rows(w.blocks[b].up.weight))
            w.blocks[b].down = Linear(Matrix(rows: down.rows, cols: keep.count) { r, c in down[r, keep[c]] })
            w.config.intermediateSizes[b] = keep.count
        }
        return w
    }

    /// Little-endian float32 values from base64.
    static func floats(base64: String) -> [Float] {
        let data = Data(base64Encoded: base64)!
        return data.withUnsafeBytes { raw in (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
    }

    struct Config: Decodable {
        let vocab: Int, d: Int, heads: Int, kv_heads: Int, ffn: [Int], eps: Double, rope_base: Double, tied: Bool
        var model: ModelConfig { LlamaFixtures.config(vocab: vocab, d: d, heads: heads, kvHeads: kv_heads, ffn: ffn, epsilon: eps, ropeBase: rope_base, tied: tied) }
    }

    /// llama_tiny.json.
    struct Tiny: Decodable {
        struct Case: Decodable {
            let loss: Double
            let gradients: [String: String]
            let rank: Int?, alpha: Double?, targets: [String]?
        }
        let config: Config
        let ids: [[Int32]]
        let cases: [String: Case]
    }

    /// llama_smollm2.json.
    struct Smol: Decodable {
        struct Fingerprint: Decodable { let norm: Double, probe: Double, indices: [Int], values: [Double] }
        struct Case: Decodable {
            let loss: Double
            let fingerprints: [String: Fingerprint]
            let widths: [Int]?, rank: Int?, alpha: Double?, targets: [String]?, a_scale: Double?, b_scale: Double?
        }
        let config: Config
        let ids: [[Int32]]
        let cases: [String: Case]
    }

    static func load<T: Decodable>(_ file: String, as: T.Type) throws -> T {
        let url = TestSupport.root.appendingPathComponent("Tests/fixtures/training/\(file)")
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    /// The role of a GGUF projection stem ("attn_q" …).
    static func role(_ stem: String) -> TensorRole {
        TensorNaming.gguf.place(of: "blk.0.\(stem).weight")!.role
    }

    /// Installs adapters on `targets` of every block with A = hashed(seed(A))·aScale, B likewise.
    static func installAdapters(_ model: inout LlamaTrainingModel, targets: [String], aScale: Float, bScale: Float) {
        for b in model.weights.blocks.indices {
            for stem in targets {
                let p = LlamaTrainingModel.projections.firstIndex(of: role(stem))!
                let name = "blk.\(b).\(stem).weight"
                var adapter = model.adapters[b][p]!
                adapter.a.data = hashed(seed(of: name + ".lora_a"), adapter.a.count).map { $0 * aScale }
                adapter.b.data = hashed(seed(of: name + ".lora_b"), adapter.b.count).map { $0 * bScale }
                model.adapters[b][p] = adapter
            }
        }
    }
}
