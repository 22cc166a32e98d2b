import Foundation

/// Unique `id` prefixes for SVG figures, so that many figures can share one HTML page (a notebook)
/// without their clip paths and gradients colliding.
public enum SVGIdentifiers {
    /// A fresh prefix: "plf" + a random token fixed for this process + "-" + a counter, e.g.
    /// "plf3fa9c2-7". The random part keeps figures from different sessions (a restarted kernel)
    /// apart on one page; the counter keeps the figures of one session apart.
    public static func next() -> String {
        "plf\(session)-\(counter.next())"
    }

    /// `prefix` reduced to characters valid in an XML id (letters, digits, `-`, `_`), starting with
    /// a letter; a fresh prefix when nothing is left.
    public static func sanitized(_ prefix: String) -> String {
        let kept = String(prefix.unicodeScalars.filter {
            ($0.isASCII && (CharacterSet.alphanumerics.contains($0))) || $0 == "-" || $0 == "_"
        }.map(Character.init))
        guard let first = kept.unicodeScalars.first else { return next() }
        return CharacterSet.letters.contains(first) ? kept : "p" + kept
    }

    private static let session: String = {
        var g = SystemRandomNumberGenerator()
        return String(UInt32.random(in: 0x100000...0xFFFFFF, using: &g), radix: 16)
    }()

    private static let counter = Counter()

    /// A thread-safe counter.
    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0

        func next() -> Int {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }
}
