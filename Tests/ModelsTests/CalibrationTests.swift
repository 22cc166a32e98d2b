import Foundation
import Testing
import Numerics
import Models

/// Calibration capture on SmolLM2: windows drawn from C4 reproducibly; the streamed statistics
/// equal what the captured activations give directly (‖X_j‖² and XᵀX of one site, recomputed
/// from a second pass that records the raw input); Block Influence is in [0, 2] per block.
@Suite(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
struct CalibrationTests {
    @Test func samplesAreReproducibleWindowsOfC4() throws {
        let tok = try BPETokenizer(gguf: GGUFFile(path: TestSupport.smolLMPath))
        let docs = try DataCatalog.c4Documents(in: TestSupport.data.appendingPathComponent("c4").path)
        #expect(docs.count == 1000)
        let a = try Calibration.samples(documents: docs, tokenizer: tok, count: 4, length: 128, seed: 3)
        let b = try Calibration.samples(documents: docs, tokenizer: tok, count: 4, length: 128, seed: 3)
        let c = try Calibration.samples(documents: docs, tokenizer: tok, count: 4, length: 128, seed: 4)
        #expect(a == b && a != c && a.allSatisfy { $0.count == 128 })
        #expect(throws: InferenceError.self) { try Calibration.samples(documents: ["tiny"], tokenizer: tok, count: 1, length: 128) }
    }

    @Test func streamedStatisticsEqualTheActivations() throws {
        let forward = try LlamaGolden.forward.get()
        let tokens = try LlamaGolden.tokens.get()
        let samples = [Array(tokens[0..<64]), Array(tokens[64..<128])]
        // Record the raw input of block 7's down projection in the same pass (an observer the
        // forward already has still hears the events): a second pass need not give the same bits,
        // since OpenBLAS's sums depend on its thread count, which another test may change meanwhile.
        final class Recorder: @unchecked Sendable { var rows = [[Float]]() }
        let rec = Recorder()
        var observed = forward
        observed.observer = { e in
            if case let .linearInput(7, .ffnDown, input, _) = e { rec.rows.append(input) }
        }
        let stats = try Calibration.collect(observed, samples: samples, wanted: [.squaredNorms, .gram, .blockInfluence])
        #expect(stats.windows == 2)
        #expect(stats.inputs.count == 30 * 4)
        let site = Calibration.Site(block: 7, role: .ffnDown)
        let s = try #require(stats.inputs[site])
        #expect(s.width == 1536 && s.tokens == 128)
        #expect(rec.rows.count == 2)
        let x = rec.rows.flatMap { $0 }
        var norms = [Double](repeating: 0, count: 1536)
        for r in 0..<128 { for j in 0..<1536 { norms[j] += Double(x[r * 1536 + j]) * Double(x[r * 1536 + j]) } }
        let worst = zip(norms, s.squaredNorms).map { abs($0 - $1) / max($0, 1e-12) }.max()!
        #expect(worst < 1e-9, "‖X_j‖² differs by \(worst) relative")
        let g = gramFloat64(try Matrix(rows: 128, cols: 1536, data: x))
        let worstGram = zip(g, s.gram).map { abs($0 - $1) }.max()!
        #expect(worstGram < 1e-6 * (g.map(abs).max() ?? 1))
        #expect(stats.blockInfluence.count == 30)
        #expect(stats.blockInfluence.allSatisfy { $0 >= 0 && $0 <= 2 })
        // A stop thrown by the progress after the first window ends the run with that error.
        struct Stop: Error {}
        var reported = [Int]()
        #expect(throws: Stop.self) {
            try Calibration.collect(forward, samples: samples, wanted: .squaredNorms,
                                    progress: ProgressReporter(report: { e in reported.append(e.done); throw Stop() }))
        }
        #expect(reported == [1])
    }
}
