import Foundation
import Numerics

/// Encodes Float32 values as the ggml types PruneLang writes, with the rounding of ggml's reference
/// quantisers (the imatrix-free path llama.cpp's `llama_model_quantize` takes), so the bytes equal
/// what llama.cpp and the `gguf` package produce: F32, F16, the legacy 32-element types Q8_0, Q4_0,
/// Q4_1, Q5_0, Q5_1, and the 256-element k-quants Q2_K … Q6_K (GGMLQuantizerKQuants.swift).
/// Quantised types need the element count to be a multiple of their block size.
public enum GGMLQuantizer {
    /// The types `encode` can write.
    public static let writableTypes: Set<GGMLType> = [.f32, .f16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1,
                                                      .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    /// The bytes of `values` as `type`; throws `GGUFError` when the type cannot be written or
    /// the count does not fill whole blocks. Large inputs are encoded on all cores (blocks are
    /// independent, so the bytes do not depend on the split).
    public static func encode(_ values: [Float], as type: GGMLType) throws -> Data {
        guard writableTypes.contains(type) else {
            let names = [GGMLType.f32, .f16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K].map(\.name)
            throw GGUFError(.unsupportedType, field: "tensor type", offset: nil,
                            "PruneLang writes \(names.joined(separator: ", ")), not \(type.name)")
        }
        guard values.count % type.blockSize == 0 else {
            throw GGUFError(.unsupportedType, field: "tensor type", offset: nil,
                            "\(type.name) needs a multiple of \(type.blockSize) elements per row, got \(values.count)")
        }
        let blocks = values.count / type.blockSize
        let size = type.blockSize, stride = type.bytesPerBlock
        var out = Data(count: blocks * stride)
        out.withUnsafeMutableBytes { raw in
            values.withUnsafeBufferPointer { x in
                let dst = raw.baseAddress!
                switch type {
                case .f32:
                    for i in 0..<x.count { dst.storeBytes(of: x[i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
                case .f16:
                    for i in 0..<x.count { dst.storeBytes(of: HalfPrecision.half(from: x[i]).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
                default:
                    let block = blockEncoder(type)
                    let src = x.baseAddress!
                    let chunk = 256
                    let chunks = (blocks + chunk - 1) / chunk
                    let run = { (c: Int) in
                        for b in (c * chunk)..<min(blocks, (c + 1) * chunk) { block(src + size * b, dst + stride * b) }
                    }
                    if chunks > 1 && blocks * size >= 1 << 16 {
                        let work = UncheckedSendable(run)
                        DispatchQueue.concurrentPerform(iterations: chunks) { work.value($0) }
                    } else {
                        for c in 0..<chunks { run(c) }
                    }
                }
            }
        }
        return out
    }

    /// The function that writes one block of `type` (reads `type.blockSize` floats, writes
    /// `type.bytesPerBlock` bytes).
    static func blockEncoder(_ type: GGMLType) -> (UnsafePointer<Float>, UnsafeMutableRawPointer) -> Void {
        switch type {
        case .q8_0: return q8_0
        case .q4_0: return q4_0
        case .q4_1: return q4_1
        case .q5_0: return q5_0
        case .q5_1: return q5_1
        case .q2_K: return KQuants.q2_K
        case .q3_K: return KQuants.q3_K
        case .q4_K: return KQuants.q4_K
        case .q5_K: return KQuants.q5_K
        case .q6_K: return KQuants.q6_K
        default: preconditionFailure("no block encoder for \(type.name)")
        }
    }

    static func storeHalf(_ v: Float, _ out: UnsafeMutableRawPointer, _ offset: Int) {
        out.storeBytes(of: HalfPrecision.half(from: v).littleEndian, toByteOffset: offset, as: UInt16.self)
    }

    /// The value a float takes after a round trip through fp16 (what the stored scale decodes to).
    static func viaHalf(_ v: Float) -> Float { HalfPrecision.float(fromHalf: HalfPrecision.half(from: v)) }

    /// One Q8_0 block: scale d = max|x|/127 as fp16, then round(x/d) as int8 (halves away from zero).
    private static func q8_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for j in 0..<32 { amax = max(amax, abs(x[j])) }
        let d = amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        storeHalf(d, out, 0)
        for j in 0..<32 {
            let q = (x[j] * id).rounded(.toNearestOrAwayFromZero)
            out.storeBytes(of: Int8(q), toByteOffset: 2 + j, as: Int8.self)
        }
    }

    /// The signed value of largest magnitude in a block of 32 (the first one met on ties).
    private static func signedMax(_ x: UnsafePointer<Float>) -> Float {
        var amax: Float = 0, maxValue: Float = 0
        for j in 0..<32 where amax < abs(x[j]) { amax = abs(x[j]); maxValue = x[j] }
        return maxValue
    }

    /// Smallest and largest value of a block of 32.
    private static func range(_ x: UnsafePointer<Float>) -> (min: Float, max: Float) {
        var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
        for j in 0..<32 {
            if x[j] < lo { lo = x[j] }
            if x[j] > hi { hi = x[j] }
        }
        return (lo, hi)
    }

    /// One Q4_0 block: d = (the value of largest magnitude, with its sign) / −8 as fp16; nibbles
    /// min(15, trunc(x/d + 8.5)), element j in the low nibble of byte j and element j+16 in the high.
    private static func q4_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        let d = signedMax(x) / -8
        let id: Float = d != 0 ? 1 / d : 0
        storeHalf(d, out, 0)
        func nibble(_ v: Float) -> UInt8 { UInt8(min(15, Int8(v * id + 8.5))) }
        for j in 0..<16 {
            out.storeBytes(of: nibble(x[j]) | (nibble(x[j + 16]) << 4), toByteOffset: 2 + j, as: UInt8.self)
        }
    }

    /// One Q4_1 block: d = (max − min)/15 and m = min as fp16 (the unrounded values scale the
    /// codes), codes min(15, trunc((x − min)/d + 0.5)) packed as in Q4_0.
    private static func q4_1(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        let (lo, hi) = range(x)
        let d = (hi - lo) / 15
        let id: Float = d != 0 ? 1 / d : 0
        storeHalf(d, out, 0)
        storeHalf(lo, out, 2)
        func nibble(_ v: Float) -> UInt8 { UInt8(min(15, Int8((v - lo) * id + 0.5))) }
        for j in 0..<16 {
            out.storeBytes(of: nibble(x[j]) | (nibble(x[j + 16]) << 4), toByteOffset: 4 + j, as: UInt8.self)
        }
    }

    /// One Q5_0 block: d = signed max / −16 as fp16, 5-bit codes min(31, trunc(x/d + 16.5)): the low
    /// nibbles packed as in Q4_0, the fifth bits of elements 0…31 in a little-endian 32-bit word.
    private static func q5_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        let d = signedMax(x) / -16
        let id: Float = d != 0 ? 1 / d : 0
        storeHalf(d, out, 0)
        var codes = [UInt8](repeating: 0, count: 32)
        for j in 0..<32 { codes[j] = UInt8(min(31, Int8(x[j] * id + 16.5))) }
        pack5(codes, out, qh: 2, qs: 6)
    }

    /// One Q5_1 block: d = (max − min)/31 and m = min as fp16, codes trunc((x − min)/d + 0.5), packed
    /// as in Q5_0.
    private static func q5_1(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        let (lo, hi) = range(x)
        let d = (hi - lo) / 31
        let id: Float = d != 0 ? 1 / d : 0
        storeHalf(d, out, 0)
        storeHalf(lo, out, 2)
        var codes = [UInt8](repeating: 0, count: 32)
        for j in 0..<32 { codes[j] = UInt8((x[j] - lo) * id + 0.5) }
        pack5(codes, out, qh: 4, qs: 8)
    }

    private static func pack5(_ codes: [UInt8], _ out: UnsafeMutableRawPointer, qh qhOffset: Int, qs: Int) {
        var qh: UInt32 = 0
        for j in 0..<16 {
            let a = codes[j], b = codes[j + 16]
            out.storeBytes(of: (a & 0x0F) | ((b & 0x0F) << 4), toByteOffset: qs + j, as: UInt8.self)
            qh |= UInt32((a & 0x10) >> 4) << j
            qh |= UInt32((b & 0x10) >> 4) << (j + 16)
        }
        out.storeBytes(of: qh.littleEndian, toByteOffset: qhOffset, as: UInt32.self)
    }
}
