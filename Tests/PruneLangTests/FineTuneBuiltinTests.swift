import Foundation
import Testing
import Models
import Numerics
import PruneLang
import TestHelpers

/// `finetune` on SmolLM2 through the interpreter, at tiny budgets (LoRA rank 2, seq 16): Ctrl-C
/// keeps the model of the last finished step, and a run stopped with a checkpoint and resumed
/// gives the same curve as the run made straight through.
@Suite(.enabled(if: TestSupport.haveSmolLM, "run scripts/fetch-models"))
struct FineTuneBuiltinTests {
    static func session() -> Interpreter {
        setenv("PRUNELANG_MODELS", TestSupport.models.path, 1)
        setenv("PRUNELANG_DATA", TestSupport.data.path, 1)
        return Interpreter()
    }

    static func show(_ i: Interpreter, _ code: String) -> String {
        let r = i.run(cell: code)
        return r.diagnostics.isEmpty ? (r.display?.text ?? "") : r.renderedDiagnostics
    }

    @Test func anInterruptKeepsTheModelOfTheLastFinishedStep() throws {
        let i = Self.session()
        #expect(Self.show(i, "m = load(\"smollm2-135m\");") == "")
        var events: [ProgressEvent] = []
        i.progressHandler = { e in
            events.append(e)
            if e.done == 2 { i.interrupt() }
        }
        let r = i.run(cell: "f = finetune(m, steps=5, seq=16, batch=1, lora=2)\nprint(\"not reached\")")
        #expect(!r.succeeded, "the cell stops at its next statement")
        i.progressHandler = nil
        #expect(Self.show(i, "[len(f.curve), f.interrupted, f.curve[1].step]") == "[2, true, 2]")
        #expect(events.filter { $0.stage.hasPrefix("finetune") }.map(\.done) == [1, 2])
        #expect(events.last?.detail?.contains("tok/s") == true)
    }

    @Test func aCheckpointedRunResumesWhereItStopped() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("run.safetensors").path
        let i = Self.session()
        #expect(Self.show(i, "m = load(\"smollm2-135m\");") == "")
        let args = "steps=3, seq=16, batch=1, lora=2, lr=0.01, seed=4"
        #expect(Self.show(i, "a = finetune(m, \(args))\nmap(a.curve, fn(r) { r.loss })").hasPrefix("["))
        i.progressHandler = { e in if e.done == 1 { i.interrupt() } }
        _ = i.run(cell: "b = finetune(m, \(args), checkpoint=\"\(path)\")")
        i.progressHandler = nil
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(Self.show(i, "len(b.curve)") == "1")
        #expect(Self.show(i, "c = finetune(m, \(args), resume=\"\(path)\")\nmap(c.curve, fn(r) { r.loss }) == map(a.curve, fn(r) { r.loss })") == "true")
        #expect(Self.show(i, "ppl(c, ctx=64, windows=1) == ppl(a, ctx=64, windows=1)") == "true")
        // Another run's checkpoint is refused.
        #expect(Self.show(i, "finetune(m, steps=3, seq=16, batch=1, lora=2, lr=0.01, seed=5, resume=\"\(path)\")").contains("different run: seed 4 (now 5)"))
    }
}
