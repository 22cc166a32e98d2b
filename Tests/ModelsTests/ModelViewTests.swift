import Foundation
import Testing
import Numerics
import Models

/// The architecture-neutral model view on both real models: loading by short name, path and
/// folder; configs; parameter counts against the `gguf` and `safetensors` packages' element
/// counts (committed fixtures); roles and shapes; lazy tensors; the summary; and the errors a
/// user meets (unknown name, model not fetched, a file whose config does not fit its tensors).
struct ModelViewTests {
    @Test(.enabled(if: GGUFFixtures.hasSmolLM, "run scripts/fetch-models"))
    func smolLMByPath() throws {
        let m = try ModelLoader.load(GGUFFixtures.smolLMPath)
        #expect(m.format == .gguf)
        let c = m.config
        #expect(c.architecture == .llama && c.blockCount == 30 && c.hiddenSize == 576)
        #expect(c.intermediateSizes == Array(repeating: 1536, count: 30))
        #expect(c.heads == 9 && c.kvHeads == 3 && c.vocabSize == 49152 && c.headDimension == 64)
        #expect(c.ropeBase == 100_000 && c.ropeDimensions == 64 && c.tiedOutputHead)
        #expect(abs(c.normEpsilon - 1e-5) < 1e-12)
        let fixture: GGUFFixtures.RealModel = try GGUFFixtures.load("smollm2-135m.json")
        #expect(m.parameterCount == fixture.parameter_count)
        #expect(m.bufferElementCount == 0)
        #expect(m.tensors.count == 272 && m.otherTensors.isEmpty)

        let up = try #require(m.tensor(.ffnUp, block: 12))
        #expect(up.name == "blk.12.ffn_up.weight" && up.shape == [1536, 576] && up.typeName == "Q4_1")
        let down = try m.matrix(.ffnDown, block: 12)
        #expect(down.rows == 576 && down.cols == 1536)
        // The tied head is the token embedding.
        #expect(!m.has(.outputHead))
        let head = try m.matrix(.outputHead)
        #expect(head.rows == 49152 && head.cols == 576)
        #expect(head == (try m.matrix(.tokenEmbedding)))
        #expect(throws: ModelError.self) { try m.matrix(.ffnUp, .bias, block: 0) }

        let s = ModelSummary(m)
        let upRow = try #require(s.rows.first { $0.role == .ffnUp })
        #expect(upRow.tensors == 30 && upRow.parameters == 30 * 1536 * 576)
        #expect(upRow.shape == "[1536, 576]" && upRow.types == "Q4_1")
        #expect(s.rows.reduce(0) { $0 + $1.parameters } == m.parameterCount)
        #expect(s.heading.contains("134.52M parameters"))
    }

    @Test(.enabled(if: TestSupport.haveMiniLM, "run scripts/fetch-models"))
    func miniLMByFolderAndFile() throws {
        let folder = TestSupport.minilmWeights.deletingLastPathComponent().path
        let a = try ModelLoader.load(folder)
        let b = try ModelLoader.load(TestSupport.minilmWeights.path)
        for m in [a, b] {
            #expect(m.format == .safetensors)
            #expect(m.config.architecture == .bert && m.config.blockCount == 6 && m.config.hiddenSize == 384)
            #expect(m.config.intermediateSizes == Array(repeating: 1536, count: 6) && m.config.heads == 12)
        }
        // The safetensors package's element counts: every tensor, including the I64
        // `embeddings.position_ids` buffer, which is not a parameter.
        struct Fixture: Decodable { let total_elements: Int; let tensors: [T]
            struct T: Decodable { let name: String; let dtype: String; let elements: Int } }
        let data = try Data(contentsOf: TestSupport.fixtures.appendingPathComponent("minilm_safetensors.json"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: data)
        let floatElements = fixture.tensors.filter { $0.dtype.hasPrefix("float") }.reduce(0) { $0 + $1.elements }
        #expect(a.parameterCount == floatElements)
        #expect(a.parameterCount + a.bufferElementCount == fixture.total_elements)
        #expect(a.bufferElementCount == 512)
        let up = try #require(a.tensor(.ffnUp, block: 3))
        #expect(up.name == "encoder.layer.3.intermediate.dense.weight" && up.shape == [1536, 384])
        #expect(a.tensor(.ffnUp, .bias, block: 3)?.shape == [1536])
        #expect(a.tensor(.ffnDown, block: 3)?.name == "encoder.layer.3.output.dense.weight")
        #expect(a.otherTensors.map(\.name) == ["embeddings.position_ids"])
    }

    @Test(.enabled(if: GGUFFixtures.hasSmolLM && TestSupport.haveMiniLM, "run scripts/fetch-models"))
    func shortNamesResolveInTheModelsFolder() throws {
        let folder = TestSupport.models.path
        #expect(try ModelCatalog.resolve("smollm2-135m", in: folder).hasSuffix("SmolLM2-135M-Instruct.Q4_1.gguf"))
        #expect(try ModelCatalog.resolve("minilm-l6", in: folder).hasSuffix("minilm-l6"))
    }

    @Test func missingAndUnknownModelsSayWhatToDo() throws {
        let empty = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: empty) }
        do {
            _ = try ModelCatalog.resolve("smollm2-135m", in: empty.path)
            Issue.record("resolving a model that is not there must throw")
        } catch let e as ModelError {
            #expect("\(e)".contains("scripts/fetch-models"))
            #expect("\(e)".contains(empty.path))
        }
        do {
            _ = try ModelLoader.load("smolm2")
            Issue.record("an unknown name must throw")
        } catch let e as ModelError {
            #expect("\(e)".contains("smollm2-135m") && "\(e)".contains("minilm-l6"))
        }
        #expect(throws: ModelError.self) { try ModelLoader.load("/no/such/model.gguf") }
        // A file that is neither format.
        let junk = empty.appendingPathComponent("junk.bin")
        try Data("hello".utf8).write(to: junk)
        do {
            _ = try ModelLoader.load(junk.path)
            Issue.record("a junk file must throw")
        } catch let e as ModelError {
            #expect("\(e)".contains("not a GGUF file"))
        }
        // A safetensors file without config.json beside it.
        let lonely = empty.appendingPathComponent("w.safetensors")
        try SafetensorsWriter.write([.init(name: "x", shape: [2], floats: [1, 2])], to: lonely.path)
        do {
            _ = try ModelLoader.load(lonely.path)
            Issue.record("safetensors without config.json must throw")
        } catch let e as ModelError {
            #expect("\(e)".contains("config.json"))
        }
    }

    @Test func ropeRowOrdersAreInverse() {
        for (rows, heads) in [(576, 9), (192, 3), (8, 1)] {
            let toGGUF = RoPELayout.halves.rowOrder(to: .interleaved, rows: rows, heads: heads)
            let toHF = RoPELayout.interleaved.rowOrder(to: .halves, rows: rows, heads: heads)
            #expect(Set(toGGUF) == Set(0..<rows))
            #expect((0..<rows).allSatisfy { toGGUF[toHF[$0]] == $0 })
        }
        // One head of 4 rows: HF halves (a0 a1 | b0 b1) become GGUF pairs (a0 b0 a1 b1).
        #expect(RoPELayout.halves.rowOrder(to: .interleaved, rows: 4, heads: 1) == [0, 2, 1, 3])
    }
}
