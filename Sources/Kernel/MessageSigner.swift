import CCrypto
import Foundation

/// Signs and verifies wire messages with HMAC-SHA256 over header, parent header, metadata and
/// content, as the connection file's key asks, and refuses a replayed signature. With an empty
/// key nothing is signed or checked (as jupyter_client's `Session` with no key).
struct MessageSigner {
    private let key: [UInt8]?
    /// The signatures of the messages already accepted (shared by every copy of this signer,
    /// so by every channel).
    let history: SignatureHistory

    /// A signer for `key` (the connection file's `key` string, used as its UTF-8 bytes);
    /// `historySize` bounds how many accepted signatures are remembered against replays.
    init(key: String, historySize: Int = SignatureHistory.defaultCapacity) {
        self.key = key.isEmpty ? nil : Array(key.utf8)
        history = SignatureHistory(capacity: historySize)
    }

    /// Whether messages are signed (a key was given).
    var isSigning: Bool { key != nil }

    /// The hex signature of the four JSON frames ("" without a key): lower-case hex, as Python's
    /// `hmac.hexdigest()` writes it.
    func signature(_ parts: [[UInt8]]) -> String {
        guard let key else { return "" }
        return Self.hmacSHA256(key: key, parts.flatMap { $0 }).map { String(format: "%02x", $0) }.joined()
    }

    /// HMAC-SHA256 of `message` under `key` (OpenSSL's one-shot HMAC): 32 bytes.
    static func hmacSHA256(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // An empty message is passed as a one-byte buffer of length 0 (never a null pointer).
        let count = message.count, bytes = message.isEmpty ? [0] : message
        let done = key.withUnsafeBytes { k in
            bytes.withUnsafeBytes { m in
                digest.withUnsafeMutableBufferPointer { d in
                    HMAC(EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress?.assumingMemoryBound(to: UInt8.self), count,
                         d.baseAddress, &length)
                }
            }
        }
        precondition(done != nil && length == 32, "OpenSSL's HMAC-SHA256 failed")
        return Array(digest.prefix(Int(length)))
    }

    /// Whether `signature` (the frame as received) is exactly the lower-case hex signature of the
    /// four frames. jupyter_client compares the received bytes with its `hexdigest()` bytes, so an
    /// upper-case or otherwise re-spelt digest is refused here as well. The comparison takes the
    /// same time wherever the bytes differ.
    func verify(_ signature: [UInt8], _ parts: [[UInt8]]) -> Bool {
        guard key != nil else { return true }
        let expected = Array(self.signature(parts).utf8)
        return Self.constantTimeEqual(signature, expected)
    }

    /// Byte-wise equality whose time depends only on the lengths, not on where the bytes differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}

/// The signatures of accepted messages, so that a captured message sent again is refused, as
/// jupyter_client's `Session.digest_history` does: at most `capacity` are kept; past that a
/// random tenth is forgotten. Thread-safe (the shell, control and stdin threads share one).
final class SignatureHistory: @unchecked Sendable {
    /// jupyter_client's default `digest_history_size` (2¹⁶).
    static let defaultCapacity = 1 << 16
    /// How many signatures are kept at most (0: none, replays are not checked).
    let capacity: Int
    private var seen = Set<[UInt8]>()
    private let lock = NSLock()

    init(capacity: Int) { self.capacity = max(0, capacity) }

    /// How many signatures are remembered now.
    var count: Int { lock.withLock { seen.count } }

    /// Records `signature`; false when it was already recorded (a replay).
    func insert(_ signature: [UInt8]) -> Bool {
        guard capacity > 0 else { return true }
        return lock.withLock {
            guard seen.insert(signature).inserted else { return false }
            if seen.count > capacity {
                // Forget a random tenth (at least down to the capacity), as jupyter_client culls.
                let cull = max(seen.count / 10, seen.count - capacity)
                if cull >= seen.count { seen.removeAll() } else {
                    var generator = SystemRandomNumberGenerator()
                    for s in Array(seen).shuffled(using: &generator).prefix(cull) { seen.remove(s) }
                }
            }
            return true
        }
    }
}
