/// A canonical Huffman code over symbols 0..<alphabetSize built from their counts.
///
/// Lengths come from the textbook construction (repeatedly merge the two lightest trees; ties go to
/// the lower symbol, then to the earlier tree, so the code is deterministic). Code lengths are
/// capped at `maxLength` (32 by default): when the optimal tree is deeper, every count is halved
/// (rounding down, but never below 1 for a symbol that occurs) and the tree rebuilt, until it fits.
/// That flattens the rare tail and costs a little over optimal; it only happens for extremely
/// skewed counts (a code longer than 32 bits needs a total count of at least Fib(34) ≈ 5.7 million
/// with Fibonacci-like counts). Codes are then assigned canonically (by length, then symbol), so
/// the lengths alone determine the code.
///
/// A stream is the number of symbols (LEB128) followed by the code words, most significant bit
/// first, padded with zero bits to a whole byte. The table is not in the stream: `tableBytes`
/// says what storing it costs (per symbol that occurs: its index gap and its length).
public struct HuffmanCode: Sendable {
    /// How often each symbol occurs (the counts the code was built from).
    public let counts: [Int]
    /// Each symbol's code length in bits (0 for a symbol that never occurs).
    public let lengths: [Int]
    /// Each symbol's code word in the low `lengths[i]` bits.
    public let codes: [UInt64]
    /// The cap on code lengths.
    public let maxLength: Int
    /// Whether the cap changed the lengths (counts were flattened to fit it).
    public let wasLengthLimited: Bool

    // Canonical decoding tables, indexed by length 1...maxLen.
    private let firstCode: [UInt64]
    private let firstIndex: [Int]
    private let countOfLength: [Int]
    private let sortedSymbols: [Int]
    private let longest: Int

    /// The code for `counts` (symbol i occurs counts[i] times). Counts must be non-negative;
    /// `maxLength` between 1 and 57, and at least enough for the symbols that occur.
    public init(counts: [Int], maxLength: Int = 32) throws {
        guard (1...57).contains(maxLength) else { throw CodingError("maxLength must be between 1 and 57, got \(maxLength)") }
        if let k = counts.firstIndex(where: { $0 < 0 }) { throw CodingError("count of symbol \(k) is negative (\(counts[k]))") }
        let present = counts.indices.filter { counts[$0] > 0 }
        guard present.count <= 1 << min(maxLength, 40) else {
            throw CodingError("\(present.count) symbols do not fit in codes of at most \(maxLength) bits")
        }
        var lengths = [Int](repeating: 0, count: counts.count)
        var limited = false
        if present.count == 1 {
            lengths[present[0]] = 1
        } else if present.count > 1 {
            var weights = present.map { counts[$0] }
            while true {
                let ls = HuffmanCode.treeLengths(weights)
                if ls.max()! <= maxLength {
                    for (k, s) in present.enumerated() { lengths[s] = ls[k] }
                    break
                }
                limited = true
                weights = weights.map { max(1, $0 >> 1) }
            }
        }
        self.counts = counts
        self.lengths = lengths
        self.maxLength = maxLength
        self.wasLengthLimited = limited

        // Canonical assignment.
        let order = present.sorted { lengths[$0] != lengths[$1] ? lengths[$0] < lengths[$1] : $0 < $1 }
        var codes = [UInt64](repeating: 0, count: counts.count)
        let longest = order.last.map { lengths[$0] } ?? 0
        var firstCode = [UInt64](repeating: 0, count: longest + 2)
        var firstIndex = [Int](repeating: 0, count: longest + 2)
        var countOfLength = [Int](repeating: 0, count: longest + 2)
        var code: UInt64 = 0
        var prevLen = order.first.map { lengths[$0] } ?? 0
        for (k, s) in order.enumerated() {
            let l = lengths[s]
            if k > 0 {
                code += 1
                code <<= UInt64(l - prevLen)
            }
            if countOfLength[l] == 0 { firstCode[l] = code; firstIndex[l] = k }
            countOfLength[l] += 1
            codes[s] = code
            prevLen = l
        }
        self.codes = codes
        self.firstCode = firstCode
        self.firstIndex = firstIndex
        self.countOfLength = countOfLength
        self.sortedSymbols = order
        self.longest = longest
    }

    /// Code lengths of an optimal prefix code for `weights` (all positive, at least two), by the
    /// two-queue method over the leaves sorted by weight.
    static func treeLengths(_ weights: [Int]) -> [Int] {
        let n = weights.count
        let leaves = (0..<n).sorted { weights[$0] != weights[$1] ? weights[$0] < weights[$1] : $0 < $1 }
        // Nodes 0..<n are leaves (by position in `leaves`), n... internal, in creation order.
        var weight = leaves.map { weights[$0] }
        var parent = [Int](repeating: -1, count: 2 * n - 1)
        weight.reserveCapacity(2 * n - 1)
        var li = 0, qi = n
        func takeLightest() -> Int {
            if li < n && (qi >= weight.count || weight[li] <= weight[qi]) { li += 1; return li - 1 }
            qi += 1
            return qi - 1
        }
        for _ in 0..<(n - 1) {
            let a = takeLightest(), b = takeLightest()
            weight.append(weight[a] + weight[b])
            parent[a] = weight.count - 1
            parent[b] = weight.count - 1
        }
        var depth = [Int](repeating: 0, count: 2 * n - 1)
        for node in stride(from: 2 * n - 3, through: 0, by: -1) { depth[node] = depth[parent[node]] + 1 }
        var out = [Int](repeating: 0, count: n)
        for (pos, s) in leaves.enumerated() { out[s] = depth[pos] }
        return out
    }

    /// The number of symbols in the alphabet.
    public var alphabetSize: Int { counts.count }
    /// The number of symbols counted.
    public var total: Int { counts.reduce(0, +) }
    /// Shannon entropy of the counts, bits per symbol.
    public var entropy: Double { shannonEntropy(counts: counts) }
    /// Total bits of the code words for the counted symbols.
    public var payloadBits: Int { zip(counts, lengths).reduce(0) { $0 + $1.0 * $1.1 } }
    /// Average code length over the counted symbols, bits per symbol (0 with no symbols).
    public var averageLength: Double { total == 0 ? 0 : Double(payloadBits) / Double(total) }

    /// Bytes to store the table: the number of symbols present, then for each (ascending) the gap
    /// from the previous present symbol's index and its length, as LEB128.
    public var tableBytes: Int { VarInt.sparseTableBytes(lengths) }

    /// The code word of symbol `s` as text of 0s and 1s ("" for a symbol that never occurs).
    public func codeString(_ s: Int) -> String {
        let l = lengths[s]
        guard l > 0 else { return "" }
        return String((0..<l).map { (codes[s] >> UInt64(l - 1 - $0)) & 1 == 1 ? "1" : "0" })
    }

    /// Encodes `symbols` (each must occur in the code) as a stream: LEB128 count, then code words.
    public func encode(_ symbols: [Int]) throws -> [UInt8] {
        var out: [UInt8] = []
        VarInt.append(UInt64(symbols.count), to: &out)
        var acc: UInt64 = 0
        var nbits = 0
        out.reserveCapacity(out.count + symbols.count / 2)
        for (k, s) in symbols.enumerated() {
            guard s >= 0, s < lengths.count, lengths[s] > 0 else {
                throw CodingError("symbol \(s) at index \(k) has no code word (it was not counted)")
            }
            let l = lengths[s]
            // Flush whole bytes first so the accumulator never overflows (l ≤ 57).
            while nbits >= 8 {
                nbits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt64(nbits)))
            }
            acc = (acc << UInt64(l)) | codes[s]
            nbits += l
        }
        while nbits >= 8 {
            nbits -= 8
            out.append(UInt8(truncatingIfNeeded: acc >> UInt64(nbits)))
        }
        if nbits > 0 { out.append(UInt8(truncatingIfNeeded: acc << UInt64(8 - nbits))) }
        return out
    }

    /// Decodes a stream written by `encode`. A truncated stream, bits that match no code word,
    /// non-zero padding or bytes after the end are errors (never a crash; work is bounded by the
    /// stream's length).
    public func decode(_ bytes: [UInt8]) throws -> [Int] {
        var pos = 0
        let n = try VarInt.read(bytes, &pos, what: "the symbol count")
        let payloadBits = (bytes.count - pos) * 8
        guard n <= UInt64(payloadBits) else {
            throw CodingError("corrupt stream: it claims \(n) symbols but has only \(payloadBits) bits of code words")
        }
        let count = Int(n)
        guard count == 0 || longest > 0 else { throw CodingError("corrupt stream: \(count) symbols but the code has no symbols") }
        var out = [Int]()
        out.reserveCapacity(count)
        var bitPos = pos * 8
        let end = bytes.count * 8
        for k in 0..<count {
            var code: UInt64 = 0
            var l = 0
            while true {
                guard bitPos < end else { throw CodingError("truncated stream: symbol \(k) of \(count) runs past the end") }
                let bit = (bytes[bitPos >> 3] >> UInt8(7 - (bitPos & 7))) & 1
                bitPos += 1
                code = (code << 1) | UInt64(bit)
                l += 1
                if countOfLength[l] > 0, code >= firstCode[l], code - firstCode[l] < UInt64(countOfLength[l]) {
                    out.append(sortedSymbols[firstIndex[l] + Int(code - firstCode[l])])
                    break
                }
                guard l < longest else {
                    throw CodingError("corrupt stream: bits \(bitPos - l)..<\(bitPos) match no code word (symbol \(k))")
                }
            }
        }
        let usedBytes = (bitPos + 7) / 8
        guard usedBytes == bytes.count else {
            throw CodingError("corrupt stream: \(bytes.count - usedBytes) bytes after the last symbol")
        }
        if bitPos & 7 != 0, bytes[bitPos >> 3] & UInt8(0xFF >> (bitPos & 7)) != 0 {
            throw CodingError("corrupt stream: non-zero padding after the last symbol")
        }
        return out
    }
}
