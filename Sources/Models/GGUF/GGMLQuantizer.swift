import Foundation
import Numerics

/// Encodes Float32 values as the ggml types PruneLang writes (F32, F16, Q8_0, Q4_0), with ggml's
/// reference rounding so the bytes equal what llama.cpp's and the `gguf` package's quantisers
/// produce. Quantised types need the element count to be a multiple of their block size (32).
public enum GGMLQuantizer {
    /// The types `encode` can write.
    public static let writableTypes: Set<GGMLType> = [.f32, .f16, .q8_0, .q4_0]

    /// The bytes of `values` as `type`; throws `GGUFError` when the type cannot be written or
    /// the count does not fill whole blocks.
    public static func encode(_ values: [Float], as type: GGMLType) throws -> Data {
        guard writableTypes.contains(type) else {
            throw GGUFError(.unsupportedType, field: "tensor type", offset: nil, "PruneLang writes F32, F16, Q8_0 and Q4_0, not \(type.name)")
        }
        guard values.count % type.blockSize == 0 else {
            throw GGUFError(.unsupportedType, field: "tensor type", offset: nil,
                            "\(type.name) needs a multiple of \(type.blockSize) elements per row, got \(values.count)")
        }
        let blocks = values.count / type.blockSize
        var out = Data(count: blocks * type.bytesPerBlock)
        out.withUnsafeMutableBytes { raw in
            values.withUnsafeBufferPointer { x in
                let dst = raw.baseAddress!
                switch type {
                case .f32:
                    for i in 0..<x.count { dst.storeBytes(of: x[i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
                case .f16:
                    for i in 0..<x.count { dst.storeBytes(of: HalfPrecision.half(from: x[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
                case .q8_0:
                    for b in 0..<blocks { q8_0(x.baseAddress! + 32 * b, dst + 34 * b) }
                case .q4_0:
                    for b in 0..<blocks { q4_0(x.baseAddress! + 32 * b, dst + 18 * b) }
                default:
                    break
                }
            }
        }
        return out
    }

    /// One Q8_0 block: scale d = max|x|/127 as fp16, then round(x/d) as int8 (halves away from zero).
    private static func q8_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for j in 0..<32 { amax = max(amax, abs(x[j])) }
        let d = amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        out.storeBytes(of: HalfPrecision.half(from: d).littleEndian, as: UInt16.self)
        for j in 0..<32 {
            let q = (x[j] * id).rounded(.toNearestOrAwayFromZero)
            out.storeBytes(of: Int8(q), toByteOffset: 2 + j, as: Int8.self)
        }
    }

    /// One Q4_0 block: d = (the value of largest magnitude, with its sign) / −8 as fp16; nibbles
    /// min(15, trunc(x/d + 8.5)), element j in the low nibble of byte j and element j+16 in the high.
    private static func q4_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        var amax: Float = 0, maxValue: Float = 0
        for j in 0..<32 where amax < abs(x[j]) { amax = abs(x[j]); maxValue = x[j] }
        let d = maxValue / -8
        let id: Float = d != 0 ? 1 / d : 0
        out.storeBytes(of: HalfPrecision.half(from: d).littleEndian, as: UInt16.self)
        func nibble(_ v: Float) -> UInt8 { UInt8(min(15, Int8(v * id + 8.5))) }
        for j in 0..<16 {
            out.storeBytes(of: nibble(x[j]) | (nibble(x[j + 16]) << 4), toByteOffset: 2 + j, as: UInt8.self)
        }
    }
}
