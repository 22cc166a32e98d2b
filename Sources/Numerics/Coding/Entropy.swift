import Foundation

/// An error from an entropy coder: a stream that is truncated or corrupt, a symbol the code does
/// not know, or a table that cannot be built. The message says which and where.
public struct CodingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, in words.
    public let message: String
    /// An error with `message`.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// The distinct values of a discrete array and how often each occurs, values ascending: the
/// alphabet entropy coders work over (symbol `i` is `values[i]`).
public struct SymbolCounts: Equatable, Sendable {
    /// The distinct values, ascending.
    public let values: [Double]
    /// How often each of `values` occurs.
    public let counts: [Int]
    /// Each input element as its symbol index into `values`.
    public let symbols: [Int]

    /// Counts the distinct values of `xs` (NaN is refused: it has no place in an alphabet; -0 and
    /// +0 are one value).
    public init(_ xs: [Double]) throws {
        if let k = xs.firstIndex(where: { $0.isNaN }) { throw CodingError("NaN at index \(k) is not a symbol") }
        var index: [Double: Int] = [:]
        for x in xs where index[x == 0 ? 0 : x] == nil { index[x == 0 ? 0 : x] = 0 }
        let sorted = index.keys.sorted()
        for (i, v) in sorted.enumerated() { index[v] = i }
        var counts = [Int](repeating: 0, count: sorted.count)
        var symbols = [Int](repeating: 0, count: xs.count)
        for (k, x) in xs.enumerated() {
            let s = index[x == 0 ? 0 : x]!
            symbols[k] = s
            counts[s] += 1
        }
        values = sorted
        self.counts = counts
        self.symbols = symbols
    }

    /// The number of elements counted.
    public var total: Int { counts.reduce(0, +) }
    /// Shannon entropy of the counts in bits per symbol.
    public var entropy: Double { shannonEntropy(counts: counts) }
}

/// The Shannon entropy of a distribution given by counts, in bits per symbol:
/// H = −Σ pᵢ log₂ pᵢ with pᵢ = countᵢ / total (zero counts contribute nothing; 0 for no counts
/// or one symbol). Negative counts are a precondition failure.
public func shannonEntropy(counts: [Int]) -> Double {
    precondition(counts.allSatisfy { $0 >= 0 }, "counts must be non-negative")
    let total = Double(counts.reduce(0, +))
    guard total > 0 else { return 0 }
    var h = 0.0
    for c in counts where c > 0 {
        let p = Double(c) / total
        h -= p * log2(p)
    }
    return max(0, h)
}

/// The Shannon entropy of the empirical distribution of `xs`'s values, in bits per symbol.
public func shannonEntropy(_ xs: [Double]) throws -> Double {
    try SymbolCounts(xs).entropy
}

/// Unsigned LEB128: 7 bits per byte, low bits first, the high bit set on every byte but the last.
enum VarInt {
    /// Bytes to store a table of per-symbol values that are mostly zero: the number of nonzero
    /// entries, then for each (ascending) the gap from the previous nonzero index and its value, as
    /// LEB128 (the stored form of a Huffman code's lengths and of an rANS frequency table).
    static func sparseTableBytes<T: BinaryInteger>(_ values: [T]) -> Int {
        var out: [UInt8] = []
        append(UInt64(values.filter { $0 > 0 }.count), to: &out)
        var prev = -1
        for s in values.indices where values[s] > 0 {
            append(UInt64(s - prev), to: &out)
            append(UInt64(values[s]), to: &out)
            prev = s
        }
        return out.count
    }

    static func append(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// Reads one number at `pos` (advancing it); errors on a truncated or over-long number.
    static func read(_ bytes: [UInt8], _ pos: inout Int, what: String) throws -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard pos < bytes.count else { throw CodingError("truncated stream: \(what) runs past the end at byte \(pos)") }
            let b = bytes[pos]
            pos += 1
            guard shift < 64, !(shift == 63 && b > 1) else { throw CodingError("corrupt stream: \(what) is longer than 64 bits (byte \(pos - 1))") }
            v |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return v }
            shift += 7
        }
    }

    static func size(_ value: UInt64) -> Int {
        var n = 1
        var v = value
        while v >= 0x80 { v >>= 7; n += 1 }
        return n
    }
}
