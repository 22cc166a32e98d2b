import Numerics
import Plots

/// Bytes as a PruneLang value (what `huffman(x).encode(x)` returns): `len(b)` and `b.count` are
/// the number of bytes, `b[i]` a byte as a number, `b.bits` the count in bits, `b.hex` the bytes
/// in hexadecimal (the first 64).
public final class BytesObject: HostObject {
    /// The bytes.
    public let bytes: [UInt8]
    /// Wraps `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// "bytes".
    public var typeName: String { "bytes" }
    /// count, bits, hex.
    public var memberNames: [String] { ["bits", "count", "hex"] }
    /// The member `name`.
    public func member(_ name: String) throws -> Value? {
        switch name {
        case "count": return .number(Double(bytes.count))
        case "bits": return .number(Double(bytes.count * 8))
        case "hex": return .string(hex)
        default: return nil
        }
    }
    private var hex: String {
        let digits = Array("0123456789abcdef")
        return String(bytes.prefix(64).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }) + (bytes.count > 64 ? "…" : "")
    }
    /// The number of bytes.
    public var length: Int? { bytes.count }
    /// Byte `i` as a number.
    public func element(at i: Int) throws -> Value { .number(Double(bytes[i])) }
    /// `<bytes: 12>`.
    public var summary: String { "<bytes: \(bytes.count)>" }
    /// The summary and the first bytes in hex.
    public func display() -> MIMEBundle { MIMEBundle(text: "<bytes: \(bytes.count)> " + hex) }
    /// Equal bytes are equal.
    public func isEqual(to other: any HostObject) -> Bool { (other as? BytesObject)?.bytes == bytes }
}

/// `x` rounded to 4 decimals, for one-line summaries.
private func r4(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }

/// A Huffman code built from a discrete array (`huffman(x)`): its table, its cost in bits per
/// symbol against the entropy, and methods to encode an array to bytes and decode bytes back.
public final class HuffmanObject: HostObject {
    /// The code over symbol indices.
    public let code: HuffmanCode
    /// The value of each symbol index.
    public let values: [Double]

    /// The code for `counts` (symbol i stands for values[i]).
    public init(code: HuffmanCode, values: [Double]) {
        self.code = code
        self.values = values
    }

    /// "huffman".
    public var typeName: String { "huffman" }
    /// The members.
    public var memberNames: [String] { ["bits_per_symbol", "count", "decode", "encode", "entropy", "max_length", "symbols", "table", "table_bytes"] }

    /// The code table: symbol, count, code length and code bits, most frequent first (the first
    /// `limit` symbols when given).
    public func table(limit: Int? = nil) -> Table {
        var order = code.counts.indices.filter { code.counts[$0] > 0 }
            .sorted { code.counts[$0] != code.counts[$1] ? code.counts[$0] > code.counts[$1] : $0 < $1 }
        var title = ""
        if let limit, order.count > limit {
            title = " (the \(limit) most frequent of \(order.count) symbols; .table has all)"
            order = Array(order.prefix(limit))
        }
        let rows: [[Table.Cell]] = order.map { s in
            [.text(formatNumber(values[s])), .integer(code.counts[s]), .integer(code.lengths[s]), .text(code.codeString(s))]
        }
        return Table(title: "Huffman code: \(formatNumber(r4(code.averageLength))) bits/symbol, entropy \(formatNumber(r4(code.entropy)))" + title,
                     columns: [Table.Column("symbol", alignment: .right), Table.Column("count"), Table.Column("length"), Table.Column("code", alignment: .left)],
                     rows: rows)
    }

    /// The member `name`.
    public func member(_ name: String) throws -> Value? {
        switch name {
        case "table": return .object(TableObject(table()))
        case "bits_per_symbol": return .number(code.averageLength)
        case "entropy": return .number(code.entropy)
        case "count": return .number(Double(code.total))
        case "symbols": return .vector(values)
        case "max_length": return .number(Double(code.lengths.max() ?? 0))
        case "table_bytes": return .number(Double(code.tableBytes))
        case "encode":
            return .builtin(Builtin(
                name: "encode", params: [.required("x", "vector|list|matrix", "values that occur in the code")], returns: "bytes", category: "compression",
                doc: "The values of x as a Huffman stream: the number of symbols (LEB128), then the code words, most significant bit first, zero-padded to a byte.",
                example: "") { [self] a in
                    let xs = try a.numbers("x", flattenMatrix: true)
                    var index: [Double: Int] = [:]
                    for (i, v) in values.enumerated() { index[v] = i }
                    let symbols = try xs.enumerated().map { k, x -> Int in
                        guard let s = index[x == 0 ? 0 : x] else {
                            throw a.fail(argument: "x", "value \(formatNumber(x)) at index \(k) is not in the code (it did not occur when the code was built)")
                        }
                        return s
                    }
                    do { return .object(BytesObject(try code.encode(symbols))) } catch let e as CodingError { throw a.fail(argument: "x", e.message) }
                })
        case "decode":
            return .builtin(Builtin(
                name: "decode", params: [.required("bytes", "bytes|list", "from .encode, or byte values 0–255")], returns: "vector", category: "compression",
                doc: "The values a Huffman stream holds; a truncated or corrupt stream is an error (never a crash).",
                example: "") { [self] a in
                    let raw: [UInt8]
                    if case .object(let o) = a.value("bytes"), let b = o as? BytesObject {
                        raw = b.bytes
                    } else if case .number = a.value("bytes") {
                        throw a.typeError("bytes", expected: "bytes (from .encode) or a list of byte values")
                    } else {
                        raw = try a.numbers("bytes").enumerated().map { k, x in
                            guard let i = exactInt(x), (0...255).contains(i) else {
                                throw a.fail(argument: "bytes", "bytes must be whole numbers 0 to 255, got \(formatNumber(x)) at index \(k)")
                            }
                            return UInt8(i)
                        }
                    }
                    do { return .vector(try code.decode(raw).map { values[$0] }) } catch let e as CodingError { throw a.fail(argument: "bytes", e.message) }
                })
        default: return nil
        }
    }

    /// `<huffman: 5 symbols, 2.1 bits/symbol (entropy 2.05)>`.
    public var summary: String {
        "<huffman: \(values.count) symbols, \(formatNumber(r4(code.averageLength))) bits/symbol (entropy \(formatNumber(r4(code.entropy))))>"
    }
    /// The summary and the table.
    public func display() -> MIMEBundle {
        let t = table(limit: 32)
        return MIMEBundle(text: summary + "\n" + t.text(), html: t.html())
    }
}

/// The result of `quantize(W)`: it stands for the dequantised matrix wherever a matrix is expected,
/// and carries the codes, the scales and the error.
public final class QuantizedMatrixObject: HostObject {
    /// The original.
    public let original: Matrix
    /// The quantisation.
    public let q: RTNQuantization

    /// Wraps a quantisation of `original`.
    public init(original: Matrix, q: RTNQuantization) {
        self.original = original
        self.q = q
    }

    /// "quantized".
    public var typeName: String { "quantized" }
    /// The members.
    public var memberNames: [String] { ["bits", "codes", "entropy", "figure", "max_error", "mse", "new_zeros", "per", "scales", "snr_db", "symmetric", "values", "zero_points"] }
    /// The dequantised matrix.
    public func matrixValue() throws -> Matrix? { q.dequantized }

    /// The member `name`.
    public func member(_ name: String) throws -> Value? {
        switch name {
        case "values": return .matrix(q.dequantized)
        case "codes": return .matrix(try Matrix(rows: original.rows, cols: original.cols, data: q.codes.map { Float($0) }))
        case "scales": return .vector(q.scales.map(Double.init))
        case "zero_points": return .vector(q.zeroPoints.map(Double.init))
        case "bits": return .number(Double(q.bits))
        case "symmetric": return .bool(q.symmetric)
        case "per": return .string(q.groups.description)
        case "mse": return .number(q.mse)
        case "snr_db": return .number(q.snrDB)
        case "max_error": return .number(q.maxError)
        case "new_zeros": return .number(Double(q.newZeros))
        case "entropy": return .number(shannonEntropy(counts: Dictionary(q.codedCodes.map { ($0, 1) }, uniquingKeysWith: +).values.map { $0 }))
        case "figure": return .object(FigureObject(figure))
        default: return nil
        }
    }

    /// Histograms of the weights before and after (zeros kept by the mask left out of both).
    public var figure: Figure {
        let mask = q.mask
        var before: [Double] = [], after: [Double] = []
        for k in original.data.indices where mask?[k] ?? true {
            before.append(Double(original.data[k]))
            after.append(Double(q.dequantized.data[k]))
        }
        let lo = before.min() ?? 0, hi = max(before.max() ?? 1, lo + 1e-12)
        let bins = HistogramBins.edges(stride(from: 0, through: 80, by: 1).map { lo + (hi - lo) * Double($0) / 80 })
        return Figure(title: "\(q.bits)-bit \(q.symmetric ? "symmetric" : "asymmetric") per \(q.groups): SNR \(formatNumber((q.snrDB * 100).rounded() / 100)) dB",
                      xLabel: "weight", yLabel: "count",
                      series: [.histogram(values: before, bins: bins, label: "before"), .histogram(values: after, bins: bins, label: "after")])
    }

    /// `<quantized 4-bit symmetric per row: 3×4, SNR 20.1 dB>`.
    public var summary: String {
        "<quantized \(q.bits)-bit \(q.symmetric ? "symmetric" : "asymmetric") per \(q.groups): \(original.rows)×\(original.cols), SNR \(formatNumber((q.snrDB * 100).rounded() / 100)) dB>"
    }
    /// The summary, the error and the dequantised matrix.
    public func display() -> MIMEBundle {
        MIMEBundle(text: summary + "\nmse \(formatNumber(q.mse)), max error \(formatNumber(q.maxError)), scales \(q.scales.count)\n" + Render.text(.matrix(q.dequantized)))
    }
}
