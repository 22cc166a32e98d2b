import Foundation
import Testing
import Models
import PruneLang
import TestHelpers

/// `prune`'s row methods keep whole quantisation blocks by default (issue 26): on SmolLM2 (Q4_1
/// down projections) 20% keeps 1,216 of 1,536 neurons, a note says so once per session,
/// `exact=true` keeps 1,229, `scores=` rounds the same way, and the saved file keeps Q4_1 and is
/// smaller than the download while the exact width's is not.
@Suite(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"), .serialized)
struct KeptCountTests {
    @Test func rowMethodsKeepWholeBlocksUnlessExact() throws {
        let interp = try PruneMethodEntryTests.session(firstBlocks: nil)
        var errors = ""
        interp.errorOutput = { errors += $0 }
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = interp.run(cell: """
            a = prune(m, "random-rows", ratio=0.2);
            b = prune(m, "magnitude-rows", ratio=0.2, seed=1);
            c = prune(m, "random-rows", ratio=0.2, exact=true);
            d = prune(m, scores=fn(block) { range(block.width) }, ratio=0.2);
            e = prune(m, "magnitude", ratio=0.2);
            fa = save(a, "\(dir.path)/aligned.gguf");
            fc = save(c, "\(dir.path)/exact.gguf");
            """)
        try #require(r.succeeded, "\(r.renderedDiagnostics)")
        let width = { (name: String) in try PruneMethodEntryTests.model(interp, name).config.intermediateSizes }
        #expect(try width("a") == Array(repeating: 1216, count: 30))
        #expect(try width("b") == Array(repeating: 1216, count: 30))
        #expect(try width("c") == Array(repeating: 1229, count: 30))
        #expect(try width("d") == Array(repeating: 1216, count: 30))
        #expect(try width("e") == Array(repeating: 1536, count: 30))
        let note = "note: prune keeps 1216 of 1536 neurons per block (20.8% removed), a multiple of 32, so a save keeps the model's quantised type; exact=true keeps 1229\n"
        #expect(errors.components(separatedBy: note).count == 2, "the note once, not once per call: \(errors)")
        let size = { (path: String) in (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }
        let source = try size(TestSupport.smolLMPath)
        let aligned = try size(dir.appendingPathComponent("aligned.gguf").path), exact = try size(dir.appendingPathComponent("exact.gguf").path)
        #expect(aligned < source, "a default row pruning keeps Q4_1 and shrinks the file: \(aligned) vs \(source)")
        #expect(exact > aligned, "the exact width's down projections fall back to F16")
        // The exact width's save says why it came out larger than its source; the default's has nothing to say.
        let notes = { (name: String) -> [String] in
            guard interp.run(cell: "notes_of = \(name).notes;").succeeded, case .list(let xs)? = interp["notes_of"] else { return ["not a list"] }
            return xs.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
        }
        #expect(notes("fc").last?.hasPrefix("the file is ") == true && notes("fc").last?.contains("× the 98.4 MB it was loaded from") == true, "\(notes("fc"))")
        #expect(notes("fa").isEmpty, "\(notes("fa"))")
        let saved = try ModelLoader.load(dir.appendingPathComponent("aligned.gguf").path)
        #expect(saved.tensor(.ffnDown, block: 0)?.typeName == "Q4_1")
    }
}
