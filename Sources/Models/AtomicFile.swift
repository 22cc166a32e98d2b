import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a file atomically: to a temporary name beside the destination, then rename(2), so a
/// reader sees the old file or the new one, never half of one.
public enum AtomicFile {
    /// Replaces `path` with `data`; on failure the old file (if any) is untouched.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).part")
        do {
            try data.write(to: temp)
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
