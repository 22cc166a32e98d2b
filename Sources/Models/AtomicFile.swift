import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why `AtomicFile` refused to write.
public struct AtomicFileError: Error, CustomStringConvertible, LocalizedError {
    /// The destination asked for.
    public let path: String
    /// What is wrong with it.
    public let reason: String

    /// "cannot write PATH: REASON".
    public var description: String { "cannot write '\(path)': \(reason)" }
    /// The description, for Foundation's localized error text.
    public var errorDescription: String? { description }
}

/// Writes a file atomically: to a temporary name beside the destination, then rename(2), so a
/// reader sees the old file or the new one, never half of one.
///
/// The temporary file is `.<name>.<pid>.part` in the destination's folder, locked with flock(2)
/// while it is written. A process killed mid-write (kill -9, a crash, power loss) cannot remove
/// it, so every write first removes the part files in its folder that are stale: named by that
/// pattern, a regular file, left by a process that no longer exists (or by an earlier process
/// that had this process's id), and not locked by any writer.
public enum AtomicFile {
    /// Replaces `path` with `data`; on failure the old file (if any) is untouched.
    public static func write(_ data: Data, to path: String) throws {
        try stream(to: path) { handle in try handle.write(contentsOf: data) }
    }

    /// Creates `path` by streaming: `body` writes to a handle on a temporary file beside it, which
    /// is renamed into place when `body` returns; if `body` throws, the temporary file is removed
    /// and the old file (if any) is untouched. For outputs too large to build in memory.
    public static func stream(to path: String, _ body: (FileHandle) throws -> Void) throws {
        guard !path.isEmpty else { throw AtomicFileError(path: path, reason: "the path is empty") }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw AtomicFileError(path: path, reason: "it is a folder, not a file")
        }
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        removeStaleParts(in: folder.path)
        let temp = folder.appendingPathComponent(partFileName(for: url.lastPathComponent, pid: getpid()))
        InProgress.shared.insert(temp.path)
        defer { InProgress.shared.remove(temp.path) }
        do {
            let fd = open(temp.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw AtomicFileError(path: path, reason: "cannot create '\(temp.path)': \(String(cString: strerror(errno)))")
            }
            // Held until the handle closes (or the process dies): tells a cleaner that it is being written.
            _ = flock(fd, LOCK_EX)
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            do {
                try body(handle)
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            guard rename(temp.path, url.path) == 0 else {
                throw AtomicFileError(path: path, reason: "cannot rename into place: \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(temp.path)
            throw error
        }
    }

    /// The temporary file's name for a destination named `name`, written by process `pid`.
    public static func partFileName(for name: String, pid: Int32) -> String { ".\(name).\(pid).part" }

    /// The process id in a part file's name (`.<name>.<pid>.part`), nil for any other name.
    public static func partFilePID(_ fileName: String) -> Int32? {
        guard fileName.count > 7, fileName.hasPrefix("."), fileName.hasSuffix(".part") else { return nil }
        let stem = fileName.dropFirst().dropLast(5)
        guard let dot = stem.lastIndex(of: "."), dot > stem.startIndex else { return nil }
        let digits = stem[stem.index(after: dot)...]
        guard (1...10).contains(digits.count), digits.allSatisfy({ ("0"..."9").contains($0) }),
              let pid = Int32(digits), pid > 0 else { return nil }
        return pid
    }

    /// Removes the stale part files in `folder` (see the type's doc) and returns their paths.
    /// A part file of another live process is kept: it may be writing it, and a pid says no more.
    /// Nothing else is touched: not other names, not links, not folders.
    @discardableResult
    public static func removeStaleParts(in folder: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        let me = getpid()
        var removed = [String]()
        for name in names {
            guard let pid = partFilePID(name) else { continue }
            let path = (folder as NSString).appendingPathComponent(name)
            if pid == me {
                // This process's id: stale unless one of its own writes is under way.
                if InProgress.shared.contains(path) { continue }
            } else if processExists(pid) {
                continue
            }
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            // A writer in another pid namespace (a container sharing the folder) still holds its lock.
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }
            if unlink(path) == 0 { removed.append(path) }
        }
        return removed
    }

    /// Whether a process with id `pid` exists (one of another user counts).
    static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// The part files this process is writing now (so a concurrent write's cleanup keeps them).
    final class InProgress: @unchecked Sendable {
        static let shared = InProgress()
        private var paths = Set<String>()
        private let lock = NSLock()
        func insert(_ p: String) { lock.withLock { _ = paths.insert(p) } }
        func remove(_ p: String) { lock.withLock { _ = paths.remove(p) } }
        func contains(_ p: String) -> Bool { lock.withLock { paths.contains(p) } }
    }
}
