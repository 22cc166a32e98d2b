import Foundation

/// Paths the Plots tests share: the repository root and the golden files folder.
enum PlotsTestSupport {
    /// The repository root, found from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
