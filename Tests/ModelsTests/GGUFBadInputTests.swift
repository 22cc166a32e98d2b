import Foundation
import Testing
import Models

/// Malformed GGUF files: each is an error that names the problem, the field and the byte offset.
struct GGUFBadInputTests {
    let original: [UInt8]
    let file: GGUFFile

    init() throws {
        original = try Array(Data(contentsOf: URL(fileURLWithPath: GGUFFixtures.syntheticPath)))
        file = try GGUFFile(path: GGUFFixtures.syntheticPath)
    }

    /// Where the fields of tensor `name`'s info record start.
    func tensorFields(_ name: String) throws -> (nDims: Int, dims: Int, type: Int, offset: Int) {
        let info = try #require(file.tensor(named: name))
        let nDims = info.infoOffset + 8 + name.utf8.count
        let dims = nDims + 4
        let type = dims + 8 * info.dimensions.count
        return (nDims, dims, type, type + 4)
    }

    /// Where the fields of metadata entry `key` start.
    func entryFields(_ key: String) throws -> (index: Int, key: Int, type: Int, value: Int) {
        let index = try #require(file.metadata.firstIndex { $0.key == key })
        let start = file.metadata[index].offset
        let type = start + 8 + key.utf8.count
        return (index, start + 8, type, type + 4)
    }

    /// Opens `bytes` as a file and returns the GGUFError it must throw.
    func openError(_ bytes: [UInt8], _ tag: String) throws -> GGUFError? {
        let path = try GGUFFixtures.write(bytes, tag: tag)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: GGUFError.self, "\(tag)") { try GGUFFile(path: path) }
        if let error { #expect(error.description.contains(path), "\(tag): the message names the file") }
        return error
    }

    /// Expects `bytes` to fail with `kind`, in a field containing `field`, at byte `offset` when given.
    func expectFailure(_ bytes: [UInt8], _ kind: GGUFError.Kind, field: String, offset: Int? = nil,
                       mentions: String? = nil, _ tag: String) throws {
        let error = try openError(bytes, tag)
        #expect(error?.kind == kind, "\(tag): \(error?.description ?? "no error")")
        #expect(error?.field.contains(field) == true, "\(tag): field of \(error?.description ?? "no error")")
        #expect(error?.description.contains(field) == true, "\(tag)")
        if let offset {
            #expect(error?.offset == offset, "\(tag): offset of \(error?.description ?? "no error")")
            #expect(error?.description.contains("byte offset \(offset)") == true, "\(tag)")
        }
        if let mentions { #expect(error?.description.contains(mentions) == true, "\(tag): \(error?.description ?? "")") }
    }

    @Test func wrongMagic() throws {
        var b = original
        b.replaceSubrange(0..<4, with: Array("GGML".utf8))
        try expectFailure(b, .badMagic, field: "magic", offset: 0, mentions: "GGML", "magic")
    }

    @Test func emptyAndTruncatedFiles() throws {
        try expectFailure([], .truncated, field: "magic", offset: 0, "empty")
        try expectFailure(Array(original[0..<6]), .truncated, field: "version", offset: 4, "cut in version")
        try expectFailure(Array(original[0..<12]), .truncated, field: "tensor_count", offset: 8, "cut in tensor count")
        // Cut so short that the 23 tensor infos cannot fit: the count is refused before anything is allocated.
        try expectFailure(Array(original[0..<300]), .absurdSize, field: "tensor_count", offset: 8,
                          mentions: "more than the whole file (300 bytes)", "cut before the tensor infos")
        let strings = try entryFields("test.array.string")
        let third = strings.value + 12 + (8 + 1) + (8 + 0) + 8   // element type, count, "a", "", then value[2]'s bytes
        try expectFailure(Array(original[0..<(third + 3)]), .truncated, field: "'test.array.string'.value[2]", offset: third,
                          "cut in a string")
        let t = try tensorFields("q4_0.random")
        try expectFailure(Array(original[0..<(t.type + 2)]), .truncated, field: "'q4_0.random'.type", offset: t.type, "cut in tensor info")
        // Cut inside the data section: the last tensor's data no longer fits.
        try expectFailure(Array(original.dropLast(100)), .dataOutOfBounds, field: "'q6_k.random'.offset", "cut in data")
    }

    @Test func unsupportedVersions() throws {
        for (version, note) in [(UInt32(1), "obsolete"), (4, "not supported"), (UInt32(3).byteSwapped, "big-endian")] {
            var b = original
            b.put(version, at: 4)
            try expectFailure(b, .unsupportedVersion, field: "version", offset: 4, mentions: note, "version \(version)")
        }
    }

    @Test func absurdCountsAndLengths() throws {
        var b = original
        b.put(UInt64(1) << 60, at: 8)
        try expectFailure(b, .absurdSize, field: "tensor_count", offset: 8, "tensor count")
        b = original
        b.put(UInt64.max, at: 16)
        try expectFailure(b, .absurdSize, field: "metadata_kv_count", offset: 16, "kv count")

        let entry = try entryFields("test.uint8")
        b = original
        b.put(UInt64(1) << 50, at: entry.key - 8)
        try expectFailure(b, .absurdSize, field: "metadata[\(entry.index)].key.length", offset: entry.key - 8, "key length")

        let string = try entryFields("test.string")
        b = original
        b.put(UInt64.max - 3, at: string.value)
        try expectFailure(b, .absurdSize, field: "'test.string'.value.length", offset: string.value, "string length")

        let array = try entryFields("test.array.uint64")
        b = original
        b.put(UInt64(1) << 61, at: array.value + 4)   // element count (8-byte elements: overflows)
        try expectFailure(b, .absurdSize, field: "'test.array.uint64'.value.count", offset: array.value + 4, "array count")

        let strings = try entryFields("test.array.string")
        b = original
        b.put(UInt64(1) << 40, at: strings.value + 4)
        try expectFailure(b, .absurdSize, field: "'test.array.string'.value.count", "string array count")

        let t = try tensorFields("q8_0.random")
        b = original
        b.put(UInt64(1) << 40, at: t.dims)
        b.put(UInt64(1) << 40, at: t.dims + 8)
        try expectFailure(b, .absurdSize, field: "'q8_0.random'.dims[1]", offset: t.dims + 8, "dims overflow")
        b = original
        b.put(UInt64(1) << 40, at: t.dims)
        try expectFailure(b, .absurdSize, field: "'q8_0.random'.dims", "dims larger than file")
        b = original
        b.put(UInt64.max, at: t.dims)
        try expectFailure(b, .invalidShape, field: "'q8_0.random'.dims[0]", offset: t.dims, "dim above Int.max")
    }

    @Test func unknownTypes() throws {
        let entry = try entryFields("test.uint8")
        var b = original
        b.put(UInt32(99), at: entry.type)
        try expectFailure(b, .unknownValueType, field: "metadata[\(entry.index)] 'test.uint8'.type", offset: entry.type,
                          mentions: "99", "value type")

        let array = try entryFields("test.array.int8")
        b = original
        b.put(UInt32(13), at: array.value)
        try expectFailure(b, .unknownValueType, field: "'test.array.int8'.value.element_type", offset: array.value,
                          mentions: "13", "array element type")

        let t = try tensorFields("shape.vector")
        b = original
        b.put(UInt32(77), at: t.type)
        try expectFailure(b, .unknownTensorType, field: "tensor_infos[0] 'shape.vector'.type", offset: t.type,
                          mentions: "77", "tensor type")
    }

    @Test func badTensorShapes() throws {
        let t = try tensorFields("shape.cube")
        var b = original
        b.put(UInt32(5), at: t.nDims)
        try expectFailure(b, .invalidShape, field: "'shape.cube'.n_dims", offset: t.nDims, mentions: "n_dims is 5", "n_dims")

        let q = try tensorFields("q4_0.quantized")
        b = original
        b.put(UInt64(250), at: q.dims)
        try expectFailure(b, .invalidShape, field: "'q4_0.quantized'.dims[0]", mentions: "block size 32", "block multiple")
    }

    @Test func dataOffsetsOutOfFileMisalignedOrOverlapping() throws {
        let t = try tensorFields("f16.random")
        var b = original
        b.put(UInt64(1) << 40, at: t.offset)
        try expectFailure(b, .dataOutOfBounds, field: "'f16.random'.offset", offset: t.offset, "offset beyond file")

        b = original
        let last = try tensorFields("q6_k.random")
        b.put(UInt64(original.count - file.dataOffset) / 64 * 64, at: last.offset)
        try expectFailure(b, .dataOutOfBounds, field: "'q6_k.random'.offset", mentions: "outside the file", "data past end")

        b = original
        let info = try #require(file.tensor(named: "f16.random"))
        b.put(UInt64(info.offset + 4), at: t.offset)
        try expectFailure(b, .misaligned, field: "'f16.random'.offset", offset: t.offset, mentions: "alignment 64", "misaligned")

        b = original
        let second = try tensorFields("shape.cube")
        b.put(UInt64(0), at: second.offset)
        try expectFailure(b, .overlap, field: "'shape.cube'.offset", mentions: "shape.vector", "overlap")
    }

    @Test func nonUTF8KeysAndStrings() throws {
        let entry = try entryFields("test.int16")
        var b = original
        b[entry.key + 2] = 0xFF
        try expectFailure(b, .invalidUTF8, field: "metadata[\(entry.index)].key", offset: entry.key - 8, "key")

        let string = try entryFields("test.string")
        b = original
        b[string.value + 8 + 2] = 0xC3   // "h\xC3\xA9llo…" → "h\xC3\xC3llo…": a lead byte followed by a lead byte
        try expectFailure(b, .invalidUTF8, field: "'test.string'.value", offset: string.value, "string value")

        let strings = try entryFields("test.array.string")
        b = original
        b[strings.value + 12 + 8] = 0x80   // first element "a" → a lone continuation byte
        try expectFailure(b, .invalidUTF8, field: "'test.array.string'.value[0]", "array string")

        let t = try #require(file.tensor(named: "q5_0.random"))
        b = original
        b[t.infoOffset + 8] = 0xFE
        try expectFailure(b, .invalidUTF8, field: "tensor_infos[\(t.index)].name", offset: t.infoOffset, "tensor name")
    }

    @Test func duplicatesAndAlignment() throws {
        let entry = try entryFields("test.int32")
        var b = original
        b.replaceSubrange(entry.key..<(entry.key + 10), with: Array("test.int16".utf8))
        try expectFailure(b, .duplicate, field: "metadata[\(entry.index)].key", mentions: "test.int16", "duplicate key")

        let t = try #require(file.tensor(named: "f32.random"))
        b = original
        b.replaceSubrange((t.infoOffset + 8)..<(t.infoOffset + 18), with: Array("f16.random".utf8))
        let other = try #require(file.tensor(named: "f16.random"))
        try expectFailure(b, .duplicate, field: "tensor_infos[\(other.index)].name", offset: other.infoOffset,
                          mentions: "first as tensor_infos[\(t.index)]", "duplicate tensor")

        let alignment = try entryFields("general.alignment")
        for bad in [UInt32(0), 48] {
            b = original
            b.put(bad, at: alignment.value)
            try expectFailure(b, .invalidAlignment, field: "general.alignment", "alignment \(bad)")
        }
    }

    @Test func deeplyNestedArraysAreRefused() throws {
        // A hand-made file: one key whose value nests 100 arrays, each holding the next.
        var b: [UInt8] = Array("GGUF".utf8)
        b.append(le: UInt32(3))
        b.append(le: UInt64(0))
        b.append(le: UInt64(1))
        b.append(ggufString: "deep")
        b.append(le: GGUFValueType.array.rawValue)
        for _ in 0..<100 {
            b.append(le: GGUFValueType.array.rawValue)
            b.append(le: UInt64(1))
        }
        b.append(le: GGUFValueType.uint8.rawValue)
        b.append(le: UInt64(0))
        try expectFailure(b, .nestingTooDeep, field: "metadata[0] 'deep'.value", "nesting")

        // Four levels are fine.
        var ok: [UInt8] = Array("GGUF".utf8)
        ok.append(le: UInt32(3)); ok.append(le: UInt64(0)); ok.append(le: UInt64(1))
        ok.append(ggufString: "nest")
        ok.append(le: GGUFValueType.array.rawValue)
        for _ in 0..<3 { ok.append(le: GGUFValueType.array.rawValue); ok.append(le: UInt64(1)) }
        ok.append(le: GGUFValueType.uint16.rawValue); ok.append(le: UInt64(2)); ok.append(le: UInt16(7)); ok.append(le: UInt16(9))
        let path = try GGUFFixtures.write(ok, tag: "nest-ok")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let parsed = try GGUFFile(path: path)
        #expect(parsed["nest"] == .array(.array([.array([.array([.uint16([7, 9])])])])))
        #expect(parsed.tensors.isEmpty)
    }
}
