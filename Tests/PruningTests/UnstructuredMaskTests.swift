import Foundation
import Testing
import Numerics
import Models
import Pruning

/// Magnitude and N:M masks on small matrices whose answers are known by hand: how many weights
/// each comparison group loses, and which.
struct UnstructuredMaskTests {
    @Test func perMatrixMagnitudeZeroesTheSmallest() throws {
        let w = try Matrix([[0.5, -0.1, 2, 0.3], [-3, 0.2, 0.05, -0.4]])
        let mask = MagnitudePruning.mask(w, pattern: .fraction(0.5))
        // |w| sorted: 0.05, 0.1, 0.2, 0.3 are the four smallest.
        #expect(mask == [false, true, false, true, false, true, true, false])
        // ⌊0.3·8⌋ = 2 weights.
        #expect(MagnitudePruning.mask(w, pattern: .fraction(0.3)).filter { $0 }.count == 2)
    }

    @Test func nOfMKeepsTheLargestOfEachGroup() throws {
        let w = try Matrix([[1, -4, 3, 2, 0.1, 0.2, -0.3, 0.4], [5, 5, 5, 5, -1, 2, -3, 4]])
        let mask = MagnitudePruning.mask(w, pattern: try SparsityPattern.parse("2:4"))
        #expect(mask == [true, false, false, true, true, true, false, false,
                         true, true, false, false, true, true, false, false])   // among ties the earlier weights go
        let wide = Matrix(rows: 3, cols: 16) { r, c in Float((r * 7 + c * 13) % 11) - 5 }
        let m14 = MagnitudePruning.mask(wide, pattern: try SparsityPattern.parse("1:8"))
        for r in 0..<3 { for g in 0..<2 { #expect((0..<8).filter { !m14[r * 16 + g * 8 + $0] }.count == 1) } }
    }

    /// The selection (radix select above 32 scores, rank counting below) picks what a stable sort
    /// by score picks, on inputs made to break it: many ties, ±0, negatives, infinities, scores that
    /// share all but their last bits, every count from 0 to n, small and large n.
    @Test func selectionIsTheStableSortsChoice() throws {
        var random = SeededRandom(seed: 7)
        func bySort(_ s: [Double], _ count: Int) -> [Int] {   // NaN sorted after every number, in position order
            guard count > 0 else { return [] }
            let before = { (a: Int, b: Int) -> Bool in
                let x = s[a], y = s[b]
                if x.isNaN || y.isNaN { return x.isNaN == y.isNaN ? a < b : y.isNaN }
                return x < y || (x == y && a < b)
            }
            return Array(s.indices.sorted(by: before).prefix(count)).sorted()
        }
        let makers: [(Int) -> [Double]] = [
            { n in (0..<n).map { _ in random.normal() } },
            { n in (0..<n).map { _ in Double(Int(random.uniform() * 5)) - 2 } },          // five values, many ties
            { n in (0..<n).map { i in i % 3 == 0 ? -0.0 : (i % 3 == 1 ? 0.0 : -1) } },      // ±0 are equal
            { n in (0..<n).map { _ in 1 + Double(Int(random.uniform() * 8)) * Double.ulpOfOne } },   // differ in the last bits
            { n in (0..<n).map { i in i % 5 == 0 ? (i % 2 == 0 ? .infinity : -.infinity) : random.normal() } },
            { n in [Double](repeating: 3, count: n) },
            { n in (0..<n).map { i in i % 4 == 0 ? .nan : random.normal() } },              // NaN above every number
        ]
        for n in [1, 2, 4, 31, 32, 33, 100, 1000, 70_000] {
            for make in makers {
                let s = make(n)
                let counts = n <= 100 ? Array(0...n) : [0, 1, n / 3, n / 2, n - 1, n]
                for count in counts {
                    let ours = MaskSelection.smallest(s, count: count), theirs = bySort(s, count)
                    #expect(ours == theirs, "n \(n), count \(count): \(ours.count) positions, first difference at \((0..<min(ours.count, theirs.count)).first { ours[$0] != theirs[$0] } ?? -1)")
                }
            }
        }
    }

    @Test func patternsAreParsedAndCheckedWithClearErrors() throws {
        #expect(try SparsityPattern.parse("2:4") == .nOfM(keep: 2, group: 4))
        #expect(try SparsityPattern.parse("2:4").sparsity == 0.5)
        #expect(throws: PruningError("pattern must be \"N:M\" with 1 ≤ N < M (keep N of every M weights), e.g. \"2:4\", got \"4:2\"")) {
            try SparsityPattern.parse("4:2")
        }
        #expect(throws: PruningError.self) { try SparsityPattern.parse("half") }
        #expect(throws: PruningError("matrix has 6 input columns, not a multiple of the N:M group size 4")) {
            try Wanda.prune(Matrix(rows: 2, cols: 6), squaredNorms: Array(repeating: 1, count: 6), pattern: .nOfM(keep: 2, group: 4))
        }
        #expect(throws: PruningError("Wanda needs one activation norm per input column: 6 columns, 5 norms")) {
            try Wanda.prune(Matrix(rows: 2, cols: 6), squaredNorms: Array(repeating: 1, count: 5), pattern: .fraction(0.5))
        }
    }

    @Test func wandaComparesWithinRowsAndWeighsByActivations() throws {
        let w = try Matrix([[1, 1, 1, 1], [4, 3, 2, 1]])
        // Feature 0 never fires, feature 3 fires strongly.
        let pruned = try Wanda.prune(w, squaredNorms: [0, 1, 1, 100], pattern: .fraction(0.5))
        #expect(pruned.data == [0, 0, 1, 1, 0, 3, 0, 1])
    }

    @Test func globalMagnitudeUsesOneThresholdForAllMatrices() throws {
        let config = ModelConfig(architecture: .llama, hiddenSize: 8, intermediateSizes: [8, 8], heads: 2, kvHeads: 2,
                                 vocabSize: 4, contextLength: 16, normEpsilon: 1e-5, tiedOutputHead: true, activation: .swiglu)
        var model = Model(name: "tiny", format: .memory, config: config, tensors: [:])
        for b in 0..<2 {
            for (i, role) in PrunableLinears.roles.enumerated() {
                // Block 1 is ten times larger than block 0: a global threshold prunes block 0 first.
                model.set(role, block: b, to: Matrix(rows: 8, cols: 8) { r, c in Float(b == 0 ? 1 : 10) * Float(1 + (r * 8 + c + i) % 9) })
            }
        }
        let global = try MagnitudePruning.prune(model, pattern: .fraction(0.4), scope: .global)
        let local = try MagnitudePruning.prune(model, pattern: .fraction(0.4), scope: .layer)
        func zeros(_ m: Model, _ b: Int) throws -> Int {
            try PrunableLinears.roles.reduce(0) { $0 + (try m.matrix($1, block: b).data.filter { $0 == 0 }.count) }
        }
        let total = 7 * 64
        #expect(try zeros(global, 0) + zeros(global, 1) == Int(0.4 * Double(2 * total)))
        #expect(try zeros(global, 1) == 0)
        #expect(try zeros(local, 0) == 7 * Int(0.4 * 64) && zeros(local, 1) == 7 * Int(0.4 * 64))
        #expect(abs(try PrunableLinears.sparsity(global) - 0.4) < 0.01)
    }
}
