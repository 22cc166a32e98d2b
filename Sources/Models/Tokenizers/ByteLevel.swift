/// GPT-2's reversible byte ↔ Unicode mapping, which byte-level BPE vocabularies are written in:
/// the printable bytes `!`…`~`, `¡`…`¬` and `®`…`ÿ` stand for themselves, and the other 68 bytes
/// (controls, space, DEL, NBSP, soft hyphen, ...) become U+0100, U+0101, ... in byte order, so a
/// space is written `Ġ` (U+0120) and a newline `Ċ` (U+010A).
public enum ByteLevel {
    /// The scalar value each byte is written as, indexed by the byte.
    public static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if isPrintable(byte) {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// The byte each scalar of the mapping stands for, indexed by scalar value (0 ..< 0x144);
    /// -1 for scalars outside the mapping.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for byte in 0..<256 { table[Int(scalarForByte[byte])] = Int16(byte) }
        return table
    }()

    /// Whether `byte` is one of the 188 bytes that stand for themselves.
    private static func isPrintable(_ byte: Int) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    /// The byte `scalar` stands for, or nil when it is not one of the 256 mapped scalars.
    public static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = Int(scalar.value)
        guard v < byteForScalar.count, byteForScalar[v] >= 0 else { return nil }
        return UInt8(byteForScalar[v])
    }

    /// `bytes` written in the byte-level alphabet (one scalar per byte).
    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var out = String.UnicodeScalarView()
        for b in bytes { out.append(Unicode.Scalar(scalarForByte[Int(b)])!) }
        return String(out)
    }

    /// The bytes a byte-level string stands for, or nil when a scalar is outside the mapping.
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.unicodeScalars.count)
        for s in text.unicodeScalars {
            guard let b = byte(for: s) else { return nil }
            out.append(b)
        }
        return out
    }
}
