import Foundation
import Testing
@testable import Models
import Numerics

/// The safetensors reader and writer against the `safetensors` package, and on malformed files.
struct SafetensorsTests {
    struct Reference: Decodable {
        struct Tensor: Decodable { let name: String; let dtype: String; let shape: [Int]; let elements: Int; let checksum: String? }
        let tensors: [Tensor]; let total_elements: Int
    }

    @Test(.enabled(if: TestSupport.haveMiniLM, "run scripts/fetch-models"))
    func readsMiniLMLikeTheSafetensorsPackage() throws {
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: TestSupport.fixtures.appendingPathComponent("minilm_safetensors.json")))
        let file = try SafetensorsFile(path: TestSupport.minilmWeights.path)
        #expect(file.tensors.count == ref.tensors.count)
        #expect(file.tensors.reduce(0) { $0 + $1.elementCount } == ref.total_elements)
        #expect(file.metadata["format"] == "pt")
        for r in ref.tensors {
            let t = try #require(file.tensor(named: r.name), "\(r.name) missing")
            #expect(t.shape == r.shape, "\(r.name)")
            if let sum = r.checksum {
                #expect(TestSupport.checksum(try file.floats(of: t)) == UInt64(sum)!, "\(r.name) values")
            } else {
                #expect(r.dtype == "int64" && t.dtype == .i64, "\(r.name)")
            }
        }
        let up = try file.matrix(of: #require(file.tensor(named: "encoder.layer.0.intermediate.dense.weight")))
        #expect(up.rows == 1536 && up.cols == 384)
        #expect(throws: SafetensorsError.self) { try file.floats(of: file.tensor(named: "embeddings.position_ids")!) }
    }

    @Test(.enabled(if: TestSupport.haveMiniLM, "run scripts/fetch-models"))
    func miniLMWrittenBackLoadsInTheSafetensorsPackageWithIdenticalTensors() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = try SafetensorsFile(path: TestSupport.minilmWeights.path)
        let entries = try file.tensors.map { t in
            SafetensorsWriter.Entry(name: t.name, dtype: t.dtype, shape: t.shape, bytes: try file.rawBytes(of: t).withUnsafeBytes { Data($0) })
        }
        let out = dir.appendingPathComponent("minilm.safetensors").path
        try SafetensorsWriter.write(entries, metadata: ["format": "pt"], to: out)
        let verdict = try TestSupport.python("""
            import sys, numpy as np
            from safetensors.numpy import load_file
            a, b = load_file(sys.argv[1]), load_file(sys.argv[2])
            assert a.keys() == b.keys(), "names differ"
            bad = [k for k in a if a[k].dtype != b[k].dtype or a[k].shape != b[k].shape or not np.array_equal(a[k], b[k])]
            print("identical" if not bad else "differ: " + ",".join(bad))
            """, [TestSupport.minilmWeights.path, out])
        #expect(verdict.trimmingCharacters(in: .whitespacesAndNewlines) == "identical")
        // And back through our own reader.
        let again = try SafetensorsFile(path: out)
        #expect(again.tensors.map(\.name).sorted() == file.tensors.map(\.name).sorted())
    }

    /// Writes a file from a header string and `data` bytes (header size computed).
    static func craft(_ header: String, data: [UInt8], headerSize: UInt64? = nil, in dir: URL) throws -> String {
        var bytes = [UInt8]()
        withUnsafeBytes(of: (headerSize ?? UInt64(header.utf8.count)).littleEndian) { bytes += $0 }
        bytes += Array(header.utf8) + data
        let path = dir.appendingPathComponent("crafted-\(UUID().uuidString).safetensors").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func malformedFilesNameTheField() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let eight = [UInt8](repeating: 0, count: 8)
        let cases: [(header: String, data: [UInt8], size: UInt64?, field: String)] = [
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, eight, 1 << 40, "header size"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#, eight, nil, "header"),
            (#"{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}"#, eight, nil, "a.dtype"),
            (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, eight, nil, "a.data_offsets"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#, eight, nil, "a.data_offsets"),
            (#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, eight, nil, "a.shape[0]"),
            (#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, eight, nil, "a.shape"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, eight, nil, "b.data_offsets"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, eight, nil, "a.data_offsets"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, eight, nil, "data section"),
            (#"{"a":{"dtype":"F32","shape":[2]}}"#, eight, nil, "a.data_offsets"),
            (#"{"__metadata__":{"k":3},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, eight, nil, "__metadata__.k"),
        ]
        for c in cases {
            let path = try Self.craft(c.header, data: c.data, headerSize: c.size, in: dir)
            #expect { try SafetensorsFile(path: path) } throws: { error in
                guard let e = error as? SafetensorsError else { return false }
                return e.field == c.field && e.description.contains(path)
            }
        }
        // Not UTF-8, and too short for a header size.
        let badUTF8 = dir.appendingPathComponent("bad-utf8.safetensors").path
        try Data([2, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFE]).write(to: URL(fileURLWithPath: badUTF8))
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(path: badUTF8) }
        let tiny = dir.appendingPathComponent("tiny.safetensors").path
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: tiny))
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(path: tiny) }
        #expect(throws: MappedFileError.self) { try SafetensorsFile(path: dir.appendingPathComponent("absent").path) }
    }

    @Test func writerRoundTripsAndRefusesInconsistentEntries() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("w.safetensors").path
        try SafetensorsWriter.write([
            .init(name: "w", shape: [2, 3], floats: [1, 2, 3, 4, 5, -6]),
            .init(name: "h", dtype: .f16, shape: [1], bytes: Data([0x00, 0x3C])),   // 1.0 in fp16
        ], metadata: ["note": "x"], to: path)
        let f = try SafetensorsFile(path: path)
        #expect(try f.matrix(of: f.tensor(named: "w")!).data == [1, 2, 3, 4, 5, -6])
        #expect(try f.floats(of: f.tensor(named: "h")!) == [1])
        #expect(f.metadata == ["note": "x"])
        let headerSize = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(8).enumerated()
            .reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerSize % 8 == 0, "the header is padded to a multiple of 8 bytes")
        #expect(throws: SafetensorsError.self) {
            try SafetensorsWriter.write([.init(name: "w", dtype: .f32, shape: [2], bytes: Data([1]))], to: path)
        }
        #expect(throws: SafetensorsError.self) {
            try SafetensorsWriter.write([.init(name: "w", shape: [1], floats: [1]), .init(name: "w", shape: [1], floats: [2])], to: path)
        }
        // The failed writes left the good file in place.
        #expect(try SafetensorsFile(path: path).tensors.count == 2)
    }

    @Test func fuzzedHeadersNeverCrash() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let seedPath = dir.appendingPathComponent("seed.safetensors").path
        try SafetensorsWriter.write([
            .init(name: "a", shape: [4, 4], floats: (0..<16).map(Float.init)),
            .init(name: "b", shape: [3], floats: [1, 2, 3]),
        ], metadata: ["format": "pt"], to: seedPath)
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: seedPath)))
        var rng = SeededRandom(seed: 1234)
        var opened = 0, rejected = 0
        for i in 0..<400 {
            var bytes = original
            for _ in 0..<(1 + rng.next() % 4) {
                let at = Int(rng.next() % UInt64(bytes.count))
                bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            if i % 5 == 0 { bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count)))) }
            let path = dir.appendingPathComponent("fuzz.safetensors").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                let f = try SafetensorsFile(path: path)
                for t in f.tensors where t.dtype.isFloatingWeight { _ = try f.floats(of: t) }
                opened += 1
            } catch is SafetensorsError { rejected += 1 } catch is MappedFileError { rejected += 1 }
        }
        #expect(opened + rejected == 400)
        #expect(rejected > 100, "mutations should mostly be caught")
    }
}
