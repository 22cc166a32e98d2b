#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A bounds-checked little-endian reader over a GGUF file's bytes, used while parsing the header:
/// every read names the field it reads, so that running off the end says which field was cut.
struct GGUFCursor {
    /// The whole file.
    let bytes: UnsafeRawBufferPointer
    /// The offset of the next byte to read.
    var position: Int = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Bytes left after `position`.
    var remaining: Int { bytes.count - position }

    /// Throws `.truncated` unless `count` more bytes are left for `field`.
    func require(_ count: Int, for field: @autoclosure () -> String) throws {
        guard count >= 0, count <= remaining else {
            throw GGUFError(.truncated, field: field(), offset: position,
                            "needs \(count) bytes but the file ends after \(remaining) (file size \(bytes.count))")
        }
    }

    /// Reads a little-endian integer for `field`.
    mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ field: @autoclosure () -> String) throws -> T {
        let size = MemoryLayout<T>.size
        guard size <= remaining, let base = bytes.baseAddress else {
            try require(size, for: field())
            throw GGUFError(.truncated, field: field(), offset: position, "file ends")   // unreachable
        }
        let value = T(littleEndian: base.loadUnaligned(fromByteOffset: position, as: T.self))
        position += size
        return value
    }

    /// Reads a count stored as uint64 for `field` and refuses one whose items, at `minimumSize`
    /// bytes each, could not fit even in the whole file (`.absurdSize`). A count that fits the file
    /// but not the bytes left is found as `.truncated` where the items run out.
    mutating func readCount(_ field: @autoclosure () -> String, minimumSize: Int, noun: String = "count") throws -> Int {
        let start = position
        let raw = try read(UInt64.self, field())
        let (need, overflow) = raw.multipliedReportingOverflow(by: UInt64(max(minimumSize, 0)))
        guard !overflow, need <= UInt64(bytes.count), let count = Int(exactly: raw) else {
            throw GGUFError(.absurdSize, field: field(), offset: start,
                            "\(noun) \(raw) needs at least \(overflow ? "more than 2^64" : String(need)) bytes, "
                            + "more than the whole file (\(bytes.count) bytes): the value is corrupt or the file truncated")
        }
        return count
    }

    /// How many items of `minimumSize` bytes could still follow: a safe capacity to reserve.
    func capacity(for count: Int, minimumSize: Int) -> Int { min(count, remaining / max(minimumSize, 1)) }

    /// Reads a GGUF string (uint64 length, then that many UTF-8 bytes) for `field`.
    mutating func readString(_ field: @autoclosure () -> String) throws -> String {
        let start = position
        let length = try readCount(field() + ".length", minimumSize: 1, noun: "string length")
        try require(length, for: field())
        guard length > 0, let base = bytes.baseAddress else { return "" }
        let buffer = UnsafeBufferPointer(start: (base + position).assumingMemoryBound(to: UInt8.self), count: length)
        // Decoding repairs invalid UTF-8, so the result equals the bytes exactly when they are valid
        // (faster than String(validating:as:), which is not specialised for this case).
        let string = String(decoding: buffer, as: UTF8.self)
        let valid = string.utf8.count == length && string.utf8.withContiguousStorageIfAvailable { utf8 in
            guard let a = utf8.baseAddress, let b = buffer.baseAddress else { return utf8.isEmpty }
            return memcmp(a, b, length) == 0
        } ?? string.utf8.elementsEqual(buffer)
        guard valid else {
            throw GGUFError(.invalidUTF8, field: field(), offset: start,
                            "the \(length)-byte string is not valid UTF-8")
        }
        position += length
        return string
    }

    /// Reads `count` fixed-size little-endian values of type `T` into an array.
    mutating func readArray<T: FixedWidthInteger>(_ type: T.Type, count: Int, _ field: @autoclosure () -> String) throws -> [T] {
        let size = MemoryLayout<T>.size
        let (total, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow else { try require(-1, for: field()); return [] }
        try require(total, for: field())
        guard count > 0, let base = bytes.baseAddress else { return [] }
        let start = base + position
        position += total
        return [T](unsafeUninitializedCapacity: count) { out, initialized in
            for i in 0..<count {
                out[i] = T(littleEndian: start.loadUnaligned(fromByteOffset: i * size, as: T.self))
            }
            initialized = count
        }
    }
}
