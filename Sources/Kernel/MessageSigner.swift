import Crypto
import Foundation

/// Signs and verifies wire messages with HMAC-SHA256 over header, parent header, metadata and
/// content, as the connection file's key asks. With an empty key nothing is signed or checked.
struct MessageSigner {
    private let key: SymmetricKey?

    /// A signer for `key` (the connection file's `key` string, used as its UTF-8 bytes).
    init(key: String) {
        self.key = key.isEmpty ? nil : SymmetricKey(data: Data(key.utf8))
    }

    /// The hex signature of the four JSON frames ("" without a key).
    func signature(_ parts: [[UInt8]]) -> String {
        guard let key else { return "" }
        var mac = HMAC<SHA256>(key: key)
        for p in parts { mac.update(data: p) }
        return Data(mac.finalize()).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `signature` (hex, as received) is right for the four frames; constant time.
    func verify(_ signature: [UInt8], _ parts: [[UInt8]]) -> Bool {
        guard let key else { return true }
        guard signature.count == 64, let raw = Self.hexBytes(signature) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(raw, authenticating: parts.flatMap { $0 }, using: key)
    }

    /// Bytes from lowercase or uppercase hex; nil for anything else.
    static func hexBytes(_ hex: [UInt8]) -> [UInt8]? {
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(hex.count / 2)
        var i = 0
        while i + 1 < hex.count {
            guard let hi = nibble(hex[i]), let lo = nibble(hex[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
