import Foundation
import Testing
import Numerics
@testable import Models

/// `TensorSpill`: matrices written to a temporary GGUF, read back through its mapping, the file's
/// name gone as soon as it is mapped, and clear refusals for what cannot be stored.
struct TensorSpillTests {
    /// A fresh, empty folder.
    func folder() throws -> String {
        let path = NSTemporaryDirectory() + "spill-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func storedMatricesReadBackWithinTheTypesRounding() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var g = SeededRandom(seed: 3)
        let a = Matrix(rows: 6, cols: 64) { r, c in (r + c) % 3 == 0 ? 0 : Float(g.normal()) }
        let b = Matrix(rows: 2, cols: 32) { _, _ in Float(g.normal()) }
        let spill = TensorSpill(folder: dir)
        #expect(spill.storedBytes(shapes: [[6, 64], [2, 32]]) == (12 + 2) * 34)
        let t = try spill.store([("blk.0.ffn_up.weight", a), ("blk.0.ffn_gate.weight", b)])
        #expect(t.map(\.name) == ["blk.0.ffn_up.weight", "blk.0.ffn_gate.weight"])
        #expect(t.allSatisfy { $0.isSpilled && $0.typeName == "Q8_0" })
        #expect(t[0].shape == [6, 64] && t[1].storedBytes == 2 * 34)
        let back = try t[0].matrix()
        for i in 0..<a.count {
            if a.data[i] == 0 { #expect(back.data[i] == 0) }
            #expect(abs(back.data[i] - a.data[i]) <= 0.02)
        }
        // Names are removed once mapped: nothing is left in the folder to clean up.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
        // F16 keeps these values to its own rounding.
        let f16 = try TensorSpill(type: .f16, folder: dir).store([("w", b)])[0]
        #expect(zip(try f16.matrix().data, b.data).allSatisfy { abs($0 - $1) <= 1e-3 * max(1, abs($1)) })
    }

    @Test func rowsThatAreNotWholeBlocksAreRefused() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(TensorSpill(folder: dir).storedBytes(shapes: [[2, 33]]) == nil)
        #expect(throws: ModelError.self) { try TensorSpill(folder: dir).store([("blk.3.ffn_down.weight", Matrix(rows: 2, cols: 33))]) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}
