import Testing
@testable import Numerics

/// Float16 and bfloat16 conversions against numpy's float16 and a nearest-neighbour bfloat16 reference.
struct HalfPrecisionTests {
    struct File: Decodable {
        let half_bits: [UInt16]; let half_to_float_bits: [UInt32]
        let float_bits: [UInt32]; let to_half_bits: [UInt16]; let to_bf16_bits: [UInt16]
    }

    @Test func halfDecodesLikeNumpy() throws {
        let f = try Fixtures.load("halfprec.json", as: File.self)
        #expect(f.half_bits.count > 5000)
        for (h, want) in zip(f.half_bits, f.half_to_float_bits) {
            let got = HalfPrecision.float(fromHalf: h)
            let wantF = Float(bitPattern: want)
            if wantF.isNaN { #expect(got.isNaN, "half \(h)") } else { #expect(got.bitPattern == want, "half \(h)") }
        }
    }

    @Test func floatRoundsToHalfAndBFloat16LikeTheReference() throws {
        let f = try Fixtures.load("halfprec.json", as: File.self)
        for (i, bits) in f.float_bits.enumerated() {
            let x = Float(bitPattern: bits)
            #expect(HalfPrecision.half(from: x) == f.to_half_bits[i], "float \(x)")
            #expect(HalfPrecision.bfloat16(from: x) == f.to_bf16_bits[i], "float \(x)")
        }
    }

    @Test func everyHalfRoundTrips() {
        for h in UInt16.min...UInt16.max {
            let x = HalfPrecision.float(fromHalf: h)
            if x.isNaN { #expect(HalfPrecision.float(fromHalf: HalfPrecision.half(from: x)).isNaN) } else {
                #expect(HalfPrecision.half(from: x) == h)
            }
        }
        for b in stride(from: 0, through: 0xFFFF, by: 1) {
            let x = HalfPrecision.float(fromBFloat16: UInt16(b))
            if !x.isNaN { #expect(HalfPrecision.bfloat16(from: x) == UInt16(b)) }
        }
    }
}
