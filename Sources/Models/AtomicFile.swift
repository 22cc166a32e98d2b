import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a file atomically: to a temporary name beside the destination, then rename(2), so a
/// reader sees the old file or the new one, never half of one.
public enum AtomicFile {
    /// Replaces `path` with `data`; on failure the old file (if any) is untouched.
    public static func write(_ data: Data, to path: String) throws {
        try replace(path) { temp in try data.write(to: temp) }
    }

    /// Creates `path` by streaming: `body` writes to a handle on a temporary file beside it, which
    /// is renamed into place when `body` returns; if `body` throws, the temporary file is removed
    /// and the old file (if any) is untouched. For outputs too large to build in memory.
    public static func stream(to path: String, _ body: (FileHandle) throws -> Void) throws {
        try replace(path) { temp in
            guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path,
                    NSLocalizedDescriptionKey: "cannot create '\(temp.path)'"])
            }
            let handle = try FileHandle(forWritingTo: temp)
            do {
                try body(handle)
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
        }
    }

    /// Runs `fill` on a temporary path beside `path`, then renames it onto `path`; removes the
    /// temporary file when anything fails.
    private static func replace(_ path: String, _ fill: (URL) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).part")
        do {
            try fill(temp)
            guard rename(temp.path, url.path) == 0 else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path,
                    NSLocalizedDescriptionKey: "cannot rename into '\(path)': \(String(cString: strerror(errno)))"])
            }
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw error
        }
    }
}
