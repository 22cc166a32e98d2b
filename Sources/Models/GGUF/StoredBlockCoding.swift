import Foundation
import Numerics

/// A GGUF tensor's stored blocks entropy-coded without loss, field by field: the quantised file
/// itself (llama.cpp's or PruneLang's Q4_0, Q4_K, …) made smaller, where `CompressionStages`
/// codes PruneLang's teaching quantisation instead.
///
/// Each field of a block (an fp16 scale, packed 4-bit codes, 8-bit codes, packed sub-block
/// scales) forms one stream across all the tensor's blocks, cut into symbols of its natural width:
/// a byte of two 4-bit codes into two nibble symbols, an fp16 or Float32 into its byte planes
/// (each plane its own stream: the exponent byte of similar scales is nearly constant), any other
/// byte as a byte. Each stream gets its own static rANS code (`RANSCode`: stream plus frequency
/// table) and is kept raw where that is smaller. `decode` rebuilds the stored bytes exactly.
public struct StoredBlockCoding: Sendable {
    /// One field of a block: `length` bytes at `offset`, read as symbols of `symbol`.
    public struct Field: Sendable, Equatable {
        /// How a field's bytes become symbols.
        public enum Symbol: Sendable, Equatable {
            /// Each byte as two 4-bit symbols (low nibble first).
            case nibbles
            /// Each byte as an 8-bit symbol.
            case bytes
            /// Little-endian values of `width` bytes, as `width` byte planes (one stream each).
            case planes(width: Int)
        }
        /// The field's name in ggml's block struct (d, qs, scales, …).
        public let name: String
        /// Its first byte within a block.
        public let offset: Int
        /// Its bytes per block.
        public let length: Int
        /// How its bytes become symbols.
        public let symbol: Symbol
    }

    /// One coded stream: a field (or one byte plane of it) across all blocks.
    public struct Stream: Sendable {
        /// The field's name, with the plane for a multi-byte field ("d.0", "d.1").
        public let name: String
        /// Bits per symbol (4 or 8).
        public let symbolBits: Int
        /// Symbols in the stream.
        public let count: Int
        /// Bytes stored as they are (count × symbolBits / 8).
        public let rawBytes: Int
        /// Bytes coded: the rANS stream and its frequency table, or the raw bytes when smaller.
        public let codedBytes: Int
        /// The rANS stream (empty when the stream is kept raw).
        let coded: [UInt8]
        /// The code (nil when kept raw).
        let code: RANSCode?
        /// The symbols themselves when kept raw.
        let raw: [UInt8]
        /// Shannon entropy of the symbols, bits per symbol.
        public let entropy: Double
    }

    /// The stored type.
    public let type: GGMLType
    /// Blocks coded.
    public let blocks: Int
    /// The streams, in field order.
    public let streams: [Stream]

    /// Bytes as stored.
    public var storedBytes: Int { blocks * type.bytesPerBlock }
    /// Bytes coded (every stream's `codedBytes`).
    public var codedBytes: Int { streams.reduce(0) { $0 + $1.codedBytes } }

    /// The fields of one block of `type`, in byte order; nil for types without a layout here.
    public static func fields(of type: GGMLType) -> [Field]? {
        func f(_ name: String, _ offset: Int, _ length: Int, _ symbol: Field.Symbol) -> Field {
            Field(name: name, offset: offset, length: length, symbol: symbol)
        }
        let half = Field.Symbol.planes(width: 2)
        switch type {
        case .f32: return [f("value", 0, 4, .planes(width: 4))]
        case .f16, .bf16: return [f("value", 0, 2, half)]
        case .q4_0: return [f("d", 0, 2, half), f("qs", 2, 16, .nibbles)]
        case .q4_1: return [f("d", 0, 2, half), f("m", 2, 2, half), f("qs", 4, 16, .nibbles)]
        case .q5_0: return [f("d", 0, 2, half), f("qh", 2, 4, .bytes), f("qs", 6, 16, .nibbles)]
        case .q5_1: return [f("d", 0, 2, half), f("m", 2, 2, half), f("qh", 4, 4, .bytes), f("qs", 8, 16, .nibbles)]
        case .q8_0: return [f("d", 0, 2, half), f("qs", 2, 32, .bytes)]
        case .q2_K: return [f("scales", 0, 16, .nibbles), f("qs", 16, 64, .bytes), f("d", 80, 2, half), f("dmin", 82, 2, half)]
        case .q3_K: return [f("hmask", 0, 32, .bytes), f("qs", 32, 64, .bytes), f("scales", 96, 12, .bytes), f("d", 108, 2, half)]
        case .q4_K: return [f("d", 0, 2, half), f("dmin", 2, 2, half), f("scales", 4, 12, .bytes), f("qs", 16, 128, .nibbles)]
        case .q5_K: return [f("d", 0, 2, half), f("dmin", 2, 2, half), f("scales", 4, 12, .bytes), f("qh", 16, 32, .bytes),
                            f("qs", 48, 128, .nibbles)]
        case .q6_K: return [f("ql", 0, 128, .nibbles), f("qh", 128, 64, .bytes), f("scales", 192, 16, .bytes), f("d", 208, 2, half)]
        default: return nil
        }
    }

    /// Codes `bytes`, whole blocks of `type`. Throws for a type without a layout here or a byte
    /// count that is not whole blocks.
    public init(_ bytes: UnsafeRawBufferPointer, type: GGMLType) throws {
        guard let fields = Self.fields(of: type) else {
            throw CodingError("\(type.name) blocks have no field layout here (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K–Q6_K have)")
        }
        let size = type.bytesPerBlock
        guard bytes.count % size == 0 else {
            throw CodingError("\(bytes.count) bytes are not whole \(type.name) blocks of \(size) bytes")
        }
        self.type = type
        blocks = bytes.count / size
        var streams: [Stream] = []
        for field in fields {
            for (name, bits, symbols) in Self.symbols(of: field, in: bytes, blocks: blocks, blockBytes: size) {
                streams.append(try Self.code(symbols, name: name, bits: bits))
            }
        }
        self.streams = streams
    }

    /// The symbol streams of `field` over every block: one for nibbles or bytes, one per plane.
    static func symbols(of field: Field, in bytes: UnsafeRawBufferPointer, blocks: Int, blockBytes size: Int) -> [(String, Int, [Int])] {
        switch field.symbol {
        case .nibbles:
            var s = [Int](repeating: 0, count: blocks * field.length * 2)
            var k = 0
            for b in 0..<blocks {
                let base = b * size + field.offset
                for j in 0..<field.length {
                    let v = bytes[base + j]
                    s[k] = Int(v & 0x0F); s[k + 1] = Int(v >> 4); k += 2
                }
            }
            return [(field.name, 4, s)]
        case .bytes:
            var s = [Int](repeating: 0, count: blocks * field.length)
            for b in 0..<blocks {
                let base = b * size + field.offset
                for j in 0..<field.length { s[b * field.length + j] = Int(bytes[base + j]) }
            }
            return [(field.name, 8, s)]
        case .planes(let width):
            let values = field.length / width
            return (0..<width).map { plane in
                var s = [Int](repeating: 0, count: blocks * values)
                for b in 0..<blocks {
                    let base = b * size + field.offset
                    for v in 0..<values { s[b * values + v] = Int(bytes[base + v * width + plane]) }
                }
                return ("\(field.name).\(plane)", 8, s)
            }
        }
    }

    /// A stream coded with its own rANS code, or kept raw when that is smaller.
    static func code(_ symbols: [Int], name: String, bits: Int) throws -> Stream {
        var counts = [Int](repeating: 0, count: 1 << bits)
        for s in symbols { counts[s] += 1 }
        let raw = (symbols.count * bits + 7) / 8
        let entropy = shannonEntropy(counts: counts)
        let code = try RANSCode(counts: counts)
        let coded = try code.encode(symbols)
        if coded.count + code.tableBytes < raw {
            return Stream(name: name, symbolBits: bits, count: symbols.count, rawBytes: raw, codedBytes: coded.count + code.tableBytes,
                          coded: coded, code: code, raw: [], entropy: entropy)
        }
        return Stream(name: name, symbolBits: bits, count: symbols.count, rawBytes: raw, codedBytes: raw, coded: [], code: nil,
                      raw: symbols.map { UInt8($0) }, entropy: entropy)
    }

    /// The stored bytes, rebuilt from the coded streams (what a reader of the coded form does).
    public func decode() throws -> [UInt8] {
        let size = type.bytesPerBlock
        var out = [UInt8](repeating: 0, count: blocks * size)
        var next = streams.makeIterator()
        func symbols() throws -> [Int] {
            guard let s = next.next() else { throw CodingError("fewer streams than the layout has") }
            guard let code = s.code else { return s.raw.map { Int($0) } }
            let decoded = try code.decode(s.coded)
            guard decoded.count == s.count else { throw CodingError("stream \(s.name) decoded \(decoded.count) of \(s.count) symbols") }
            return decoded
        }
        for field in Self.fields(of: type)! {
            switch field.symbol {
            case .nibbles:
                let s = try symbols()
                var k = 0
                for b in 0..<blocks {
                    for j in 0..<field.length { out[b * size + field.offset + j] = UInt8(s[k] | s[k + 1] << 4); k += 2 }
                }
            case .bytes:
                let s = try symbols()
                for b in 0..<blocks { for j in 0..<field.length { out[b * size + field.offset + j] = UInt8(s[b * field.length + j]) } }
            case .planes(let width):
                let values = field.length / width
                for plane in 0..<width {
                    let s = try symbols()
                    for b in 0..<blocks { for v in 0..<values { out[b * size + field.offset + v * width + plane] = UInt8(s[b * values + v]) } }
                }
            }
        }
        return out
    }
}
