/// Parses and validates a GGUF header (magic, version, metadata, tensor infos) without touching
/// tensor data; every malformed field becomes a `GGUFError` naming the field and its byte offset.
struct GGUFHeaderParser {
    /// The largest n_dims ggml accepts (GGML_MAX_DIMS).
    static let maxDimensions = 4
    /// The deepest nesting of metadata arrays accepted (arrays of arrays of …).
    static let maxArrayDepth = 8
    /// The alignment used when the file has no `general.alignment` (GGUF_DEFAULT_ALIGNMENT).
    static let defaultAlignment = 32
    /// The smallest tensor info record: name length (8), n_dims (4), type (4), offset (8).
    static let minimumTensorInfoSize = 24
    /// The smallest metadata entry: key length (8), value type (4), a one-byte value.
    static let minimumEntrySize = 13

    /// The parsed header.
    struct Header {
        var version: UInt32
        var metadata: [GGUFMetadataEntry]
        var tensors: [GGUFTensorInfo]
        var alignment: Int
        var dataOffset: Int
    }

    private var cursor: GGUFCursor

    init(_ bytes: UnsafeRawBufferPointer) { cursor = GGUFCursor(bytes) }

    /// Reads and checks the whole header.
    mutating func parse() throws -> Header {
        let fileSize = cursor.bytes.count
        let magic = try cursor.read(UInt32.self, "magic")
        guard magic == 0x4655_4747 else {   // "GGUF" read little-endian
            let shown = withUnsafeBytes(of: magic.littleEndian) { raw in
                raw.map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "\\x" + hex($0) }.joined()
            }
            throw GGUFError(.badMagic, field: "magic", offset: 0,
                            "expected \"GGUF\" but found \"\(shown)\": not a GGUF file")
        }
        let version = try cursor.read(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            let swapped = version.byteSwapped
            let why = (swapped == 2 || swapped == 3) ? " (a big-endian file, which is not supported)"
                : version == 1 ? " (GGUF v1 is obsolete)" : ""
            throw GGUFError(.unsupportedVersion, field: "version", offset: 4,
                            "version \(version) is not supported\(why); versions 2 and 3 are")
        }
        let tensorCount = try cursor.readCount("tensor_count", minimumSize: Self.minimumTensorInfoSize)
        let kvCount = try cursor.readCount("metadata_kv_count", minimumSize: Self.minimumEntrySize)

        // Metadata, in file order.
        var metadata: [GGUFMetadataEntry] = []
        metadata.reserveCapacity(cursor.capacity(for: kvCount, minimumSize: Self.minimumEntrySize))
        var seenKeys: [String: Int] = [:]
        for i in 0..<kvCount {
            let start = cursor.position
            let key = try cursor.readString("metadata[\(i)].key")
            if let first = seenKeys[key] {
                throw GGUFError(.duplicate, field: "metadata[\(i)].key", offset: start,
                                "key '\(key)' appears twice (first as metadata[\(first)])")
            }
            seenKeys[key] = i
            let field = "metadata[\(i)] '\(key)'"
            let typeOffset = cursor.position
            let typeId = try cursor.read(UInt32.self, field + ".type")
            guard let type = GGUFValueType(rawValue: typeId) else {
                throw GGUFError(.unknownValueType, field: field + ".type", offset: typeOffset,
                                "unknown metadata value type id \(typeId) (valid ids are 0…12)")
            }
            let value = try readValue(type, field: field + ".value", depth: 0)
            metadata.append(GGUFMetadataEntry(key: key, value: value, offset: start))
        }

        let alignment = try Self.alignment(from: metadata)

        // Tensor infos.
        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(cursor.capacity(for: tensorCount, minimumSize: Self.minimumTensorInfoSize))
        var seenNames: [String: Int] = [:]
        var pending: [(name: String, dims: [Int], type: GGMLType, offset: UInt64, elements: Int, byteCount: Int,
                       infoOffset: Int, offsetField: Int)] = []
        pending.reserveCapacity(cursor.capacity(for: tensorCount, minimumSize: Self.minimumTensorInfoSize))
        for i in 0..<tensorCount {
            let infoOffset = cursor.position
            let name = try cursor.readString("tensor_infos[\(i)].name")
            if let first = seenNames[name] {
                throw GGUFError(.duplicate, field: "tensor_infos[\(i)].name", offset: infoOffset,
                                "tensor name '\(name)' appears twice (first as tensor_infos[\(first)])")
            }
            seenNames[name] = i
            let field = "tensor_infos[\(i)] '\(name)'"
            let nDimsOffset = cursor.position
            let nDims = try cursor.read(UInt32.self, field + ".n_dims")
            guard nDims <= Self.maxDimensions else {
                throw GGUFError(.invalidShape, field: field + ".n_dims", offset: nDimsOffset,
                                "n_dims is \(nDims); at most \(Self.maxDimensions) are allowed")
            }
            var dims: [Int] = []
            var elements = 1
            for d in 0..<Int(nDims) {
                let dimOffset = cursor.position
                let raw = try cursor.read(UInt64.self, "\(field).dims[\(d)]")
                guard let dim = Int(exactly: raw) else {
                    throw GGUFError(.invalidShape, field: "\(field).dims[\(d)]", offset: dimOffset,
                                    "dimension \(raw) is larger than 2^63 - 1")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
                guard !overflow else {
                    throw GGUFError(.absurdSize, field: "\(field).dims[\(d)]", offset: dimOffset,
                                    "the element count overflows 64 bits at dimension \(dim)")
                }
                elements = product
                dims.append(dim)
            }
            let typeOffset = cursor.position
            let typeId = try cursor.read(UInt32.self, field + ".type")
            let type = try GGMLType(id: typeId, field: field + ".type", offset: typeOffset)
            let innermost = dims.first ?? 1
            guard innermost % type.blockSize == 0 else {
                throw GGUFError(.invalidShape, field: field + ".dims[0]", offset: nDimsOffset + 4,
                                "the row length \(innermost) is not a multiple of the \(type.name) block size \(type.blockSize)")
            }
            guard let byteCount = GGUFTensorInfo.byteCount(elements: elements, type: type) else {
                throw GGUFError(.absurdSize, field: field + ".dims", offset: nDimsOffset + 4,
                                "the byte size of dimensions \(dims) of type \(type.name) overflows 64 bits")
            }
            let offsetOffset = cursor.position
            let rawOffset = try cursor.read(UInt64.self, field + ".offset")
            guard rawOffset % UInt64(alignment) == 0 else {
                throw GGUFError(.misaligned, field: field + ".offset", offset: offsetOffset,
                                "data offset \(rawOffset) is not a multiple of the alignment \(alignment)")
            }
            pending.append((name, dims, type, rawOffset, elements, byteCount, infoOffset, offsetOffset))
        }

        // The data section starts at the next multiple of the alignment.
        let headerEnd = cursor.position
        let dataOffset = (headerEnd + alignment - 1) / alignment * alignment   // headerEnd ≤ file size: no overflow
        for (i, t) in pending.enumerated() {
            let field = "tensor_infos[\(i)] '\(t.name)'"
            guard t.byteCount <= fileSize else {
                throw GGUFError(.absurdSize, field: field + ".dims", offset: t.offsetField - 4 - 8 * t.dims.count,
                                "dimensions \(t.dims) of type \(t.type.name) need \(t.byteCount) bytes, "
                                + "more than the whole file (\(fileSize) bytes)")
            }
            guard let offset = Int(exactly: t.offset), offset <= fileSize,
                  dataOffset + offset + t.byteCount <= fileSize else {   // each term ≤ file size: no overflow
                let start = t.offset &+ UInt64(dataOffset)
                throw GGUFError(.dataOutOfBounds, field: field + ".offset", offset: t.offsetField,
                                "data offset \(t.offset) puts bytes \(start)..<\(start &+ UInt64(t.byteCount)) "
                                + "(\(t.byteCount) bytes of \(t.type.name)) outside the file (\(fileSize) bytes)")
            }
            let start = dataOffset + offset
            tensors.append(GGUFTensorInfo(name: t.name, dimensions: t.dims, type: t.type, offset: offset,
                                          fileOffset: start, elementCount: t.elements, byteCount: t.byteCount,
                                          index: i, infoOffset: t.infoOffset))
        }
        try Self.checkNoOverlap(tensors)
        return Header(version: version, metadata: metadata, tensors: tensors, alignment: alignment,
                      dataOffset: dataOffset)
    }

    /// One metadata value of `type` for `field`, arrays read recursively up to `maxArrayDepth`.
    private mutating func readValue(_ type: GGUFValueType, field: @autoclosure () -> String, depth: Int) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try cursor.read(UInt8.self, field()))
        case .int8: return .int8(try cursor.read(Int8.self, field()))
        case .uint16: return .uint16(try cursor.read(UInt16.self, field()))
        case .int16: return .int16(try cursor.read(Int16.self, field()))
        case .uint32: return .uint32(try cursor.read(UInt32.self, field()))
        case .int32: return .int32(try cursor.read(Int32.self, field()))
        case .float32: return .float32(Float(bitPattern: try cursor.read(UInt32.self, field())))
        case .bool: return .bool(try cursor.read(UInt8.self, field()) != 0)
        case .string: return .string(try cursor.readString(field()))
        case .uint64: return .uint64(try cursor.read(UInt64.self, field()))
        case .int64: return .int64(try cursor.read(Int64.self, field()))
        case .float64: return .float64(Double(bitPattern: try cursor.read(UInt64.self, field())))
        case .array: return .array(try readArray(field: field(), depth: depth + 1))
        }
    }

    /// An array value (element type, uint64 count, elements) for `field` at nesting `depth`.
    private mutating func readArray(field: String, depth: Int) throws -> GGUFArray {
        let start = cursor.position
        guard depth <= Self.maxArrayDepth else {
            throw GGUFError(.nestingTooDeep, field: field, offset: start,
                            "arrays nested more than \(Self.maxArrayDepth) deep")
        }
        let typeId = try cursor.read(UInt32.self, field + ".element_type")
        guard let elementType = GGUFValueType(rawValue: typeId) else {
            throw GGUFError(.unknownValueType, field: field + ".element_type", offset: start,
                            "unknown array element type id \(typeId) (valid ids are 0…12)")
        }
        let count = try cursor.readCount(field + ".count", minimumSize: elementType.minimumSize)
        switch elementType {
        case .uint8: return .uint8(try cursor.readArray(UInt8.self, count: count, field))
        case .int8: return .int8(try cursor.readArray(Int8.self, count: count, field))
        case .uint16: return .uint16(try cursor.readArray(UInt16.self, count: count, field))
        case .int16: return .int16(try cursor.readArray(Int16.self, count: count, field))
        case .uint32: return .uint32(try cursor.readArray(UInt32.self, count: count, field))
        case .int32: return .int32(try cursor.readArray(Int32.self, count: count, field))
        case .uint64: return .uint64(try cursor.readArray(UInt64.self, count: count, field))
        case .int64: return .int64(try cursor.readArray(Int64.self, count: count, field))
        case .float32: return .float32(try cursor.readArray(UInt32.self, count: count, field).map(Float.init(bitPattern:)))
        case .float64: return .float64(try cursor.readArray(UInt64.self, count: count, field).map(Double.init(bitPattern:)))
        case .bool: return .bool(try cursor.readArray(UInt8.self, count: count, field).map { $0 != 0 })
        case .string:
            var strings: [String] = []
            strings.reserveCapacity(cursor.capacity(for: count, minimumSize: 8))
            for i in 0..<count { strings.append(try cursor.readString("\(field)[\(i)]")) }
            return .string(strings)
        case .array:
            var arrays: [GGUFArray] = []
            arrays.reserveCapacity(cursor.capacity(for: count, minimumSize: 12))
            for i in 0..<count { arrays.append(try readArray(field: "\(field)[\(i)]", depth: depth + 1)) }
            return .array(arrays)
        }
    }

    /// The data alignment: `general.alignment` when present (a positive power of two), else 32.
    static func alignment(from metadata: [GGUFMetadataEntry]) throws -> Int {
        guard let entry = metadata.first(where: { $0.key == GGUFKey.alignment }) else { return defaultAlignment }
        guard let value = entry.value.int, value > 0, value & (value - 1) == 0, value <= 1 << 30 else {
            throw GGUFError(.invalidAlignment, field: "metadata 'general.alignment'", offset: entry.offset,
                            "alignment must be a positive power of two (as uint32), found \(entry.value)")
        }
        return value
    }

    /// Throws `.overlap` when two tensors' data ranges share a byte.
    static func checkNoOverlap(_ tensors: [GGUFTensorInfo]) throws {
        let order = tensors.filter { $0.byteCount > 0 }.sorted { $0.fileOffset < $1.fileOffset }
        for (a, b) in zip(order, order.dropFirst()) where a.fileOffset + a.byteCount > b.fileOffset {
            throw GGUFError(.overlap, field: "tensor_infos[\(b.index)] '\(b.name)'.offset", offset: b.infoOffset,
                            "data bytes \(b.fileOffset)..<\(b.fileOffset + b.byteCount) overlap those of "
                            + "tensor_infos[\(a.index)] '\(a.name)' (\(a.fileOffset)..<\(a.fileOffset + a.byteCount))")
        }
    }
}

/// Two hex digits for a byte.
private func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xF)])
}
