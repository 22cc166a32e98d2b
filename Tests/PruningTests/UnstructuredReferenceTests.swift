import Foundation
import Testing
import Numerics
import Models
import Pruning
import TestHelpers

/// Wanda and SparseGPT against numpy implementations of the published algorithms on a small
/// random layer (Tests/fixtures/make_pruning_fixtures.py), and SparseGPT's point: a smaller
/// reconstruction error ‖WX − ŴX‖ than magnitude or Wanda at the same sparsity.
struct UnstructuredReferenceTests {
    struct Fixture: Decodable {
        let rows: Int, cols: Int, tokens: Int, block: Int
        let w: [Double], x: [Double]
        let wanda_50: [Double], wanda_2of4: [Double], sparsegpt_50: [Double], sparsegpt_2of4: [Double]
    }

    static func fixture() throws -> Fixture {
        let url = TestSupport.root.appendingPathComponent("Tests/fixtures/pruning/unstructured.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func inputs(_ f: Fixture) throws -> (w: Matrix, x: Matrix, norms: [Double], gram: [Double]) {
        let w = try Matrix(rows: f.rows, cols: f.cols, data: f.w.map { Float($0) })
        let x = try Matrix(rows: f.tokens, cols: f.cols, data: f.x.map { Float($0) })
        let norms = (0..<f.cols).map { j in (0..<f.tokens).reduce(0.0) { $0 + Double(x[$1, j]) * Double(x[$1, j]) } }
        return (w, x, norms, gramFloat64(x))
    }

    func expectClose(_ got: Matrix, _ want: [Double], tolerance: Double, _ label: String) {
        #expect(got.count == want.count, "\(label): size")
        var worst = 0.0
        for i in want.indices {
            #expect((got.data[i] == 0) == (want[i] == 0), "\(label): mask differs at \(i)")
            worst = max(worst, abs(Double(got.data[i]) - want[i]) / max(1, abs(want[i])))
        }
        #expect(worst <= tolerance, "\(label): largest relative difference \(worst)")
    }

    @Test func wandaMatchesNumpy() throws {
        let f = try Self.fixture()
        let (w, _, norms, _) = try inputs(f)
        expectClose(try Wanda.prune(w, squaredNorms: norms, pattern: .fraction(0.5)), f.wanda_50, tolerance: 0, "wanda 50%")
        expectClose(try Wanda.prune(w, squaredNorms: norms, pattern: .nOfM(keep: 2, group: 4)), f.wanda_2of4, tolerance: 0, "wanda 2:4")
    }

    @Test func sparseGPTMatchesNumpy() throws {
        let f = try Self.fixture()
        let (w, _, _, gram) = try inputs(f)
        let h = SparseGPT.hessian(gram: gram, tokens: f.tokens)
        let half = try SparseGPT.prune(w, hessian: h, pattern: .fraction(0.5), blockSize: f.block)
        expectClose(half, f.sparsegpt_50, tolerance: 1e-4, "sparsegpt 50%")
        #expect(half.data.filter { $0 == 0 }.count >= f.rows * f.cols / 2)
        let nm = try SparseGPT.prune(w, hessian: h, pattern: .nOfM(keep: 2, group: 4), blockSize: f.block)
        expectClose(nm, f.sparsegpt_2of4, tolerance: 1e-4, "sparsegpt 2:4")
        for r in 0..<f.rows { for g in stride(from: 0, to: f.cols, by: 4) { #expect((g..<g + 4).filter { nm[r, $0] != 0 }.count <= 2) } }
        // The dead input column (never active) is zeroed.
        #expect((0..<f.rows).allSatisfy { half[$0, 5] == 0 })
    }

    @Test func sparseGPTReconstructsBetterThanMagnitudeAndWanda() throws {
        let f = try Self.fixture()
        let (w, x, norms, gram) = try inputs(f)
        func error(_ p: Matrix) throws -> Double {
            let a = try matmul(x, w, transposeB: true), b = try matmul(x, p, transposeB: true)
            return zip(a.data, b.data).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
        }
        for pattern in [SparsityPattern.fraction(0.5), .nOfM(keep: 2, group: 4)] {
            let h = SparseGPT.hessian(gram: gram, tokens: f.tokens)
            let sgpt = try error(try SparseGPT.prune(w, hessian: h, pattern: pattern, blockSize: f.block))
            // With the default block of 128 columns the whole 32-column layer is one block.
            let sgptOneBlock = try error(try SparseGPT.prune(w, hessian: h, pattern: pattern))
            let mag = try error(MaskSelection.apply(MagnitudePruning.mask(w, pattern: pattern), to: w))
            let wanda = try error(try Wanda.prune(w, squaredNorms: norms, pattern: pattern))
            #expect(sgpt < mag && sgptOneBlock < mag && sgptOneBlock < wanda,
                    "\(pattern): sparsegpt \(sgpt) (one block \(sgptOneBlock)), magnitude \(mag), wanda \(wanda)")
        }
    }

    @Test func sparseGPTRejectsMismatchedHessian() throws {
        #expect(throws: PruningError("SparseGPT needs a 4×4 Hessian for a matrix with 4 columns, got 9 values")) {
            try SparseGPT.prune(Matrix(rows: 2, cols: 4), hessian: Array(repeating: 0, count: 9), pattern: .fraction(0.5))
        }
    }
}
