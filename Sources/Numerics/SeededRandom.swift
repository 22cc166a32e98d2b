import Foundation

/// A seeded pseudo-random generator that gives the same numbers on every machine: xoshiro256**
/// seeded through SplitMix64, with uniform, normal, Gumbel and weighted draws defined from its
/// 64-bit outputs by fixed formulas (no platform RNG, no unspecified distribution code).
/// `Tests/fixtures/make_linalg_fixtures.py` reimplements it in Python as the reference.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64
    private var spareNormal: Double?

    /// A generator whose whole stream is determined by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// The next raw 64-bit output (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform on [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform on [0, 1) as Float32, exactly representable (24 random bits).
    public mutating func uniformFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform on (0, 1]: never 0, so safe under a logarithm.
    public mutating func uniformOpen() -> Double { Double((next() >> 11) + 1) * 0x1p-53 }

    /// A standard normal draw (Box–Muller in Float64; the second value of each pair is kept for
    /// the next call).
    public mutating func normal() -> Double {
        if let z = spareNormal { spareNormal = nil; return z }
        let r = (-2 * Foundation.log(uniformOpen())).squareRoot()
        let theta = 2 * Double.pi * uniform()
        spareNormal = r * Foundation.sin(theta)
        return r * Foundation.cos(theta)
    }

    /// A standard Gumbel draw, −log(−log u) with u in (0, 1).
    public mutating func gumbel() -> Double {
        var u = uniformOpen()
        while u >= 1 { u = uniformOpen() }
        return -Foundation.log(-Foundation.log(u))
    }

    /// `count` distinct indices of `weights`, drawn one after another without replacement, each
    /// with probability proportional to its weight among those left (Plackett–Luce), returned in
    /// draw order. Implemented by the Gumbel-top-k trick: the indices sorted by log wᵢ + Gᵢ have
    /// exactly that distribution. Zero-weight items are drawn only after every positive one.
    public mutating func sampleWithoutReplacement(weights: [Double], count: Int) throws -> [Int] {
        guard count >= 0, count <= weights.count else {
            throw NumericsError.invalidArgument("cannot draw \(count) items without replacement from \(weights.count)")
        }
        for (i, w) in weights.enumerated() where !(w >= 0) || !w.isFinite {
            throw NumericsError.invalidArgument("weight \(i) must be finite and non-negative, got \(w)")
        }
        var keys = [(key: Double, index: Int)]()
        keys.reserveCapacity(weights.count)
        for (i, w) in weights.enumerated() {
            let g = gumbel()
            keys.append((w > 0 ? Foundation.log(w) + g : -Double.infinity, i))
        }
        keys.sort { $0.key != $1.key ? $0.key > $1.key : $0.index < $1.index }
        return keys.prefix(count).map(\.index)
    }

    /// A rows×cols matrix of standard normal draws (row-major order of generation).
    public mutating func normalMatrix(rows: Int, cols: Int) -> Matrix {
        var m = Matrix(rows: rows, cols: cols)
        for k in 0..<m.count { m.data[k] = Float(normal()) }
        return m
    }

    /// A rows×cols matrix uniform on [lower, upper) (row-major order of generation).
    public mutating func uniformMatrix(rows: Int, cols: Int, lower: Float = 0, upper: Float = 1) -> Matrix {
        var m = Matrix(rows: rows, cols: cols)
        for k in 0..<m.count { m.data[k] = lower + (upper - lower) * uniformFloat() }
        return m
    }
}
