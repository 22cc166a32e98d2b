/// The bytes one weight matrix takes at each stage of the pipeline: dense Float32 → pruned →
/// k-bit quantised → entropy-coded. Every stage after "dense" stores the sparsity pattern the
/// cheapest honest way (`PatternCost`) whenever the matrix has zeros, and the quantised stages
/// store their scales (Float32) and zero points. The entropy-coded stage is measured by really
/// coding the survivors' codes with rANS (stream plus frequency table), not estimated.
public struct CompressionStages: Sendable {
    /// Elements of the dense original (more than `elements` when rows were removed).
    public let denseElements: Int
    /// Elements now.
    public let elements: Int
    /// Non-zero elements now (the survivors that get codes).
    public let nonzeros: Int
    /// The quantisation used.
    public let bits: Int
    /// Dense Float32 bytes: denseElements × 4.
    public let denseBytes: Int
    /// Pruned: Float32 survivors plus the pattern (or dense Float32 when that is smaller).
    public let prunedBytes: Int
    /// k-bit codes packed, with scales and zero points: the survivors' plus the pattern, or all.
    public let quantizedBytes: Int
    /// Entropy-coded codes (rANS stream and table) with the coded scales and zero points: the
    /// survivors' plus the pattern, or all.
    public let codedBytes: Int
    /// The pattern's cost (nil when the matrix has no zeros, so it needs no pattern).
    public let pattern: PatternCost?
    /// Bytes of the pattern (0 without one).
    public let patternBytes: Int
    /// Bytes of scales and zero points, as stored (Float32 and Int32).
    public let scaleBytes: Int
    /// Bytes of scales and zero points in the entropy-coded stage: each of their four byte planes
    /// coded with its own rANS code (stream and table), or raw where that is smaller. Lossless:
    /// the exponent byte of similar scales is nearly constant.
    public let codedScaleBytes: Int
    /// Shannon entropy of the coded stage's codes, bits per code.
    public let codeEntropy: Double
    /// Bytes of the rANS stream of the codes (without the table).
    public let ransStreamBytes: Int
    /// Bytes of the rANS frequency table.
    public let ransTableBytes: Int
    /// Bytes of the Huffman-coded codes (code words plus table), for comparison.
    public let huffmanBytes: Int
    /// The quantisation itself.
    public let quantization: RTNQuantization

    /// Whether the quantised stage stores the pattern and the survivors' codes (true) or every
    /// weight's code (false: cheaper when there are few zeros, e.g. the stray zeros of a GGUF).
    public let quantizedUsesPattern: Bool
    /// The same choice for the entropy-coded stage.
    public let codedUsesPattern: Bool

    /// Measures `w` quantised to `bits` (see `quantizeRTN`); `denseElements` is the size of the
    /// original before structured pruning (default: `w`'s own). When `w` has zeros each stage is
    /// stored the cheaper way: the pattern plus the survivors (zeros kept exactly by the mask), or
    /// every weight as if dense (zeros quantised like any value); `quantization` is the masked one.
    public init(_ w: Matrix, bits: Int, symmetric: Bool = true, groups: QuantizationGroups = .tensor,
                denseElements: Int? = nil) throws {
        let q = try quantizeRTN(w, bits: bits, symmetric: symmetric, groups: groups, keepZeros: true)
        quantization = q
        self.bits = bits
        elements = w.count
        self.denseElements = max(denseElements ?? w.count, w.count)
        let nz = w.data.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }
        nonzeros = nz
        denseBytes = self.denseElements * 4
        if nz < w.count {
            let p = PatternCost(mask: w.data.map { $0 != 0 })
            pattern = p
            patternBytes = (p.cheapest.bits + 7) / 8
        } else {
            pattern = nil
            patternBytes = 0
        }
        let masked = try CompressionStages.measure(q)
        scaleBytes = (q.groupCount * q.bitsPerGroup + 7) / 8
        codedScaleBytes = try CompressionStages.codedSideBytes(q)
        let packedMasked = (q.codedCount * bits + 7) / 8 + patternBytes + scaleBytes
        let codedMasked = masked.stream + masked.table + patternBytes + codedScaleBytes
        var chosen = masked
        if nz < w.count {
            // The dense alternative: every weight coded, no pattern.
            let all = try quantizeRTN(w, bits: bits, symmetric: symmetric, groups: groups, keepZeros: false)
            let plain = try CompressionStages.measure(all)
            let allScales = (all.groupCount * all.bitsPerGroup + 7) / 8
            let packedAll = (w.count * bits + 7) / 8 + allScales
            let codedAll = plain.stream + plain.table + (try CompressionStages.codedSideBytes(all))
            prunedBytes = min(nz * 4 + patternBytes, w.count * 4)
            quantizedUsesPattern = packedMasked <= packedAll
            quantizedBytes = min(packedMasked, packedAll)
            codedUsesPattern = codedMasked <= codedAll
            codedBytes = min(codedMasked, codedAll)
            if !codedUsesPattern { chosen = plain }
        } else {
            prunedBytes = w.count * 4
            quantizedUsesPattern = false
            codedUsesPattern = false
            quantizedBytes = packedMasked
            codedBytes = codedMasked
        }
        codeEntropy = chosen.entropy
        ransStreamBytes = chosen.stream
        ransTableBytes = chosen.table
        huffmanBytes = chosen.huffman
    }

    /// The scales (and zero points) coded losslessly by byte planes.
    static func codedSideBytes(_ q: RTNQuantization) throws -> Int {
        var words: [[UInt32]] = [q.scales.map(\.bitPattern)]
        if !q.symmetric { words.append(q.zeroPoints.map { UInt32(bitPattern: $0) }) }
        var total = 0
        for w in words {
            for plane in 0..<4 {
                let bytes = w.map { Int(($0 >> UInt32(8 * plane)) & 0xFF) }
                var counts = [Int](repeating: 0, count: 256)
                for b in bytes { counts[b] += 1 }
                let code = try RANSCode(counts: counts)
                total += min(bytes.count, try code.encode(bytes).count + code.tableBytes)
            }
        }
        return total
    }

    /// The codes' entropy and their coded sizes (rANS stream and table, Huffman with its table).
    static func measure(_ q: RTNQuantization) throws -> (entropy: Double, stream: Int, table: Int, huffman: Int) {
        let coded = q.codedCodes
        // The codes as symbols 0..<2^bits (symmetric codes shifted by 2^(bits−1)).
        let offset: Int32 = q.symmetric ? Int32(1 << (q.bits - 1)) : 0
        var counts = [Int](repeating: 0, count: 1 << q.bits)
        let symbols = coded.map { Int($0 + offset) }
        for s in symbols { counts[s] += 1 }
        let rans = try RANSCode(counts: counts)
        let stream = try rans.encode(symbols).count
        let huff = try HuffmanCode(counts: counts)
        let huffman = (huff.payloadBits + 7) / 8 + VarInt.size(UInt64(symbols.count)) + huff.tableBytes
        return (shannonEntropy(counts: counts), stream, rans.tableBytes, huffman)
    }

    /// Bits per original (dense) weight at a stage's byte count.
    public func bitsPerWeight(_ bytes: Int) -> Double {
        denseElements == 0 ? 0 : Double(bytes) * 8 / Double(denseElements)
    }
}

/// Packs integer codes `bits` wide (their low bits, two's complement), first code in the low bits
/// of the first byte: the plain k-bit file a general-purpose compressor would be given.
public func packCodes(_ codes: [Int32], bits: Int) -> [UInt8] {
    precondition((1...8).contains(bits))
    var out = [UInt8](repeating: 0, count: (codes.count * bits + 7) / 8)
    let mask = UInt32((1 << bits) - 1)
    var bitPos = 0
    for c in codes {
        let v = UInt32(bitPattern: c) & mask
        let byte = bitPos >> 3, off = bitPos & 7
        out[byte] |= UInt8(truncatingIfNeeded: v << UInt32(off))
        if off + bits > 8 { out[byte + 1] |= UInt8(truncatingIfNeeded: v >> UInt32(8 - off)) }
        bitPos += bits
    }
    return out
}
