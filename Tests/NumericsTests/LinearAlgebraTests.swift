import Testing
@testable import Numerics

/// BLAS and LAPACK wrappers against numpy in float64 (make_linalg_fixtures.py).
struct LinearAlgebraTests {
    struct SVDCase: Decodable {
        struct Source: Decodable { let generator: String?; let seed: UInt64?; let data: [Float]? }
        let name: String; let rows: Int; let cols: Int; let source: Source; let singular_values: [Double]
        func input() throws -> Matrix {
            if let data = source.data { return try Matrix(rows: rows, cols: cols, data: data) }
            var r = SeededRandom(seed: source.seed!)
            return source.generator == "uniform"
                ? r.uniformMatrix(rows: rows, cols: cols, lower: -1, upper: 1)
                : r.normalMatrix(rows: rows, cols: cols)
        }
    }
    struct MatmulCase: Decodable {
        let a: [Float]; let a_shape: [Int]; let b: [Float]; let b_shape: [Int]
        let ab: [Float]; let atb_a: [Float]; let aat: [Float]
        let x: [Float]; let ax: [Float]; let y: [Float]; let aty: [Float]
    }
    struct SymCase: Decodable { let spd: [Float]; let n: Int; let eigenvalues: [Double]; let cholesky: [Float]; let inverse: [Float] }
    struct QRCase: Decodable { let a: [Float]; let rows: Int; let cols: Int; let abs_r_diag: [Double] }
    struct File: Decodable { let svd: [SVDCase]; let matmul: MatmulCase; let symmetric: SymCase; let qr: QRCase }

    static let file: File = try! Fixtures.load("linalg.json")

    static func expectClose(_ got: [Float], _ want: [Float], tol: Float, _ what: String) {
        #expect(got.count == want.count, "\(what): count")
        let scale = max(1, want.map(abs).max() ?? 1)
        for (i, (g, w)) in zip(got, want).enumerated() where abs(g - w) > tol * scale {
            Issue.record("\(what)[\(i)]: got \(g), want \(w)")
            return
        }
    }

    @Test(arguments: [SVDMethod.exact, .gram, .auto])
    func singularValuesMatchNumpy(method: SVDMethod) throws {
        for c in Self.file.svd {
            let s = try singularValues(c.input(), method: method)
            #expect(s.count == min(c.rows, c.cols), "\(c.name)")
            let top = c.singular_values.first ?? 0
            for (i, (got, want)) in zip(s, c.singular_values).enumerated() {
                // The documented guarantee: 1e-6·σ_max absolute, 1e-6 relative above 1e-3·σ_max.
                #expect(abs(Double(got) - want) <= 1e-6 * top + 1e-30, "\(c.name) σ\(i) (\(method)): \(got) vs \(want)")
                if want >= 1e-3 * top {
                    #expect(abs(Double(got) - want) <= 1e-6 * want, "\(c.name) σ\(i) relative (\(method))")
                }
            }
            #expect(zip(s, s.dropFirst()).allSatisfy { $0 >= $1 }, "\(c.name): largest first")
        }
    }

    @Test func exactKeepsRelativeAccuracyOfTinySingularValues() throws {
        let c = Self.file.svd.first { $0.name.hasPrefix("dynamic range") }!
        let s = try singularValues(c.input(), method: .exact)
        for (got, want) in zip(s, c.singular_values) { #expect(abs(Double(got) - want) <= 1e-5 * want) }
    }

    @Test func fullSVDReconstructsAndAgrees() throws {
        for c in Self.file.svd where c.rows * c.cols < 100_000 {
            let a = try c.input()
            let d = try svd(a)
            Self.expectClose(d.s, c.singular_values.map(Float.init), tol: 1e-5, "\(c.name) S")
            var us = d.u
            for i in 0..<us.rows { for j in 0..<us.cols { us[i, j] *= d.s[j] } }
            Self.expectClose(try matmul(us, d.vt).data, a.data, tol: 1e-5, "\(c.name) U·S·Vᵀ")
            let utu = try matmul(d.u, d.u, transposeA: true)
            Self.expectClose(utu.data, Matrix.identity(d.s.count).data, tol: 1e-5, "\(c.name) UᵀU")
        }
    }

    @Test func productsMatchNumpy() throws {
        let m = Self.file.matmul
        let a = try Matrix(rows: m.a_shape[0], cols: m.a_shape[1], data: m.a)
        let b = try Matrix(rows: m.b_shape[0], cols: m.b_shape[1], data: m.b)
        Self.expectClose(try matmul(a, b).data, m.ab, tol: 1e-6, "A·B")
        Self.expectClose(try matmul(a.transposed, b.transposed, transposeA: true, transposeB: true).data, m.ab, tol: 1e-6, "(Aᵀ)ᵀ·(Bᵀ)ᵀ")
        Self.expectClose(gram(a).data, m.atb_a, tol: 1e-6, "AᵀA")
        Self.expectClose(gram(a, side: .rows).data, m.aat, tol: 1e-6, "AAᵀ")
        Self.expectClose(gramFloat64(a).map(Float.init), m.atb_a, tol: 1e-7, "AᵀA in Float64")
        Self.expectClose(try gemv(a, m.x), m.ax, tol: 1e-6, "A·x")
        Self.expectClose(try gemv(a, m.y, transpose: true), m.aty, tol: 1e-6, "Aᵀ·y")
        #expect(throws: NumericsError.self) { try matmul(a, a) }
        #expect(throws: NumericsError.self) { try gemv(a, m.y) }
    }

    @Test func symmetricDecompositionsMatchNumpy() throws {
        let s = Self.file.symmetric
        let a = try Matrix(rows: s.n, cols: s.n, data: s.spd)
        let e = try symmetricEigen(a)
        Self.expectClose(e.values, s.eigenvalues.map(Float.init), tol: 1e-5, "eigenvalues")
        // A·V = V·Λ
        var vl = e.vectors
        for i in 0..<s.n { for j in 0..<s.n { vl[i, j] *= e.values[j] } }
        Self.expectClose(try matmul(a, e.vectors).data, vl.data, tol: 1e-5, "A·V = V·Λ")
        Self.expectClose(try cholesky(a).data, s.cholesky, tol: 1e-5, "Cholesky")
        Self.expectClose(try choleskyInverse(a).data, s.inverse, tol: 1e-5, "inverse")
        var notPD = a
        notPD[0, 0] = -1
        #expect(throws: NumericsError.lapack(routine: "spotrf", info: 1)) { try cholesky(notPD) }
    }

    @Test func qrFactorsAndAgreesUpToSigns() throws {
        let c = Self.file.qr
        let a = try Matrix(rows: c.rows, cols: c.cols, data: c.a)
        let d = try qr(a)
        #expect(d.q.rows == c.rows && d.q.cols == c.cols && d.r.rows == c.cols)
        Self.expectClose(try matmul(d.q, d.r).data, a.data, tol: 1e-5, "Q·R")
        Self.expectClose(try matmul(d.q, d.q, transposeA: true).data, Matrix.identity(c.cols).data, tol: 1e-5, "QᵀQ")
        for i in 0..<c.cols {
            #expect(abs(Double(abs(d.r[i, i])) - c.abs_r_diag[i]) < 1e-5 * c.abs_r_diag[0])
            for j in 0..<i { #expect(d.r[i, j] == 0) }
        }
    }

    @Test func nonFiniteInputIsAClearError() throws {
        var a = Matrix(rows: 3, cols: 4, repeating: 1)
        a[1, 2] = .nan
        #expect(throws: NumericsError.nonFiniteMatrix(what: "svdvals input", row: 1, col: 2)) { try singularValues(a) }
        a[1, 2] = .infinity
        for method in [SVDMethod.exact, .gram] {
            #expect(throws: NumericsError.self) { try singularValues(a, method: method) }
        }
        #expect(throws: NumericsError.self) { try svd(a) }
        #expect(throws: NumericsError.self) { try qr(a) }
        #expect(NumericsError.nonFiniteMatrix(what: "W", row: 1, col: 2).description.contains("row 1, column 2"))
    }

    @Test func emptyAndDegenerateShapes() throws {
        #expect(try singularValues(Matrix(rows: 0, cols: 5)) == [])
        #expect(try singularValues(Matrix(rows: 4, cols: 0)) == [])
        #expect(try matmul(Matrix(rows: 2, cols: 0), Matrix(rows: 0, cols: 3)) == Matrix(rows: 2, cols: 3))
        #expect(try stableRank(Matrix(rows: 3, cols: 3)) == 0)
        #expect(abs(try stableRank(Matrix.identity(7)) - 7) < 1e-5)
        #expect(throws: NumericsError.self) { try Matrix(rows: 2, cols: 2, data: [1, 2, 3]) }
        #expect(throws: NumericsError.self) { try Matrix([[1, 2], [3]]) }
    }

    @Test func selectionsCopyTheRightRowsAndColumns() throws {
        let a = Matrix(rows: 4, cols: 5) { i, j in Float(10 * i + j) }
        #expect(try a.rows([3, 1]).data == [30, 31, 32, 33, 34, 10, 11, 12, 13, 14])
        #expect(try a.columns([4, 0]).data == [4, 0, 14, 10, 24, 20, 34, 30])
        let view = try a.selecting(rows: [2, 0], cols: [1, 1, 3])
        #expect(view.rows == 2 && view.cols == 3 && view[0, 2] == 23)
        #expect(view.copy().data == [21, 21, 23, 1, 1, 3])
        #expect(throws: NumericsError.self) { try a.rows([4]) }
        #expect(throws: NumericsError.self) { try a.columns([-1]) }
        var b = a            // copy-on-write: writing b leaves a alone
        b[0, 0] = 99
        #expect(a[0, 0] == 0 && b[0, 0] == 99)
        #expect(a.transposed.transposed == a && a.transposed[4, 3] == 34)
    }
}

/// OpenBLAS runs on the widest kernels the CPU has: never on its SSE3 fallback ("Prescott") when
/// the CPU has AVX2 or AVX-512 (the fallback made every product about 3× slower here).
@Suite struct BLASKernelTests {
    @Test func openBLASIsNotOnItsFallbackKernels() {
        let core = BLASKernels.core.lowercased(), selection = BLASKernels.selection
        #expect(!core.isEmpty && core != "unknown", "OpenBLAS's core name")
        if selection != "no better kernel" && selection != "not dynamic" {
            #expect(core != "prescott", "OpenBLAS on \(core) (start-up: \(selection))")
        }
        if selection == "SKYLAKEX" { #expect(core == "skylakex") }
        if selection == "HASWELL" { #expect(core == "haswell") }
    }
}
