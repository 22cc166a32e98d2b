/// IEEE 754 binary16 (Float16) and bfloat16 conversions decoded from bits, with no dependency on
/// a platform Float16 type: what GGUF and safetensors files store.
public enum HalfPrecision {
    /// The Float value of the binary16 bit pattern `h` (exact: every half is a float).
    public static func float(fromHalf h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int((h >> 10) & 0x1F)
        let mant = UInt32(h & 0x3FF)
        switch exp {
        case 0:
            if mant == 0 { return Float(bitPattern: sign) }
            // Subnormal half: mant · 2⁻²⁴, exactly representable as a normal float.
            let magnitude = Float(mant) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13))   // inf or NaN (payload kept)
        default:
            return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
        }
    }

    /// The binary16 bit pattern nearest to `f` (round to nearest, ties to even; overflow → ±inf;
    /// NaN stays NaN).
    public static func half(from f: Float) -> UInt16 {
        let bits = f.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exp = Int((bits >> 23) & 0xFF)
        let mant = bits & 0x7F_FFFF
        if exp == 0xFF {   // inf or NaN
            return sign | 0x7C00 | (mant != 0 ? UInt16(0x200 | (mant >> 13)) : 0)
        }
        let e = exp - 127 + 15
        if e >= 0x1F { return sign | 0x7C00 }
        if e <= 0 {
            // Subnormal half or zero: shift the full significand (with its hidden bit) into place.
            if e < -10 { return sign }
            let full = mant | 0x80_0000
            let shift = UInt32(14 - e)
            var r = full >> shift
            let rem = full & ((1 << shift) - 1)
            let halfway = UInt32(1) << (shift - 1)
            if rem > halfway || (rem == halfway && (r & 1) == 1) { r += 1 }
            return sign | UInt16(r)
        }
        var r = UInt32(e) << 10 | (mant >> 13)
        let rem = mant & 0x1FFF
        if rem > 0x1000 || (rem == 0x1000 && (r & 1) == 1) { r += 1 }   // may carry into the exponent: correct
        return sign | UInt16(r)
    }

    /// The Float value of the bfloat16 bit pattern `b` (the top 16 bits of a Float32).
    public static func float(fromBFloat16 b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// The bfloat16 bit pattern nearest to `f` (round to nearest, ties to even; NaN stays NaN).
    public static func bfloat16(from f: Float) -> UInt16 {
        let bits = f.bitPattern
        if f.isNaN { return UInt16(bits >> 16) | 0x40 }
        let rounding = 0x7FFF + ((bits >> 16) & 1)
        return UInt16((bits &+ rounding) >> 16)
    }
}
