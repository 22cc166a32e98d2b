#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that could not be opened or mapped, or a byte range outside a mapped file.
public enum MappedFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `open`/`fstat` failed for `path`; `reason` is the system's message.
    case cannotOpen(path: String, reason: String)
    /// `mmap` failed for `path`; `reason` is the system's message.
    case cannotMap(path: String, reason: String)
    /// The range `offset..<offset+count` does not lie inside the file of `fileSize` bytes.
    case outOfBounds(path: String, offset: Int, count: Int, fileSize: Int)

    /// The message, naming the path.
    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "cannot open '\(path)': \(reason)"
        case let .cannotMap(path, reason): return "cannot memory-map '\(path)': \(reason)"
        case let .outOfBounds(path, offset, count, size):
            return "'\(path)': bytes \(offset)..<\(offset &+ count) requested, but the file has \(size) bytes"
        }
    }
}

/// A read-only memory mapping of a whole file; pages are read from disk only when touched, and
/// the mapping is released when the last reference goes away.
public final class MappedFile: @unchecked Sendable {
    // Immutable after init; the mapping is read-only (PROT_READ), so sharing across threads is safe.

    /// The path the file was opened from.
    public let path: String
    /// The file's size in bytes.
    public let count: Int
    private let base: UnsafeRawPointer?

    /// Maps the file at `path` read-only; throws `MappedFileError` naming the path when it cannot.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw MappedFileError.cannotOpen(path: path, reason: Self.lastError()) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw MappedFileError.cannotOpen(path: path, reason: Self.lastError()) }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw MappedFileError.cannotOpen(path: path, reason: "not a regular file")
        }
        count = Int(st.st_size)
        if count == 0 {
            base = nil   // mmap of length 0 is an error; an empty file simply has no bytes
            return
        }
        guard let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw MappedFileError.cannotMap(path: path, reason: Self.lastError())
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// All the file's bytes, valid while this object is alive.
    public var unsafeBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Whether `offset..<offset+length` lies inside the file (false on negative values or overflow).
    public func contains(offset: Int, length: Int) -> Bool {
        guard offset >= 0, length >= 0 else { return false }
        let (end, overflow) = offset.addingReportingOverflow(length)
        return !overflow && end <= count
    }

    /// The bytes `offset..<offset+length` (not copied), or `MappedFileError.outOfBounds`.
    public func bytes(at offset: Int, count length: Int) throws -> MappedBytes {
        guard contains(offset: offset, length: length) else {
            throw MappedFileError.outOfBounds(path: path, offset: offset, count: length, fileSize: count)
        }
        return MappedBytes(file: self, range: offset..<(offset + length))
    }

    /// The little-endian integer of type `T` stored at `offset`, or `MappedFileError.outOfBounds`.
    public func load<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) throws -> T {
        guard contains(offset: offset, length: MemoryLayout<T>.size), let base else {
            throw MappedFileError.outOfBounds(path: path, offset: offset, count: MemoryLayout<T>.size, fileSize: count)
        }
        return T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}

/// A byte range of a `MappedFile`, read in place (no copy); it keeps the mapping alive.
public struct MappedBytes: RandomAccessCollection, Sendable {
    /// The mapped file these bytes belong to.
    public let file: MappedFile
    /// The byte offsets in the file that this view covers.
    public let range: Range<Int>

    /// A view of `range` in `file` (the caller has checked the range lies inside the file).
    init(file: MappedFile, range: Range<Int>) {
        self.file = file
        self.range = range
    }

    /// The first index (0).
    public var startIndex: Int { 0 }
    /// One past the last index (the number of bytes).
    public var endIndex: Int { range.count }

    /// The byte at `i` (0-based within this view).
    public subscript(i: Int) -> UInt8 {
        precondition(i >= 0 && i < range.count, "MappedBytes index \(i) out of range 0..<\(range.count)")
        return file.unsafeBytes[range.lowerBound + i]
    }

    /// Calls `body` with a pointer to the bytes, valid only during the call.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(file) {
            try body(UnsafeRawBufferPointer(rebasing: file.unsafeBytes[range]))
        }
    }
}
