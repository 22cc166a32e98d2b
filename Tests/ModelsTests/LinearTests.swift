import Foundation
import Testing
import Numerics
@testable import Models

/// `Linear`: y = x·Wᵀ with W out × in, in Float32 or on llama.cpp's stored blocks, and a changed
/// weight never multiplied through its stale stored form.
struct LinearTests {
    /// A seeded `rows × cols` matrix.
    static func random(rows: Int, cols: Int, seed: UInt64) throws -> Matrix {
        var random = SeededRandom(seed: seed)
        return try Matrix(rows: rows, cols: cols, data: (0..<rows * cols).map { _ in Float(random.normal()) })
    }

    /// x·Wᵀ in Float64, rows × W.rows.
    static func reference(_ x: Matrix, _ w: Matrix) -> [Double] {
        var y = [Double](repeating: 0, count: x.rows * w.rows)
        for i in 0..<x.rows {
            for o in 0..<w.rows {
                for j in 0..<w.cols { y[i * w.rows + o] += Double(x.data[i * x.cols + j]) * Double(w.data[o * w.cols + j]) }
            }
        }
        return y
    }

    @Test func float32ProductIsInputTimesWeightTransposed() throws {
        let w = try Self.random(rows: 5, cols: 7, seed: 1), x = try Self.random(rows: 3, cols: 7, seed: 2)
        let linear = Linear(w)
        #expect(linear.outputs == 5 && linear.inputs == 7 && linear.stored == nil)
        let y = linear.apply(x.data, rows: 3)
        let expected = Self.reference(x, w)
        #expect(y.count == 15)
        for (a, b) in zip(y, expected) { #expect(abs(Double(a) - b) <= 1e-5 * max(1, abs(b))) }
        // The accumulating form adds onto what is there.
        let base = try Self.random(rows: 3, cols: 5, seed: 3).data
        var sum = base
        linear.apply(x.data, rows: 3, addingTo: &sum)
        for i in sum.indices { #expect(abs(Double(sum[i]) - (Double(base[i]) + expected[i])) <= 1e-5 * max(1, abs(expected[i]))) }
    }

    /// Each of the seven roles reaches its own linear, for reading and for writing.
    @Test func blockSubscriptNamesEachProjection() throws {
        let roles: [TensorRole] = [.attentionQuery, .attentionKey, .attentionValue, .attentionOutput, .ffnGate, .ffnUp, .ffnDown]
        let linears = try roles.indices.map { Linear(try Self.random(rows: 2 + $0, cols: 3, seed: UInt64($0))) }
        var block = LlamaWeights.Block(attentionNorm: [1, 1, 1], query: linears[0], key: linears[1], value: linears[2], output: linears[3],
                                       ffnNorm: [1, 1, 1], gate: linears[4], up: linears[5], down: linears[6])
        for (i, role) in roles.enumerated() { #expect(block[role].weight == linears[i].weight, "\(role.rawValue)") }
        let replacement = try Self.random(rows: 4, cols: 3, seed: 99)
        block[.ffnUp].weight = replacement
        #expect(block.up.weight == replacement && block.width == 4)
        #expect(block.gate.weight == linears[4].weight && block.down.weight == linears[6].weight)
    }
}

/// The same on SmolLM2's stored Q4_1 / Q8_0 tensors.
@Suite(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
struct LinearStoredFormTests {
    /// A Q4_1 gate in llama.cpp's arithmetic multiplies on its stored blocks (its result is the
    /// integer kernel's, not the Float32 product's); assigning the weight, even to the same
    /// values, or editing it in place drops the stored form, and the product becomes Float32.
    @Test func changingTheWeightDropsTheStoredForm() throws {
        let model = try ModelLoader.load(TestSupport.smolLMPath)
        let tensor = try #require(model.tensor(.ffnGate, block: 3))
        let quantised = try Linear(tensor, arithmetic: .llamaCpp)
        let stored = try #require(quantised.stored)
        #expect(stored.hasIntegerKernel)
        #expect(try Linear(tensor, arithmetic: .float32).stored == nil)
        let t = 2
        let x = try LinearTests.random(rows: t, cols: quantised.inputs, seed: 5).data
        var kernel = [Float](repeating: 0, count: t * quantised.outputs)
        x.withUnsafeBufferPointer { xp in kernel.withUnsafeMutableBufferPointer { stored.multiply(xp.baseAddress!, rows: t, into: $0.baseAddress!, accumulate: false) } }
        let float32 = Linear(quantised.weight).apply(x, rows: t)
        #expect(quantised.apply(x, rows: t) == kernel)
        #expect(kernel != float32)

        var assigned = quantised
        assigned.weight = quantised.weight
        #expect(assigned.stored == nil)
        #expect(assigned.apply(x, rows: t) == float32)

        var edited = quantised
        edited.weight.data[0] = 0
        #expect(edited.stored == nil)
        #expect(edited.apply(x, rows: t) == Linear(edited.weight).apply(x, rows: t))
        #expect(quantised.stored != nil, "the original keeps its stored form")
    }

    /// In llama.cpp's arithmetic every projection and the tied head (the embedding's matrix and
    /// stored form) carry their stored blocks; in Float32 none does.
    @Test func weightsCarryStoredFormsOnlyInLlamaCppArithmetic() throws {
        let model = try ModelLoader.load(TestSupport.smolLMPath)
        let roles: [TensorRole] = [.attentionQuery, .attentionKey, .attentionValue, .attentionOutput, .ffnGate, .ffnUp, .ffnDown]
        let llamaCpp = try LlamaWeights(model, arithmetic: .llamaCpp)
        for block in [llamaCpp.blocks[0], llamaCpp.blocks[29]] {
            for role in roles { #expect(block[role].stored?.hasIntegerKernel == true, "\(role.rawValue)") }
        }
        #expect(llamaCpp.head.weight == llamaCpp.embedding)
        #expect(llamaCpp.head.stored?.type == .q8_0)
        let float32 = try LlamaWeights(model)
        #expect(float32.head.stored == nil && roles.allSatisfy { float32.blocks[7][$0].stored == nil })
    }
}
