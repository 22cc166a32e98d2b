import Foundation
import Testing
import Numerics
import Models

/// The GGUF writer and its quantisers: Q8_0, Q4_0 and F16 bytes equal the `gguf` package's
/// (committed fixtures from Tests/fixtures/make_quantize_fixtures.py); written files read back in
/// our reader and in the `gguf` package with every metadata type; bad requests are refused.
struct GGUFWriterTests {
    static func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: TestSupport.fixtures.appendingPathComponent(name))
    }

    static func input() throws -> [Float] {
        let data = try fixture("quantize_input.f32")
        return data.withUnsafeBytes { raw in
            (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    @Test(arguments: [(GGMLType.q8_0, "quantize_q8_0.bin"), (.q4_0, "quantize_q4_0.bin"), (.f16, "quantize_f16.bin")])
    func quantisersMatchTheGGUFPackage(type: GGMLType, file: String) throws {
        let x = try Self.input()
        let ours = try GGMLQuantizer.encode(x, as: type)
        let theirs = try Self.fixture(file)
        #expect(ours.count == theirs.count)
        let firstDiff = zip(ours, theirs).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(firstDiff == nil, "first differing byte at \(firstDiff ?? -1) (block \((firstDiff ?? 0) / type.bytesPerBlock))")
    }

    @Test func quantiserRefusesWhatItCannotWrite() {
        #expect(throws: GGUFError.self) { try GGMLQuantizer.encode([Float](repeating: 1, count: 33), as: .q8_0) }
        #expect(throws: GGUFError.self) { try GGMLQuantizer.encode([Float](repeating: 1, count: 256), as: .iq2_XXS) }
    }

    @Test func writtenFileReadsBackHereAndInTheGGUFPackage() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("w.gguf").path
        let x = try Self.input()
        let metadata: [(String, GGUFValue)] = [
            ("general.architecture", .string("llama")), ("u8", .uint8(7)), ("i8", .int8(-7)),
            ("u16", .uint16(65535)), ("i16", .int16(-300)), ("u32", .uint32(4_000_000_000)),
            ("i32", .int32(-5)), ("f32", .float32(0.25)), ("bool", .bool(true)), ("str", .string("héllo ✓")),
            ("u64", .uint64(1 << 40)), ("i64", .int64(-(1 << 40))), ("f64", .float64(-1.5)),
            ("arr", .array(.uint32([1, 2, 3]))), ("strs", .array(.string(["a", "", "ü"]))),
            ("nested", .array(.array([.int8([1, -1]), .int8([])]))),
        ]
        let tensors = [
            GGUFWriter.Tensor(name: "q8", shape: [4, 1024], type: .q8_0) { try GGMLQuantizer.encode(x, as: .q8_0) },
            GGUFWriter.Tensor(name: "q4", shape: [128, 32], type: .q4_0) { try GGMLQuantizer.encode(x, as: .q4_0) },
            GGUFWriter.Tensor(name: "f16", shape: [4096], type: .f16) { try GGMLQuantizer.encode(x, as: .f16) },
            GGUFWriter.Tensor(name: "f32", shape: [2, 3, 5], type: .f32) { try GGMLQuantizer.encode((0..<30).map(Float.init), as: .f32) },
        ]
        try GGUFWriter.write(metadata: metadata, tensors: tensors, alignment: 64, to: path)

        let file = try GGUFFile(path: path)
        #expect(file.version == 3 && file.alignment == 64)
        for (k, v) in metadata { #expect(file[k] == v, "\(k)") }
        #expect(file.tensor(named: "q8")?.shape == [4, 1024] && file.tensor(named: "q8")?.type == .q8_0)
        #expect(file.tensors.allSatisfy { $0.offset % 64 == 0 })
        #expect(try file.dequantize(named: "f32") == (0..<30).map(Float.init))
        #expect(try file.rawBytes(of: file.requireTensor(named: "q4")).withUnsafeBytes { Data($0) } == Self.fixture("quantize_q4_0.bin"))

        let report = try TestSupport.python("""
            import sys, numpy as np, gguf
            r = gguf.GGUFReader(sys.argv[1])
            f = r.get_field("str"); print(bytes(f.parts[f.data[0]]).decode())
            print(r.get_field("u64").parts[-1][0], r.get_field("general.alignment").parts[-1][0])
            t = {x.name: x for x in r.tensors}
            print(t["q8"].tensor_type.name, list(map(int, t["q8"].shape)))
            x = np.fromfile(sys.argv[2], dtype="<f4")
            d = gguf.quants.dequantize(t["q8"].data, t["q8"].tensor_type).reshape(-1)
            m = np.abs(x).reshape(-1, 32).max(1).repeat(32); big = m > 1e-2   # smaller scales are fp16 subnormals
            print(float(np.max(np.abs(d - x)[big] / m[big])))
            """, [path, TestSupport.fixtures.appendingPathComponent("quantize_input.f32").path])
        let lines = report.split(separator: "\n").map(String.init)
        #expect(lines[0] == "héllo ✓")
        #expect(lines[1] == "1099511627776 64")
        #expect(lines[2] == "Q8_0 [1024, 4]")
        #expect((Double(lines[3]) ?? 1) < 0.0045, "Q8_0 error relative to the block's max: \(lines[3])")   // ½/127 + fp16 scale rounding
    }

    @Test func writerRefusesBadRequestsAndLeavesNoFile() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bad.gguf").path
        let one = GGUFWriter.Tensor(name: "a", shape: [32], type: .f32) { Data(count: 128) }
        #expect(throws: GGUFError.self) { try GGUFWriter.write(metadata: [("k", .bool(true)), ("k", .bool(false))], tensors: [], to: path) }
        #expect(throws: GGUFError.self) { try GGUFWriter.write(metadata: [], tensors: [one, one], to: path) }
        #expect(throws: GGUFError.self) {
            try GGUFWriter.write(metadata: [], tensors: [.init(name: "q", shape: [2, 33], type: .q8_0) { Data() }], to: path)
        }
        #expect(throws: GGUFError.self) {   // bytes that do not match the shape, found while streaming
            try GGUFWriter.write(metadata: [], tensors: [.init(name: "s", shape: [8], type: .f32) { Data(count: 4) }], to: path)
        }
        #expect(throws: GGUFError.self) { try GGUFWriter.write(metadata: [], tensors: [], alignment: 48, to: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty, "no temporary file left behind")
    }
}
