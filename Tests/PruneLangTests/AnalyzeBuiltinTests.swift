import Foundation
import Testing
import Models
import Numerics
import PruneLang
import TestHelpers

/// `analyze` on a model through the interpreter: the base= columns on a pruned SmolLM2, the roles
/// filter, progress per matrix and Ctrl-C between matrices.
@Suite(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
struct AnalyzeBuiltinTests {
    static func session() -> Interpreter {
        setenv("PRUNELANG_MODELS", TestSupport.models.path, 1)
        return Interpreter()
    }

    static func show(_ i: Interpreter, _ code: String) -> String {
        let r = i.run(cell: code)
        return r.diagnostics.isEmpty ? (r.display?.text ?? "") : r.renderedDiagnostics
    }

    @Test func prunedAgainstItsBase() throws {
        let i = Self.session()
        #expect(Self.show(i, "m = load(\"smollm2-135m\"); p = prune(m, \"random-rows\", ratio=0.2, seed=0);") == "")
        var events: [ProgressEvent] = []
        i.progressHandler = { events.append($0) }
        #expect(Self.show(i, "a = analyze(p, base=m, roles=[\"gate\"]);") == "")
        i.progressHandler = nil
        #expect(events.filter { $0.stage.hasPrefix("analyze") }.last?.done == 30)
        #expect(Self.show(i, "[a.rows, len(a.records), a.records[0].role, a.records[1].block, a.records[0].M, a.records[0].N]")
                == "[30, 30, \"gate\", 1, 576, 1216]")   // whole blocks of 32 by default
        // Every pruned matrix moved: a non-zero KS distance from its dense original.
        #expect(Self.show(i, "len(filter(a.records, fn(r) { r.ks_base > 0 }))") == "30")
        #expect(Self.show(i, "\"d_alpha\" in a.table.columns and \"ks_base\" in a.table.columns") == "true")
        #expect(Self.show(i, "a.figure.series") == "1")
        #expect(Self.show(i, "s = a.summary\ns.matrices == 30 and s.d_alpha != 0") == "true")
        // The dense model against itself: Δα = 0 everywhere.
        #expect(Self.show(i, "b = analyze(m, base=m, roles=[\"k\"], min_evals=100)\n[b.rows, b.summary.d_alpha, b.summary.ks_base]") == "[30, 0, 0]")
        #expect(Self.show(i, "analyze(m, roles=[\"ffn\"])").contains("roles must be among q k v o gate up down"))
        #expect(Self.show(i, "analyze(randn(60, 60, seed=0), base=m)").contains("base= and roles= apply to a model"))
    }

    @Test func ctrlCStopsBetweenMatrices() throws {
        let i = Self.session()
        #expect(Self.show(i, "m = load(\"smollm2-135m\");") == "")
        var done: [Int] = []
        i.progressHandler = { e in
            guard e.stage.hasPrefix("analyze") else { return }
            done.append(e.done)
            if e.done == 3 { i.interrupt() }
        }
        let r = i.run(cell: "a = analyze(m, roles=[\"q\"])")
        i.progressHandler = nil
        #expect(!r.succeeded && r.renderedDiagnostics.contains("interrupted"))
        #expect(done.max() == 3)
    }
}
