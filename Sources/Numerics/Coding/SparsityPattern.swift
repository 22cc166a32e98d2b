import Foundation

/// What storing a sparsity pattern (which of n weights are non-zero) costs, three honest ways,
/// plus the information-theoretic floor. All in bits.
public struct PatternCost: Equatable, Sendable {
    /// The number of weights.
    public let count: Int
    /// The number of non-zero weights.
    public let nonzeros: Int
    /// One bit per weight.
    public let bitmapBits: Int
    /// The zero runs before each non-zero (and the trailing run) coded with a Huffman code, code
    /// words plus the table (distinct run lengths as LEB128 gaps, and their code lengths).
    public let runLengthBits: Int
    /// Each non-zero's position as a ⌈log₂ n⌉-bit number.
    public let positionBits: Int
    /// log₂ C(n, k): the fewest bits any code can spend when every pattern with k non-zeros is
    /// equally likely (no real code here; the floor for comparison).
    public let boundBits: Double
    /// The cheapest of bitmap, run-length and positions: its name and its bits.
    public var cheapest: (method: String, bits: Int) {
        let options = [("bitmap", bitmapBits), ("run-length", runLengthBits), ("positions", positionBits)]
        return options.min { $0.1 < $1.1 }!
    }

    /// The cost of the pattern where `isNonzero` is true, in order.
    public init(mask isNonzero: [Bool]) {
        let n = isNonzero.count
        count = n
        var runs: [Int: Int] = [:]
        var k = 0
        var run = 0
        var gaps: [Int] = []
        gaps.reserveCapacity(n / 4)
        for b in isNonzero {
            if b { gaps.append(run); runs[run, default: 0] += 1; run = 0; k += 1 } else { run += 1 }
        }
        gaps.append(run)
        runs[run, default: 0] += 1
        nonzeros = k
        bitmapBits = n
        positionBits = k * PatternCost.ceilLog2(n)
        boundBits = PatternCost.log2Binomial(n, k)
        // Huffman over the distinct run lengths.
        let values = runs.keys.sorted()
        let counts = values.map { runs[$0]! }
        if values.count == 1 {
            // One run length: the table alone says everything (value and the number of runs).
            var table: [UInt8] = []
            VarInt.append(UInt64(values[0]), to: &table)
            VarInt.append(UInt64(gaps.count), to: &table)
            runLengthBits = table.count * 8
        } else {
            let code = try! HuffmanCode(counts: counts)
            var table: [UInt8] = []
            VarInt.append(UInt64(values.count), to: &table)
            var prev = 0
            for (i, v) in values.enumerated() {
                VarInt.append(UInt64(v - prev), to: &table)
                VarInt.append(UInt64(code.lengths[i]), to: &table)
                prev = v
            }
            VarInt.append(UInt64(gaps.count), to: &table)
            runLengthBits = code.payloadBits + table.count * 8
        }
    }

    /// The cost for `n` weights with `k` non-zeros at random positions, without a real pattern:
    /// bitmap and positions exactly, run-length as its expected entropy (the runs of an i.i.d.
    /// pattern are geometric: n·H_b(k/n) bits in all), and the floor log₂ C(n, k).
    public init(count n: Int, nonzeros k: Int) {
        precondition(n >= 0 && k >= 0 && k <= n)
        count = n
        nonzeros = k
        bitmapBits = n
        positionBits = k * PatternCost.ceilLog2(n)
        let p = n == 0 ? 0 : Double(k) / Double(n)
        let hb = (p <= 0 || p >= 1) ? 0 : -(p * log2(p) + (1 - p) * log2(1 - p))
        runLengthBits = Int((Double(n) * hb).rounded(.up))
        boundBits = PatternCost.log2Binomial(n, k)
    }

    static func ceilLog2(_ n: Int) -> Int {
        guard n > 1 else { return 0 }
        return Int.bitWidth - (n - 1).leadingZeroBitCount
    }

    /// log₂ C(n, k) through lgamma.
    static func log2Binomial(_ n: Int, _ k: Int) -> Double {
        guard k > 0, k < n else { return 0 }
        return (lgamma(Double(n) + 1) - lgamma(Double(k) + 1) - lgamma(Double(n - k) + 1)) / log(2)
    }

    /// Equal when the counts and the cost of every encoding are equal.
    public static func == (a: PatternCost, b: PatternCost) -> Bool {
        a.count == b.count && a.nonzeros == b.nonzeros && a.bitmapBits == b.bitmapBits
            && a.runLengthBits == b.runLengthBits && a.positionBits == b.positionBits && a.boundBits == b.boundBits
    }
}
