import Foundation
import Numerics

extension GGMLQuantizer {
    /// ggml's k-quants (super-blocks of 256 values), encoded as ggml's reference quantisers do when
    /// no importance matrix is given: the scale search of each sub-block, then the sub-block scales
    /// (and mins) quantised against one fp16 super-scale, then every value re-rounded against the
    /// scale as stored. Every step runs in Float32 in the same order as ggml, so the bytes match.
    enum KQuants {
        static let qk = 256
        static let groupMaxEps: Float = 1e-15

        /// Round to nearest, ties to even, by adding 1.5·2²³ and reading the mantissa (valid for
        /// |v| < 2²²; ggml's `nearest_int`).
        @inline(__always) static func nearestInt(_ v: Float) -> Int {
            let shifted = v + 12_582_912
            return Int(shifted.bitPattern & 0x007F_FFFF) - 0x0040_0000
        }

        // MARK: Scale searches

        /// Symmetric search with the weight of each value x² (ggml's make_qx_quants, rmse_type 1,
        /// no importance weights): codes in −nmax…nmax−1 stored offset by nmax in `L`; returns the
        /// scale.
        static func symmetricScale(_ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>) -> Float {
            var maxValue: Float = 0, amax: Float = 0
            for i in 0..<n where abs(x[i]) > amax { amax = abs(x[i]); maxValue = x[i] }
            if amax < groupMaxEps {
                for i in 0..<n { L[i] = 0 }
                return 0
            }
            let fmax = Float(nmax)
            func code(_ iscale: Float, _ v: Float) -> Int { max(-nmax, min(nmax - 1, nearestInt(iscale * v))) }
            var iscale = -fmax / maxValue
            var sumlx: Float = 0, suml2: Float = 0
            for i in 0..<n {
                let l = code(iscale, x[i])
                L[i] = Int8(l + nmax)
                let w = x[i] * x[i]
                sumlx += w * x[i] * Float(l)
                suml2 += w * Float(l) * Float(l)
            }
            var scale: Float = suml2 != 0 ? sumlx / suml2 : 0
            var best = scale * sumlx
            for step in -9...9 where step != 0 {
                iscale = -(fmax + 0.1 * Float(step)) / maxValue
                sumlx = 0; suml2 = 0
                for i in 0..<n {
                    let l = Float(code(iscale, x[i]))
                    let w = x[i] * x[i]
                    sumlx += w * x[i] * l
                    suml2 += w * l * l
                }
                if suml2 > 0 && sumlx * sumlx > best * suml2 {
                    for i in 0..<n { L[i] = Int8(nmax + code(iscale, x[i])) }
                    scale = sumlx / suml2
                    best = scale * sumlx
                }
            }
            return scale
        }

        /// Symmetric 3-bit search (ggml's make_q3_quants with its rmse refinement): start from
        /// the signed maximum, then up to five passes moving single codes while the weighted
        /// fit improves. Codes 0…2·nmax−1 in `L`; returns the scale.
        static func q3Scale(_ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ L: UnsafeMutablePointer<Int8>) -> Float {
            var maxValue: Float = 0, amax: Float = 0
            for i in 0..<n where abs(x[i]) > amax { amax = abs(x[i]); maxValue = x[i] }
            if amax < groupMaxEps {
                for i in 0..<n { L[i] = 0 }
                return 0
            }
            let iscale = -Float(nmax) / maxValue
            var sumlx: Float = 0, suml2: Float = 0
            for i in 0..<n {
                let l = max(-nmax, min(nmax - 1, nearestInt(iscale * x[i])))
                L[i] = Int8(l)
                let w = x[i] * x[i]
                sumlx += w * x[i] * Float(l)
                suml2 += w * Float(l) * Float(l)
            }
            for _ in 0..<5 {
                var changed = 0
                for i in 0..<n {
                    let w = x[i] * x[i]
                    let li = Float(L[i])
                    var slx = sumlx - w * x[i] * li
                    if slx > 0 {
                        var sl2 = suml2 - w * li * li
                        let newL = max(-nmax, min(nmax - 1, nearestInt(x[i] * sl2 / slx)))
                        if newL != Int(L[i]) {
                            slx += w * x[i] * Float(newL)
                            sl2 += w * Float(newL) * Float(newL)
                            if sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2 {
                                L[i] = Int8(newL); sumlx = slx; suml2 = sl2
                                changed += 1
                            }
                        }
                    }
                }
                if changed == 0 { break }
            }
            for i in 0..<n { L[i] += Int8(nmax) }
            return suml2 > 0 ? sumlx / suml2 : 0
        }

        /// Asymmetric search (ggml's make_qkx2_quants): codes 0…nmax against scale·L − min, the
        /// min clamped to ≤ 0, trying nstep+1 widenings of the range and keeping the weighted
        /// least-squares (scale, min) with the smallest weighted error (absolute if `mad`).
        /// Returns (scale, −min).
        static func asymmetricScale(_ n: Int, _ nmax: Int, _ x: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
                                    _ L: UnsafeMutablePointer<UInt8>, _ Laux: UnsafeMutablePointer<UInt8>,
                                    rmin: Float, rdelta: Float, nstep: Int, mad: Bool) -> (scale: Float, min: Float) {
            var lo = x[0], hi = x[0]
            var sumW = weights[0]
            var sumX = sumW * x[0]
            for i in 1..<n {
                if x[i] < lo { lo = x[i] }
                if x[i] > hi { hi = x[i] }
                let w = weights[i]
                sumW += w
                sumX += w * x[i]
            }
            if lo > 0 { lo = 0 }
            if hi == lo {
                for i in 0..<n { L[i] = 0 }
                return (0, -lo)
            }
            let fmax = Float(nmax)
            var iscale = fmax / (hi - lo)
            var scale = 1 / iscale
            var bestError: Float = 0
            for i in 0..<n {
                let l = max(0, min(nmax, nearestInt(iscale * (x[i] - lo))))
                L[i] = UInt8(l)
                var diff = scale * Float(l) + lo - x[i]
                diff = mad ? abs(diff) : diff * diff
                bestError += weights[i] * diff
            }
            if nstep < 1 { return (scale, -lo) }
            for step in 0...nstep {
                iscale = (rmin + rdelta * Float(step) + fmax) / (hi - lo)
                var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
                for i in 0..<n {
                    let l = max(0, min(nmax, nearestInt(iscale * (x[i] - lo))))
                    Laux[i] = UInt8(l)
                    let w = weights[i], fl = Float(l)
                    sumL += w * fl
                    sumL2 += w * fl * fl
                    sumXL += w * fl * x[i]
                }
                let D = sumW * sumL2 - sumL * sumL
                if D > 0 {
                    var thisScale = (sumW * sumXL - sumX * sumL) / D
                    var thisMin = (sumL2 * sumX - sumL * sumXL) / D
                    if thisMin > 0 {
                        thisMin = 0
                        thisScale = sumXL / sumL2
                    }
                    var error: Float = 0
                    for i in 0..<n {
                        var diff = thisScale * Float(Laux[i]) + thisMin - x[i]
                        diff = mad ? abs(diff) : diff * diff
                        error += weights[i] * diff
                    }
                    if error < bestError {
                        for i in 0..<n { L[i] = Laux[i] }
                        bestError = error
                        scale = thisScale
                        lo = thisMin
                    }
                }
            }
            return (scale, -lo)
        }

        /// Packs 2-bit codes: element 128g + 32s + l takes bits 2s of byte 32g + l.
        static func pack2(_ L: UnsafePointer<UInt8>, _ qs: UnsafeMutableRawPointer) {
            for g in stride(from: 0, to: qk, by: 128) {
                for l in 0..<32 {
                    let b = L[g + l] | (L[g + l + 32] << 2) | (L[g + l + 64] << 4) | (L[g + l + 96] << 6)
                    qs.storeBytes(of: b, toByteOffset: g / 4 + l, as: UInt8.self)
                }
            }
        }

        // MARK: Q2_K — scales[16], qs[64], d, dmin

        static func q2_K(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
            var L = [UInt8](repeating: 0, count: qk), Laux = [UInt8](repeating: 0, count: 16)
            var weights = [Float](repeating: 0, count: 16)
            var scales = [Float](repeating: 0, count: 16), mins = [Float](repeating: 0, count: 16)
            let q4scale: Float = 15
            var maxScale: Float = 0, maxMin: Float = 0
            L.withUnsafeMutableBufferPointer { Lp in
                Laux.withUnsafeMutableBufferPointer { La in
                    weights.withUnsafeMutableBufferPointer { w in
                        for j in 0..<16 {
                            for l in 0..<16 { w[l] = abs(x[16 * j + l]) }
                            let r = asymmetricScale(16, 3, x + 16 * j, w.baseAddress!, Lp.baseAddress! + 16 * j, La.baseAddress!,
                                                    rmin: -0.5, rdelta: 0.1, nstep: 15, mad: true)
                            scales[j] = r.scale; mins[j] = r.min
                            if r.scale > maxScale { maxScale = r.scale }
                            if r.min > maxMin { maxMin = r.min }
                        }
                    }
                }
            }
            var sc = [UInt8](repeating: 0, count: 16)
            if maxScale > 0 {
                let iscale = q4scale / maxScale
                for j in 0..<16 { sc[j] = UInt8(truncatingIfNeeded: nearestInt(iscale * scales[j])) }
                storeHalf(maxScale / q4scale, out, 80)
            } else {
                storeHalf(0, out, 80)
            }
            if maxMin > 0 {
                let iscale = q4scale / maxMin
                for j in 0..<16 { sc[j] |= UInt8(truncatingIfNeeded: nearestInt(iscale * mins[j]) << 4) }
                storeHalf(maxMin / q4scale, out, 82)
            } else {
                storeHalf(0, out, 82)
            }
            let dAll = viaHalf(maxScale > 0 ? maxScale / q4scale : 0), mAll = viaHalf(maxMin > 0 ? maxMin / q4scale : 0)
            for j in 0..<16 {
                out.storeBytes(of: sc[j], toByteOffset: j, as: UInt8.self)
                let d = dAll * Float(sc[j] & 0xF)
                if d == 0 { continue }
                let dm = mAll * Float(sc[j] >> 4)
                for i in 0..<16 { L[16 * j + i] = UInt8(max(0, min(3, nearestInt((x[16 * j + i] + dm) / d)))) }
            }
            L.withUnsafeBufferPointer { pack2($0.baseAddress!, out + 16) }
        }

        // MARK: Q3_K — hmask[32], qs[64], scales[12], d

        static func q3_K(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
            var L = [Int8](repeating: 0, count: qk)
            var scales = [Float](repeating: 0, count: 16)
            var maxScale: Float = 0, amax: Float = 0
            L.withUnsafeMutableBufferPointer { Lp in
                for j in 0..<16 {
                    scales[j] = q3Scale(16, 4, x + 16 * j, Lp.baseAddress! + 16 * j)
                    if abs(scales[j]) > amax { amax = abs(scales[j]); maxScale = scales[j] }
                }
            }
            var s = [UInt8](repeating: 0, count: 12)
            if maxScale != 0 {
                let iscale = -32 / maxScale
                for j in 0..<16 {
                    var l = Int8(truncatingIfNeeded: nearestInt(iscale * scales[j]))
                    l = max(-32, min(31, l)) + 32
                    if j < 8 { s[j] = UInt8(l & 0xF) } else { s[j - 8] |= UInt8(l & 0xF) << 4 }
                    l >>= 4
                    s[j % 4 + 8] |= UInt8(l) << (2 * (j / 4))
                }
                storeHalf(1 / iscale, out, 108)
            } else {
                storeHalf(0, out, 108)
            }
            let dAll = HalfPrecision.float(fromHalf: UInt16(littleEndian: out.load(fromByteOffset: 108, as: UInt16.self)))
            for j in 0..<16 {
                let low = j < 8 ? s[j] & 0xF : s[j - 8] >> 4
                let sc = Int(low | (((s[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32
                let d = dAll * Float(sc)
                if d == 0 { continue }
                for i in 0..<16 { L[16 * j + i] = Int8(max(-4, min(3, nearestInt(x[16 * j + i] / d))) + 4) }
            }
            var hmask = [UInt8](repeating: 0, count: 32)
            var codes = [UInt8](repeating: 0, count: qk)
            for j in 0..<qk {
                var l = UInt8(L[j])
                if l > 3 { hmask[j % 32] |= UInt8(1) << (j / 32); l -= 4 }
                codes[j] = l
            }
            for j in 0..<32 { out.storeBytes(of: hmask[j], toByteOffset: j, as: UInt8.self) }
            codes.withUnsafeBufferPointer { pack2($0.baseAddress!, out + 32) }
            for j in 0..<12 { out.storeBytes(of: s[j], toByteOffset: 96 + j, as: UInt8.self) }
        }

        // MARK: Q4_K / Q5_K — d, dmin, scales[12], (qh[32]), qs[128]

        /// The sub-block (scale, min) pairs of a Q4_K/Q5_K super-block, quantised to 6 bits each
        /// against fp16 d and dmin, written at out+0…15; returns the codes L (0…nmax) for every value.
        static func scaledMinBlock(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer, nmax: Int,
                                   rmin: Float, rdelta: Float, nstep: Int) -> [UInt8] {
            var L = [UInt8](repeating: 0, count: qk), Laux = [UInt8](repeating: 0, count: 32)
            var weights = [Float](repeating: 0, count: 32)
            var scales = [Float](repeating: 0, count: 8), mins = [Float](repeating: 0, count: 8)
            var maxScale: Float = 0, maxMin: Float = 0
            L.withUnsafeMutableBufferPointer { Lp in
                Laux.withUnsafeMutableBufferPointer { La in
                    weights.withUnsafeMutableBufferPointer { w in
                        for j in 0..<8 {
                            var sumX2: Float = 0
                            for l in 0..<32 { sumX2 += x[32 * j + l] * x[32 * j + l] }
                            let av = (sumX2 / 32).squareRoot()
                            for l in 0..<32 { w[l] = av + abs(x[32 * j + l]) }
                            let r = asymmetricScale(32, nmax, x + 32 * j, w.baseAddress!, Lp.baseAddress! + 32 * j, La.baseAddress!,
                                                    rmin: rmin, rdelta: rdelta, nstep: nstep, mad: false)
                            scales[j] = r.scale; mins[j] = r.min
                            if r.scale > maxScale { maxScale = r.scale }
                            if r.min > maxMin { maxMin = r.min }
                        }
                    }
                }
            }
            let invScale: Float = maxScale > 0 ? 63 / maxScale : 0
            let invMin: Float = maxMin > 0 ? 63 / maxMin : 0
            var s = [UInt8](repeating: 0, count: 12)
            for j in 0..<8 {
                let ls = min(63, UInt8(truncatingIfNeeded: nearestInt(invScale * scales[j])))
                let lm = min(63, UInt8(truncatingIfNeeded: nearestInt(invMin * mins[j])))
                if j < 4 {
                    s[j] = ls; s[j + 4] = lm
                } else {
                    s[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4)
                    s[j - 4] |= (ls >> 4) << 6
                    s[j] |= (lm >> 4) << 6
                }
            }
            storeHalf(maxScale / 63, out, 0)
            storeHalf(maxMin / 63, out, 2)
            for j in 0..<12 { out.storeBytes(of: s[j], toByteOffset: 4 + j, as: UInt8.self) }
            let dAll = viaHalf(maxScale / 63), mAll = viaHalf(maxMin / 63)
            for j in 0..<8 {
                let sc: UInt8, m: UInt8
                if j < 4 { sc = s[j] & 63; m = s[j + 4] & 63 } else {
                    sc = (s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4)
                    m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4)
                }
                let d = dAll * Float(sc)
                if d == 0 { continue }
                let dm = mAll * Float(m)
                for i in 0..<32 { L[32 * j + i] = UInt8(max(0, min(nmax, nearestInt((x[32 * j + i] + dm) / d)))) }
            }
            return L
        }

        static func q4_K(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
            let L = scaledMinBlock(x, out, nmax: 15, rmin: -1, rdelta: 0.1, nstep: 20)
            for g in stride(from: 0, to: qk, by: 64) {
                for l in 0..<32 { out.storeBytes(of: L[g + l] | (L[g + l + 32] << 4), toByteOffset: 16 + g / 2 + l, as: UInt8.self) }
            }
        }

        static func q5_K(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
            let L = scaledMinBlock(x, out, nmax: 31, rmin: -0.5, rdelta: 0.1, nstep: 15)
            var qh = [UInt8](repeating: 0, count: 32)
            var m1: UInt8 = 1, m2: UInt8 = 2
            for g in stride(from: 0, to: qk, by: 64) {
                for j in 0..<32 {
                    var l1 = L[g + j], l2 = L[g + j + 32]
                    if l1 > 15 { l1 -= 16; qh[j] |= m1 }
                    if l2 > 15 { l2 -= 16; qh[j] |= m2 }
                    out.storeBytes(of: l1 | (l2 << 4), toByteOffset: 48 + g / 2 + j, as: UInt8.self)
                }
                m1 <<= 2; m2 <<= 2
            }
            for j in 0..<32 { out.storeBytes(of: qh[j], toByteOffset: 16 + j, as: UInt8.self) }
        }

        // MARK: Q6_K — ql[128], qh[64], scales[16] (int8), d

        static func q6_K(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
            var L = [Int8](repeating: 0, count: qk)
            var scales = [Float](repeating: 0, count: 16)
            var maxScale: Float = 0, maxAbs: Float = 0
            L.withUnsafeMutableBufferPointer { Lp in
                for ib in 0..<16 {
                    let scale = symmetricScale(16, 32, x + 16 * ib, Lp.baseAddress! + 16 * ib)
                    scales[ib] = scale
                    if abs(scale) > maxAbs { maxAbs = abs(scale); maxScale = scale }
                }
            }
            if maxAbs < groupMaxEps {
                for j in 0..<210 { out.storeBytes(of: UInt8(0), toByteOffset: j, as: UInt8.self) }
                return
            }
            let iscale = -128 / maxScale
            storeHalf(1 / iscale, out, 208)
            let dAll = viaHalf(1 / iscale)
            var sc = [Int8](repeating: 0, count: 16)
            for ib in 0..<16 {
                sc[ib] = Int8(truncatingIfNeeded: min(127, nearestInt(iscale * scales[ib])))
                out.storeBytes(of: sc[ib], toByteOffset: 192 + ib, as: Int8.self)
            }
            for j in 0..<16 {
                let d = dAll * Float(sc[j])
                if d == 0 { continue }
                for i in 0..<16 { L[16 * j + i] = Int8(max(-32, min(31, nearestInt(x[16 * j + i] / d))) + 32) }
            }
            for g in stride(from: 0, to: qk, by: 128) {
                let ql = g / 2, qh = 128 + g / 4
                for l in 0..<32 {
                    let q1 = UInt8(L[g + l]), q2 = UInt8(L[g + l + 32]), q3 = UInt8(L[g + l + 64]), q4 = UInt8(L[g + l + 96])
                    out.storeBytes(of: (q1 & 0xF) | ((q3 & 0xF) << 4), toByteOffset: ql + l, as: UInt8.self)
                    out.storeBytes(of: (q2 & 0xF) | ((q4 & 0xF) << 4), toByteOffset: ql + l + 32, as: UInt8.self)
                    out.storeBytes(of: (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6), toByteOffset: qh + l, as: UInt8.self)
                }
            }
        }
    }
}
