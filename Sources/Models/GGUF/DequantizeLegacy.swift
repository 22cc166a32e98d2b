/// The 32-element block quantisations: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0. Each mirrors ggml's
/// `dequantize_row_*`: `d * q` for the symmetric types and `d * q + m` (no fused multiply-add)
/// for the ones with a minimum, with `d` and `m` stored as fp16.
extension GGMLDequantizer {
    /// The byte at `p + i`.
    @inline(__always)
    static func byte(_ p: UnsafeRawPointer, _ i: Int) -> UInt8 { p.load(fromByteOffset: i, as: UInt8.self) }

    /// Q4_0 (18 bytes): d, then 16 bytes of 4-bit quants (low nibbles are elements 0–15, high
    /// nibbles 16–31); x = d · (q − 8).
    static func dequantizeQ4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        withHalfTable { table in
            for b in 0..<n {
                let p = src + b * 18, y = dst + b * 32
                let d = loadHalf(p, 0, table)
                for j in 0..<16 {
                    let q = byte(p, 2 + j)
                    y[j] = d * Float(Int32(q & 0x0F) - 8)
                    y[j + 16] = d * Float(Int32(q >> 4) - 8)
                }
            }
        }
    }

    /// Q4_1 (20 bytes): d, m, then 16 bytes of 4-bit quants; x = d · q + m.
    static func dequantizeQ4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        withHalfTable { table in
            for b in 0..<n {
                let p = src + b * 20, y = dst + b * 32
                let d = loadHalf(p, 0, table), m = loadHalf(p, 2, table)
                for j in 0..<16 {
                    let q = byte(p, 4 + j)
                    y[j] = d * Float(q & 0x0F) + m
                    y[j + 16] = d * Float(q >> 4) + m
                }
            }
        }
    }

    /// Q5_0 (22 bytes): d, 32 high bits (uint32, bit j for element j), 16 bytes of low nibbles;
    /// x = d · (q − 16).
    static func dequantizeQ5_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        withHalfTable { table in
            for b in 0..<n {
                let p = src + b * 22, y = dst + b * 32
                let d = loadHalf(p, 0, table)
                let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
                for j in 0..<16 {
                    let q = UInt32(byte(p, 6 + j))
                    let lo = (q & 0x0F) | (((qh >> UInt32(j)) & 1) << 4)
                    let hi = (q >> 4) | (((qh >> UInt32(j + 16)) & 1) << 4)
                    y[j] = d * Float(Int32(lo) - 16)
                    y[j + 16] = d * Float(Int32(hi) - 16)
                }
            }
        }
    }

    /// Q5_1 (24 bytes): d, m, 32 high bits, 16 bytes of low nibbles; x = d · q + m.
    static func dequantizeQ5_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        withHalfTable { table in
            for b in 0..<n {
                let p = src + b * 24, y = dst + b * 32
                let d = loadHalf(p, 0, table), m = loadHalf(p, 2, table)
                let qh = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
                for j in 0..<16 {
                    let q = UInt32(byte(p, 8 + j))
                    let lo = (q & 0x0F) | (((qh >> UInt32(j)) & 1) << 4)
                    let hi = (q >> 4) | (((qh >> UInt32(j + 16)) & 1) << 4)
                    y[j] = d * Float(lo) + m
                    y[j + 16] = d * Float(hi) + m
                }
            }
        }
    }

    /// Q8_0 (34 bytes): d, then 32 signed bytes; x = q · d.
    static func dequantizeQ8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        withHalfTable { table in
            for b in 0..<n {
                let p = src + b * 34, y = dst + b * 32
                let d = loadHalf(p, 0, table)
                for j in 0..<32 {
                    y[j] = Float(Int8(bitPattern: byte(p, 2 + j))) * d
                }
            }
        }
    }
}
