import Foundation
import Testing
import Numerics
import Models

/// The GGUF reader on the synthetic fixture file: header, every metadata value type, tensor infos
/// and shapes, and bit-exact dequantisation of every supported type against `gguf.quants.dequantize`.
struct GGUFTests {
    let file: GGUFFile
    let fixture: GGUFFixtures.Synthetic

    init() throws {
        file = try GGUFFile(path: GGUFFixtures.syntheticPath)
        fixture = try GGUFFixtures.load("gguf_synthetic.json")
    }

    @Test func header() {
        #expect(Int(file.version) == fixture.version)
        #expect(file.alignment == 64)
        #expect(file.dataOffset == fixture.data_offset)
        #expect(file.dataOffset % 64 == 0)
        #expect(file.architecture == "llama")
        #expect(file.tensors.count == fixture.tensors.count)
        #expect(file.parameterCount == fixture.parameter_count)
    }

    @Test func metadataKeepsFileOrder() {
        #expect(file.keys == fixture.metadata_keys)
        #expect(file.metadata.map(\.offset) == file.metadata.map(\.offset).sorted())
    }

    @Test func scalarMetadataValues() throws {
        #expect(file["test.uint8"] == .uint8(200))
        #expect(file["test.int8"] == .int8(-100))
        #expect(file["test.uint16"] == .uint16(60000))
        #expect(file["test.int16"] == .int16(-30000))
        #expect(file["test.uint32"] == .uint32(4_000_000_000))
        #expect(file["test.int32"] == .int32(-2_000_000_000))
        #expect(file["test.float32"] == .float32(0.1))
        #expect(file["test.bool_true"] == .bool(true))
        #expect(file["test.bool_false"]?.bool == false)
        #expect(file["test.string"]?.string == "héllo, wörld ✓")
        #expect(file["test.empty_string"] == .string(""))
        #expect(file["test.uint64"] == .uint64(18_000_000_000_000_000_000))
        #expect(file["test.int64"] == .int64(-9_000_000_000_000_000_000))
        #expect(file["test.float64"] == .float64(2.718281828459045))
        #expect(file["general.alignment"] == .uint32(64))
        #expect(file["no.such.key"] == nil)
        // Accessors.
        #expect(file["test.uint32"]?.int == 4_000_000_000)
        #expect(file["test.uint64"]?.int == nil)          // does not fit in Int
        #expect(file["test.int8"]?.double == -100)
        #expect(file["test.float32"]?.double == Double(Float(0.1)))
        #expect(file["test.float64"]?.float == Float(2.718281828459045))
        #expect(file["test.string"]?.int == nil)
        #expect(file["test.uint8"]?.type == .uint8)
    }

    @Test func arrayMetadataValues() throws {
        #expect(file["test.array.uint8"] == .array(.uint8([0, 1, 255])))
        #expect(file["test.array.int8"] == .array(.int8([-128, 0, 127])))
        #expect(file["test.array.uint16"] == .array(.uint16([0, 65535])))
        #expect(file["test.array.int16"] == .array(.int16([-32768, 32767])))
        #expect(file["test.array.uint32"] == .array(.uint32([0, 4_294_967_295])))
        #expect(file["test.array.int32"]?.array?.ints == [-2_147_483_648, 2_147_483_647, 7])
        #expect(file["test.array.float32"] == .array(.float32([1.5, -0.25, 3.0e38])))
        #expect(file["test.array.bool"]?.array?.bools == [true, false, true])
        #expect(file["test.array.string"]?.array?.strings == ["a", "", "ünïcödé", "tab\there"])
        #expect(file["test.array.uint64"] == .array(.uint64([0, UInt64.max])))
        #expect(file["test.array.int64"] == .array(.int64([Int64.min, Int64.max])))
        #expect(file["test.array.float64"]?.array?.doubles == [0.1, -1e300])

        let nested = try #require(file["test.array.nested_int32"]?.array)
        #expect(nested.elementType == .array)
        #expect(nested.count == 3)
        #expect(nested.arrays?.map { $0.ints ?? [] } == [[1, 2, 3], [4], [5, 6]])
        #expect(nested[1] == .array(.int32([4])))
        #expect(file["test.array.nested_string"]?.array?.arrays?.map { $0.strings ?? [] } == [["x", "y"], ["z"]])
        let deep = try #require(file["test.array.nested3"]?.array?.arrays)
        #expect(deep.map { $0.arrays?.map { $0.ints ?? [] } ?? [] } == [[[1, 2], [3]], [[4]]])
        #expect(file["test.array.uint8"]?.array?.values == [.uint8(0), .uint8(1), .uint8(255)])
    }

    @Test func tensorInfos() throws {
        for (info, expected) in zip(file.tensors, fixture.tensors) {
            #expect(info.name == expected.name)
            #expect(info.type.name == expected.type)
            #expect(Int(info.type.rawValue) == expected.type_id)
            #expect(info.dimensions == expected.dims)
            #expect(info.elementCount == expected.count)
            #expect(info.byteCount == expected.bytes)
            #expect(info.fileOffset == expected.data_offset)
            #expect(info.fileOffset == file.dataOffset + info.offset)
            #expect(info.offset % file.alignment == 0)
            #expect(file.tensor(named: expected.name) == info)
        }
        #expect(file.tensor(named: "missing") == nil)
        #expect(throws: GGUFError.self) { try file.requireTensor(named: "missing") }
    }

    @Test func shapeViews() throws {
        let vector = try #require(file.tensor(named: "shape.vector"))
        #expect(vector.dimensions == [96])
        #expect(vector.shape == [96])
        #expect(vector.rows == 1 && vector.cols == 96)
        let cube = try #require(file.tensor(named: "shape.cube"))
        #expect(cube.dimensions == [64, 4, 3])
        #expect(cube.shape == [3, 4, 64])
        #expect(cube.rows == 12 && cube.cols == 64)
        let q = try #require(file.tensor(named: "q4_1.quantized"))
        #expect(q.dimensions == [256, 4])
        #expect(q.shape == [4, 256])
        let m = try file.matrix(q)
        #expect(m.rows == 4 && m.cols == 256)
        let flat = try file.dequantize(q)
        #expect(m.data == flat)
        #expect(m[1, 3] == flat[1 * 256 + 3])
        let v = try file.matrix(named: "shape.vector")
        #expect(v.rows == 1 && v.cols == 96)
    }

    @Test func dequantisationIsBitExactForEveryType() throws {
        let expected = try GGUFFixtures.expectedBits()
        var covered = Set<GGMLType>()
        for t in fixture.tensors {
            let info = try #require(file.tensor(named: t.name))
            let values = try file.dequantize(info)
            let start = try #require(t.expected_offset)
            let want = Array(expected[start..<(start + t.count)])
            let got = values.map(\.bitPattern)
            let mismatch = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }
            #expect(got.count == want.count, "\(t.name): \(got.count) values, expected \(want.count)")
            #expect(mismatch == nil, """
                \(t.name) (\(t.type)): first mismatch at \(mismatch?.offset ?? -1): \
                got \(Float(bitPattern: mismatch?.element.0 ?? 0)), \
                expected \(Float(bitPattern: mismatch?.element.1 ?? 0))
                """)
            #expect(TestSupport.checksum(values) == t.checksum, "\(t.name): checksum")
            covered.insert(info.type)
        }
        #expect(covered == Set(GGMLDequantizer.supportedTypes))
    }

    @Test func rawBytesAreTheStoredBytes() throws {
        let info = try #require(file.tensor(named: "q8_0.random"))
        let bytes = try file.rawBytes(of: info)
        #expect(bytes.count == info.byteCount)
        let whole = try Data(contentsOf: URL(fileURLWithPath: GGUFFixtures.syntheticPath))
        #expect(Array(bytes) == Array(whole[info.fileOffset..<(info.fileOffset + info.byteCount)]))
        bytes.withUnsafeBytes { #expect($0.count == info.byteCount) }
    }

    @Test func dequantizeIntoBufferAndLargeTensorsInParallel() throws {
        // A Q4_0 tensor large enough to take the parallel path: compare with a block-by-block run.
        let info = try #require(file.tensor(named: "q4_0.random"))
        let block = try Array(file.rawBytes(of: info))
        let copies = 600   // 600 × 1024 elements > the parallel threshold
        let big = Array((0..<copies).map { _ in block }.joined())
        let count = info.elementCount * copies
        let parallel = try big.withUnsafeBytes { try GGMLDequantizer.dequantize($0, type: .q4_0, count: count) }
        let single = try file.dequantize(info)
        #expect(parallel.count == count)
        for c in [0, 1, 299, 599] {
            #expect(Array(parallel[(c * info.elementCount)..<((c + 1) * info.elementCount)]).map(\.bitPattern)
                    == single.map(\.bitPattern))
        }
        var out = [Float](repeating: .nan, count: info.elementCount)
        try block.withUnsafeBytes { raw in
            try out.withUnsafeMutableBufferPointer { try GGMLDequantizer.dequantize(raw, type: .q4_0, count: info.elementCount, into: $0) }
        }
        #expect(out.map(\.bitPattern) == single.map(\.bitPattern))
    }

    @Test func unsupportedAndMismatchedDequantisationThrow() throws {
        let bytes = [UInt8](repeating: 0, count: 1024)
        try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws in
            let e1 = #expect(throws: GGUFError.self) { try GGMLDequantizer.dequantize(raw, type: .iq2_XXS, count: 256) }
            #expect(e1?.kind == .unsupportedType)
            #expect(e1?.description.contains("IQ2_XXS") == true)
            let e2 = #expect(throws: GGUFError.self) { try GGMLDequantizer.dequantize(raw, type: .q4_0, count: 33) }
            #expect(e2?.kind == .invalidShape)
            let e3 = #expect(throws: GGUFError.self) { try GGMLDequantizer.dequantize(raw, type: .f32, count: 257) }
            #expect(e3?.kind == .truncated)
            #expect(try GGMLDequantizer.dequantize(raw, type: .q8_0, count: 0).isEmpty)
        }
    }

    @Test func versionTwoReadsLikeVersionThree() throws {
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: GGUFFixtures.syntheticPath)))
        bytes.put(UInt32(2), at: 4)
        let path = try GGUFFixtures.write(bytes, tag: "v2")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let v2 = try GGUFFile(path: path)
        #expect(v2.version == 2)
        #expect(v2.tensors == file.tensors)
        #expect(v2.metadata == file.metadata)
        #expect(try v2.dequantize(named: "q6_k.random").map(\.bitPattern) == file.dequantize(named: "q6_k.random").map(\.bitPattern))
    }

    @Test func ggmlTypeTable() throws {
        #expect(GGMLType.q4_1.blockSize == 32 && GGMLType.q4_1.bytesPerBlock == 20)
        #expect(GGMLType.q6_K.blockSize == 256 && GGMLType.q6_K.bytesPerBlock == 210)
        #expect(GGMLType.q8_1.bytesPerBlock == 36, "sizeof(block_q8_1) in ggml-common.h")
        #expect(GGMLType.bf16.rawValue == 30 && GGMLType.bf16.name == "BF16")
        #expect(GGMLType(name: "q4_k") == .q4_K)
        #expect(GGMLType(rawValue: 4) == nil)
        let error = #expect(throws: GGUFError.self) { try GGMLType(id: 4, field: "x.type", offset: 12) }
        #expect(error?.kind == .unknownTensorType)
        #expect(error?.description.contains("4") == true)
        #expect(error?.description.contains("x.type") == true)
    }

    @Test func mappedFileErrorsNameThePath() throws {
        let missing = "/nonexistent/dir/model.gguf"
        let error = #expect(throws: MappedFileError.self) { try GGUFFile(path: missing) }
        #expect(error?.description.contains(missing) == true)
        let mapped = try MappedFile(path: GGUFFixtures.syntheticPath)
        #expect(try mapped.load(UInt32.self, at: 0) == 0x4655_4747)
        #expect(throws: MappedFileError.self) { try mapped.bytes(at: mapped.count - 2, count: 3) }
        #expect(throws: MappedFileError.self) { try mapped.bytes(at: Int.max, count: 2) }
        #expect(throws: MappedFileError.self) { try mapped.load(UInt64.self, at: -1) }
    }
}
