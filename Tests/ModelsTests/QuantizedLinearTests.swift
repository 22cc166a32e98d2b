import Foundation
import Testing
import CQuant
import Numerics
@testable import Models

/// The quantized arithmetic's products on stored blocks (`QuantizedMatrix`, `plq_qmatmul`), checked
/// per type against the dequantised weight in Float64; and the memory it saves.
struct QuantizedProductTests {
    /// Random values, seeded: a normal body with a few large entries, as trained weights have.
    static func values(_ n: Int, seed: UInt64, scale: Float) -> [Float] {
        var random = SeededRandom(seed: seed)
        return (0..<n).map { i in Float(random.normal()) * scale * (i % 97 == 0 ? 6 : 1) }
    }

    /// The seven types with integer kernels.
    static let types: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q6_K]

    /// For each type, y = x·Wᵀ on the blocks against Float64 products with the dequantised W:
    /// - against the activations as the kernel rounds them (8-bit blocks of 32, d·q): the
    ///   difference is Float rounding only, |Δ| ≤ 2e-5 · Σ|w||x| (for Q4_1 / Q5_1, whose minimum meets
    ///   the block sum stored in fp16 as llama.cpp's Q8_1 stores it, ≤ 1e-3 · Σ|w||x|);
    /// - against the unrounded Float32 activations (the float32 arithmetic's product): the 8-bit
    ///   activation rounding costs ≤ 1% of Σ|w||x| per output, and the relative error
    ///   ‖Δ‖ / ‖y‖ over all outputs ≤ 1.5%;
    /// - every SIMD kernel the CPU has (AVX2, AVX-512 VNNI; each run on its own) and the portable
    ///   one agree to 1e-5 · Σ|w||x|.
    /// 37 rows (nine groups of four and one row left for the tail), 512 columns (two 256-blocks),
    /// 1 and 3 activation rows (one and two per pass).
    @Test(arguments: types)
    func productOnBlocksMatchesDequantised(type: GGMLType) throws {
        let rows = 37, cols = 512
        let w = Self.values(rows * cols, seed: 11, scale: 0.02)
        let bytes = [UInt8](try GGMLQuantizer.encode(w, as: type))
        let matrix = QuantizedMatrix(type: type, rows: rows, cols: cols, bytes: bytes)
        #expect(matrix.hasIntegerKernel)
        let dequantized = matrix.dequantized()
        for t in [1, 3] {
            let x = Self.values(t * cols, seed: 5 + UInt64(t), scale: 0.8)
            var ours = [Float](repeating: 0, count: t * rows)
            x.withUnsafeBufferPointer { xp in ours.withUnsafeMutableBufferPointer { matrix.multiply(xp.baseAddress!, rows: t, into: $0.baseAddress!, accumulate: false) } }
            // The activations as the kernel sees them, and the portable kernel's result.
            let blocks = cols / 32, sum = plq_activation_sum(Int32(type.rawValue))
            var q = [plq_block_q8](repeating: plq_block_q8(), count: t * blocks)
            x.withUnsafeBufferPointer { xp in
                q.withUnsafeMutableBufferPointer { b in
                    for i in 0..<t { plq_quantize_row(xp.baseAddress! + i * cols, b.baseAddress! + i * blocks, Int64(cols), sum) }
                }
            }
            var rounded = x
            rounded.withUnsafeMutableBufferPointer { plq_fake_quantize($0.baseAddress!, Int64(t), Int64(cols), 0) }
            var portable = [Float](repeating: 0, count: t * rows)
            if [.q5_0, .q5_1, .q4_K, .q6_K].contains(type) {
                bytes.withUnsafeBufferPointer { wp in
                    q.withUnsafeBufferPointer { qp in
                        portable.withUnsafeMutableBufferPointer { op in
                            #expect(plq_qmatmul_portable(Int32(type.rawValue), wp.baseAddress!, Int64(matrix.rowBytes), 0, Int64(rows), Int64(cols),
                                                         qp.baseAddress!, Int64(t), op.baseAddress!, Int64(rows), 0) == 0)
                        }
                    }
                }
            }
            // Each SIMD kernel this CPU has (1 AVX2, 2 AVX-512 VNNI), run on its own.
            var kernels: [(Int32, [Float])] = []
            if [.q5_0, .q5_1, .q4_K, .q6_K].contains(type) {
                for kernel: Int32 in [1, 2] {
                    var out = [Float](repeating: 0, count: t * rows)
                    let status = bytes.withUnsafeBufferPointer { wp in
                        q.withUnsafeBufferPointer { qp in
                            out.withUnsafeMutableBufferPointer { op in
                                plq_qmatmul_with(kernel, Int32(type.rawValue), wp.baseAddress!, Int64(matrix.rowBytes), 0, Int64(rows), Int64(cols),
                                                 qp.baseAddress!, Int64(t), op.baseAddress!, Int64(rows), 0)
                            }
                        }
                    }
                    if status == 0 { kernels.append((kernel, out)) }
                }
            }
            let tight = type == .q4_1 || type == .q5_1 ? 1e-3 : 2e-5
            var worstRounded = 0.0, worstExact = 0.0, worstPortable = 0.0, errorSquares = 0.0, normSquares = 0.0
            for i in 0..<t {
                for r in 0..<rows {
                    var onRounded = 0.0, exact = 0.0, magnitude = 0.0
                    for c in 0..<cols {
                        let wv = Double(dequantized.data[r * cols + c])
                        onRounded += wv * Double(rounded[i * cols + c])
                        exact += wv * Double(x[i * cols + c])
                        magnitude += abs(wv * Double(x[i * cols + c]))
                    }
                    let y = Double(ours[i * rows + r])
                    worstRounded = max(worstRounded, abs(y - onRounded) / magnitude)
                    worstExact = max(worstExact, abs(y - exact) / magnitude)
                    if [.q5_0, .q5_1, .q4_K, .q6_K].contains(type) {
                        worstPortable = max(worstPortable, abs(y - Double(portable[i * rows + r])) / magnitude)
                        for (_, out) in kernels { worstPortable = max(worstPortable, abs(Double(out[i * rows + r]) - Double(portable[i * rows + r])) / magnitude) }
                    }
                    errorSquares += (y - exact) * (y - exact)
                    normSquares += exact * exact
                }
            }
            let relative = (errorSquares / normSquares).squareRoot()
            print("quantized product \(type.name) t=\(t): vs rounded activations \(worstRounded), vs Float32 activations \(worstExact) (relative ‖Δ‖/‖y‖ \(relative)), portable \(worstPortable) (SIMD kernels \(kernels.map(\.0)))")
            #expect(worstRounded <= tight, "\(type.name): \(worstRounded) of Σ|w||x| from the product on the rounded activations")
            #expect(worstExact <= 1e-2, "\(type.name): \(worstExact) of Σ|w||x| from the Float32 product")
            #expect(relative <= 0.015, "\(type.name): relative error \(relative) against the Float32 product")
            #expect(worstPortable <= 1e-5, "\(type.name): the portable kernel differs by \(worstPortable) of Σ|w||x|")
        }
    }

    /// Types without an integer kernel (here Q5_K and F16) multiply on row chunks dequantised for
    /// BLAS: the Float32 product of the dequantised weight to Float rounding, accumulating when asked.
    @Test(arguments: [GGMLType.q5_K, .f16])
    func chunkedFallbackIsTheDequantisedProduct(type: GGMLType) throws {
        let rows = 300, cols = 1024
        let w = Self.values(rows * cols, seed: 3, scale: 0.02)
        let matrix = QuantizedMatrix(type: type, rows: rows, cols: cols, bytes: [UInt8](try GGMLQuantizer.encode(w, as: type)))
        #expect(!matrix.hasIntegerKernel)
        let dense = matrix.dequantized(), t = 2
        let x = Self.values(t * cols, seed: 9, scale: 1)
        var ours = [Float](repeating: 1, count: t * rows)
        x.withUnsafeBufferPointer { xp in ours.withUnsafeMutableBufferPointer { matrix.multiply(xp.baseAddress!, rows: t, into: $0.baseAddress!, accumulate: true) } }
        var worst = 0.0
        for i in 0..<t {
            for r in 0..<rows {
                var dot = 1.0, magnitude = 1.0
                for c in 0..<cols { dot += Double(dense.data[r * cols + c]) * Double(x[i * cols + c]); magnitude += abs(Double(dense.data[r * cols + c]) * Double(x[i * cols + c])) }
                worst = max(worst, abs(Double(ours[i * rows + r]) - dot) / magnitude)
            }
        }
        #expect(worst <= 1e-5, "\(type.name): \(worst)")
    }
}

/// SmolLM2 in the quantized arithmetic: logits against llama.cpp's, memory, and no Float32 weight.
@Suite(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
struct QuantizedForwardTests {
    /// The linears of `weights`.
    static func linears(_ weights: LlamaWeights) -> [Linear] {
        weights.blocks.flatMap { b in [TensorRole.attentionQuery, .attentionKey, .attentionValue, .attentionOutput, .ffnGate, .ffnUp, .ffnDown].map { b[$0] } } + [weights.head]
    }

    /// The first window of WikiText-2 through SmolLM2 Q4_1 in the quantized arithmetic against
    /// llama.cpp's logits (../shared/golden): both quantise activations to 8 bits in the products on
    /// the same blocks (Q4_1 with Q8_1, the Q8_0 head with Q8_0, the same integer kernels), and
    /// differ in the Float32 attention, norms and SwiGLU here against llama.cpp's fp16 K/V and its
    /// own exponentials, which on this model move logits by up to about a unit (measured: rows 0–7
    /// max |Δ| 1.07, cosine 0.9889; top-1 499/512 on an AVX-512 VNNI machine, 495/512 on an
    /// AVX2-only one (its own kernels); none missed where llama.cpp's
    /// margin ≥ 0.3; the float32 arithmetic's bounds are 1.2 and 0.99, 498/512). Bounds: max |Δ| < 1.3,
    /// cosine > 0.985, top-1 equal wherever llama.cpp's margin is at least 0.3 and at ≥ 95% of the
    /// 512 positions (the near-ties are what moves between kernels).
    /// Also: no whole matrix is dequantised in the pass, and no linear holds Float32.
    @Test func logitsAgreeWithLlamaCpp() throws {
        let model = try ModelLoader.load(TestSupport.smolLMPath)
        let weights = try LlamaWeights(model, arithmetic: .quantized)
        let blocks = Self.linears(weights).compactMap(\.quantized) + [weights.embeddingBlocks].compactMap { $0 }
        let before = blocks.map(\.wholeDequantizations)
        #expect(weights.arithmetic == .quantized && weights.arithmeticNote == nil)
        #expect(Self.linears(weights).allSatisfy { $0.isQuantizedOnly }, "every linear holds only its blocks")
        #expect(weights.embeddingBlocks != nil)
        let forward = LlamaForward(weights: weights)
        let tokens = Array(try LlamaGolden.tokens.get()[0..<512])
        var cache = forward.makeCache(capacity: 512)
        let hidden = try forward.forward(tokens, cache: &cache)
        let all = forward.logits(hidden, rows: 0..<512)
        #expect(blocks.map(\.wholeDequantizations) == before, "the forward pass dequantised a whole matrix")
        let data = try Data(contentsOf: TestSupport.golden.appendingPathComponent("logits_first_window.f32"))
        let reference = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        var worstCos = 1.0, worstAbs: Float = 0
        for r in 0..<8 {
            let a = Array(all.data[r * 49152..<(r + 1) * 49152]), b = Array(reference[r * 49152..<(r + 1) * 49152])
            var dot = 0.0, na = 0.0, nb = 0.0
            for i in 0..<a.count { dot += Double(a[i] * b[i]); na += Double(a[i] * a[i]); nb += Double(b[i] * b[i]) }
            worstCos = min(worstCos, dot / (na * nb).squareRoot())
            worstAbs = max(worstAbs, zip(a, b).map { abs($0 - $1) }.max()!)
        }
        let topk = try LlamaGolden.json("topk_first_window.json")
        let positions = try #require(topk["positions"] as? [[String: Any]])
        var agree = 0, clearMisses = [Int]()
        for (p, entry) in positions.enumerated() {
            let ids = (entry["top_ids"] as! [NSNumber]).map(\.intValue), values = (entry["top_logits"] as! [NSNumber]).map(\.doubleValue)
            let row = Array(all.data[p * 49152..<(p + 1) * 49152])
            let ours = row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }!
            if ours == ids[0] { agree += 1 } else if values[0] - values[1] >= 0.3 { clearMisses.append(p) }
        }
        print("quantized arithmetic vs llama.cpp: rows 0–7 max |Δlogit| \(worstAbs), cosine \(worstCos); top-1 \(agree)/\(positions.count), clear misses \(clearMisses)")
        #expect(worstAbs < 1.3, "max |logit difference| \(worstAbs)")
        #expect(worstCos > 0.985, "logit cosine \(worstCos)")
        #expect(clearMisses.isEmpty, "top-1 differs where llama.cpp's margin is ≥ 0.3 at \(clearMisses)")
        #expect(agree * 100 >= 95 * positions.count, "top-1 agreement \(agree)/\(positions.count)")
    }

    /// Layers that share an input (q, k, v; gate, up) run in one parallel region on their blocks
    /// (`Linear.apply(_:_:rows:)`): the same bits as each layer's own product, for one row (a decode
    /// step) and for a few.
    @Test func fusedProductsAreEachLayersOwn() throws {
        let weights = try LlamaWeights(try ModelLoader.load(TestSupport.smolLMPath), arithmetic: .quantized)
        var rng = SeededRandom(seed: 3)
        let block = weights.blocks[7]
        for t in [1, 5] {
            let x = (0..<t * 576).map { _ in Float(rng.normal()) }
            for group in [[block.query, block.key, block.value], [block.gate, block.up]] {
                #expect(group.allSatisfy { $0.quantized?.hasIntegerKernel == true })
                let fused = Linear.apply(group, x, rows: t)
                #expect(fused == group.map { $0.apply(x, rows: t) }, "t = \(t), \(group.count) layers")
            }
        }
    }

    /// Memory: SmolLM2 Q4_1 (98 MB file) in the quantized arithmetic keeps about the file's size
    /// resident (≤ 1.05 × the file: the blocks plus the Float32 norms), the float32 arithmetic more
    /// than 4 ×; and reading a quantised-only linear's `weight` still gives the dequantised matrix.
    @Test func quantizedWeightsTakeTheFileSize() throws {
        let model = try ModelLoader.load(TestSupport.smolLMPath)
        let file = try FileManager.default.attributesOfItem(atPath: TestSupport.smolLMPath)[.size] as! Int
        let quantized = try LlamaWeights(model, arithmetic: .quantized)
        let float32 = try LlamaWeights(model, arithmetic: .float32)
        print("resident weights: quantized \(quantized.residentBytes) bytes, float32 \(float32.residentBytes), file \(file)")
        #expect(Double(quantized.residentBytes) <= 1.05 * Double(file))
        #expect(Double(quantized.residentBytes) >= 0.9 * Double(file))
        #expect(Double(float32.residentBytes) >= 4 * Double(file))
        let estimate = LlamaWeights.residentBytes(model)
        #expect(abs(estimate.quantized - quantized.residentBytes) <= file / 50, "the estimate \(estimate.quantized) is the held bytes")
        // The dequantised view of a quantised-only layer, and an edit making it Float32.
        var gate = quantized.blocks[3].gate
        #expect(gate.weight.data == float32.blocks[3].gate.weight.data)
        gate.weight.data[0] = 42
        #expect(!gate.isQuantizedOnly && gate.weight.data[0] == 42 && gate.quantized == nil)
    }

    /// The automatic choice: with less memory than the Float32 weights need, float32 runs on the
    /// quantised blocks and says so; llama.cpp's arithmetic and a budget below even the blocks
    /// are refused with the memory needed and available.
    @Test func tooLittleMemoryFallsBackOrRefuses() throws {
        let model = try ModelLoader.load(TestSupport.smolLMPath)
        let (float32, quantized) = LlamaWeights.residentBytes(model)
        try LlamaWeights.$availableBytesOverride.withValue((float32 + quantized) / 2) {
            let w = try LlamaWeights(model)
            #expect(w.arithmetic == .quantized)
            #expect(w.arithmeticNote?.contains("arithmetic=\"quantized\"") == true)
            #expect(Self.linears(w).allSatisfy { $0.isQuantizedOnly })
            #expect(throws: MemoryBudgetError.self) { try LlamaWeights(model, arithmetic: .llamaCpp) }
        }
        try LlamaWeights.$availableBytesOverride.withValue(quantized / 2) {
            do {
                _ = try LlamaWeights(model, arithmetic: .quantized)
                Issue.record("a budget below the blocks was accepted")
            } catch let e as MemoryBudgetError {
                #expect(e.needed == quantized && e.available == quantized / 2)
                #expect(e.description.contains("quantised blocks"))
            }
        }
        let w = try LlamaWeights.$availableBytesOverride.withValue(float32 * 2) { try LlamaWeights(model) }
        #expect(w.arithmetic == .float32 && w.arithmeticNote == nil)
    }

    /// SmolLM2 written as Q4_K_M (Q5_0, Q8_0, Q4_K and Q6_K matrices, Q8_0 embedding): the
    /// quantized arithmetic against the float32 arithmetic on the same file, 64 tokens. The 8-bit
    /// activation rounding is discontinuous, so on this model (whose residual stream has a few huge
    /// activations) a rounding tipped one way moves logits by up to about a unit, as fp16 K/V does
    /// between float32 and llama.cpp (measured: max |Δ| 1.26, same top-1 60/64; incremental decoding
    /// against the batch, whose Float32 attention is blocked differently: max |Δ| 0.89). Bounds:
    /// max |Δ| < 1.6, the same greedy token at ≥ 90% of positions, incremental within 1.2 of the
    /// batch. (The products themselves are checked per type in `QuantizedProductTests`.)
    @Test func kQuantFileAgreesWithFloat32() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("q4km.gguf").path
        _ = try ModelWriter.save(try ModelLoader.load(TestSupport.smolLMPath), to: path, weightType: .q4_k_m)
        let model = try ModelLoader.load(path)
        let types = Set(model.tensors.values.map(\.typeName))
        #expect(types.isSuperset(of: ["Q5_0", "Q8_0", "Q4_K", "Q6_K"]), "\(types)")
        let quantized = LlamaForward(weights: try LlamaWeights(model, arithmetic: .quantized))
        let float32 = LlamaForward(weights: try LlamaWeights(model, arithmetic: .float32))
        let tokens = Array(try LlamaGolden.tokens.get()[0..<64])
        var c1 = quantized.makeCache(capacity: 64), c2 = float32.makeCache(capacity: 64)
        let a = quantized.logits(try quantized.forward(tokens, cache: &c1), rows: 0..<64)
        let b = float32.logits(try float32.forward(tokens, cache: &c2), rows: 0..<64)
        let worst = zip(a.data, b.data).map { abs($0 - $1) }.max()!
        var same = 0
        for p in 0..<64 {
            let ra = a.data[p * 49152..<(p + 1) * 49152], rb = b.data[p * 49152..<(p + 1) * 49152]
            if ra.indices.max(by: { ra[$0] < ra[$1] }) == rb.indices.max(by: { rb[$0] < rb[$1] }) { same += 1 }
        }
        var step = quantized.makeCache(capacity: 64), stepWorst: Float = 0
        for (p, t) in tokens.prefix(16).enumerated() {
            let row = quantized.logits(try quantized.forward([t], cache: &step), rows: 0..<1).data
            stepWorst = max(stepWorst, zip(row, a.data[p * 49152..<(p + 1) * 49152]).map { abs($0 - $1) }.max()!)
        }
        print("Q4_K_M quantized vs float32: max |Δlogit| \(worst), same top-1 \(same)/64; incremental vs batch \(stepWorst)")
        #expect(worst < 1.6)
        #expect(same * 100 >= 90 * 64)
        #expect(stepWorst < 1.2)
    }
}
