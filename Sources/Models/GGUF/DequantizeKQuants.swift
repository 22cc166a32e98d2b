/// The 256-element super-block quantisations Q2_K … Q6_K, following the layouts of ggml's
/// `block_q*_K` and the float operations of its `dequantize_row_q*_K` / `gguf.quants`:
/// sub-block scales are `d · sc` (and `dmin · m`) in Float32, then `scale · q − min` per element.
extension GGMLDequantizer {
    /// Q2_K (84 bytes): 16 scale bytes (low nibble scale, high nibble min), 64 bytes of 2-bit
    /// quants, d, dmin. Element e = 128g + 32j + l takes bits 2j of byte 32g + l.
    static func dequantizeQ2_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        withHalfTable { table in
            for b in 0..<n {
                let p = src + b * 84, y = dst + b * 256
                let d = loadHalf(p, 80, table), dmin = loadHalf(p, 82, table)
                for g in 0..<2 {
                    for j in 0..<4 {
                        let shift = UInt8(2 * j)
                        for half in 0..<2 {   // two 16-element sub-blocks per 32 elements
                            let e0 = 128 * g + 32 * j + 16 * half
                            let sc = byte(p, e0 / 16)
                            let dl = d * Float(sc & 0x0F), ml = dmin * Float(sc >> 4)
                            for l in 0..<16 {
                                let q = (byte(p, 16 + 32 * g + 16 * half + l) >> shift) & 3
                                y[e0 + l] = dl * Float(q) - ml
                            }
                        }
                    }
                }
            }
        }
    }

    /// Q3_K (110 bytes): 32 bytes of high-bit mask, 64 bytes of 2-bit quants, 12 bytes of packed
    /// 6-bit signed scales, d. q = low2 − 4·(1 − hbit); x = (d · (sc − 32)) · q.
    static func dequantizeQ3_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        withHalfTable { table in
            for b in 0..<n {
                let p = src + b * 110, y = dst + b * 256
                let d = loadHalf(p, 108, table)
                for g in 0..<2 {
                    for j in 0..<4 {
                        let shift = UInt8(2 * j)
                        let hshift = UInt8(4 * g + j)   // the high bit of element e is bit e/32
                        for half in 0..<2 {
                            let e0 = 128 * g + 32 * j + 16 * half
                            let dl = d * Float(Int32(scaleQ3K(e0 / 16, p + 96)) - 32)
                            for l in 0..<16 {
                                let low = Int32((byte(p, 32 + 32 * g + 16 * half + l) >> shift) & 3)
                                let hbit = Int32((byte(p, 16 * half + l) >> hshift) & 1)
                                y[e0 + l] = dl * Float(low - ((hbit ^ 1) << 2))
                            }
                        }
                    }
                }
            }
        }
    }

    /// The unsigned 6-bit scale `k` (0–15) from the 12 packed bytes at `s` (Q3_K): the low four
    /// bits are nibbles of bytes 0–7, the high two bits pairs of bytes 8–11.
    @inline(__always)
    static func scaleQ3K(_ k: Int, _ s: UnsafeRawPointer) -> UInt8 {
        let low = k < 8 ? byte(s, k) & 0x0F : byte(s, k - 8) >> 4
        let high = (byte(s, 8 + k % 4) >> UInt8(2 * (k / 4))) & 3
        return low | (high << 4)
    }

    /// The 6-bit scale and min of sub-block `j` (0–7) from the 12 packed bytes at `s` (Q4_K, Q5_K).
    @inline(__always)
    static func scaleMinK4(_ j: Int, _ s: UnsafeRawPointer) -> (scale: UInt8, min: UInt8) {
        if j < 4 {
            return (byte(s, j) & 63, byte(s, j + 4) & 63)
        }
        let scale = (byte(s, j + 4) & 0x0F) | ((byte(s, j - 4) >> 6) << 4)
        let min = (byte(s, j + 4) >> 4) | ((byte(s, j) >> 6) << 4)
        return (scale, min)
    }

    /// Q4_K (144 bytes): d, dmin, 12 bytes of packed 6-bit scales and mins, 128 bytes of nibbles
    /// (sub-block j uses the low or high nibbles of bytes 32·(j/2) …); x = (d·sc)·q − (dmin·m).
    static func dequantizeQ4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        withHalfTable { table in
            for b in 0..<n {
                let p = src + b * 144, y = dst + b * 256
                let d = loadHalf(p, 0, table), dmin = loadHalf(p, 2, table)
                for j in 0..<8 {
                    let (sc, m) = scaleMinK4(j, p + 4)
                    let dj = d * Float(sc), mj = dmin * Float(m)
                    let q = p + 16 + 32 * (j / 2)
                    let shift = UInt8(4 * (j % 2))
                    let out = y + 32 * j
                    for l in 0..<32 {
                        out[l] = dj * Float((byte(q, l) >> shift) & 0x0F) - mj
                    }
                }
            }
        }
    }

    /// Q5_K (176 bytes): d, dmin, 12 scale bytes, 32 bytes of high bits (bit j for sub-block j),
    /// 128 bytes of nibbles; x = (d·sc)·q − (dmin·m).
    static func dequantizeQ5_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        withHalfTable { table in
            for b in 0..<n {
                let p = src + b * 176, y = dst + b * 256
                let d = loadHalf(p, 0, table), dmin = loadHalf(p, 2, table)
                let qh = p + 16
                for j in 0..<8 {
                    let (sc, m) = scaleMinK4(j, p + 4)
                    let dj = d * Float(sc), mj = dmin * Float(m)
                    let q = p + 48 + 32 * (j / 2)
                    let shift = UInt8(4 * (j % 2))
                    let hshift = UInt8(j)
                    let out = y + 32 * j
                    for l in 0..<32 {
                        let v = ((byte(q, l) >> shift) & 0x0F) | (((byte(qh, l) >> hshift) & 1) << 4)
                        out[l] = dj * Float(v) - mj
                    }
                }
            }
        }
    }

    /// Q6_K (210 bytes): 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 signed scales, d;
    /// x = (d · sc) · (q − 32).
    static func dequantizeQ6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        withHalfTable { table in
            for b in 0..<n {
                let p = src + b * 210, y = dst + b * 256
                let d = loadHalf(p, 208, table)
                for g in 0..<2 {
                    let ql = p + 64 * g, qh = p + 128 + 32 * g
                    for t in 0..<4 {   // 32-element groups within the 128-element half
                        let lshift = UInt8(4 * (t / 2))
                        let hshift = UInt8(2 * t)
                        let e0 = 128 * g + 32 * t
                        for half in 0..<2 {
                            let s = d * Float(Int8(bitPattern: byte(p, 192 + (e0 + 16 * half) / 16)))
                            for l in (16 * half)..<(16 * half + 16) {
                                let lo = (byte(ql, 32 * (t % 2) + l) >> lshift) & 0x0F
                                let hi = (byte(qh, l) >> hshift) & 3
                                y[e0 + l] = s * Float(Int32(lo | (hi << 4)) - 32)
                            }
                        }
                    }
                }
            }
        }
    }
}
