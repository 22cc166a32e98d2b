import Foundation

/// A static range-asymmetric-numeral-system (rANS) coder over symbols 0..<alphabetSize, with a
/// 32-bit state and byte-wise renormalisation (the state stays in [2²³, 2³¹)).
///
/// The counts are normalised to frequencies summing to M = 2^scaleBits (every symbol that occurs
/// gets at least 1), so a symbol costs log₂(M / fᵢ) bits: within a fraction of a percent of the
/// entropy when M is large against the alphabet, plus 4 bytes of final state per stream.
/// `scaleBits` is 16, or more (up to 22) when more than 2¹⁴ distinct symbols occur.
///
/// A stream is the number of symbols (LEB128), then the final state (4 bytes, big-endian), then
/// the renormalisation bytes in the order the decoder reads them. The frequency table is not in
/// the stream; `tableBytes` is what storing it costs (reported separately).
public struct RANSCode: Sendable {
    /// The counts the code was built from.
    public let counts: [Int]
    /// The normalised frequencies (sum 2^scaleBits; 0 exactly for the symbols that never occur).
    public let frequencies: [UInt32]
    /// The cumulative frequencies (cumulative[i] = Σ_{j<i} frequencies[j]; one more entry than symbols).
    public let cumulative: [UInt32]
    /// log₂ M.
    public let scaleBits: Int
    private let slots: [UInt32]

    static let lower: UInt32 = 1 << 23

    /// The coder for `counts` (non-negative; at most 2²² symbols occur).
    public init(counts: [Int]) throws {
        if let k = counts.firstIndex(where: { $0 < 0 }) { throw CodingError("count of symbol \(k) is negative (\(counts[k]))") }
        let present = counts.indices.filter { counts[$0] > 0 }
        guard present.count <= 1 << 22 else { throw CodingError("rANS takes at most 4194304 distinct symbols, got \(present.count)") }
        var bits = 16
        while (1 << bits) < 4 * present.count && bits < 22 { bits += 1 }
        scaleBits = bits
        self.counts = counts
        let m = 1 << bits
        let total = counts.reduce(0, +)
        var f = [Int](repeating: 0, count: counts.count)
        if total > 0 {
            for s in present { f[s] = max(1, Int((Double(counts[s]) * Double(m) / Double(total)).rounded())) }
            var diff = f.reduce(0, +) - m
            // Fix the sum: take from (or give to) the symbols where it changes the coded size least,
            // i.e. the most frequent ones, one unit at a time in rounds.
            let bySize = present.sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }
            while diff != 0 {
                var changed = false
                for s in bySize where diff != 0 {
                    if diff > 0, f[s] > 1 { f[s] -= 1; diff -= 1; changed = true }
                    else if diff < 0 { f[s] += 1; diff += 1; changed = true }
                }
                precondition(changed, "frequency normalisation cannot reach the total")
            }
        }
        frequencies = f.map { UInt32($0) }
        var cum = [UInt32](repeating: 0, count: counts.count + 1)
        for i in 0..<counts.count { cum[i + 1] = cum[i] + UInt32(f[i]) }
        cumulative = cum
        var slots = [UInt32](repeating: 0, count: total > 0 ? m : 0)
        for s in present { for k in Int(cum[s])..<Int(cum[s + 1]) { slots[k] = UInt32(s) } }
        self.slots = slots
    }

    /// Shannon entropy of the counts, bits per symbol.
    public var entropy: Double { shannonEntropy(counts: counts) }
    /// The number of symbols counted.
    public var total: Int { counts.reduce(0, +) }

    /// Bytes to store the table: the number of symbols present, then for each (ascending) the gap
    /// from the previous present index and its frequency, as LEB128.
    public var tableBytes: Int { VarInt.sparseTableBytes(frequencies) }

    /// Encodes `symbols` (each must occur in the counts).
    public func encode(_ symbols: [Int]) throws -> [UInt8] {
        var rev: [UInt8] = []
        rev.reserveCapacity(symbols.count / 2 + 8)
        var x = RANSCode.lower
        let shift = UInt32(scaleBits)
        for k in stride(from: symbols.count - 1, through: 0, by: -1) {
            let s = symbols[k]
            guard s >= 0, s < frequencies.count, frequencies[s] > 0 else {
                throw CodingError("symbol \(s) at index \(k) has no frequency (it was not counted)")
            }
            let f = frequencies[s]
            let xmax = ((RANSCode.lower >> shift) << 8) * f
            while x >= xmax {
                rev.append(UInt8(truncatingIfNeeded: x))
                x >>= 8
            }
            x = ((x / f) << shift) + (x % f) + cumulative[s]
        }
        rev.append(UInt8(truncatingIfNeeded: x))
        rev.append(UInt8(truncatingIfNeeded: x >> 8))
        rev.append(UInt8(truncatingIfNeeded: x >> 16))
        rev.append(UInt8(truncatingIfNeeded: x >> 24))
        var out: [UInt8] = []
        VarInt.append(UInt64(symbols.count), to: &out)
        out.append(contentsOf: rev.reversed())
        return out
    }

    /// Decodes a stream written by `encode`. A truncated stream, a state out of range, a final state
    /// that is not the initial one, or bytes after the end are errors. `limit` bounds the symbol
    /// count a stream may claim (a one-symbol alphabet codes any count in zero bytes).
    public func decode(_ bytes: [UInt8], limit: Int = 1 << 28) throws -> [Int] {
        var pos = 0
        let n = try VarInt.read(bytes, &pos, what: "the symbol count")
        guard n <= UInt64(limit) else { throw CodingError("corrupt stream: it claims \(n) symbols, over the limit of \(limit)") }
        let count = Int(n)
        guard bytes.count - pos >= 4 else { throw CodingError("truncated stream: the 4-byte state is missing") }
        var x = UInt32(bytes[pos]) << 24 | UInt32(bytes[pos + 1]) << 16 | UInt32(bytes[pos + 2]) << 8 | UInt32(bytes[pos + 3])
        pos += 4
        guard x >= RANSCode.lower, x < 1 << 31 else { throw CodingError("corrupt stream: state \(x) is out of range") }
        guard count == 0 || !slots.isEmpty else { throw CodingError("corrupt stream: \(count) symbols but the code has no symbols") }
        // Each symbol takes at least log₂(M / fmax) bits; bound the count by the bytes there are.
        let m = UInt32(1) << UInt32(scaleBits)
        if let fmax = frequencies.max(), fmax < m, count > 0 {
            let minBits = Double(scaleBits) - log2(Double(fmax))
            let most = (Double((bytes.count - pos) * 8) + 32) / minBits + 1
            guard Double(count) <= most else {
                throw CodingError("corrupt stream: it claims \(count) symbols but \(bytes.count - pos) bytes hold at most \(Int(most))")
            }
        }
        var out = [Int]()
        out.reserveCapacity(count)
        let mask = m - 1
        let shift = UInt32(scaleBits)
        for k in 0..<count {
            let slot = x & mask
            let s = Int(slots[Int(slot)])
            out.append(s)
            x = frequencies[s] * (x >> shift) + slot - cumulative[s]
            while x < RANSCode.lower {
                guard pos < bytes.count else { throw CodingError("truncated stream: symbol \(k) of \(count) runs past the end") }
                x = (x << 8) | UInt32(bytes[pos])
                pos += 1
            }
        }
        guard x == RANSCode.lower else { throw CodingError("corrupt stream: the final state \(x) is not the initial state (the bytes were changed)") }
        guard pos == bytes.count else { throw CodingError("corrupt stream: \(bytes.count - pos) bytes after the last symbol") }
        return out
    }
}

