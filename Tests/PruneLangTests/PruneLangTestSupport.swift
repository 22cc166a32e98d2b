import Foundation

/// Paths the PruneLang tests share: the repository root.
enum PruneLangTestSupport {
    /// The repository root, found from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
