import Foundation
import Testing
import Models
import Numerics
@testable import PruneLang

/// The compression builtins on a tiny llama built in memory: the model form of `quantize` equals
/// the library's quantiser tensor by tensor, `compressed_size` adds up the library's per-tensor
/// stages and counts removed rows against a `base`, and Huffman round-trips 1e5 values.
struct CompressionBuiltinTests {
    static func tinyModel() -> Model {
        let config = ModelConfig(architecture: .llama, hiddenSize: 8, intermediateSizes: [16, 16], heads: 2, kvHeads: 2,
                                 vocabSize: 12, contextLength: 32, normEpsilon: 1e-5, tiedOutputHead: true, activation: .swiglu)
        var model = Model(name: "tiny", format: .memory, config: config, tensors: [:])
        var rng = SeededRandom(seed: 4)
        model.set(.tokenEmbedding, to: rng.normalMatrix(rows: 12, cols: 8))
        model.set(.outputNorm, to: Matrix(rows: 1, cols: 8) { _, c in 1 + Float(c) / 7 })
        for b in 0..<2 {
            model.set(.ffnUp, block: b, to: rng.normalMatrix(rows: 16, cols: 8))
            model.set(.ffnGate, block: b, to: rng.normalMatrix(rows: 16, cols: 8).map { abs($0) < 0.7 ? 0 : $0 })
            model.set(.ffnDown, block: b, to: rng.normalMatrix(rows: 8, cols: 16))
        }
        return model
    }

    func session(_ model: Model) -> Session {
        let s = Session()
        s.interp.globals.set("m", .object(ModelObject(model)))
        return s
    }

    func number(_ s: Session, _ code: String) throws -> Double {
        let r = s.run(code)
        #expect(r.diagnostics.isEmpty, "\(r.renderedDiagnostics)")
        guard case .number(let x)? = r.value else { Issue.record("not a number: \(code)"); return .nan }
        return x
    }

    @Test func quantizeModelMatchesTheLibraryTensorByTensor() throws {
        let model = Self.tinyModel()
        let s = session(model)
        let r = s.run("q = quantize(m, bits=3, block=4, symmetric=false)\nq")
        #expect(r.diagnostics.isEmpty, "\(r.renderedDiagnostics)")
        guard case .object(let o)? = r.value, let q = o as? ModelObject else { Issue.record("not a model"); return }
        #expect(q.model.name == "tiny-rtn3")
        for b in 0..<2 {
            for role in [TensorRole.ffnUp, .ffnGate, .ffnDown] {
                let w = try model.matrix(role, block: b)
                let expected = try quantizeRTN(w, bits: 3, symmetric: false, groups: .block(4)).dequantized
                #expect(try q.model.matrix(role, block: b) == expected)
                #expect(try q.model.matrix(role, block: b) != w)
            }
        }
        #expect(try q.model.matrix(.tokenEmbedding) == quantizeRTN(try model.matrix(.tokenEmbedding), bits: 3, symmetric: false, groups: .block(4)).dequantized)
        // Norms are not weight matrices: untouched.
        #expect(try q.model.matrix(.outputNorm) == model.matrix(.outputNorm))
        // The pruned gate's zeros stay zero.
        let gate = try model.matrix(.ffnGate, block: 1), qg = try q.model.matrix(.ffnGate, block: 1)
        #expect(gate.data.indices.allSatisfy { gate.data[$0] != 0 || qg.data[$0] == 0 })
    }

    @Test func compressedSizeAddsUpTheLibrarysStages() throws {
        let model = Self.tinyModel()
        let s = session(model)
        var coded = 0, quantized = 0, dense = 0
        var all: [Matrix] = [try model.matrix(.tokenEmbedding)]
        for b in 0..<2 { for role in [TensorRole.ffnGate, .ffnUp, .ffnDown] { all.append(try model.matrix(role, block: b)) } }
        for w in all {
            let st = try CompressionStages(w, bits: 4, groups: .row)
            coded += st.codedBytes; quantized += st.quantizedBytes; dense += st.denseBytes
        }
        #expect(try number(s, "c = compressed_size(m, bits=4, per=\"row\")\nc.coded_bytes") == Double(coded))
        #expect(try number(s, "c.quantized_bytes") == Double(quantized))
        #expect(try number(s, "c.dense_bytes") == Double(dense))
        #expect(try number(s, "c.table.rows") == 7)
        #expect(try number(s, "compressed_size(m, bits=4, blocks=[1]).table.rows") == 3)
        // Structured pruning: half the FFN rows of each block gone; with base= the dense stage
        // counts the original size.
        var small = model
        for b in 0..<2 {
            small.set(.ffnGate, block: b, to: try model.matrix(.ffnGate, block: b).rows(Array(0..<8)))
            small.set(.ffnUp, block: b, to: try model.matrix(.ffnUp, block: b).rows(Array(0..<8)))
            small.set(.ffnDown, block: b, to: try model.matrix(.ffnDown, block: b).columns(Array(0..<8)))
        }
        s.interp.globals.set("small", .object(ModelObject(small)))
        #expect(try number(s, "compressed_size(small, bits=4, base=m).dense_bytes") == Double(dense))
        #expect(try number(s, "compressed_size(small, bits=4).dense_bytes") == Double(dense - 2 * 3 * 64 * 4))
        #expect(try number(s, "size(m).params") == Double(model.parameterCount))
    }

    @Test func huffmanRoundTripsInTheLanguage() throws {
        let s = Session()
        let r = s.run("x = round(randn(1, 100000, seed=2) * 3)\nh = huffman(x)\nb = h.encode(x)\n[h.decode(b) == x[0], h.entropy <= h.bits_per_symbol, h.bits_per_symbol < h.entropy + 1, b.count < 100000 * h.bits_per_symbol / 8 + 8]")
        #expect(r.diagnostics.isEmpty, "\(r.renderedDiagnostics)")
        #expect(r.display?.text == "=> [true, true, true, true]" || r.display?.text == "[true, true, true, true]", "\(r.display?.text ?? "")")
    }
}
