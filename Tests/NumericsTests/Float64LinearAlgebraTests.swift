import Testing
import CBLAS
@testable import Numerics

/// SparseGPT's factor: the upper Cholesky factor of H⁻¹, made with column-major LAPACK calls on one
/// buffer, against the same three calls through LAPACKE's row-major interface.
struct Float64LinearAlgebraTests {
    /// A symmetric positive-definite n×n matrix: AᵀA/n + I/10 of a seeded normal A.
    static func spd(_ n: Int, seed: UInt64) -> [Double] {
        var r = SeededRandom(seed: seed)
        let a = r.normalMatrix(rows: n + 7, cols: n)
        var h = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n {
            var s = 0.0
            for k in 0..<a.rows { s += Double(a[k, i]) * Double(a[k, j]) }
            h[i * n + j] = s / Double(n) + (i == j ? 0.1 : 0)
        } }
        return h
    }

    /// dpotrf, dpotri, dpotrf through LAPACKE's row-major interface (what the factor was made with before).
    static func rowMajorReference(_ h: [Double], n: Int) -> [Double] {
        var a = h
        let lower = Int8(UInt8(ascii: "L")), upper = Int8(UInt8(ascii: "U"))
        a.withUnsafeMutableBufferPointer { p in
            _ = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, lower, Int32(n), p.baseAddress, Int32(n))
            _ = LAPACKE_dpotri(LAPACK_ROW_MAJOR, lower, Int32(n), p.baseAddress, Int32(n))
            for i in 0..<n { for j in 0..<i { p[j * n + i] = p[i * n + j] } }
            _ = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, upper, Int32(n), p.baseAddress, Int32(n))
            for i in 0..<n { for j in 0..<i { p[i * n + j] = 0 } }
        }
        return a
    }

    @Test(arguments: [1, 5, 33, 130, 300])
    func upperCholeskyOfInverseIsTheRowMajorCallsBitForBit(n: Int) throws {
        let h = Self.spd(n, seed: UInt64(n))
        let u = try Float64LinearAlgebra.upperCholeskyOfInverse(h, n: n)
        #expect(u.map(\.bitPattern) == Self.rowMajorReference(h, n: n).map(\.bitPattern))
        // And it is what it claims: upper triangular with UᵀU·H = I.
        var inverse = [Double](repeating: 0, count: n * n)   // UᵀU
        for i in 0..<n { for k in 0..<n { for l in 0...min(i, k) { inverse[i * n + k] += u[l * n + i] * u[l * n + k] } } }
        var worst = 0.0
        for i in 0..<n { for j in 0..<n {
            if i > j { #expect(u[i * n + j] == 0) }
            var s = 0.0
            for k in 0..<n { s += inverse[i * n + k] * h[k * n + j] }
            worst = max(worst, abs(s - (i == j ? 1 : 0)))
        } }
        #expect(worst < 1e-9, "UᵀU·H − I reaches \(worst)")
    }

    @Test func notPositiveDefiniteThrows() {
        #expect(throws: (any Error).self) { try Float64LinearAlgebra.upperCholeskyOfInverse([1, 2, 2, 1], n: 2) }
    }
}
